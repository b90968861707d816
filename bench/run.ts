import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { parseArgs } from "node:util";
import { readPlatformConfig } from "../infra/model/platform-config";
import { generateTenantSet, type TenantKind, type TenantSet, type TenantSetSummary } from "./generate";

/**
 * npm run bench [-- --sizes 1,10,100] [--runs 3] [--timeout 300] [--seed 1] [--measures validate,plan,plan-one]
 *                 [--out .bench/results.json]
 *
 * For each size, each measure runs `runs` times cold: the generated tenant files are written to a
 * fresh temporary folder and the command is started exactly as its npm script starts it
 * (`node infra/cli/launch.cjs validate`, `plan`, `plan --tenant <slug>`), from the build that
 * `npm ci` made (it is checked, and made if missing, before the first run). Medians are printed,
 * both inside the process (the command's own work, imports excluded) and as a whole command (the
 * wall time from start to exit). Peak memory is the sum of each process's peak (the plan's worker
 * processes included). A run past `timeout` seconds is killed and reported as not finished; the
 * remaining runs of that measure are skipped.
 *
 * Honest counting: one more run of each plan measure, untimed, prints the plan as JSON; every
 * resource it reports must have been answered by the mock monitors of its processes (counted by
 * bench/process-report.cjs), and the resources per stack come from it.
 */

const ROOT = path.resolve(__dirname, "..");
const LAUNCH = path.join(ROOT, "infra", "cli", "launch.cjs");
const REPORT = path.join(ROOT, "bench", "process-report.cjs");
const MEASURES = ["validate", "plan", "plan-one"] as const;
type Measure = (typeof MEASURES)[number];

interface RunOutcome {
  ok: boolean;
  wallMs: number;
  /** Why the run failed: "did not finish in N s", an exit code, bad output. */
  failure?: string;
  insideMs?: number;
  /** Sum of the processes' peaks. */
  maxRssMb?: number;
  processes?: number;
  registrations?: number;
  stdout?: string;
}

interface Stats {
  min: number;
  median: number;
  max: number;
  n: number;
}

interface MeasureReport {
  runs: number;
  failures: string[];
  /** Medians over the successful runs. */
  insideMs: number | null;
  wallMs: number | null;
  maxRssMb: number | null;
  /** Each run, with the 1-minute load average when it started (other work on the machine skews timings). */
  all: { insideMs: number; wallMs: number; maxRssMb: number; processes: number; loadAvg: number }[];
}

interface SizeReport {
  scale: number;
  set: TenantSetSummary;
  changedTenant: string;
  measures: Partial<Record<Measure, MeasureReport>>;
  resources?: {
    total: number;
    mocksSaw: number;
    stacks: number;
    platform: number;
    /** Resources per tenant stack by kind of tenant. */
    byKind: Record<string, Stats & { medianByComponent: Record<string, number> }>;
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function stats(xs: number[]): Stats {
  return { min: Math.min(...xs), median: median(xs), max: Math.max(...xs), n: xs.length };
}

function commandArgs(measure: Measure, set: TenantSet): string[] {
  if (measure === "validate") return ["validate"];
  return ["plan", ...(measure === "plan-one" ? ["--tenant", set.showcase] : [])];
}

function readLines<T>(file: string): T[] {
  return fs.existsSync(file)
    ? fs
        .readFileSync(file, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as T)
    : [];
}

/** How much more each host of the bench's platform holds than the project's (see benchStacks). */
const BENCH_HOST_FACTOR = 1000;

/**
 * The project's stack settings, each host's capacity raised {@link BENCH_HOST_FACTOR} times: a
 * generated set puts every tenant's apps on the one apps host of the placement, far more than a
 * real host holds, and the host-capacity policy would fail the plan. With room to spare every
 * policy still runs, at the same cost: the bench measures time, not the placement.
 */
function benchStacks(dir: string): string {
  const stacksDir = path.join(dir, "stacks");
  fs.mkdirSync(stacksDir);
  const from = path.join(ROOT, "stacks");
  for (const file of fs.readdirSync(from)) {
    const doc = parseYaml(fs.readFileSync(path.join(from, file), "utf8")) as { config?: Record<string, unknown> };
    const hosts = doc.config?.["alacarte:hosts"] as Record<string, Record<string, number>> | undefined;
    for (const host of Object.values(hosts ?? {}))
      for (const k of ["cpus", "memoryGb", "diskGb"]) if (typeof host[k] === "number") host[k] *= BENCH_HOST_FACTOR;
    fs.writeFileSync(path.join(stacksDir, file), stringifyYaml(doc));
  }
  return stacksDir;
}

/** Runs one command cold, in a fresh folder of the set's files. */
function runCommand(set: TenantSet, args: string[], timeoutS: number, keepStdout = false): Promise<RunOutcome> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "alacarte-bench-"));
  const tenantsDir = path.join(dir, "tenants");
  fs.mkdirSync(tenantsDir);
  for (const [name, text] of set.files) fs.writeFileSync(path.join(tenantsDir, name), text);
  const stacksDir = benchStacks(dir);
  const reportFile = path.join(dir, "processes");
  const timingsFile = path.join(dir, "timings");
  return new Promise((resolve) => {
    const start = performance.now();
    const child = spawn(process.execPath, [LAUNCH, ...args], {
      cwd: ROOT,
      env: {
        ...process.env,
        ALACARTE_TENANTS_DIR: tenantsDir,
        ALACARTE_STACKS_DIR: stacksDir,
        BENCH_REPORT_FILE: reportFile,
        ALACARTE_TIMINGS_FILE: timingsFile,
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --require ${REPORT}`.trim(),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    let err = "";
    let timedOut = false;
    child.stdout.on("data", (d: Buffer) => {
      if (keepStdout) out.push(d);
    });
    child.stderr.on("data", (d: Buffer) => {
      err += d;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutS * 1000);
    child.on("close", (code, signal) => {
      const wallMs = performance.now() - start;
      clearTimeout(timer);
      const processes = readLines<{ maxRssMb: number; registrations: number }>(reportFile);
      const timings = readLines<{ insideMs: number }>(timingsFile);
      fs.rmSync(dir, { recursive: true, force: true });
      if (timedOut) return resolve({ ok: false, wallMs, failure: `did not finish in ${timeoutS} s` });
      if (code !== 0) {
        const last = err.trim().split("\n").slice(-3).join(" | ");
        return resolve({ ok: false, wallMs, failure: `exit ${code ?? signal}: ${last.slice(0, 300)}` });
      }
      if (!timings.length) return resolve({ ok: false, wallMs, failure: "the command reported no timing" });
      resolve({
        ok: true,
        wallMs,
        insideMs: timings[0]!.insideMs,
        maxRssMb: processes.reduce((n, p) => n + p.maxRssMb, 0),
        processes: processes.length,
        registrations: processes.reduce((n, p) => n + p.registrations, 0),
        ...(keepStdout ? { stdout: Buffer.concat(out).toString("utf8") } : {}),
      });
    });
  });
}

interface PlannedStack {
  name: string;
  tenant: string | null;
  resources: { type: string; urn: string; parent: string | null }[];
}

/** The resources of a stack grouped by the type of their top-level ancestor (a child of the stack root). */
function byComponent(stack: PlannedStack): Record<string, number> {
  const byUrn = new Map(stack.resources.map((r) => [r.urn, r]));
  const out: Record<string, number> = {};
  for (const r of stack.resources) {
    let top = r;
    while (top.parent && byUrn.get(top.parent)?.parent) top = byUrn.get(top.parent)!;
    const key = top.parent === null ? "(stack root)" : top.type;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

function summarizeResources(set: TenantSet, planned: PlannedStack[], mocksSaw: number): SizeReport["resources"] {
  const stacks = planned.map((s) => ({ tenant: s.tenant, resources: s.resources.length, byComponent: byComponent(s) }));
  const byKind = new Map<TenantKind, typeof stacks>();
  for (const s of stacks) {
    if (s.tenant === null) continue;
    const kind = set.kinds.get(s.tenant)!;
    const list = byKind.get(kind);
    if (list) list.push(s);
    else byKind.set(kind, [s]);
  }
  const kinds: NonNullable<SizeReport["resources"]>["byKind"] = {};
  for (const [kind, list] of [...byKind].sort((a, b) => a[0].localeCompare(b[0]))) {
    const components = new Set(list.flatMap((s) => Object.keys(s.byComponent)));
    const medianByComponent = Object.fromEntries([...components].sort().map((c) => [c, median(list.map((s) => s.byComponent[c] ?? 0))]));
    kinds[kind] = { ...stats(list.map((s) => s.resources)), medianByComponent };
  }
  return {
    total: stacks.reduce((n, s) => n + s.resources, 0),
    mocksSaw,
    stacks: stacks.length,
    platform: stacks.find((s) => s.tenant === null)?.resources ?? 0,
    byKind: kinds,
  };
}

const fmtS = (ms: number | null | undefined) => (ms === null || ms === undefined ? "-" : `${(ms / 1000).toFixed(2)} s`);

function cell(m: MeasureReport | undefined): string {
  if (!m) return "-";
  if (m.insideMs === null) return m.failures[0] ?? "failed";
  return `${fmtS(m.insideMs)} / ${fmtS(m.wallMs)}${m.failures.length ? ` (${m.failures.length} failed)` : ""}`;
}

function printTable(reports: SizeReport[]): void {
  const rows: string[][] = [
    ["size", "tenants", "validate (in / cmd)", "full plan (in / cmd)", "one tenant (in / cmd)", "peak RSS", "resources", "platform"],
  ];
  for (const r of reports) {
    const rss = Math.max(...Object.values(r.measures).map((m) => m?.maxRssMb ?? 0));
    rows.push([
      `x${r.scale}`,
      String(r.set.tenants),
      cell(r.measures.validate),
      cell(r.measures.plan),
      cell(r.measures["plan-one"]),
      rss ? `${rss} MB` : "-",
      r.resources ? String(r.resources.total) : "-",
      r.resources ? String(r.resources.platform) : "-",
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  for (const row of rows) console.log(row.map((c, i) => c.padEnd(widths[i]!)).join("  "));
  for (const r of reports) {
    if (!r.resources) continue;
    console.log(
      `\nx${r.scale}: resources per tenant stack (min / median / max), counted ${r.resources.total}, seen by the mocks ${r.resources.mocksSaw}`,
    );
    for (const [kind, s] of Object.entries(r.resources.byKind)) {
      const parts = Object.entries(s.medianByComponent)
        .filter(([, n]) => n > 0)
        .map(([c, n]) => `${c.replace(/^alacarte:|^pulumi:pulumi:|^pulumi:providers:/, "")} ${n}`);
      console.log(
        `  ${kind.padEnd(38)} ${String(s.n).padStart(6)} stacks  ${s.min} / ${s.median} / ${s.max}   median by component: ${parts.join(", ")}`,
      );
    }
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sizes: { type: "string", default: "1,10,100" },
      runs: { type: "string", default: "3" },
      timeout: { type: "string", default: "300" },
      seed: { type: "string", default: "1" },
      measures: { type: "string", default: MEASURES.join(",") },
      out: { type: "string", default: path.join(ROOT, ".bench", "results.json") },
    },
  });
  const sizes = values.sizes!.split(",").map(Number);
  const runs = Number(values.runs);
  const timeoutS = Number(values.timeout);
  const measures = values.measures!.split(",") as Measure[];
  const sharedMailDomains = readPlatformConfig("prod").sharedMailDomains;
  const reports: SizeReport[] = [];
  // The build the commands run from (npm ci made it; made now if missing or stale), untimed.
  execFileSync(process.execPath, [LAUNCH, "--build"], { stdio: "inherit" });
  const write = () => {
    fs.mkdirSync(path.dirname(values.out!), { recursive: true });
    fs.writeFileSync(
      values.out!,
      `${JSON.stringify(
        {
          date: new Date().toISOString(),
          node: process.version,
          cpus: os.cpus().length,
          runs,
          timeoutS,
          reports,
        },
        null,
        2,
      )}\n`,
    );
  };

  for (const scale of sizes) {
    const set = generateTenantSet({ scale, seed: Number(values.seed), sharedMailDomains });
    const report: SizeReport = { scale, set: set.summary, changedTenant: set.showcase, measures: {} };
    reports.push(report);
    for (const measure of measures) {
      const done: MeasureReport["all"] = [];
      const failures: string[] = [];
      for (let i = 0; i < runs; i++) {
        const loadAvg = Math.round(os.loadavg()[0]! * 100) / 100;
        const outcome = await runCommand(set, commandArgs(measure, set), timeoutS);
        const tag = `x${scale} ${measure} run ${i + 1}/${runs}`;
        if (!outcome.ok) {
          failures.push(outcome.failure!);
          console.error(`${tag}: ${outcome.failure}`);
          break; // a run that failed or timed out would fail again: do not spend the time twice
        }
        done.push({
          insideMs: outcome.insideMs!,
          wallMs: Math.round(outcome.wallMs),
          maxRssMb: outcome.maxRssMb!,
          processes: outcome.processes!,
          loadAvg,
        });
        console.error(
          `${tag}: ${fmtS(outcome.insideMs)} inside, ${fmtS(outcome.wallMs)} whole, ${outcome.maxRssMb} MB in ${outcome.processes} process(es) (load average ${loadAvg} at start)`,
        );
      }
      if (measure === "plan" && done.length) {
        // Untimed: the plan as JSON, to count what it reports against what the mocks answered.
        const counted = await runCommand(set, [...commandArgs(measure, set), "--json"], timeoutS, true);
        if (counted.ok) {
          const planned = (JSON.parse(counted.stdout!) as { stacks: PlannedStack[] }).stacks;
          report.resources = summarizeResources(set, planned, counted.registrations!);
          if (report.resources!.total !== report.resources!.mocksSaw)
            failures.push(`the plan reports ${report.resources!.total} resources, the mocks answered ${report.resources!.mocksSaw}`);
        } else {
          failures.push(`counting run: ${counted.failure}`);
        }
      }
      report.measures[measure] = {
        runs: done.length,
        failures,
        insideMs: done.length ? median(done.map((d) => d.insideMs)) : null,
        wallMs: done.length ? median(done.map((d) => d.wallMs)) : null,
        maxRssMb: done.length ? median(done.map((d) => d.maxRssMb)) : null,
        all: done,
      };
      write();
    }
  }
  console.log("");
  printTable(reports);
  console.log(
    `\nmedians of ${runs} cold run(s); "in" is the call inside the process, "cmd" the whole command's wall time; written to ${path.relative(process.cwd(), values.out!)}`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
