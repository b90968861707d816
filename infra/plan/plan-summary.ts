/**
 * Pure: the pull request's summary, in Markdown, from two offline plans with digests (base and
 * head): per touched stack what it creates, updates and deletes, each tenant's yearly price before
 * and after and the association's yearly revenue, the policy results, and a loud warning for a
 * stack taken away or data deleted. It names stacks, resource types and names, and counts: never a
 * policy's message (which may name a member's address), never an input (which may hold a secret).
 */
import { type ChangedResource, type DiffedStack, diffPlans, loweredQuotas, type QuotaLowering, type StackDiff } from "./plan-diff";

/** What the summary reads of a plan's stack besides its resources. */
export interface SummaryStack {
  name: string;
  tenant: string | null;
  yearlyPriceEur: number | null;
  policies: readonly { policy: string; level: string }[];
}

export interface SummaryPlan {
  stacks: readonly (DiffedStack & SummaryStack)[];
}

/**
 * GitHub's limit of one comment (65,536 characters, its API's validation). Forgejo and Gitea
 * check no length (`binding:"Required"` only, modules/structs/issue_comment.go) and store a
 * LONGTEXT (models/issues/comment.go): one limit serves both (docs/pipeline.md "The review summary").
 */
export const COMMENT_LIMIT = 65_536;

const euros = (n: number | null | undefined) => (n === null || n === undefined ? "—" : `${n.toFixed(2)} €`);
const nameOf = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);

/** The lines of a list, cut to `max` with one line saying how many were left out. */
function cut(lines: string[], max: number): string[] {
  return lines.length <= max ? lines : [...lines.slice(0, max), `- … and ${lines.length - max} more`];
}

/** One stack's change as the summary shows it: from two offline plans, or from the engine's events. */
export interface StackChange {
  stack: string;
  tenant: string | null;
  /** `added`: a new stack; `removed`: its tenant file is gone; `changed`: its plan differs. */
  status: StackDiff["status"];
  create: readonly ChangedResource[];
  update: readonly ChangedResource[];
  /** Only the engine knows a replace (its providers' diffs); the offline plans list none. */
  replace: readonly ChangedResource[];
  delete: readonly ChangedResource[];
  dataDeletes: readonly ChangedResource[];
  dataReplaces: readonly ChangedResource[];
  /** What the run found wrong with this stack, in one line without secrets (a failed preview, a refused account). */
  failure?: string;
  /** Its policy results after the change: name and level, never the message. */
  policies: readonly { policy: string; level: string }[];
}

/** What the summary needs besides the changes: each stack's yearly price before and after. */
export interface SummaryInput {
  changes: readonly StackChange[];
  before: readonly SummaryStack[];
  after: readonly SummaryStack[];
  /** Show a replace column (the engine's summary); the offline one has none. */
  replaces: boolean;
  /** The quotas the change lowers (infra/plan/plan-diff.ts loweredQuotas). @default none */
  lowered?: readonly QuotaLowering[];
}

/** Pure: the summary; each resource list holds at most `listMax` lines, and the whole stays under `limit`. */
export function renderSummary(base: SummaryPlan, head: SummaryPlan, options: { listMax?: number; limit?: number } = {}): string {
  const after = new Map(head.stacks.map((s) => [s.name, s]));
  const changes = diffPlans(base, head).map(
    (d): StackChange => ({ ...d, replace: [], dataReplaces: [], policies: after.get(d.stack)?.policies ?? [] }),
  );
  return renderChanges({ changes, before: base.stacks, after: head.stacks, replaces: false, lowered: loweredQuotas(base, head) }, options);
}

/** Pure: the summary of any set of changes (the one renderer of both summaries), cut to the comment's limit. */
export function renderChanges(input: SummaryInput, options: { listMax?: number; limit?: number } = {}): string {
  const limit = options.limit ?? COMMENT_LIMIT;
  for (let listMax = options.listMax ?? 50; ; listMax = Math.floor(listMax / 2)) {
    const text = render(input, listMax);
    if (text.length <= limit || listMax === 0)
      return text.length <= limit ? text : `${text.slice(0, limit - 40)}\n\n… (cut at the comment's limit)\n`;
  }
}

function render(input: SummaryInput, listMax: number): string {
  const diff = input.changes;
  const before = new Map(input.before.map((s) => [s.name, s]));
  const after = new Map(input.after.map((s) => [s.name, s]));
  const total = (k: "create" | "update" | "replace" | "delete") => diff.reduce((n, d) => n + d[k].length, 0);
  const out: string[] = ["## What this change does", ""];
  if (diff.length === 0) out.push("No stack is touched.", "");
  else
    out.push(
      `${diff.length} stack(s) touched: ${total("create")} to create, ${total("update")} to update, ${input.replaces ? `${total("replace")} to replace, ` : ""}${total("delete")} to delete.`,
      "",
    );
  const removed = diff.filter((d) => d.status === "removed");
  const losing = diff.filter((d) => d.dataDeletes.length > 0);
  const replacing = diff.filter((d) => d.dataReplaces.length > 0);
  const failed = diff.filter((d) => d.failure !== undefined);
  const listed = (rs: readonly ChangedResource[]) =>
    cut(
      rs.map((r) => `\`${r.type}\` \`${nameOf(r.urn)}\``),
      listMax,
    ).join(", ");
  for (const d of removed)
    out.push(`> **⚠ ${d.stack} would be destroyed**: its tenant file is gone. The flow refuses; see \`npm run decommission\`.`, ">");
  for (const d of losing)
    out.push(
      `> **⚠ ${d.stack} would delete data** (${d.dataDeletes.length}): ${listed(d.dataDeletes)}. The flow refuses; see \`npm run decommission\`.`,
      ">",
    );
  for (const d of replacing)
    out.push(
      `> **⚠ ${d.stack} would replace data** (${d.dataReplaces.length}): ${listed(d.dataReplaces)}. A replace deletes the old one and its data with it.`,
      ">",
    );
  for (const d of failed) out.push(`> **⚠ ${d.stack} failed**: ${d.failure}`, ">");
  const lowered = input.lowered ?? [];
  for (const q of lowered)
    out.push(
      q.mailboxes !== undefined
        ? `> **⚠ ${q.stack} lowers the quota of ${q.mailboxes} mailbox(es)** of \`${nameOf(q.urn)}\`: check what each holds first; a full mailbox refuses new mail.`
        : `> **⚠ ${q.stack} lowers a quota**: \`${nameOf(q.urn)}\` from ${q.fromGb} GB to ${q.toGb} GB. Check what it holds first (its volumes' use in the monitoring): the flow does not know the use.`,
      ">",
    );
  if (removed.length + losing.length + replacing.length + failed.length + lowered.length) out.push("");
  if (diff.length) {
    const replaceHead = input.replaces ? " replace |" : "";
    out.push(
      `| stack | status | create | update |${replaceHead} delete | yearly price before | after |`,
      `|---|---|---:|---:|${input.replaces ? "---:|" : ""}---:|---:|---:|`,
    );
    for (const d of diff) {
      const price = (s: SummaryStack | undefined) => (d.tenant === null ? "" : euros(s?.yearlyPriceEur));
      const replaceCell = input.replaces ? ` ${d.replace.length} |` : "";
      out.push(
        `| ${d.stack} | ${d.failure !== undefined ? "failed" : d.status} | ${d.create.length} | ${d.update.length} |${replaceCell} ${d.delete.length} | ${price(before.get(d.stack))} | ${price(after.get(d.stack))} |`,
      );
    }
    out.push("");
  }
  const revenue = (stacks: readonly SummaryStack[]) => stacks.reduce((n, s) => n + (s.tenant !== null ? (s.yearlyPriceEur ?? 0) : 0), 0);
  const was = revenue(input.before);
  const is = revenue(input.after);
  const delta = is - was;
  out.push(
    `Yearly revenue of the decided lines: ${euros(was)} → ${euros(is)} (${delta >= 0 ? "+" : "−"}${Math.abs(delta).toFixed(2)} €).`,
    "",
  );
  // Policy results of the touched stacks after the change, counted per policy.
  const results: string[] = [];
  for (const d of diff) {
    const counts = new Map<string, number>();
    for (const p of d.policies) counts.set(`${p.policy} (${p.level})`, (counts.get(`${p.policy} (${p.level})`) ?? 0) + 1);
    for (const [k, n] of [...counts].sort(([a], [b]) => (a < b ? -1 : 1))) results.push(`- ${d.stack}: ${k} × ${n}`);
  }
  out.push("### Policies", "", ...(results.length ? cut(results, listMax) : ["No policy finding on the touched stacks."]), "");
  if (diff.length) {
    out.push("### Resources", "");
    for (const d of diff) {
      const lines = [
        ...d.create.map((r) => `- create \`${r.type}\` \`${nameOf(r.urn)}\``),
        ...d.update.map((r) => `- update \`${r.type}\` \`${nameOf(r.urn)}\``),
        ...d.replace.map((r) => `- replace \`${r.type}\` \`${nameOf(r.urn)}\``),
        ...d.delete.map((r) => `- delete \`${r.type}\` \`${nameOf(r.urn)}\``),
      ];
      out.push(`<details><summary>${d.stack} (${lines.length})</summary>`, "", ...cut(lines, listMax), "", "</details>", "");
    }
  }
  return `${out.join("\n").trimEnd()}\n`;
}
