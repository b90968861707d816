/**
 * Starts a policy pack the way `pulumi preview --policy-pack <dir>` does through the Node.js
 * language host (pulumi/pulumi sdk/nodejs/cmd/pulumi-language-nodejs/main.go `RunPlugin`;
 * pkg/resource/plugin/analyzer_plugin.go `NewPolicyAnalyzer`), and talks to it as the engine does
 * over the `Analyzer` service: ConfigureStack, GetAnalyzerInfo, Configure, Analyze per resource,
 * AnalyzeStack. See README.md in this folder.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import * as fs from "node:fs";
import * as path from "node:path";
import type * as grpcTypes from "@grpc/grpc-js";
import * as emptyproto from "google-protobuf/google/protobuf/empty_pb";
import * as structproto from "google-protobuf/google/protobuf/struct_pb";
import { parse } from "yaml";
import * as analyzerproto from "@pulumi/pulumi/proto/analyzer_pb";
import * as analyzerrpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import { checkPulumiVersion, type RegisteredResource } from "./fake-engine";
import { splitShell } from "./run-program";

const grpc: typeof grpcTypes = createRequire(require.resolve("@pulumi/pulumi/proto/analyzer_grpc_pb"))("@grpc/grpc-js");

export type Level = "advisory" | "mandatory" | "disabled" | "remediate";
const LEVELS: Level[] = ["advisory", "mandatory", "disabled", "remediate"];
const LEVEL_CODES: Record<Level, analyzerproto.EnforcementLevel> = {
  advisory: analyzerproto.EnforcementLevel.ADVISORY,
  mandatory: analyzerproto.EnforcementLevel.MANDATORY,
  disabled: analyzerproto.EnforcementLevel.DISABLED,
  remediate: analyzerproto.EnforcementLevel.REMEDIATE,
};

export interface PolicyInfo {
  name: string;
  description: string;
  level: Level;
  /** JSON schema of the policy's settings (`properties`), if any. */
  configSchema: { properties: Record<string, unknown>; required: string[] } | null;
}

export interface AnalyzerInfo {
  name: string;
  version: string;
  policies: PolicyInfo[];
}

export interface Diagnostic {
  policy: string;
  level: Level;
  urn: string | null;
  /** What the policy reported. */
  message: string;
  /**
   * The diagnostic's message as sent: @pulumi/policy (server.js makeReportViolationFun) puts the
   * policy's description first, then a newline and the reported text; that is what the CLI prints.
   */
  wireMessage: string;
}

export interface PackOptions {
  /** The policy pack's folder (holding PulumiPolicy.yaml). */
  packDir: string;
  /** The fake engine's address (the first argument the analyzer gets). */
  engineAddress: string;
  organization?: string;
  project: string;
  stack: string;
  dryRun?: boolean;
  /** The stack's config as `<ns>:<key>` → string (what ConfigureStack carries). */
  config?: Record<string, string>;
}

function wrap<T>(fn: (cb: (err: grpcTypes.ServiceError | null, res: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, res) => (err ? reject(err) : resolve(res))));
}

export class PolicyPackProcess {
  stderr = "";
  stdout = "";
  private constructor(
    private readonly child: ChildProcess,
    readonly client: analyzerrpc.AnalyzerClient,
    readonly ms: number,
  ) {}

  /**
   * `node <run-policy-pack resolved from the pack> [nodeargs] <engine> <packDir>`, cwd = the pack,
   * env = the CLI's plus the stack's identity and config (RunPlugin's policy proxy adds those).
   * Resolves once the pack printed its port, or rejects with what it printed.
   */
  static async start(options: PackOptions): Promise<PolicyPackProcess> {
    checkPulumiVersion();
    const started = Date.now();
    const project = parse(fs.readFileSync(path.join(options.packDir, "PulumiPolicy.yaml"), "utf8")) as {
      runtime: string | { name: string; options?: Record<string, unknown> };
    };
    const runtime = typeof project.runtime === "string" ? { name: project.runtime, options: {} } : project.runtime;
    if (runtime.name !== "nodejs") throw new Error(`PulumiPolicy.yaml: runtime ${runtime.name} is not handled by the harness`);
    const opts = runtime.options ?? {};
    // locateModule from the pack's folder; nodeargs go *after* the script for plugins (main.go RunPlugin).
    const runPath = createRequire(path.join(options.packDir, "noop.js")).resolve("@pulumi/pulumi/cmd/run-policy-pack");
    const args = [runPath, ...splitShell((opts.nodeargs as string | undefined) ?? ""), options.engineAddress, options.packDir];
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("PULUMI_")));
    const env: Record<string, string> = {
      ...(inherited as Record<string, string>),
      PULUMI_NODEJS_ORGANIZATION: options.organization ?? "organization",
      PULUMI_NODEJS_PROJECT: options.project,
      PULUMI_NODEJS_STACK: options.stack,
      PULUMI_NODEJS_DRY_RUN: String(options.dryRun ?? true),
      PULUMI_CONFIG: JSON.stringify(options.config ?? {}),
    };
    if ((opts.typescript ?? true) === true) env.PULUMI_NODEJS_TYPESCRIPT = "true";
    if (typeof opts.tsconfig === "string") env.PULUMI_NODEJS_TSCONFIG_PATH = opts.tsconfig;
    const child = spawn(process.execPath, args, { cwd: options.packDir, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`the policy pack printed no port in 60 s\n${stderr}`));
      }, 60_000);
      child.stdout!.on("data", (d: Buffer) => {
        stdout += d.toString();
        const m = /^(\d+)\s*$/m.exec(stdout);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.on("exit", (code) => {
        clearTimeout(timer);
        reject(
          new Error(`the policy pack exited with code ${code} before serving\n${(stderr || stdout).replace(/\x1b\[[0-9;]*m/g, "").trim()}`),
        );
      });
    });
    const client = new analyzerrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const pack = new PolicyPackProcess(child, client, Date.now() - started);
    pack.stdout = stdout;
    child.stdout!.on("data", (d: Buffer) => {
      pack.stdout += d.toString();
    });
    child.stderr!.on("data", (d: Buffer) => {
      pack.stderr += d.toString();
    });
    // NewPolicyAnalyzer: ConfigureStack right after the start.
    const req = new analyzerproto.AnalyzerStackConfigureRequest()
      .setStack(options.stack)
      .setProject(options.project)
      .setOrganization(options.organization ?? "organization")
      .setDryRun(options.dryRun ?? true);
    for (const [k, v] of Object.entries(options.config ?? {})) req.getConfigMap().set(k, v);
    await wrap<analyzerproto.AnalyzerStackConfigureResponse>((cb) => client.configureStack(req, cb));
    return pack;
  }

  async info(): Promise<AnalyzerInfo> {
    const info = await wrap<analyzerproto.AnalyzerInfo>((cb) => this.client.getAnalyzerInfo(new emptyproto.Empty(), cb));
    return {
      name: info.getName(),
      version: info.getVersion(),
      policies: info.getPoliciesList().map((p) => {
        const schema = p.getConfigschema();
        return {
          name: p.getName(),
          description: p.getDescription(),
          level: LEVELS[p.getEnforcementlevel()] ?? "advisory",
          configSchema: schema
            ? { properties: (schema.getProperties()?.toJavaScript() ?? {}) as Record<string, unknown>, required: schema.getRequiredList() }
            : null,
        };
      }),
    };
  }

  /**
   * Configure with the CLI's reconciliation of `--policy-pack-config` (`all`, then per policy; the
   * schema's defaults filled in), for every policy the pack reports.
   */
  async configure(info: AnalyzerInfo, config: Record<string, unknown>): Promise<void> {
    const req = new analyzerproto.ConfigureAnalyzerRequest();
    const all = typeof config.all === "string" ? (config.all as Level) : undefined;
    for (const p of info.policies) {
      const own = config[p.name];
      const given = typeof own === "string" ? { enforcementLevel: own } : ((own ?? {}) as Record<string, unknown>);
      const { enforcementLevel, ...props } = given as { enforcementLevel?: Level };
      const defaults = Object.fromEntries(
        Object.entries(p.configSchema?.properties ?? {})
          .filter(([, s]) => s && typeof s === "object" && "default" in s)
          .map(([k, s]) => [k, (s as { default: unknown }).default]),
      );
      req
        .getPolicyconfigMap()
        .set(
          p.name,
          new analyzerproto.PolicyConfig()
            .setEnforcementlevel(LEVEL_CODES[enforcementLevel ?? all ?? p.level])
            .setProperties(structproto.Struct.fromJavaScript({ ...defaults, ...props } as Record<string, structproto.JavaScriptValue>)),
        );
    }
    await wrap<emptyproto.Empty>((cb) => this.client.configure(req, cb));
  }

  /** What the engine does during a preview: Analyze each registration (inputs), then AnalyzeStack (outputs). */
  async analyze(resources: readonly RegisteredResource[]): Promise<Diagnostic[]> {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const props = (v: Record<string, unknown>) =>
      structproto.Struct.fromJavaScript(stripInternal(v) as Record<string, structproto.JavaScriptValue>);
    const options = (r: RegisteredResource) => {
      const o = new analyzerproto.AnalyzerResourceOptions()
        .setProtect(r.options.protect)
        .setIgnorechangesList(r.options.ignoreChanges)
        .setDeletebeforereplace(r.options.deleteBeforeReplace)
        .setDeletebeforereplacedefined(r.options.deleteBeforeReplaceDefined)
        .setAdditionalsecretoutputsList(r.options.additionalSecretOutputs)
        .setAliasesList(r.options.aliases)
        .setParent(r.parent ?? "");
      if (r.options.customTimeouts) {
        const seconds = (d: string) => durationSeconds(d);
        o.setCustomtimeouts(
          new analyzerproto.AnalyzerResourceOptions.CustomTimeouts()
            .setCreate(seconds(r.options.customTimeouts.create))
            .setUpdate(seconds(r.options.customTimeouts.update))
            .setDelete(seconds(r.options.customTimeouts.delete)),
        );
      }
      return o;
    };
    const provider = (r: RegisteredResource, which: "inputs" | "outputs") => {
      const p = r.provider ? byUrn.get(r.provider.slice(0, r.provider.lastIndexOf("::"))) : undefined;
      return p
        ? new analyzerproto.AnalyzerProviderResource().setType(p.type).setUrn(p.urn).setName(p.name).setProperties(props(p[which]))
        : undefined;
    };
    const diagnostics: Diagnostic[] = [];
    const collect = (res: analyzerproto.AnalyzeResponse, fallbackUrn: string | null) => {
      for (const d of res.getDiagnosticsList()) {
        const wire = d.getMessage();
        const prefix = `${d.getDescription()}\n`;
        diagnostics.push({
          policy: d.getPolicyname(),
          level: LEVELS[d.getEnforcementlevel()] ?? "advisory",
          urn: d.getUrn() || fallbackUrn,
          message: d.getDescription() && wire.startsWith(prefix) ? wire.slice(prefix.length) : wire,
          wireMessage: wire,
        });
      }
    };
    // The engine analyzes the stack's own registrations (reads included), in registration order.
    for (const r of resources) {
      const req = new analyzerproto.AnalyzeRequest()
        .setUrn(r.urn)
        .setType(r.type)
        .setName(r.name)
        .setProperties(props(r.read ? r.outputs : r.inputs))
        .setOptions(options(r));
      const p = provider(r, "inputs");
      if (p) req.setProvider(p);
      collect(await wrap<analyzerproto.AnalyzeResponse>((cb) => this.client.analyze(req, cb)), r.urn);
    }
    const stackReq = new analyzerproto.AnalyzeStackRequest().setResourcesList(
      resources.map((r) => {
        const a = new analyzerproto.AnalyzerResource()
          .setUrn(r.urn)
          .setType(r.type)
          .setName(r.name)
          .setProperties(props(r.outputs))
          .setOptions(options(r))
          .setParent(r.parent ?? "")
          .setDependenciesList(r.dependencies);
        for (const [k, urns] of Object.entries(r.propertyDependencies)) {
          a.getPropertydependenciesMap().set(k, new analyzerproto.AnalyzerPropertyDependencies().setUrnsList(urns));
        }
        const p = provider(r, "outputs");
        if (p) a.setProvider(p);
        return a;
      }),
    );
    collect(await wrap<analyzerproto.AnalyzeResponse>((cb) => this.client.analyzeStack(stackReq, cb)), null);
    return diagnostics;
  }

  async stop(): Promise<void> {
    this.client.close();
    if (this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once("exit", resolve));
      this.child.kill("SIGTERM");
      await exited;
    }
  }
}

/** MarshalProperties(SkipInternalKeys): keys starting with `__` are the engine's own. */
function stripInternal(v: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(v).filter(([k]) => !k.startsWith("__")));
}

/** Seconds of a Go duration such as "5m" or "1h30m"; 0 when unset. */
function durationSeconds(value: string): number {
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };
  let total = 0;
  for (const m of value.matchAll(/([\d.]+)(h|ms|m|s)/g)) total += Number(m[1]) * units[m[2]!]!;
  return total;
}
