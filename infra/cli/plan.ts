import { parseArgs } from "node:util";
import type { PlanResult, StackPlan } from "../plan/offline-plan";
import { startPlanValidation } from "../plan/plan-validation";
import { startPlanWorkers } from "../plan/plan-workers";
import { formatEur } from "../catalog/pricing";
import { runCli, UsageError } from "./run";

function countByType(stack: StackPlan): [string, number][] {
  const counts = new Map<string, number>();
  for (const r of stack.resources) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
  return [...counts].sort((a, b) => a[0].localeCompare(b[0]));
}

/** The plan as text, one string: a console.log per line costs a write each, by the hundred thousand at scale. */
function planText(result: PlanResult, policiesRan: boolean): string {
  const lines: string[] = [];
  for (const p of result.problems) lines.push(`${p.severity}: ${p.message}`);
  for (const stack of result.stacks) {
    const price =
      stack.tenant === null
        ? ""
        : `, ${formatEur(stack.yearlyPriceEur ?? 0)}/year${stack.undecided.length ? ` + ${stack.undecided.length} line(s) to be decided` : ""}`;
    lines.push(`\n${stack.name}: ${stack.resources.length} resources${price}`);
    for (const [type, n] of countByType(stack)) lines.push(`  ${String(n).padStart(4)}  ${type}`);
    for (const u of stack.undecided) lines.push(`  to be decided: ${u}`);
    for (const r of stack.dnsRecords) lines.push(`  dns ${r.type} ${r.name} ${r.priority !== undefined ? `${r.priority} ` : ""}${r.value}`);
    for (const p of stack.problems) lines.push(`  ${p.severity}: ${p.message}`);
    for (const v of stack.policies) {
      const resource = v.urn ? ` [${v.urn.split("::").slice(2).join("::")}]` : "";
      lines.push(`  policy ${v.level} ${v.policy}${resource}: ${v.message}`);
    }
  }
  const total = result.stacks.reduce((n, s) => n + s.resources.length, 0);
  const revenue = result.stacks.reduce((n, s) => n + (s.yearlyPriceEur ?? 0), 0);
  lines.push(
    `\nenvironment ${result.environment}: ${result.stacks.length} stack(s), ${total} resources, ${formatEur(Math.round(revenue * 100) / 100)}/year (decided lines)`,
  );
  if (!policiesRan) {
    lines.push("policies: not evaluated (--no-policies)");
  } else {
    const all = result.stacks.flatMap((s) => s.policies);
    const mandatory = all.filter((v) => v.level === "mandatory").length;
    lines.push(`policies: ${mandatory} mandatory violation(s), ${all.length - mandatory} advisory finding(s)`);
  }
  return `${lines.join("\n")}\n`;
}

/** npm run plan [-- --tenant <slug>] [--env staging] [--json [--digests]] [--no-policies] */
runCli(async () => {
  const { values } = parseArgs({
    options: {
      tenant: { type: "string", multiple: true },
      env: { type: "string", default: "prod" },
      json: { type: "boolean", default: false },
      // Each resource's digest in the JSON, for comparing two plans (infra/plan/plan-diff.ts).
      digests: { type: "boolean", default: false },
      // Plan without evaluating the policy pack (to time the plan alone).
      "no-policies": { type: "boolean", default: false },
      // Processes planning tenant stacks side by side (default: the cores, for many stacks).
      workers: { type: "string" },
    },
  });
  const workers = values.workers === undefined ? undefined : Number(values.workers);
  if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1))
    throw new UsageError(`--workers must be a whole number of at least 1, not "${values.workers}"`);
  const policies = !values["no-policies"];
  if (values.digests && !values.json) throw new UsageError("--digests goes with --json");
  // The tenant files are checked in another thread, and the worker processes start, while this
  // one loads the program and Pulumi.
  const validation = startPlanValidation({ env: values.env! });
  const workerProcesses = startPlanWorkers({ ...(workers ? { workers } : {}), ...(values.tenant ? { tenants: values.tenant } : {}) });
  let result: PlanResult;
  let failed: boolean;
  try {
    const { plan, planFailed } = await import("../plan/offline-plan.js");
    result = await plan({
      env: values.env!,
      policies,
      validation,
      workerProcesses,
      ...(values.digests ? { digests: true } : {}),
      ...(values.tenant ? { tenants: values.tenant } : {}),
    });
    failed = planFailed(result);
  } finally {
    for (const w of workerProcesses) w.stop();
  }
  if (values.json) console.log(JSON.stringify(result, null, 2));
  else process.stdout.write(planText(result, policies));
  return failed ? 1 : 0;
});
