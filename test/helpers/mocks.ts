import * as pulumi from "@pulumi/pulumi";

/** One `newResource` call seen by the mock runtime. */
export interface MockedResource {
  type: string;
  name: string;
  inputs: Record<string, any>;
  custom: boolean;
  provider?: string;
}

const recorded: MockedResource[] = [];

/** Computed outputs a real provider would add, for the few types whose outputs components read. */
function computedState(type: string, name: string, inputs: Record<string, any>): Record<string, unknown> {
  switch (type) {
    case "random:index/randomPassword:RandomPassword":
      return { result: `mock-password-${name}` };
    case "random:index/randomId:RandomId":
      return { hex: "00".repeat(inputs.byteLength ?? 8), b64Std: "AA==" };
    case "command:remote:Command":
    case "command:local:Command":
      return { stdout: "{}", stderr: "" };
    case "keycloak:openid/client:Client":
      return { clientSecret: `mock-secret-${name}` };
    case "aws:s3/bucket:Bucket":
      return { arn: `arn:aws:s3:::${inputs.bucket ?? name}`, bucketDomainName: `${inputs.bucket ?? name}.s3` };
    default:
      return {};
  }
}

export interface InstallMocksOptions {
  /** Preview semantics, like `pulumi preview`. @default false */
  preview?: boolean;
  project?: string;
  stack?: string;
  /** Answers for invokes (data sources) by token. */
  calls?: Record<string, (inputs: Record<string, any>) => Record<string, unknown>>;
  /** Extra computed state for some resources (e.g. a command's stdout), merged over the defaults. */
  state?: (type: string, name: string, inputs: Record<string, any>) => Record<string, unknown> | undefined;
}

/** Installs recording mocks; call it before importing the code under test with `await import()`. */
export function installMocks(options: InstallMocksOptions = {}): void {
  recorded.length = 0;
  pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        recorded.push({
          type: args.type,
          name: args.name,
          inputs: args.inputs,
          custom: args.custom ?? true,
          provider: args.provider,
        });
        return {
          id: args.custom === false ? undefined : `${args.name}-id`,
          state: {
            ...args.inputs,
            ...computedState(args.type, args.name, args.inputs),
            ...options.state?.(args.type, args.name, args.inputs),
          },
        };
      },
      call(args: pulumi.runtime.MockCallArgs) {
        const answer = options.calls?.[args.token];
        if (!answer) throw new Error(`Mock not implemented: ${args.token}`);
        return answer(args.inputs);
      },
    },
    options.project ?? "alacarte",
    options.stack ?? "test",
    options.preview ?? false,
    // What a DIY backend calls every organization (docs/pulumi.md): tenant stacks name it in their StackReference.
    "organization",
  );
}

export function resources(): readonly MockedResource[] {
  return recorded;
}

export function byType(type: string): MockedResource[] {
  return recorded.filter((r) => r.type === type);
}

/** The one resource of a type (and name, when given); fails when there are none or several. */
/** Every registration so far as `<type> <name>`, sorted: what a test compares a component's resources with. */
export function registered(): string[] {
  return recorded.map((r) => `${r.type} ${r.name}`).sort();
}

export function one(type: string, name?: string): MockedResource {
  const found = recorded.filter((r) => r.type === type && (name === undefined || r.name === name));
  if (found.length !== 1) {
    const seen = recorded.map((r) => `${r.type} ${r.name}`).join("\n  ");
    throw new Error(`expected one ${type}${name ? ` named ${name}` : ""}, found ${found.length}; registered:\n  ${seen}`);
  }
  return found[0]!;
}

export function reset(): void {
  recorded.length = 0;
}

/** Resolves an output's value (undefined when unknown during a preview). */
export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) =>
    output.apply((value) => {
      resolve(value);
      return value;
    }),
  );
}

/** Whether an output is marked secret. */
export function secretOf<T>(output: pulumi.Output<T>): Promise<boolean> {
  return pulumi.isSecret(output);
}

/** Waits until every registration has reached the mock monitor. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
}
