import { parseArgs } from "node:util";
import { backupJobContainer } from "../../components/platform/backup-fragments";
import { shellQuote } from "../../components/blocks/shell";
import { slugProblem } from "../contract/names";
import { tenantStackName } from "../model/naming";
import type { PlatformConfig } from "../model/platform-config";
import { DATA_RESOURCES } from "../../policies/policies";
import { DATA_TYPES } from "../plan/plan-diff";
import { UsageError } from "./run";

/**
 * Pure parts of `npm run decommission` (infra/cli/decommission.ts, docs/decommission.md): the
 * request, the data resources taken out of the stack's state, the edited state, and the commands
 * each host's backup job runs (backup, export, retention record).
 */

export interface DecommissionRequest {
  slug: string;
  /** One offer (a field of the tenant file's `services`, or `mail`); the whole tenant when absent. */
  offer?: string;
}

/** Exit code of the job's decommission script when the host holds nothing of the set (images/backup/decommission.sh). */
export const NOTHING_ON_HOST = 3;

/** ssh without a prompt: a missing key fails at once instead of waiting for a password. */
export const DEFAULT_SSH = ["ssh", "-o", "BatchMode=yes"] as const;

/** What a stack export holds of a resource (pulumi/pulumi sdk/go/common/apitype/core.go ResourceV3); the rest is kept as is. */
export interface StateResource {
  urn: string;
  type: string;
  custom?: boolean;
  protect?: boolean;
  retainOnDelete?: boolean;
  parent?: string;
  dependencies?: string[];
  propertyDependencies?: Record<string, string[]>;
  deletedWith?: string;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
  [other: string]: unknown;
}

/** `pulumi stack export`'s document (apitype.UntypedDeployment: `version` 3, `deployment` DeploymentV3). */
export interface StackState {
  version: number;
  deployment: { resources?: StateResource[]; pending_operations?: unknown[]; [other: string]: unknown };
}

/** A data resource of the stack that the decommission takes out of its state, the data left where it is. */
export interface RetainedResource {
  urn: string;
  type: string;
  /** Why it holds data: a data type of the policy pack, or the command that makes a component's hostData. */
  holds: string;
}

/** The resource name of a URN (its last `::` part). */
export function urnName(urn: string): string {
  return urn.slice(urn.lastIndexOf("::") + 2);
}

/** Pure: the prefix of the names of an offer's resources (infra/model/naming.ts tenantResourceName: `<slug>-<offer>`). */
export function offerPrefix(request: DecommissionRequest): string {
  return request.offer ? `${request.slug}-${request.offer}` : request.slug;
}

/** Pure: whether a resource is under a prefix of {@link offerPrefix}: the prefix itself or `<prefix>-…`. */
export function namedUnder(prefix: string, urn: string): boolean {
  const name = urnName(urn);
  return name === prefix || name.startsWith(`${prefix}-`);
}

/**
 * Pure: the data resources of the stack's state that the request takes away: the resources of the
 * policy pack's data types (policies/policies.ts DATA_RESOURCES: volumes, buckets), and for each
 * component that declares data made on a host (infra/plan/plan-diff.ts DATA_TYPES: a database, a
 * static site's bucket) the child command that makes it (components/units.ts HostData.madeBy),
 * whose protection is what keeps the data; for one offer, those whose name starts `<slug>-<offer>`.
 * @throws Error when the state is not a stack export, or is not this tenant's stack.
 */
export function retainedResources(state: StackState, stack: string, request: DecommissionRequest): RetainedResource[] {
  if (state.version !== 3 || typeof state.deployment !== "object" || state.deployment === null)
    throw new Error(`the state of ${stack} is not a stack export of version 3`);
  const resources = state.deployment.resources ?? [];
  const prefix = offerPrefix(request);
  const out: RetainedResource[] = [];
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  for (const r of resources) {
    if (!r.urn.startsWith(`urn:pulumi:${stack}::`)) throw new Error(`the state of ${stack} holds ${r.urn}, of another stack`);
    if (DATA_RESOURCES.has(r.type) && r.custom !== false && namedUnder(prefix, r.urn))
      out.push({ urn: r.urn, type: r.type, holds: r.type });
    if (DATA_TYPES.has(r.type) && !DATA_RESOURCES.has(r.type) && namedUnder(prefix, r.urn)) {
      const hostData = (r.outputs?.hostData ?? r.inputs?.hostData) as { madeBy?: unknown; kind?: unknown; name?: unknown } | undefined;
      if (typeof hostData?.madeBy !== "string") throw new Error(`${r.urn} declares no hostData.madeBy in the state`);
      const child = resources.find((c) => c.parent === r.urn && urnName(c.urn) === hostData.madeBy);
      if (!child) throw new Error(`${r.urn}: its command ${hostData.madeBy} is not in the state`);
      out.push({ urn: child.urn, type: child.type, holds: `${String(hostData.kind)} ${String(hostData.name)}` });
    }
  }
  for (const r of out) {
    const children = resources.filter((c) => c.parent === r.urn).map((c) => c.urn);
    if (children.length > 0) throw new Error(`${r.urn} has children (${children.join(", ")}): not a data resource the decommission knows`);
    if (!byUrn.has(r.urn)) throw new Error(`${r.urn} is not in the state`);
  }
  return out.sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0));
}

/**
 * Pure: the state without the retained resources, as `pulumi state unprotect` then `pulumi state
 * delete` would leave it, in one import: their protection lifted and the resources taken out of the
 * state without a provider's Delete, so the volume, database or bucket stays on its host (a state
 * edit never calls a provider: pulumi/pulumi pkg/cmd/pulumi/state/state_delete.go). `state delete`
 * refuses a resource others depend on ("Delete those resources first or pass --target-dependents",
 * same file): here the references of the remaining resources to it (dependencies, property
 * dependencies, deletedWith) are dropped instead, so a container that mounted a volume stays in the
 * stack, and the next `up` without the offer deletes it and leaves the volume. The input is not changed.
 * @throws Error when the state has pending operations (an interrupted update: `pulumi cancel`/`refresh` first).
 */
export function stateWithout(state: StackState, retained: readonly RetainedResource[]): StackState {
  const pending = state.deployment.pending_operations ?? [];
  if (pending.length > 0) throw new Error(`the stack has ${pending.length} pending operations: run pulumi refresh first`);
  const gone = new Set(retained.map((r) => r.urn));
  const resources = (state.deployment.resources ?? [])
    .filter((r) => !gone.has(r.urn))
    .map((r) => {
      const next: StateResource = { ...r };
      if (r.dependencies) next.dependencies = r.dependencies.filter((d) => !gone.has(d));
      if (r.propertyDependencies)
        next.propertyDependencies = Object.fromEntries(
          Object.entries(r.propertyDependencies).map(([k, deps]) => [k, deps.filter((d) => !gone.has(d))]),
        );
      if (r.deletedWith !== undefined && gone.has(r.deletedWith)) delete next.deletedWith;
      return next;
    });
  return { ...state, deployment: { ...state.deployment, resources } };
}

/** Pure: the date after which the retained data goes: `days` after `today` (YYYY-MM-DD, UTC). */
export function retainedUntil(today: string, days: number): string {
  const start = Date.parse(`${today}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(today) || Number.isNaN(start)) throw new Error(`"${today}" is not a date written YYYY-MM-DD`);
  return new Date(start + days * 86_400_000).toISOString().slice(0, 10);
}

/** Pure: the folder of the export on each host (under /srv/alacarte/exports, images/backup/decommission.sh). */
export function exportFolder(request: DecommissionRequest, stamp: string): string {
  return `${offerPrefix(request)}-${stamp}`;
}

/** The steps each host's backup job runs, in this order; a failing one stops the command. */
export type HostStep = "ask" | "backup" | "export";

/**
 * Pure: the command of each host for a step, through ssh: every host is asked, since a tenant's
 * data may be on several (the job answers NOTHING_ON_HOST when it holds none). `ask` lists what the
 * host would export and retain; `backup` saves the tenant's set now (backup.sh <set>); `export`
 * writes the export and the retention record. The remote command is one string the remote shell
 * splits: every word is quoted.
 */
export function hostCommands(
  config: Pick<PlatformConfig, "hosts">,
  request: DecommissionRequest,
  step: HostStep,
  options: { until: string; folder: string; hosts?: readonly string[] },
  ssh: readonly string[] = DEFAULT_SSH,
): { host: string; argv: string[] }[] {
  const hosts = options.hosts ?? Object.keys(config.hosts).sort();
  return hosts.map((host) => {
    const { address, user } = config.hosts[host]!;
    const job = ["docker", "exec", ...(step === "export" ? ["-i"] : []), backupJobContainer(host), "alacarte-backup"];
    const args =
      step === "backup"
        ? ["backup", request.slug]
        : [
            "decommission",
            request.slug,
            ...(request.offer ? ["--offer", request.offer] : []),
            "--until",
            options.until,
            "--into",
            options.folder,
            ...(step === "ask" ? ["--dry-run"] : []),
          ];
    return { host, argv: [...ssh, `${user}@${address}`, [...job, ...args].map(shellQuote).join(" ")] };
  });
}

/** Pure: the stack of the request. */
export function decommissionStack(env: string, request: DecommissionRequest): string {
  return tenantStackName(env, request.slug);
}

/** Pure: the request from the command line. @throws UsageError naming the bad argument. */
export function parseDecommissionArgs(args: string[]): { request: DecommissionRequest; env: string; yes: boolean } {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      offer: { type: "string" },
      env: { type: "string", default: "prod" },
      yes: { type: "boolean", default: false },
    },
  });
  const usage = "usage: npm run decommission -- <tenant> [--offer <offer>] [--env prod|staging] [--yes]";
  if (positionals.length !== 1) throw new UsageError(usage);
  const slug = positionals[0]!;
  const bad = slugProblem(slug);
  if (bad) throw new UsageError(`decommission: "${slug}" is not a tenant's slug: ${bad}`);
  if (values.offer !== undefined && !/^[a-z0-9]+(-[a-z0-9]+)*$/.test(values.offer))
    throw new UsageError(`decommission: --offer "${values.offer}" is not an offer`);
  if (!["prod", "staging"].includes(values.env!)) throw new UsageError(`decommission: --env "${values.env}" is not prod or staging`);
  return { request: { slug, ...(values.offer !== undefined ? { offer: values.offer } : {}) }, env: values.env!, yes: values.yes! };
}
