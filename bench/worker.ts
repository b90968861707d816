import * as fs from "node:fs";
import type { StackPlan } from "../infra/offline-plan";

/**
 * One cold measure of the benchmark, in its own process (bench/run.ts starts it):
 *   node --import tsx bench/worker.ts validate|plan|plan-one [<slug>]
 * with ALACARTE_TENANTS_DIR naming the generated tenant files. Prints one JSON line.
 * Experiments, not fixes: BENCH_STACK_TRACE_LIMIT sets Error.stackTraceLimit for the run;
 * BENCH_SOURCE_MAPS=off turns off the source-mapped stack traces that tsx turns on.
 * `plan-part <k> <n>` plans the platform and every n-th tenant from the k-th (sorted by slug):
 * two such processes side by side tell what two worker processes would give.
 */

export interface WorkerResult {
  measure: string;
  /** Time of the measured call itself, imports excluded. */
  insideMs: number;
  /** Time from the process start to the end of the measured call. */
  sinceStartMs: number;
  maxRssMb: number;
  files?: number;
  errors?: number;
  /** Registrations the mock monitor answered (every stack), counted apart from the plan's own recording. */
  mocksSaw?: number;
  stacks?: { name: string; tenant: string | null; resources: number; byComponent: Record<string, number> }[];
}

/** The resources of a stack grouped by the type of their top-level ancestor (a child of the stack root). */
function byComponent(stack: StackPlan): Record<string, number> {
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

async function main(): Promise<void> {
  const [measure, slug] = process.argv.slice(2);
  if (process.env.BENCH_STACK_TRACE_LIMIT !== undefined) Error.stackTraceLimit = Number(process.env.BENCH_STACK_TRACE_LIMIT);
  if (process.env.BENCH_SOURCE_MAPS === "off") process.setSourceMapsEnabled(false);
  if (!process.env.ALACARTE_TENANTS_DIR) throw new Error("ALACARTE_TENANTS_DIR is not set");

  // Each measure loads only what its command loads (validate does not load Pulumi).
  const { readPlatformConfig, TENANTS_DIR } = await import("../infra/platform-config.js");
  if (measure === "validate") {
    const { validateTenants } = await import("../infra/validate.js");
    const start = performance.now();
    const shared = readPlatformConfig("prod").sharedMailDomains;
    const v = validateTenants({ tenantsDir: TENANTS_DIR, sharedMailDomains: shared });
    const insideMs = performance.now() - start;
    return print({
      measure, insideMs, sinceStartMs: performance.now(), maxRssMb: 0,
      files: v.files.length, errors: v.problems.filter((p) => p.severity === "error").length,
    });
  }
  const { defaultWorkers, plan, planFailed } = await import("../infra/offline-plan.js");
  // bench/count-registrations.cjs (preloaded here and, through NODE_OPTIONS, in the plan's own
  // worker processes) counts what the mock monitors answer; each worker process adds its count to
  // a file when it ends, this process reads its own through a global.
  const countFile = process.env.BENCH_COUNT_FILE;
  const ownCount = (globalThis as { __alacarteBenchRegistrations?: () => number }).__alacarteBenchRegistrations;
  if (!countFile || !ownCount) throw new Error("run through bench/run.ts: BENCH_COUNT_FILE and the count preload are missing");
  const mocksSaw = async (children: number) => {
    // Worker processes end just after their answer: wait (untimed) for each one's line.
    let lines: number[] = [];
    for (let i = 0; i < 100; i++) {
      lines = fs.existsSync(countFile) ? fs.readFileSync(countFile, "utf8").split("\n").filter(Boolean).map(Number) : [];
      if (lines.length >= children) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    return lines.reduce((a, b) => a + b, 0) + ownCount();
  };

  const start = performance.now();
  let result: WorkerResult;
  if (measure === "plan" || measure === "plan-one" || measure === "plan-part") {
    if (measure === "plan-one" && !slug) throw new Error("plan-one needs a slug");
    let tenants: string[] | undefined;
    if (measure === "plan-one") tenants = [slug!];
    if (measure === "plan-part") {
      const [k, n] = process.argv.slice(3).map(Number);
      const slugs = fs.readdirSync(TENANTS_DIR).filter((f) => f.endsWith(".yaml")).map((f) => f.slice(0, -5)).sort();
      tenants = slugs.filter((_, i) => i % n! === k);
    }
    const stacks = tenants?.length ?? fs.readdirSync(TENANTS_DIR).filter((f) => f.endsWith(".yaml")).length;
    const workers = defaultWorkers(stacks);
    const r = await plan({ env: "prod", tenantsDir: TENANTS_DIR, workers, ...(tenants ? { tenants } : {}) });
    const insideMs = performance.now() - start;
    result = {
      measure, insideMs, sinceStartMs: performance.now(), maxRssMb: 0,
      errors: planFailed(r) ? 1 : 0,
      mocksSaw: await mocksSaw(workers - 1),
      stacks: r.stacks.map((s) => ({ name: s.name, tenant: s.tenant, resources: s.resources.length, byComponent: byComponent(s) })),
    };
  } else {
    throw new Error(`unknown measure ${measure}`);
  }
  print(result);
}

function print(result: WorkerResult): void {
  result.maxRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
