import { parseArgs } from "node:util";
import { PROJECT_ROOT } from "../contract/paths";
import { diffPlans, type StackDiff } from "../plan/plan-diff";
import { commitOf, planAt, planTree } from "./commit-plans";
import { runCli, UsageError } from "./run";

/**
 * npm run touched -- <base-ref> [<head-ref>] [--env <env>] [--json] [--cache <dir>]: the stacks a
 * change touches, from the offline plans (with digests) of the two commits, the working tree when
 * no head is given (docs/operations.md "CI and the future orchestrator"). A commit's plan is made
 * in a worktree of it, sharing this checkout's node_modules when the lockfiles are the same; with
 * --cache it is kept as <dir>/<env>-<commit>.json for the next run. Exit 1 when the change would
 * take a stack away or delete data, which the flow refuses (npm run decommission).
 */
runCli(async () => {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      env: { type: "string", default: "prod" },
      json: { type: "boolean", default: false },
      cache: { type: "string" },
    },
  });
  if (positionals.length < 1 || positionals.length > 2) {
    throw new UsageError("usage: npm run touched -- <base-ref> [<head-ref>] [--env <env>] [--json] [--cache <dir>]");
  }
  const env = values.env!;
  const [baseRef, headRef] = positionals;
  const request = { env, policies: false };
  const base = planAt(commitOf(baseRef!), request, values.cache);
  const head = headRef === undefined ? planTree(PROJECT_ROOT, request) : planAt(commitOf(headRef), request, values.cache);
  const diff = diffPlans(base, head);
  if (values.json) console.log(JSON.stringify(diff, null, 2));
  else process.stdout.write(touchedText(diff));
  return diff.some(refused) ? 1 : 0;
});

/** What the flow refuses to apply: a stack taken away, or data deleted. */
function refused(d: StackDiff): boolean {
  return d.status === "removed" || d.dataDeletes.length > 0;
}

/** Pure: one line per touched stack, then what the flow refuses; counts and slugs only. */
function touchedText(diff: readonly StackDiff[]): string {
  if (diff.length === 0) return "no stack is touched\n";
  const lines = diff.map(
    (d) => `${d.stack}: ${d.status} (${d.create.length} to create, ${d.update.length} to update, ${d.delete.length} to delete)`,
  );
  for (const d of diff.filter(refused)) {
    if (d.status === "removed") lines.push(`refused: ${d.stack} would be destroyed (its tenant file is gone); see npm run decommission`);
    else
      lines.push(
        `refused: ${d.stack} would delete ${d.dataDeletes.map((r) => r.urn.slice(r.urn.lastIndexOf("::") + 2)).join(", ")}; see npm run decommission`,
      );
  }
  return `${lines.join("\n")}\n`;
}
