import type * as pulumi from "@pulumi/pulumi";

/** Resource options as seen by a transformation (the mock monitor does not see them). */
export interface RecordedOptions {
  type: string;
  name: string;
  props: Record<string, any>;
  opts: pulumi.CustomResourceOptions & pulumi.ComponentResourceOptions;
}

/**
 * A transformation to pass in a component's `transformations` option: every descendant registers
 * through it, so a test can check `parent`, `protect`, `retainOnDelete`, `additionalSecretOutputs`.
 */
export function optionsRecorder(): {
  transformation: pulumi.ResourceTransformation;
  seen: RecordedOptions[];
  get(name: string): RecordedOptions;
} {
  const seen: RecordedOptions[] = [];
  return {
    seen,
    transformation: (args) => {
      seen.push({ type: args.type, name: args.name, props: args.props, opts: args.opts as RecordedOptions["opts"] });
      return undefined;
    },
    get(name: string) {
      const found = seen.filter((s) => s.name === name);
      if (found.length !== 1) throw new Error(`expected one resource named ${name}, saw ${seen.map((s) => s.name).join(", ")}`);
      return found[0]!;
    },
  };
}

/** Pulumi's wire signature of a secret value, as the mock monitor receives it in `inputs`. */
export const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** Whether a recorded input value arrived as a secret. */
export function isSecretInput(value: unknown): boolean {
  return (
    typeof value === "object" && value !== null && (value as Record<string, unknown>)[SECRET_SIG] === "1b47061264138c4ac30d75fd1eb44270"
  );
}

/** A recorded input with every secret wrapper removed (to compare values). */
export function plain(value: any): any {
  if (isSecretInput(value)) return plain(value.value);
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

/** Every string of a recorded input that did not arrive as a secret. */
export function plainStrings(value: unknown): string[] {
  if (isSecretInput(value)) return [];
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(plainStrings);
  if (typeof value === "object" && value !== null) return Object.values(value).flatMap(plainStrings);
  return [];
}
