/**
 * Pure: the engine's events of a preview or an update (`onEvent`, @pulumi/pulumi 3.248.0
 * automation/events.ts `EngineEvent`) reduced to what the review summary may show — each step's
 * operation, URN and type (`resourcePreEvent.metadata`: `StepEventMetadata.op`, `.urn`, `.type`)
 * and each policy result's name and level (`policyEvent.policyName`, `.enforcementLevel`). The
 * rest of an event is dropped as it arrives: `metadata.old`/`.new` hold each resource's inputs
 * and outputs (`StepEventStateMetadata`), where the secrets and members' emails are, and a
 * policy's or a diagnostic's `message` may quote them.
 */
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { type ChangedResource, DATA_TYPES, loweredQuotas, type StackDiff } from "./plan-diff";
import { renderChanges, type StackChange, type SummaryPlan } from "./plan-summary";

/** One step of the engine, as the summary keeps it. */
export interface EngineStep {
  op: string;
  urn: string;
  type: string;
}

/** What is kept of one stack's events. */
export interface ReducedEvents {
  steps: EngineStep[];
  policies: { policy: string; level: string }[];
  /** Error diagnostics counted (their text may quote a secret: never kept). */
  errors: number;
}

export function emptyEvents(): ReducedEvents {
  return { steps: [], policies: [], errors: 0 };
}

/** Pure: adds what the summary keeps of one event to `into`; everything else of it is dropped. */
export function keepEvent(into: ReducedEvents, event: EngineEvent): void {
  const step = event.resourcePreEvent?.metadata;
  if (step) into.steps.push({ op: String(step.op), urn: String(step.urn), type: String(step.type) });
  const policy = event.policyEvent;
  if (policy) into.policies.push({ policy: String(policy.policyName), level: String(policy.enforcementLevel) });
  if (event.diagnosticEvent?.severity === "error") into.errors++;
}

/** Pure: every event of a run, reduced. */
export function reduceEvents(events: Iterable<EngineEvent>): ReducedEvents {
  const out = emptyEvents();
  for (const e of events) keepEvent(out, e);
  return out;
}

/**
 * How the engine's operations (automation `OpType`) count in the summary. A replacement is shown
 * once, as its `replace` step; its `create-replacement` and `delete-replaced` steps are parts of
 * it. `same`, `read` and `refresh` change nothing.
 */
const COUNTED: Readonly<Record<string, "create" | "update" | "replace" | "delete">> = {
  create: "create",
  import: "create",
  update: "update",
  replace: "replace",
  delete: "delete",
  discard: "delete",
};

/** Pure: the steps that change something, once per URN and kind, ordered by URN. */
export function changesOf(events: ReducedEvents): Record<"create" | "update" | "replace" | "delete", ChangedResource[]> {
  const out = {
    create: [] as ChangedResource[],
    update: [] as ChangedResource[],
    replace: [] as ChangedResource[],
    delete: [] as ChangedResource[],
  };
  const seen = new Set<string>();
  for (const s of events.steps) {
    const kind = COUNTED[s.op];
    if (!kind || seen.has(`${kind} ${s.urn}`)) continue;
    seen.add(`${kind} ${s.urn}`);
    out[kind].push({ type: s.type, urn: s.urn });
  }
  for (const list of Object.values(out)) list.sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0));
  return out;
}

/** Pure: whether the engine proposed any change (a drift, for a preview that expected none). */
export function hasChanges(events: ReducedEvents): boolean {
  return events.steps.some((s) => COUNTED[s.op] !== undefined);
}

/** One stack's run as the summary shows it. */
export interface StackRun {
  stack: string;
  tenant: string | null;
  status: StackDiff["status"];
  events: ReducedEvents;
  /** One line, without secrets, when the run failed. */
  failure?: string;
}

/** Pure: a stack's run as a change of the summary. */
export function stackChangeOf(run: StackRun): StackChange {
  const c = changesOf(run.events);
  return {
    stack: run.stack,
    tenant: run.tenant,
    status: run.status,
    ...c,
    dataDeletes: c.delete.filter((r) => DATA_TYPES.has(r.type)),
    dataReplaces: c.replace.filter((r) => DATA_TYPES.has(r.type)),
    policies: run.events.policies,
    ...(run.failure !== undefined ? { failure: run.failure } : {}),
  };
}

/**
 * Pure: the review summary of a real preview or update: the engine's steps and policy results
 * per stack, the prices from the offline plans of both commits (the engine knows no price), in
 * the renderer of the offline summary (infra/plan/plan-summary.ts).
 */
export function renderEngineSummary(
  base: SummaryPlan,
  head: SummaryPlan,
  runs: readonly StackRun[],
  options: { listMax?: number; limit?: number } = {},
): string {
  return renderChanges(
    { changes: runs.map(stackChangeOf), before: base.stacks, after: head.stacks, replaces: true, lowered: loweredQuotas(base, head) },
    options,
  );
}
