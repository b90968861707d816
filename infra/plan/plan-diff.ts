/**
 * Pure: what differs between two offline plans made with digests (`npm run plan -- --json
 * --digests` at two commits), stack by stack — the stacks a change touches are those whose plan
 * it changes, found by comparison rather than by a map of which file feeds which stack: an image
 * tag in a shared component marks every stack whose resources carry it. No Pulumi import.
 */
import { DATA_RESOURCES, TYPES } from "../../policies/policies";

/** What a plan holds of a resource, for comparing. */
export interface DiffedResource {
  type: string;
  urn: string;
  digest?: string;
  /** The tier a component declares as its quota, in GB (components/units.ts StorageQuota). */
  quotaGb?: number;
  /** A mail domain's mailbox quotas in GB, by a hash of each address (no address in a plan's summary). */
  mailboxQuotas?: Record<string, number>;
}

/** A quota a change lowers: a component's tier, or some of a mail domain's mailboxes. */
export interface QuotaLowering {
  stack: string;
  type: string;
  urn: string;
  /** The component's quota before and after, in GB. */
  fromGb?: number;
  toGb?: number;
  /** How many of the mail domain's mailboxes get a lower quota. */
  mailboxes?: number;
}

/**
 * Pure: every quota the change lowers, stack by stack. How much a tenant uses is not in a plan
 * (the monitoring measures it): a lowered quota is shown for ops to check the use first.
 */
export function loweredQuotas(base: PlanForDiff, head: PlanForDiff): QuotaLowering[] {
  const before = new Map(base.stacks.flatMap((s) => s.resources.map((r) => [`${s.name} ${r.urn}`, r] as const)));
  const out: QuotaLowering[] = [];
  for (const s of head.stacks) {
    for (const r of s.resources) {
      const was = before.get(`${s.name} ${r.urn}`);
      if (!was) continue;
      if (was.quotaGb !== undefined && r.quotaGb !== undefined && r.quotaGb < was.quotaGb)
        out.push({ stack: s.name, type: r.type, urn: r.urn, fromGb: was.quotaGb, toGb: r.quotaGb });
      const lowered = Object.entries(r.mailboxQuotas ?? {}).filter(([k, gb]) => (was.mailboxQuotas?.[k] ?? 0) > gb).length;
      if (lowered > 0) out.push({ stack: s.name, type: r.type, urn: r.urn, mailboxes: lowered });
    }
  }
  return out;
}

/** What a plan holds of a stack, for comparing (infra/plan/offline-plan.ts StackPlan). */
export interface DiffedStack {
  name: string;
  tenant: string | null;
  resources: readonly DiffedResource[];
}

export interface PlanForDiff {
  stacks: readonly DiffedStack[];
}

/** A resource of a stack's change. */
export interface ChangedResource {
  type: string;
  urn: string;
}

/** How one stack's plan differs. */
export interface StackDiff {
  stack: string;
  tenant: string | null;
  /** `added`: a new stack (made the first time); `removed`: its tenant file is gone (never destroyed by the flow). */
  status: "added" | "removed" | "changed";
  create: ChangedResource[];
  /** Same URN, other inputs or protection. */
  update: ChangedResource[];
  delete: ChangedResource[];
  /** The deleted resources that hold data (a volume, a bucket, a database): the flow refuses them and points to decommission. */
  dataDeletes: ChangedResource[];
  /**
   * A removed stack whose data a decommission already took out, as the change's record says
   * (infra/model/decommission-records.ts): nothing to refuse, nothing to run.
   */
  decommissioned?: true;
}

/**
 * Types whose deletion loses data: the policy pack's data resources (Docker volumes, S3 buckets)
 * and the components that declare data made on a host (components/units.ts HostData: a database
 * added to a shared server, a static site's bucket).
 */
export const DATA_TYPES: ReadonlySet<string> = new Set([...DATA_RESOURCES, TYPES.database, TYPES.staticSite]);

const byUrn = (a: ChangedResource, b: ChangedResource) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0);
const ref = (r: DiffedResource): ChangedResource => ({ type: r.type, urn: r.urn });

function digestOf(r: DiffedResource, plan: string): string {
  if (r.digest === undefined) throw new Error(`the ${plan} plan has no digest for ${r.urn}: make it with npm run plan -- --json --digests`);
  return r.digest;
}

/**
 * Pure: the stacks whose plans differ, the platform stack first, then tenant stacks by name; a
 * stack whose plan is the same in both is not listed.
 * @throws Error when a resource of either plan has no digest.
 */
export function diffPlans(base: PlanForDiff, head: PlanForDiff): StackDiff[] {
  const before = new Map(base.stacks.map((s) => [s.name, s]));
  const after = new Map(head.stacks.map((s) => [s.name, s]));
  const names = [...new Set([...before.keys(), ...after.keys()])];
  const out: StackDiff[] = [];
  for (const name of names) {
    const was = before.get(name);
    const is = after.get(name);
    const old = new Map((was?.resources ?? []).map((r) => [r.urn, r]));
    const now = new Map((is?.resources ?? []).map((r) => [r.urn, r]));
    const create: ChangedResource[] = [];
    const update: ChangedResource[] = [];
    const del: ChangedResource[] = [];
    for (const [urn, r] of now) {
      const o = old.get(urn);
      if (!o) create.push(ref(r));
      else if (digestOf(o, "base") !== digestOf(r, "head")) update.push(ref(r));
    }
    for (const [urn, o] of old) {
      digestOf(o, "base");
      if (!now.has(urn)) del.push(ref(o));
    }
    if (is) for (const r of is.resources) digestOf(r, "head");
    if (was && is && create.length + update.length + del.length === 0) continue;
    out.push({
      stack: name,
      tenant: (is ?? was)!.tenant,
      status: !was ? "added" : !is ? "removed" : "changed",
      create: create.sort(byUrn),
      update: update.sort(byUrn),
      delete: del.sort(byUrn),
      dataDeletes: del.filter((r) => DATA_TYPES.has(r.type)).sort(byUrn),
    });
  }
  return out.sort((a, b) => {
    if ((a.tenant === null) !== (b.tenant === null)) return a.tenant === null ? -1 : 1;
    return a.stack < b.stack ? -1 : a.stack > b.stack ? 1 : 0;
  });
}
