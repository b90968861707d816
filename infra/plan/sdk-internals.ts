import { createRequire } from "node:module";
import * as fs from "node:fs";
import { Resource, type Output } from "@pulumi/pulumi";
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
// Types only, erased from the build: the SDK's own declarations of what is required below.
import type * as resproto from "@pulumi/pulumi/proto/resource_pb";
import type * as structproto from "google-protobuf/google/protobuf/struct_pb";

/**
 * Every part of @pulumi/pulumi, @pulumi/policy and google-protobuf the offline plan uses that is
 * not their documented API (what each package's index.d.ts exports): the mock monitor's
 * registrations answered directly, the SDK's debugging aids turned off while a stack runs, an
 * output's value with its unknowns, and the policy server's own deserialisation and checks. The
 * rest of infra/plan/ reaches them only through this module, typed by the interfaces below.
 *
 * These are contracts of one exact version: the module checks, when it loads and before it
 * requires any of them, that the installed packages are the versions it was written for. The
 * sources they come from: pulumi/pulumi at v3.248.0 (sdk/nodejs/runtime/mocks.ts, settings.ts,
 * rpc.ts, debuggable.ts; sdk/nodejs/resource.ts, output.ts; proto/pulumi/resource.proto) and
 * pulumi/pulumi-policy at v1.21.0 (sdk/nodejs/policy/server.ts, deserialize.ts, proxy.ts, policy.ts).
 */

const requireHere = createRequire(__filename);

/** The versions this module was written for, and what to re-read in a new one (the package's files) before changing the pin. */
const WRITTEN_FOR = {
  "@pulumi/pulumi": {
    version: "3.248.0",
    check:
      "runtime/mocks MockMonitor (registerResource, readResource, registerResourceOutputs, newUrn, resources), " +
      "runtime/settings getMonitor and waitForRPCs, runtime/rpc, runtime/debuggable, Resource.stackTrace, " +
      "OutputImpl.promise and proto/resource_pb",
  },
  "@pulumi/policy": {
    version: "1.21.0",
    check: "server makeAnalyzeRpcFun and makeAnalyzeStackRpcFun (policy-eval.ts follows them), deserialize, proxy and policy",
  },
  "google-protobuf": {
    version: "3.21.4",
    check: "google/protobuf/struct_pb Struct and Value (fromJavaScript, toJavaScript, getFieldsMap)",
  },
} as const;

export type PinnedPackage = keyof typeof WRITTEN_FOR;

/** Why `found` is not the version of `pkg` this module was written for (one line), or undefined when it is. */
export function versionProblem(pkg: PinnedPackage, found: string): string | undefined {
  const { version, check } = WRITTEN_FOR[pkg];
  // @pulumi/policy 1.21.0's package.json spells its version "v1.21.0" (npm's lockfile: "1.21.0").
  if (found.replace(/^v/, "") === version) return undefined;
  return `infra/plan/sdk-internals.ts was written for ${pkg} ${version}, found ${found}: check ${check} before changing the pin`;
}

/** google-protobuf as the SDK resolves it: the Structs built here are handed to its messages. */
const sdkRequire = createRequire(requireHere.resolve("@pulumi/pulumi/package.json"));

function installedVersion(pkg: PinnedPackage): string {
  const file = (pkg === "google-protobuf" ? sdkRequire : requireHere).resolve(`${pkg}/package.json`);
  return (JSON.parse(fs.readFileSync(file, "utf8")) as { version: string }).version;
}

/** The `code` of the error a version problem throws: the commands print its message alone (infra/cli/run.ts). */
export const SDK_VERSION_ERROR = "ALACARTE_SDK_VERSION";

/** Throws the first version problem of the installed packages. */
export function checkInstalledVersions(versionOf: (pkg: PinnedPackage) => string = installedVersion): void {
  for (const pkg of Object.keys(WRITTEN_FOR) as PinnedPackage[]) {
    const problem = versionProblem(pkg, versionOf(pkg));
    if (problem) throw Object.assign(new Error(problem), { code: SDK_VERSION_ERROR });
  }
}

checkInstalledVersions();

// ---------------------------------------------------------------------------------------------
// Protobuf messages, as much of them as the rest of the plan reads. The messages this module
// builds are typed by the SDK's own declarations (proto/resource_pb.d.ts), and handing the SDK's
// requests to the interfaces below checks those at compile time.

/** google.protobuf.Struct: the form of a registration's properties on the wire. */
export interface Struct {
  toJavaScript(): Record<string, unknown>;
}

export interface CustomTimeouts {
  getCreate(): string;
  getUpdate(): string;
  getDelete(): string;
}

export interface PropertyDependencies {
  getUrnsList(): string[];
}

/** What the SDK sends to register a resource (proto/pulumi/resource.proto RegisterResourceRequest). */
export interface RegisterResourceRequest {
  getType(): string;
  getName(): string;
  /** The parent's URN, "" for none. */
  getParent(): string;
  getCustom(): boolean;
  getObject(): Struct | undefined;
  /** `<provider URN>::<provider id>`, "" for the default provider. */
  getProvider(): string;
  getProtect(): boolean | undefined;
  getDependenciesList(): string[];
  getPropertydependenciesMap(): { forEach(callback: (value: PropertyDependencies, key: string) => void): void };
  getDeletebeforereplace(): boolean;
  getDeletebeforereplacedefined(): boolean;
  getIgnorechangesList(): string[];
  getAdditionalsecretoutputsList(): string[];
  getAliasurnsList(): string[];
  getCustomtimeouts(): CustomTimeouts | undefined;
}

/** What the SDK sends to read a resource (a StackReference is one). */
export interface ReadResourceRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getProperties(): Struct | undefined;
  getProvider(): string;
  getDependenciesList(): string[];
  getAdditionalsecretoutputsList(): string[];
}

export interface RegisterResourceResponse {
  getUrn(): string;
}

export interface ReadResourceResponse {
  getUrn(): string;
  getProperties(): Struct | undefined;
}

/** One registration answered, with what the SDK asked and what it was answered. */
export type Answered =
  | { read: false; request: RegisterResourceRequest; response: RegisterResourceResponse }
  | { read: true; request: ReadResourceRequest; response: ReadResourceResponse };

// ---------------------------------------------------------------------------------------------
// The internals themselves, required once the versions are known to be right.

const resourcePb = requireHere("@pulumi/pulumi/proto/resource_pb") as typeof resproto;
const structPb = sdkRequire("google-protobuf/google/protobuf/struct_pb") as typeof structproto;
const settings = requireHere("@pulumi/pulumi/runtime/settings") as {
  getMonitor(): unknown;
  /** Resolves once every registration has reached the monitor. */
  waitForRPCs(): Promise<void>;
};
const mocks = requireHere("@pulumi/pulumi/runtime/mocks") as { MockMonitor: abstract new (...args: never[]) => object };
const rpc = requireHere("@pulumi/pulumi/runtime/rpc") as {
  serializeProperties(label: string, props: Record<string, unknown>): Promise<Record<string, unknown>>;
  deserializeProperties(struct: structproto.Struct): Record<string, unknown>;
};
const debuggable = requireHere("@pulumi/pulumi/runtime/debuggable") as {
  debuggablePromise: <T>(p: Promise<T>, ctx: unknown) => Promise<T>;
};
/** Resource.stackTrace is private (sdk/nodejs/resource.ts). */
const resourceClass = Resource as unknown as { stackTrace(skip: number): unknown[] };

type Callback<T> = (err: unknown, response: T | undefined) => void;

/** What the plan uses of the SDK's MockMonitor (sdk/nodejs/runtime/mocks.ts), which setMocks installs. */
interface MockMonitor {
  registerResource(req: resproto.RegisterResourceRequest, callback: Callback<resproto.RegisterResourceResponse>): unknown;
  readResource(req: resproto.ReadResourceRequest, callback: Callback<resproto.ReadResourceResponse>): unknown;
  registerResourceOutputs(req: resproto.RegisterResourceOutputsRequest, callback: Callback<unknown>): unknown;
  newUrn(parent: string, type: string, name: string): string;
  resources: Map<string, { urn: string; id: string | null; state: unknown }>;
}

function mockMonitor(): MockMonitor {
  const monitor = settings.getMonitor();
  if (!(monitor instanceof mocks.MockMonitor))
    throw new Error("the offline plan runs a stack only under the SDK's mocks (runtime.setMocks)");
  return monitor as unknown as MockMonitor;
}

/** Resolves once every registration of the running stack has reached the monitor. */
export function waitForRPCs(): Promise<void> {
  return settings.waitForRPCs();
}

/** An output's value, unknowns included where a preview leaves them (the SDK's own way to read it). */
export function valueWithUnknowns(output: Output<unknown>): Promise<unknown> {
  return (output as unknown as { promise(withUnknowns: boolean): Promise<unknown> }).promise(true);
}

/**
 * Turns off the SDK's debugging aids: a stack trace for every promise the SDK awaits (and two more
 * promises around each for its leak report), and a full stack trace of every resource for its
 * source position. Returns what turns them back on.
 */
export function turnOffDebuggingAids(): () => void {
  const { debuggablePromise } = debuggable;
  const { stackTrace } = resourceClass;
  debuggable.debuggablePromise = (p) => p;
  resourceClass.stackTrace = () => [];
  return () => {
    debuggable.debuggablePromise = debuggablePromise;
    resourceClass.stackTrace = stackTrace;
  };
}

/** The SDK's debugging aids as they are now, for a test to see them come back. */
export function debuggingAids(): readonly unknown[] {
  return [debuggable.debuggablePromise, resourceClass.stackTrace];
}

// ---------------------------------------------------------------------------------------------
// Registrations answered as a preview would, without MockMonitor's round trip.

const STACK_REFERENCE = "pulumi:pulumi:StackReference";

/** The state MockMonitor keeps of a registration, read from the request only if asked for. */
class RegisteredState {
  #state: unknown;
  #read = false;
  constructor(
    readonly urn: string,
    readonly id: string | null,
    private readonly struct: Struct | undefined,
  ) {}
  get state(): unknown {
    if (!this.#read) {
      this.#state = this.struct?.toJavaScript() ?? {};
      this.#read = true;
    }
    return this.#state;
  }
  set state(value: unknown) {
    this.#state = value;
    this.#read = true;
  }
}

/**
 * Answers a registration as MockMonitor does when the mocks give a new resource its inputs as
 * state (a preview): the same URN, no id, and the request's own properties as the planned state.
 * MockMonitor gets there by deserialising the request's Struct, serialising the mocks' answer again
 * and building a second Struct of it, a round trip that was an eighth of a tenant stack's time.
 * The request's Struct is only read after this (by the SDK, the recording and the policies).
 */
function answerRegistration(monitor: MockMonitor, req: resproto.RegisterResourceRequest): resproto.RegisterResourceResponse {
  const urn = monitor.newUrn(req.getParent(), req.getType(), req.getName());
  const object = req.getObject();
  monitor.resources.set(urn, new RegisteredState(urn, null, object));
  const response = new resourcePb.RegisterResourceResponse();
  response.setUrn(urn);
  response.setId("");
  if (object) response.setObject(object);
  return response;
}

/**
 * Answers a StackReference's read as MockMonitor does with the state the mocks give it (`name`,
 * `outputs`, `secretOutputNames`), the outputs serialised once per outputs object and shared:
 * every tenant stack of a plan reads the same platform outputs. `prepare` does the serialising
 * before a stack runs, so that every read is answered at once, whether first or not, and the
 * order in which a stack's registrations are answered does not depend on it.
 */
export class StackReferenceAnswers {
  readonly #outputs = new WeakMap<object, structproto.Value>();

  async prepare(outputs: Record<string, unknown>): Promise<void> {
    if (this.#outputs.has(outputs)) return;
    const serialized = await rpc.serializeProperties("", { outputs });
    this.#outputs.set(outputs, structPb.Value.fromJavaScript((serialized.outputs ?? {}) as structproto.JavaScriptValue));
  }

  answer(
    monitor: MockMonitor,
    req: resproto.ReadResourceRequest,
    outputs: Record<string, unknown>,
    secretOutputNames: string[],
  ): resproto.ReadResourceResponse {
    const value = this.#outputs.get(outputs);
    if (!value) throw new Error("the StackReference's outputs were not prepared before the stack ran");
    const id = req.getName();
    const name = rpc.deserializeProperties(req.getProperties()!).name as string;
    const properties = structPb.Struct.fromJavaScript({ name, secretOutputNames });
    properties.getFieldsMap().set("outputs", value);
    const urn = monitor.newUrn(req.getParent(), req.getType(), req.getName());
    monitor.resources.set(urn, new RegisteredState(urn, id, properties));
    const response = new resourcePb.ReadResourceResponse();
    response.setUrn(urn);
    response.setProperties(properties);
    return response;
  }
}

export interface PreviewAnswers {
  /** Answers the stack's StackReference reads, with `outputs` (prepared before the stack runs). */
  stackReferences: StackReferenceAnswers;
  outputs: Record<string, unknown>;
  secretOutputNames: string[];
  /** Each registration answered, before the SDK gets the answer. */
  answered(answer: Answered): void;
  /** A component's outputs as registerOutputs sends them, by the monitor's URN of the component. */
  outputsRegistered(urn: string, outputs: Struct | undefined): void;
}

/**
 * Makes the mock monitor of the stack about to run (setMocks has just installed it) answer every
 * registration and StackReference read at once with preview semantics; other reads still go to
 * the mocks. Every registration goes through the monitor (components, providers, the stack
 * itself), so `answered` sees exactly what the SDK registered.
 */
export function answerAsPreview(answers: PreviewAnswers): void {
  const monitor = mockMonitor();
  const respond = <Resp>(callback: Callback<Resp>, make: () => Resp, answered: (response: Resp) => void) => {
    let response: Resp;
    try {
      response = make();
    } catch (e) {
      callback(e, undefined);
      return;
    }
    answered(response);
    callback(null, response);
  };
  monitor.registerResource = (req, callback) =>
    respond(
      callback,
      () => answerRegistration(monitor, req),
      (response) => answers.answered({ read: false, request: req, response }),
    );
  const readResource = monitor.readResource.bind(monitor);
  monitor.readResource = (req, callback) => {
    const answered = (response: resproto.ReadResourceResponse) => answers.answered({ read: true, request: req, response });
    if (req.getType() === STACK_REFERENCE) {
      respond(callback, () => answers.stackReferences.answer(monitor, req, answers.outputs, answers.secretOutputNames), answered);
      return;
    }
    readResource(req, (err, response) => {
      if (!err && response) answered(response);
      callback(err, response);
    });
  };
  const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
  monitor.registerResourceOutputs = (req, callback) => {
    answers.outputsRegistered(req.getUrn(), req.getOutputs());
    return registerOutputs(req, callback);
  };
}

// ---------------------------------------------------------------------------------------------
// @pulumi/policy's server, as policy-eval.ts runs it (sdk/nodejs/policy/deserialize.ts, proxy.ts, policy.ts).

const policyDeserialize = requireHere("@pulumi/policy/deserialize") as {
  deserializeProperties(struct: Struct, proxySecrets: boolean): Record<string, unknown>;
};
const policyProxy = requireHere("@pulumi/policy/proxy") as {
  unknownCheckingProxy<T extends object>(o: T): T;
  UnknownValueError: new (message: string) => Error;
};
const policyPolicy = requireHere("@pulumi/policy/policy") as {
  isResourcePolicy(p: unknown): p is ResourceValidationPolicy;
  isStackPolicy(p: unknown): p is StackValidationPolicy;
  getPulumiType(o: unknown): string | undefined;
};

/** A registration's properties as the policy server gives them to a policy (secrets unwrapped when `proxySecrets` is false). */
export const deserializePolicyProperties = policyDeserialize.deserializeProperties;
/** Wraps props so that reading a value unknown during a preview throws UnknownValueError. */
export const unknownCheckingProxy = policyProxy.unknownCheckingProxy;
export const UnknownValueError = policyProxy.UnknownValueError;
export const isResourcePolicy = policyPolicy.isResourcePolicy;
export const isStackPolicy = policyPolicy.isStackPolicy;
/** The Pulumi type a typed validation (validateResourceOfType) or resource class is attached to. */
export const getPulumiType = policyPolicy.getPulumiType;
