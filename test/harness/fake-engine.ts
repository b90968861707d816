/**
 * A fake Pulumi engine for tests: one gRPC server that implements the `ResourceMonitor` and `Engine`
 * services with the stubs shipped in @pulumi/pulumi/proto, answering with preview semantics the way
 * pkg/resource/deploy/source_eval.go (pulumi/pulumi) does. See README.md in this folder.
 *
 * Engine-side checks it does (the mock runtime does none of them): URNs computed like the engine
 * (the parent's full type chain, the root stack's type left out), duplicate URNs, parents and
 * providers that were never registered, unknown data sources (Invoke), component methods (Call).
 */
import { createRequire } from "node:module";
import * as fs from "node:fs";
import * as path from "node:path";
import type * as grpcTypes from "@grpc/grpc-js";
import * as emptyproto from "google-protobuf/google/protobuf/empty_pb";
import * as structproto from "google-protobuf/google/protobuf/struct_pb";
import * as engineproto from "@pulumi/pulumi/proto/engine_pb";
import * as enginerpc from "@pulumi/pulumi/proto/engine_grpc_pb";
import * as resproto from "@pulumi/pulumi/proto/resource_pb";
import * as resrpc from "@pulumi/pulumi/proto/resource_grpc_pb";

/**
 * The @pulumi/pulumi version this harness was written against. `cmd/run` and the proto services are
 * internal contracts of the SDK: on an upgrade, re-read cmd/run/index.js (its flags) and
 * pulumi-language-nodejs/main.go (constructArguments, execRuntime, RunPlugin), then bump this.
 */
export const PINNED_PULUMI_VERSION = "3.248.0";

/** The same @grpc/grpc-js instance the generated stubs use. */
const grpc: typeof grpcTypes = createRequire(require.resolve("@pulumi/pulumi/proto/resource_grpc_pb"))("@grpc/grpc-js");

export function checkPulumiVersion(): void {
  const pkg = path.join(path.dirname(require.resolve("@pulumi/pulumi")), "package.json");
  const version = (JSON.parse(fs.readFileSync(pkg, "utf8")) as { version: string }).version;
  if (version !== PINNED_PULUMI_VERSION) {
    throw new Error(
      `test/harness is pinned to @pulumi/pulumi ${PINNED_PULUMI_VERSION} but ${version} is installed (${pkg}): ` +
        "re-check cmd/run's flags and the language host's arguments (test/harness/README.md), then update PINNED_PULUMI_VERSION",
    );
  }
}

/** Wire sentinels of the property protocol (sdk/nodejs/runtime/rpc.ts). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
export const SIG = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const OUTPUT_VALUE_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4";
const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

export interface RegisteredResource {
  type: string;
  name: string;
  urn: string;
  /** URN of the parent, or null for the stack's root. */
  parent: string | null;
  custom: boolean;
  /** Provider reference `urn::id`, when the program gave one. */
  provider: string | null;
  /** Inputs as the SDK serialized them (secrets and unknowns as wire sentinels). */
  inputs: Record<string, unknown>;
  /** True for `ReadResource` (a StackReference, a `.get()`). */
  read: boolean;
  /**
   * What the engine holds as outputs in a preview: a custom resource's inputs (output values made
   * plain/unknown/secret), a read's state, a component's `registerOutputs`.
   */
  outputs: Record<string, unknown>;
  /** The options the analyzer protocol carries (AnalyzerResourceOptions). */
  options: ResourceOptions;
  dependencies: string[];
  propertyDependencies: Record<string, string[]>;
}

export interface ResourceOptions {
  protect: boolean;
  ignoreChanges: string[];
  deleteBeforeReplace: boolean;
  deleteBeforeReplaceDefined: boolean;
  additionalSecretOutputs: string[];
  aliases: string[];
  customTimeouts: { create: string; update: string; delete: string } | null;
}

export interface LogEntry {
  severity: "debug" | "info" | "warning" | "error";
  message: string;
  urn: string;
}

export interface FakeEngineOptions {
  project: string;
  stack: string;
  /** Outputs of the stacks a `StackReference` may read, by full name (`organization/project/stack`). */
  stackOutputs?: Record<string, Record<string, unknown>>;
}

const SEVERITIES: LogEntry["severity"][] = ["debug", "info", "warning", "error"];

/**
 * What the engine returns as a new resource's outputs in a preview: its inputs, with output values
 * (`outputValues` feature) turned back into plain, unknown or secret values.
 */
function previewOutputs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(previewOutputs);
  if (value && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    if (obj[SIG] === OUTPUT_VALUE_SIG) {
      const inner = "value" in obj ? previewOutputs(obj.value) : UNKNOWN;
      return obj.secret ? { [SIG]: SECRET_SIG, value: inner } : inner;
    }
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, previewOutputs(v)]));
  }
  return value;
}

function struct(value: Record<string, unknown>): structproto.Struct {
  return structproto.Struct.fromJavaScript(value as Record<string, structproto.JavaScriptValue>);
}

function plain(s: structproto.Struct | undefined): Record<string, unknown> {
  return (s?.toJavaScript() ?? {}) as Record<string, unknown>;
}

function failed(code: grpcTypes.status, message: string): grpcTypes.ServiceError {
  return Object.assign(new Error(message), { code, details: message, metadata: new grpc.Metadata() });
}

export class FakeEngine {
  readonly resources: RegisteredResource[] = [];
  readonly logs: LogEntry[] = [];
  /** Engine-side errors (what `pulumi preview` would report as an engine error). */
  readonly engineErrors: string[] = [];
  /** `RegisterResourceOutputs` of the root stack resource: the stack's outputs, on the wire. */
  stackOutputs: Record<string, unknown> | undefined;
  rootUrn = "";
  readonly features: string[] = [];
  private readonly server = new grpc.Server();
  private readonly byUrn = new Map<string, RegisteredResource>();
  address = "";

  constructor(private readonly options: FakeEngineOptions) {}

  /** The engine's URN: parent's full qualified type chain, except the root stack's (resource/urn.go NewURN). */
  urnOf(type: string, name: string, parent: string): string {
    let qualified = type;
    const parentRes = parent ? this.byUrn.get(parent) : undefined;
    if (parent && parentRes?.type !== ROOT_STACK_TYPE) {
      const parentQualified = parent.split("::")[2]!;
      qualified = `${parentQualified}$${type}`;
    }
    return `urn:pulumi:${this.options.stack}::${this.options.project}::${qualified}::${name}`;
  }

  private record(r: RegisteredResource): string | undefined {
    if (this.byUrn.has(r.urn)) return `Duplicate resource URN '${r.urn}'; try giving it a unique name`;
    if (r.parent && !this.byUrn.has(r.parent)) return `resource ${r.urn}: parent ${r.parent} was never registered`;
    if (r.provider) {
      const providerUrn = r.provider.split("::").slice(0, -1).join("::");
      const provider = this.byUrn.get(providerUrn);
      if (!provider?.type.startsWith("pulumi:providers:")) return `resource ${r.urn}: provider ${r.provider} is not a registered provider`;
    }
    this.byUrn.set(r.urn, r);
    this.resources.push(r);
    return undefined;
  }

  async start(): Promise<string> {
    const monitor: resrpc.IResourceMonitorServer = {
      supportsFeature: (call, cb) => {
        this.features.push(call.request.getId());
        // source_eval.go supportsFeatureID: every feature the 3.248 SDK asks about is supported.
        cb(null, new resproto.SupportsFeatureResponse().setHassupport(true));
      },
      registerResource: (call, cb) => {
        const req = call.request;
        const parent = req.getParent();
        const inputs = plain(req.getObject());
        const timeouts = req.getCustomtimeouts();
        const r: RegisteredResource = {
          type: req.getType(),
          name: req.getName(),
          urn: this.urnOf(req.getType(), req.getName(), parent),
          parent: parent || null,
          custom: req.getCustom(),
          provider: req.getProvider() || null,
          inputs,
          read: false,
          outputs: req.getCustom() ? (previewOutputs(inputs) as Record<string, unknown>) : {},
          options: {
            protect: req.getProtect() ?? false,
            ignoreChanges: req.getIgnorechangesList(),
            deleteBeforeReplace: req.getDeletebeforereplace(),
            deleteBeforeReplaceDefined: req.getDeletebeforereplacedefined(),
            additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
            aliases: req.getAliasurnsList(),
            customTimeouts: timeouts ? { create: timeouts.getCreate(), update: timeouts.getUpdate(), delete: timeouts.getDelete() } : null,
          },
          dependencies: req.getDependenciesList(),
          propertyDependencies: {},
        };
        req.getPropertydependenciesMap().forEach((deps, key) => {
          r.propertyDependencies[key] = deps.getUrnsList();
        });
        if (r.type === ROOT_STACK_TYPE && parent) return cb(failed(grpc.status.INVALID_ARGUMENT, "the root stack has a parent"));
        const problem = this.record(r);
        if (problem) {
          this.engineErrors.push(problem);
          return cb(failed(grpc.status.INVALID_ARGUMENT, problem));
        }
        // Preview: no id yet (providers get the unknown id), outputs are the checked inputs.
        const id = r.type.startsWith("pulumi:providers:") ? UNKNOWN : "";
        cb(
          null,
          new resproto.RegisterResourceResponse()
            .setUrn(r.urn)
            .setId(r.custom ? id : "")
            .setObject(struct(previewOutputs(r.inputs) as Record<string, unknown>)),
        );
      },
      readResource: (call, cb) => {
        const req = call.request;
        const parent = req.getParent();
        const r: RegisteredResource = {
          type: req.getType(),
          name: req.getName(),
          urn: this.urnOf(req.getType(), req.getName(), parent),
          parent: parent || null,
          custom: true,
          provider: req.getProvider() || null,
          inputs: plain(req.getProperties()),
          read: true,
          outputs: {},
          options: {
            protect: false,
            ignoreChanges: [],
            deleteBeforeReplace: false,
            deleteBeforeReplaceDefined: false,
            additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
            aliases: [],
            customTimeouts: null,
          },
          dependencies: req.getDependenciesList(),
          propertyDependencies: {},
        };
        if (r.type !== "pulumi:pulumi:StackReference") {
          const message = `the fake engine cannot read ${r.type} ${r.name}: only StackReference is known`;
          this.engineErrors.push(message);
          return cb(failed(grpc.status.UNIMPLEMENTED, message));
        }
        const stackName = String(req.getId() || r.inputs.name);
        const outputs = this.options.stackOutputs?.[stackName];
        const problem = outputs ? this.record(r) : `unknown stack "${stackName}" for StackReference ${r.name}`;
        if (problem) {
          this.engineErrors.push(problem);
          return cb(failed(grpc.status.NOT_FOUND, problem));
        }
        // The builtin provider's Read (pkg/resource/deploy/builtins.go): outputs with their secrets, and their names.
        const secretOutputNames = Object.entries(outputs!)
          .filter(([, v]) => (v as Record<string, unknown> | null)?.[SIG] === SECRET_SIG)
          .map(([k]) => k);
        r.outputs = { name: stackName, outputs: outputs!, secretOutputNames };
        cb(null, new resproto.ReadResourceResponse().setUrn(r.urn).setProperties(struct(r.outputs)));
      },
      registerResourceOutputs: (call, cb) => {
        const registered = this.byUrn.get(call.request.getUrn());
        if (registered) registered.outputs = plain(call.request.getOutputs());
        if (call.request.getUrn() === this.rootUrn || call.request.getUrn().includes(`::${ROOT_STACK_TYPE}::`)) {
          this.stackOutputs = plain(call.request.getOutputs());
        }
        cb(null, new emptyproto.Empty());
      },
      invoke: (call, cb) => {
        const message = `the fake engine has no answer for the data source ${call.request.getTok()}`;
        this.engineErrors.push(message);
        cb(failed(grpc.status.UNIMPLEMENTED, message));
      },
      call: (call, cb) => {
        const message = `the fake engine cannot call the method ${call.request.getTok()}`;
        this.engineErrors.push(message);
        cb(failed(grpc.status.UNIMPLEMENTED, message));
      },
      registerPackage: (call, cb) => {
        cb(null, new resproto.RegisterPackageResponse().setRef(`${call.request.getName()}@${call.request.getVersion()}`));
      },
      getDeploymentInfo: (_call, cb) => cb(failed(grpc.status.UNIMPLEMENTED, "getDeploymentInfo is not implemented by the fake engine")),
      registerStackTransform: (_call, cb) =>
        cb(failed(grpc.status.UNIMPLEMENTED, "stack transforms are not implemented by the fake engine")),
      registerStackInvokeTransform: (_call, cb) =>
        cb(failed(grpc.status.UNIMPLEMENTED, "invoke transforms are not implemented by the fake engine")),
      registerResourceHook: (_call, cb) => cb(failed(grpc.status.UNIMPLEMENTED, "resource hooks are not implemented by the fake engine")),
      registerErrorHook: (_call, cb) => cb(failed(grpc.status.UNIMPLEMENTED, "error hooks are not implemented by the fake engine")),
      signalAndWaitForShutdown: (_call, cb) => cb(null, new emptyproto.Empty()),
    };
    const engine: enginerpc.IEngineServer = {
      log: (call, cb) => {
        const req = call.request;
        this.logs.push({ severity: SEVERITIES[req.getSeverity()] ?? "info", message: req.getMessage(), urn: req.getUrn() });
        cb(null, new emptyproto.Empty());
      },
      getRootResource: (_call, cb) => cb(null, new engineproto.GetRootResourceResponse().setUrn(this.rootUrn)),
      setRootResource: (call, cb) => {
        this.rootUrn = call.request.getUrn();
        cb(null, new engineproto.SetRootResourceResponse());
      },
      startDebugging: (_call, cb) => cb(failed(grpc.status.UNIMPLEMENTED, "no debugger in the fake engine")),
      requirePulumiVersion: (_call, cb) => cb(null, new engineproto.RequirePulumiVersionResponse()),
    };
    // A bug of the fake engine itself surfaces as an INTERNAL error naming the method, not "Unknown error".
    const guarded = Object.fromEntries(
      Object.entries(monitor).map(([method, handler]) => [
        method,
        (call: unknown, cb: (err: grpcTypes.ServiceError | null) => void) => {
          try {
            (handler as (c: unknown, k: unknown) => void)(call, cb);
          } catch (e) {
            cb(failed(grpc.status.INTERNAL, `fake engine ${method}: ${e instanceof Error ? e.stack : String(e)}`));
          }
        },
      ]),
    ) as unknown as resrpc.IResourceMonitorServer;
    this.server.addService(resrpc.ResourceMonitorService, guarded);
    this.server.addService(enginerpc.EngineService, engine);
    const port = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
    });
    this.address = `127.0.0.1:${port}`;
    return this.address;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
  }
}
