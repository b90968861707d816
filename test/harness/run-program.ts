/**
 * Starts the Pulumi program the way `pulumi preview` does through the Node.js language host
 * (pulumi/pulumi sdk/nodejs/cmd/pulumi-language-nodejs/main.go: `Run`, `execRuntime`,
 * `constructArguments`, `constructConfig`, `parseOptions`; pkg/engine/project.go `getPwdMain`),
 * against the fake engine of fake-engine.ts. See README.md in this folder.
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { checkPulumiVersion, FakeEngine, SECRET_SIG, SIG, UNKNOWN, type LogEntry, type RegisteredResource } from "./fake-engine";

/** Exit code of cmd/run when the error was already logged to the engine (cmd/run/index.js). */
export const EXIT_ERROR_LOGGED = 32;

export interface ProjectFile {
  name: string;
  runtime: string | { name: string; options?: Record<string, unknown> };
  main?: string;
  stackConfigDir?: string;
}

export interface LaunchPlan {
  /** Node's arguments: nodeargs, cmd/run, its flags, the entry point. */
  args: string[];
  /** Environment the language host adds (on top of its own). */
  env: Record<string, string>;
  /** Working directory of node: the folder `pulumi` runs in, the project root. */
  cwd: string;
}

/** Splits `nodeargs` like shlex.Split (quotes and backslashes; no variable expansion). */
export function splitShell(s: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quote: string | null = null;
  let has = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === "\\" && quote === '"' && i + 1 < s.length) cur += s[++i];
      else cur += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      has = true;
    } else if (c === "\\" && i + 1 < s.length) {
      cur += s[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has) out.push(cur);
      cur = "";
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (quote) throw new Error(`nodeargs: unterminated quote in ${JSON.stringify(s)}`);
  if (has) out.push(cur);
  return out;
}

export function readProject(root: string): ProjectFile {
  return parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as ProjectFile;
}

/**
 * What the CLI passes as config: the `config` of `<stackConfigDir>/Pulumi.<stack>.yaml`, every value
 * a string (objects and lists as JSON), keys rewritten by the language host to `<ns>:config:<key>`
 * (constructConfig; the SDK accepts both forms). Secure values are not supported here.
 */
export function stackConfig(root: string, project: ProjectFile, stack: string): Record<string, string> {
  const file = path.join(root, project.stackConfigDir ?? ".", `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) return {};
  const settings = parse(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null;
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(settings?.config ?? {})) {
    if (value && typeof value === "object" && "secure" in value)
      throw new Error(`${file}: ${key} is a secure value; the harness passes plaintext only`);
    const [ns, ...rest] = key.includes(":") ? key.split(":") : [project.name, key];
    out[`${ns}:config:${rest.join(":")}`] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return out;
}

/** The node command line and environment of one program run (execRuntime + constructArguments). */
export function launchPlan(options: {
  root: string;
  stack: string;
  monitor: string;
  engine: string;
  dryRun: boolean;
  organization?: string;
  /** Config secrets as ops set them (`pulumi config set --secret`): `<ns>:<key>` → clear value, decrypted as the CLI does. */
  secretConfig?: Record<string, string>;
}): LaunchPlan {
  const { root } = options;
  const project = readProject(root);
  const runtimeName = typeof project.runtime === "string" ? project.runtime : project.runtime.name;
  if (runtimeName !== "nodejs") throw new Error(`Pulumi.yaml: runtime ${runtimeName} is not handled by the harness`);
  const opts = (typeof project.runtime === "string" ? {} : project.runtime.options) ?? {};
  // parseOptions: typescript defaults to true; nodeargs is a string split shell-style.
  const typescript = opts.typescript ?? true;
  if (typeof typescript !== "boolean") throw new Error("Pulumi.yaml: typescript option must be a boolean");
  if (opts.nodeargs !== undefined && typeof opts.nodeargs !== "string") throw new Error("Pulumi.yaml: nodeargs option must be a string");
  // getPwdMain: a `main` file runs from its folder, with its base name as the entry point.
  let programDir = root;
  let entryPoint = ".";
  if (project.main) {
    const main = path.resolve(root, project.main);
    if (fs.statSync(main).isDirectory()) programDir = main;
    else {
      programDir = path.dirname(main);
      entryPoint = path.basename(main);
    }
  }
  // locateModule: `require.resolve` run from the program directory.
  const runPath = createRequire(path.join(programDir, "noop.js")).resolve("@pulumi/pulumi/cmd/run");
  const flag = (k: string, v: string | undefined) => (v ? [`--${k}`, v] : []);
  const args = [
    ...splitShell((opts.nodeargs as string | undefined) ?? ""),
    runPath,
    ...flag("monitor", options.monitor),
    ...flag("engine", options.engine),
    // --sync <pipes dir> is left out: it only serves the legacy synchronous invokes (runtime/settings.js).
    ...flag("organization", options.organization ?? "organization"),
    ...flag("project", project.name),
    ...flag("root-directory", root),
    ...flag("stack", options.stack),
    ...flag("pwd", programDir),
    ...(options.dryRun ? ["--dry-run"] : []),
    // The CLI's default --parallel: GOMAXPROCS × 4 (pkg/cmd/pulumi/operations/up.go defaultParallel).
    ...flag("parallel", String(os.availableParallelism() * 4)),
    entryPoint,
  ];
  // The language host hands decrypted secrets over with the other keys, and names them (constructConfig).
  const secrets = Object.fromEntries(Object.entries(options.secretConfig ?? {}).map(([k, v]) => [k.replace(/^([^:]+):/, "$1:config:"), v]));
  const env: Record<string, string> = {
    PULUMI_CONFIG: JSON.stringify({ ...stackConfig(root, project, options.stack), ...secrets }),
    PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(Object.keys(options.secretConfig ?? {})),
  };
  if (typescript) env.PULUMI_NODEJS_TYPESCRIPT = "true";
  if (typeof opts.tsconfig === "string") env.PULUMI_NODEJS_TSCONFIG_PATH = opts.tsconfig;
  return { args, env, cwd: root };
}

export interface ProgramRun {
  stack: string;
  exitCode: number | null;
  resources: RegisteredResource[];
  logs: LogEntry[];
  /** The root stack's outputs on the wire (unknowns and secrets as sentinels). */
  outputs: Record<string, unknown> | undefined;
  stdout: string;
  stderr: string;
  engineErrors: string[];
  /** A readable one-paragraph failure, or null when the run succeeded. */
  error: string | null;
  features: string[];
  ms: number;
}

export interface RunOptions {
  /** Project root (the folder holding Pulumi.yaml). */
  root: string;
  stack: string;
  /** @default true: `pulumi preview` */
  dryRun?: boolean;
  /** Outputs of referenced stacks by full name. */
  stackOutputs?: Record<string, Record<string, unknown>>;
  /** Config secrets set by ops, `<ns>:<key>` → value. */
  secretConfig?: Record<string, string>;
  /** @default 240 s (one stack takes 2-3 s alone on a 2-CPU machine, much longer among other tests) */
  timeoutMs?: number;
}

/** Runs one stack of the program against a fresh fake engine. */
export async function runProgram(options: RunOptions): Promise<ProgramRun> {
  checkPulumiVersion();
  const started = Date.now();
  const project = readProject(options.root);
  const engine = new FakeEngine({ project: project.name, stack: options.stack, stackOutputs: options.stackOutputs ?? {} });
  const address = await engine.start();
  const plan = launchPlan({
    root: options.root,
    stack: options.stack,
    monitor: address,
    engine: address,
    dryRun: options.dryRun ?? true,
    ...(options.secretConfig ? { secretConfig: options.secretConfig } : {}),
  });
  // The CLI's own PULUMI_* settings never reach a program run from a test.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("PULUMI_")));
  const child = spawn(process.execPath, plan.args, {
    cwd: plan.cwd,
    env: { ...inherited, ...plan.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const timeoutMs = options.timeoutMs ?? 240_000;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, timeoutMs);
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve(code));
  }).finally(() => clearTimeout(timer));
  await engine.stop();
  // The SDK logs errors with util.inspect colours: drop them for a readable message.
  const errors = engine.logs.filter((l) => l.severity === "error").map((l) => l.message.replace(/\x1b\[[0-9;]*m/g, "").trim());
  let error: string | null = null;
  if (timedOut) {
    error = `${options.stack}: the program did not finish in ${timeoutMs / 1000} s and was killed\n${stderr.trim().split("\n").slice(-20).join("\n")}`;
  } else if (exitCode !== 0) {
    const detail = errors.length ? errors.join("\n") : stderr.trim().split("\n").slice(-20).join("\n");
    error = `${options.stack}: program exited with code ${exitCode}\n${detail}`;
  } else if (engine.engineErrors.length) {
    error = `${options.stack}: ${engine.engineErrors.join("\n")}`;
  }
  return {
    stack: options.stack,
    exitCode,
    resources: engine.resources,
    logs: engine.logs,
    outputs: engine.stackOutputs,
    stdout,
    stderr,
    engineErrors: engine.engineErrors,
    error,
    features: engine.features,
    ms: Date.now() - started,
  };
}

/**
 * A stack's outputs as another stack's StackReference reads them after the stack was applied:
 * what the preview left unknown gets a placeholder (the offline plan does the same). A secret output
 * that is unknown in the preview goes over the wire as a bare unknown (the SDK drops the secret flag
 * of unknowns), so the applied value of each secret output is given here and sent as a secret.
 */
export function appliedOutputs(
  outputs: Record<string, unknown>,
  options: { secrets?: Record<string, unknown>; placeholder?: string } = {},
): Record<string, unknown> {
  const placeholder = options.placeholder ?? "(known after the platform is applied)";
  const fill = (v: unknown): unknown => {
    if (v === UNKNOWN) return placeholder;
    if (Array.isArray(v)) return v.map(fill);
    if (v && typeof v === "object") {
      const o = v as Record<string, unknown>;
      if (o[SIG] === SECRET_SIG) return { [SIG]: SECRET_SIG, value: fill(o.value) };
      return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, fill(x)]));
    }
    return v;
  };
  const filled = fill(outputs) as Record<string, unknown>;
  for (const [name, value] of Object.entries(options.secrets ?? {})) filled[name] = { [SIG]: SECRET_SIG, value };
  return filled;
}
