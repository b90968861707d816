import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "../contract/paths";
import { DECOMMISSIONS_DIR, type DecommissionRecord, parseDecommissionRecord } from "../model/decommission-records";
import { DATA_TYPES, diffPlans, type StackDiff } from "../plan/plan-diff";
import { type CommitPlan, commitOf, git, planAt, planTree } from "./commit-plans";
import { namedUnder, offerPrefix, urnName } from "./decommission-plan";

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
  const baseCommit = commitOf(baseRef);
  const headCommit = headRef === undefined ? undefined : commitOf(headRef);
  const base = planAt(baseCommit, planRequest, request.cache);
  const head = headCommit === undefined ? planTree(PROJECT_ROOT, planRequest) : planAt(headCommit, planRequest, request.cache);
  const records = newDecommissionRecords(recordTexts(baseCommit), recordTexts(headCommit));
  return { base, head, diff: withDecommissions(diffPlans(base, head), records) };
}

/** The decommission records' texts at a commit (the working tree when none), by path. */
function recordTexts(commit: string | undefined): Map<string, string> {
  const texts = new Map<string, string>();
  if (commit === undefined) {
    const dir = path.join(PROJECT_ROOT, DECOMMISSIONS_DIR);
    if (!fs.existsSync(dir)) return texts;
    for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".yaml")))
      texts.set(`${DECOMMISSIONS_DIR}/${f}`, fs.readFileSync(path.join(dir, f), "utf8"));
    return texts;
  }
  for (const file of git(["ls-tree", "--name-only", commit, "--", `${DECOMMISSIONS_DIR}/`])
    .split("\n")
    .filter((f) => f.endsWith(".yaml")))
    texts.set(file, `${git(["show", `${commit}:${file}`])}\n`);
  return texts;
}

/**
 * Pure: the records the change itself brings (new, or changed since the base): only the pull
 * request that removes an offer carries its record, so an old record never lets a later removal
 * of the same names through.
 * @throws Error naming a record that does not read.
 */
export function newDecommissionRecords(base: ReadonlyMap<string, string>, head: ReadonlyMap<string, string>): DecommissionRecord[] {
  return [...head].filter(([file, text]) => base.get(file) !== text).map(([file, text]) => parseDecommissionRecord(file, text));
}

/**
 * Pure: the diff with what the records say was decommissioned: the data resources of a recorded
 * offer (or of the whole tenant) are no longer data deletes of their stack (the state no longer
 * holds them), and a removed stack whose whole tenant was decommissioned is marked so.
 */
export function withDecommissions(diff: readonly StackDiff[], records: readonly DecommissionRecord[]): StackDiff[] {
  return diff.map((d) => {
    const mine = records.filter((r) => r.stack === d.stack);
    if (mine.length === 0 || d.tenant === null) return d;
    // What the decommission took is named from the slug and the offer, as it chose it (decommission-plan.ts).
    const prefixes = mine.map((r) => offerPrefix({ slug: d.tenant!, ...(r.offer ? { offer: r.offer } : {}) }));
    const dataDeletes = d.dataDeletes.filter((r) => !prefixes.some((p) => namedUnder(p, r.urn)));
    const whole = d.status === "removed" && mine.some((r) => r.offer === undefined);
    return { ...d, dataDeletes, ...(whole ? { decommissioned: true as const } : {}) };
  });
}

/** What the flow refuses to apply: a stack taken away (its tenant file gone or renamed), or data deleted. */
export function refused(d: StackDiff): boolean {
  return (d.status === "removed" && !d.decommissioned) || d.dataDeletes.length > 0;
}

/**
 * Pure: one line per refused stack, naming it and its data resources and pointing to
 * decommission; slugs and resource names only. A stack taken away lists the data it holds, which
 * a destroy would lose.
 */
export function refusalLines(diff: readonly StackDiff[]): string[] {
  const lines: string[] = [];
  for (const d of diff.filter(refused)) {
    const data = d.dataDeletes.length ? d.dataDeletes : d.delete.filter((r) => DATA_TYPES.has(r.type));
    const names = data.length ? `, data: ${data.map((r) => urnName(r.urn)).join(", ")}` : "";
    if (d.status === "removed")
      lines.push(
        `refused: ${d.stack} would be destroyed (its tenant file is gone or renamed${names}); run npm run decommission -- ${d.tenant} instead`,
      );
    else
      lines.push(
        `refused: ${d.stack} would delete data (${data.map((r) => urnName(r.urn)).join(", ")}); run npm run decommission -- ${d.tenant} --offer <offer> instead`,
      );
  }
  return lines;
}

/** Pure: one line per touched stack, then what the flow refuses; counts and slugs only. */
export function touchedText(diff: readonly StackDiff[]): string {
  if (diff.length === 0) return "no stack is touched\n";
  const lines = diff.map((d) =>
    d.decommissioned
      ? `${d.stack}: decommissioned (its tenant file is gone and its data out of the stack: nothing to run)`
      : `${d.stack}: ${d.status} (${d.create.length} to create, ${d.update.length} to update, ${d.delete.length} to delete)`,
  );
  lines.push(...refusalLines(diff));
  return `${lines.join("\n")}\n`;
}
