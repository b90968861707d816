import { PROJECT_ROOT } from "../contract/paths";
import { DATA_TYPES, diffPlans, type ChangedResource, type StackDiff } from "../plan/plan-diff";
import { type CommitPlan, commitOf, planAt, planTree } from "./commit-plans";

/**
 * The stacks a change touches, from the offline plans (with digests) of two commits, the working
 * tree when no head is given (docs/operations.md "CI and the pull-request flow"): the selection
 * npm run touched prints and npm run deploy runs.
 */

export interface TouchedSelection {
  base: CommitPlan;
  head: CommitPlan;
  /** The touched stacks, the platform first (infra/plan/plan-diff.ts diffPlans). */
  diff: StackDiff[];
}

export interface SelectionRequest {
  env: string;
  /** Evaluate the policy pack in both plans (the offline summary shows its results). */
  policies?: boolean;
  /** A folder keeping each commit's plan for the next run. */
  cache?: string;
}

/** Both plans and what differs; a missing head ref means the working tree. */
export function touchedSelection(baseRef: string, headRef: string | undefined, request: SelectionRequest): TouchedSelection {
  const planRequest = { env: request.env, policies: request.policies ?? false };
  const base = planAt(commitOf(baseRef), planRequest, request.cache);
  const head = headRef === undefined ? planTree(PROJECT_ROOT, planRequest) : planAt(commitOf(headRef), planRequest, request.cache);
  return { base, head, diff: diffPlans(base, head) };
}

/** What the flow refuses to apply: a stack taken away (its tenant file gone or renamed), or data deleted. */
export function refused(d: StackDiff): boolean {
  return d.status === "removed" || d.dataDeletes.length > 0;
}

const nameOf = (r: ChangedResource) => r.urn.slice(r.urn.lastIndexOf("::") + 2);

/**
 * Pure: one line per refused stack, naming it and its data resources and pointing to
 * decommission; slugs and resource names only. A stack taken away lists the data it holds, which
 * a destroy would lose.
 */
export function refusalLines(diff: readonly StackDiff[]): string[] {
  const lines: string[] = [];
  for (const d of diff.filter(refused)) {
    const data = d.dataDeletes.length ? d.dataDeletes : d.delete.filter((r) => DATA_TYPES.has(r.type));
    const names = data.length ? `, data: ${data.map(nameOf).join(", ")}` : "";
    if (d.status === "removed")
      lines.push(
        `refused: ${d.stack} would be destroyed (its tenant file is gone or renamed${names}); run npm run decommission -- ${d.tenant} instead`,
      );
    else
      lines.push(
        `refused: ${d.stack} would delete data (${data.map(nameOf).join(", ")}); run npm run decommission -- ${d.tenant} --offer <offer> instead`,
      );
  }
  return lines;
}

/** Pure: one line per touched stack, then what the flow refuses; counts and slugs only. */
export function touchedText(diff: readonly StackDiff[]): string {
  if (diff.length === 0) return "no stack is touched\n";
  const lines = diff.map(
    (d) => `${d.stack}: ${d.status} (${d.create.length} to create, ${d.update.length} to update, ${d.delete.length} to delete)`,
  );
  lines.push(...refusalLines(diff));
  return `${lines.join("\n")}\n`;
}
