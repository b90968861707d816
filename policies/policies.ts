import type {
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { parse as parseYaml } from "yaml";
import { assertPinnedImage } from "../components/blocks/image-pin";
import type { StorageQuota } from "../components/units";
import { loadCatalog, tierSizes, type TieredOffer } from "../infra/catalog/catalog";
import { addLoad, NO_LOAD, type Load } from "../infra/model/host-load";
import { parseStackName } from "../infra/model/naming";
import { STORAGE_OFFERS } from "../infra/model/offers";

/**
 * The policy pack's policies as a plain array: `index.ts` hands it to `new PolicyPack`, and the
 * offline plan and the tests evaluate the same array (infra/plan/policy-eval.ts). This file and what it
 * imports load as CommonJS under ts-node (the CLI's policy runner) and under tsx: no Pulumi runtime
 * import, the catalog is read at run time.
 *
 * ## The quota convention (every storage-bearing resource follows it)
 *
 * - A Docker volume's quota is declared by the ContainerService it belongs to, in its registered
 *   props and outputs: `volumes: [{ name, quotaGb, backup }]` (components/blocks/container-service.ts
 *   `VolumeQuota`), never on the volume, whose labels the provider cannot change without replacing it.
 * - A component that bears storage declares a `quota` (components/units.ts `StorageQuota`) in its
 *   registered props — `super(TYPE, name, { quota }, opts)`, what per-resource policies see — and in
 *   `registerOutputs({ …, quota })`, what stack policies see (the engine gives them outputs).
 *   `offer` is the catalog offer it counts against: `website`, `nextcloud`, `video`, `accounting`
 *   with `gb`, or `mail` with every mailbox's `gb`.
 * - Storage without a quota of its own (an S3 bucket: Garage takes its quota through the admin API,
 *   not the S3 API) is covered by the nearest ancestor component's declared quota.
 * - In a tenant stack, every `alacarte:tenant:*` component is storage-bearing unless listed in
 *   {@link STORAGE_FREE_COMPONENTS}: a new offer's component that forgets its quota fails
 *   `storage-has-quota` until it declares one.
 *
 * During a preview some values are unknown: reading one makes @pulumi/policy report "can't run
 * policy during preview" (advisory). Policies read only what they need through {@link known} where a
 * value may legitimately be unknown (an output of another resource), and skip it then.
 */

export const POLICY_PACK_NAME = "alacarte";

/** Type tokens the policies look at (test/policies.test.ts checks them against the components'). */
export const TYPES = {
  volume: "docker:index/volume:Volume",
  container: "docker:index/container:Container",
  remoteImage: "docker:index/remoteImage:RemoteImage",
  dockerService: "docker:index/service:Service",
  dockerProvider: "pulumi:providers:docker",
  bucket: "aws:s3/bucket:Bucket",
  bucketV2: "aws:s3/bucketV2:BucketV2",
  bucketAcl: "aws:s3/bucketAcl:BucketAcl",
  bucketAclV2: "aws:s3/bucketAclV2:BucketAclV2",
  bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
  bucketWebsite: "aws:s3/bucketWebsiteConfiguration:BucketWebsiteConfiguration",
  bucketWebsiteV2: "aws:s3/bucketWebsiteConfigurationV2:BucketWebsiteConfigurationV2",
  remoteCommand: "command:remote:Command",
  localCommand: "command:local:Command",
  oidcClient: "keycloak:openid/client:Client",
  containerService: "alacarte:block:ContainerService",
  database: "alacarte:block:Database",
  backupSet: "alacarte:block:BackupSet",
  staticSite: "alacarte:tenant:StaticSite",
  mailDomain: "alacarte:tenant:MailDomain",
  identity: "alacarte:tenant:Identity",
} as const;

/** Tenant components that hold no data of the tenant's (so declare no quota). */
export const STORAGE_FREE_COMPONENTS: ReadonlySet<string> = new Set([TYPES.identity]);
const BUCKETS: ReadonlySet<string> = new Set([TYPES.bucket, TYPES.bucketV2]);
/** Resource types that hold data (infra/plan/plan-diff.ts DATA_TYPES adds the components that declare data made on a host). */
export const DATA_RESOURCES: ReadonlySet<string> = new Set([TYPES.volume, TYPES.bucket, TYPES.bucketV2]);
const TENANT_COMPONENT = /^alacarte:tenant:/;

// ---------------------------------------------------------------------------------------------
// Helpers (pure)

/** Reads a value that may be unknown during a preview: undefined then, instead of failing the policy. */
export function known<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (e) {
    // @pulumi/policy's UnknownValueError (proxy.js) carries the sentinel of the unknown value.
    if (e instanceof Error && "unknownTypeSentinel" in e) return undefined;
    throw e;
  }
}

/** The stack of a URN: `urn:pulumi:<stack>::<project>::<type chain>::<name>`. */
export function stackOfUrn(urn: string): string {
  return urn.slice("urn:pulumi:".length).split("::")[0]!;
}

/** The type chain of a URN, outermost parent first (the root stack is not in it). */
function typeChain(urn: string): string[] {
  return (urn.split("::")[2] ?? "").split("$");
}

function tenantOf(urn: string): string | null {
  try {
    return parseStackName(stackOfUrn(urn)).slug;
  } catch {
    return null;
  }
}

function envOf(urn: string): string | null {
  try {
    return parseStackName(stackOfUrn(urn)).env;
  } catch {
    return null;
  }
}

/** Docker labels as a record (`[{ label, value }]` in the provider's inputs). */
function dockerLabels(props: Record<string, any>): Record<string, string> {
  const out: Record<string, string> = {};
  const list = known(() => props.labels) as unknown;
  if (!Array.isArray(list)) return out;
  for (let i = 0; i < list.length; i++) {
    const label = known(() => list[i].label);
    const value = known(() => list[i].value);
    if (typeof label === "string") out[label] = typeof value === "string" ? value : "";
  }
  return out;
}

/** A volume's quota, as the service it belongs to (its parent) declares it. */
function volumeQuotaGb(volume: PolicyResource): number | undefined {
  const name = known(() => volume.props.name);
  const declared = volume.parent ? (known(() => volume.parent!.props.volumes) as unknown) : undefined;
  if (typeof name !== "string" || !Array.isArray(declared)) return undefined;
  const gb = (declared as { name?: unknown; quotaGb?: unknown }[]).find((v) => v?.name === name)?.quotaGb;
  return typeof gb === "number" && Number.isFinite(gb) && gb > 0 ? gb : undefined;
}

/**
 * The quota a resource declares: only our components declare one (the convention above), so no
 * other resource's props are read (the offline plan deserialises props on first read).
 */
function componentQuota(r: PolicyResource): StorageQuota | undefined {
  return r.type.startsWith("alacarte:") ? declaredQuota(r.props) : undefined;
}

/** declaredQuota by props object: several stack policies read the same component's quota. */
const quotas = new WeakMap<object, StorageQuota | undefined>();

/** A component's declared quota, when it has a well-formed one. */
export function declaredQuota(props: Record<string, any>): StorageQuota | undefined {
  if (quotas.has(props)) return quotas.get(props);
  const quota = readQuota(props);
  quotas.set(props, quota);
  return quota;
}

function readQuota(props: Record<string, any>): StorageQuota | undefined {
  const q = known(() => props.quota) as any;
  if (!q || typeof q !== "object") return undefined;
  if (q.offer === "mail") {
    return Array.isArray(q.mailboxes) &&
      q.mailboxes.every((m: any) => typeof m?.address === "string" && typeof m?.gb === "number" && m.gb > 0)
      ? { offer: "mail", mailboxes: q.mailboxes.map((m: any) => ({ address: m.address, gb: m.gb })) }
      : undefined;
  }
  if ((STORAGE_OFFERS as readonly string[]).includes(q.offer) && typeof q.gb === "number" && q.gb > 0) return { offer: q.offer, gb: q.gb };
  return undefined;
}

function ancestors(r: PolicyResource): PolicyResource[] {
  const out: PolicyResource[] = [];
  for (let p = r.parent; p; p = p.parent) out.push(p);
  return out;
}

function descendants(of: PolicyResource, all: PolicyResource[]): PolicyResource[] {
  return all.filter((r) => ancestors(r).includes(of));
}

function label(r: { type: string; name: string }): string {
  return `${r.type} "${r.name}"`;
}

/** An env var name that obviously holds a secret (its value must arrive as a Pulumi secret). */
export function secretLookingKey(key: string): boolean {
  if (/_(FILE|PATH|DIR|URL|ID|USER|USERNAME|NAME)$/i.test(key)) return false;
  return /(PASSWORD|PASSWD|SECRET|TOKEN|(^|_)KEY($|_)|PRIVATE|CREDENTIAL|APIKEY)/i.test(key);
}

/**
 * Obvious secrets written into a command's script (its arguments): `PASSWORD=literal`,
 * `--password literal`, `Bearer literal`. A value read from a variable (`$X`, `"$(…)"`) is fine.
 */
export function plaintextSecretsInScript(script: string): string[] {
  const found: string[] = [];
  // Most scripts name no secret at all: one quick scan spares them the three below (the first one
  // tries a match at every word).
  if (!/passw|secret|token|api.?key|private|bearer/i.test(script)) return found;
  // Shell variables are upper case by convention: `showSecretKey=true` in a URL is no assignment.
  const assign = /\b([A-Z0-9_]*(?:PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_KEY)[A-Z0-9_]*)=(["']?)([^\s"'$`;|&)]{4,})\2/g;
  for (const m of script.matchAll(assign)) found.push(m[1]!);
  const flag = /--(password|passwd|secret|token|api-key)(?:=|\s+)(["']?)([^\s"'$`;|&-][^\s"'$`;|&]{3,})\2/gi;
  for (const m of script.matchAll(flag)) found.push(`--${m[1]}`);
  if (/Bearer\s+(?!%s)[A-Za-z0-9._~+/-]{12,}/.test(script)) found.push("Bearer token");
  return found;
}

/** The Traefik routers of a dynamic-config fragment that are reachable without TLS. */
export function routersWithoutTls(fragment: string): string[] | undefined {
  let parsed: any;
  try {
    parsed = parseYaml(fragment);
  } catch {
    return undefined;
  }
  const routers = parsed?.http?.routers;
  if (!routers || typeof routers !== "object") return undefined;
  return Object.entries(routers as Record<string, any>)
    .filter(
      ([, r]) => !r?.tls || (Array.isArray(r.entryPoints) && r.entryPoints.length > 0 && r.entryPoints.every((e: string) => e === "web")),
    )
    .map(([name]) => name);
}

/** The Traefik routers of a container's labels that are reachable without TLS. */
export function labelRoutersWithoutTls(labels: Record<string, string>): string[] {
  const routers = new Set<string>();
  for (const key of Object.keys(labels)) {
    const m = /^traefik\.http\.routers\.([^.]+)\.rule$/.exec(key);
    if (m) routers.add(m[1]!);
  }
  return [...routers]
    .filter((r) => {
      const p = `traefik.http.routers.${r}`;
      const tls = labels[`${p}.tls`] === "true" || Object.keys(labels).some((k) => k.startsWith(`${p}.tls.`));
      const entry = labels[`${p}.entrypoints`];
      const webOnly = entry?.split(",").every((e) => e.trim() === "web");
      return !tls || webOnly;
    })
    .sort();
}

/** Public grants of an S3 canned ACL or a policy document. */
function publicAcl(acl: unknown): boolean {
  return acl === "public-read" || acl === "public-read-write";
}

function publicPolicyDocument(doc: unknown): boolean {
  let parsed: any = doc;
  if (typeof doc === "string") {
    try {
      parsed = JSON.parse(doc);
    } catch {
      return false;
    }
  }
  const statements = Array.isArray(parsed?.Statement) ? parsed.Statement : parsed?.Statement ? [parsed.Statement] : [];
  return statements.some((s: any) => {
    const p = s?.Principal;
    const anyone = p === "*" || p?.AWS === "*" || (Array.isArray(p?.AWS) && p.AWS.includes("*"));
    return s?.Effect === "Allow" && anyone;
  });
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

const round = (n: number) => Math.round(n * 100) / 100;

// ---------------------------------------------------------------------------------------------
// Mandatory

const storageHasQuota: StackValidationPolicy = {
  name: "storage-has-quota",
  description:
    "Every storage-bearing resource has a quota: a Docker volume one declared by its service, a bucket or a tenant offer's component a declared quota.",
  enforcementLevel: "mandatory",
  validateStack: (args: StackValidationArgs, report: ReportViolation) => {
    for (const r of args.resources) {
      if (r.type === TYPES.volume && volumeQuotaGb(r) === undefined) {
        report(`${label(r)} has no quota: its ContainerService declares none for it (volumes[].quotaGb)`, r.urn);
      } else if (BUCKETS.has(r.type) && !ancestors(r).some((a) => componentQuota(a))) {
        report(`${label(r)} is under no component that declares its quota`, r.urn);
      } else if (TENANT_COMPONENT.test(r.type) && tenantOf(r.urn) && !STORAGE_FREE_COMPONENTS.has(r.type) && !declaredQuota(r.props)) {
        report(`${label(r)} declares no quota (components/units.ts StorageQuota, in its props and outputs)`, r.urn);
      }
    }
  },
};

const offerQuotaWithinTier: StackValidationPolicy = {
  name: "offer-quota-within-tier",
  description: "Each offer's quota is a catalog tier no larger than the tier the tenant pays for, and the volumes under it fit in it.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      tenants: {
        type: "object",
        description: "Tier paid for, in GB, by tenant slug then catalog offer (npm run policy-config).",
        default: {},
      },
    },
  },
  validateStack: (args: StackValidationArgs, report: ReportViolation) => {
    const catalog = loadCatalog();
    const paidByTenant = args.getConfig<{ tenants?: Record<string, Record<string, number>> }>().tenants ?? {};
    for (const r of args.resources) {
      const quota = componentQuota(r);
      if (!quota || quota.offer === "mail") continue;
      const slug = tenantOf(r.urn);
      if (slug) {
        const paid = paidByTenant[slug];
        if (!paid) {
          report(`${label(r)}: the policy config gives no paid tiers for tenant "${slug}" (run npm run policy-config)`, r.urn);
          continue;
        }
        const paidGb = paid[quota.offer];
        if (paidGb === undefined)
          report(`${label(r)}: tenant "${slug}" pays for no ${quota.offer} offer, yet it declares ${quota.gb} GB`, r.urn);
        else if (quota.gb > paidGb)
          report(`${label(r)}: quota ${quota.gb} GB is above the ${paidGb} GB tier tenant "${slug}" pays for`, r.urn);
      }
      if (quota.offer === "accounting") {
        if (quota.gb > catalog.offers.accounting.storageGb)
          report(
            `${label(r)}: quota ${quota.gb} GB is above the catalog's ${catalog.offers.accounting.storageGb} GB for accounting`,
            r.urn,
          );
      } else if (!tierSizes(catalog, quota.offer as TieredOffer).includes(quota.gb)) {
        report(
          `${label(r)}: quota ${quota.gb} GB is not a ${quota.offer} tier of the catalog (${tierSizes(catalog, quota.offer as TieredOffer).join(", ")})`,
          r.urn,
        );
      }
      const volumesGb = sum(
        descendants(r, args.resources)
          .filter((d) => d.type === TYPES.volume)
          .map((d) => volumeQuotaGb(d) ?? 0),
      );
      if (volumesGb > quota.gb) report(`${label(r)}: its volumes hold ${volumesGb} GB, above its ${quota.gb} GB quota`, r.urn);
    }
  },
};

const mailboxQuotaWithinMax: ResourceValidationPolicy = {
  name: "mailbox-quota-within-max",
  description: "Every mailbox has a quota no larger than the catalog's maximum per mailbox.",
  enforcementLevel: "mandatory",
  validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
    if (args.type !== TYPES.mailDomain) return;
    const quota = declaredQuota(args.props);
    if (quota?.offer !== "mail") return; // storage-has-quota reports it
    const max = loadCatalog().mail.maxMailboxGb;
    for (const m of quota.mailboxes) {
      if (m.gb > max) report(`mailbox ${m.address}: quota ${m.gb} GB is above the catalog's ${max} GB per mailbox`);
    }
  },
};

interface HostCapacityConfig {
  overcommit: number;
  hosts: Record<string, { address: string; diskGb: number; memoryGb: number; cpus: number }>;
  stacks: Record<string, Record<string, Load>>;
}

/** Disk, memory and CPUs that this stack's own resources place on each host (by Docker provider). */
const totalsByConfig = new WeakMap<object, Record<string, Load>>();

/**
 * The sum of every stack's load per host, computed once per config object: summing it again for
 * each stack made the plan quadratic in the number of tenants.
 */
function allStacksLoad(stacks: Record<string, Record<string, Load>>): Record<string, Load> {
  let totals = totalsByConfig.get(stacks);
  if (!totals) {
    totals = {};
    for (const loads of Object.values(stacks)) {
      for (const [host, l] of Object.entries(loads)) totals[host] = addLoad(totals[host] ?? NO_LOAD, l);
    }
    totalsByConfig.set(stacks, totals);
  }
  return totals;
}

export function placedByStack(
  resources: PolicyResource[],
  hosts: HostCapacityConfig["hosts"],
): { byHost: Record<string, Load>; unplaced: PolicyResource[] } {
  const byAddress = new Map(Object.entries(hosts).map(([name, h]) => [h.address, name]));
  const byHost: Record<string, Load> = {};
  const unplaced: PolicyResource[] = [];
  for (const r of resources) {
    if (r.type !== TYPES.container && r.type !== TYPES.volume) continue;
    const url = r.provider ? known(() => r.provider!.props.host) : undefined;
    const address = typeof url === "string" ? /^(?:ssh|tcp):\/\/(?:[^@/]*@)?([^:/]+)/.exec(url)?.[1] : undefined;
    const host = address ? byAddress.get(address) : undefined;
    if (!host) {
      unplaced.push(r);
      continue;
    }
    const load = byHost[host] ?? { diskGb: 0, memoryGb: 0, cpus: 0 };
    if (r.type === TYPES.volume) load.diskGb += volumeQuotaGb(r) ?? 0;
    else {
      load.memoryGb += Number(known(() => r.props.memory) ?? 0) / 1024;
      load.cpus += Number(known(() => r.props.cpus) ?? 0);
    }
    byHost[host] = load;
  }
  return { byHost, unplaced };
}

const hostCapacity: StackValidationPolicy = {
  name: "host-capacity",
  description: "The disk, memory and CPUs placed on each host, over every stack, stay within its capacity times the overcommit ratio.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      overcommit: { type: "number", default: 1.5, description: "Disk, memory and CPUs may be promised up to capacity × this." },
      hosts: { type: "object", default: {}, description: "Hosts by name: address, diskGb, memoryGb, cpus." },
      stacks: {
        type: "object",
        default: {},
        description: "Load of every stack on each host (infra/model/host-load.ts), from all tenant files.",
      },
    },
  },
  validateStack: (args: StackValidationArgs, report: ReportViolation) => {
    const config = args.getConfig<HostCapacityConfig>();
    const hosts = config.hosts ?? {};
    const { byHost, unplaced } = placedByStack(args.resources, hosts);
    for (const r of unplaced) {
      if (Object.keys(hosts).length)
        report(`${label(r)} runs on no host of the policy config (its Docker provider's host is unknown)`, r.urn);
    }
    const stack = args.resources[0] ? stackOfUrn(args.resources[0].urn) : "";
    // Every stack's computed load, less this stack's own: it counts with what it really places.
    const total: Record<string, Load> = { ...byHost };
    const add = (loads: Record<string, Load>, sign: 1 | -1) => {
      for (const [host, l] of Object.entries(loads)) {
        total[host] = addLoad(total[host] ?? NO_LOAD, { diskGb: sign * l.diskGb, memoryGb: sign * l.memoryGb, cpus: sign * l.cpus });
      }
    };
    add(allStacksLoad(config.stacks ?? {}), 1);
    const own = config.stacks?.[stack];
    if (own) add(own, -1);
    const ratio = config.overcommit ?? 1.5;
    for (const [host, load] of Object.entries(total).sort()) {
      const cap = hosts[host];
      if (!cap) {
        report(`host "${host}" carries load but is not in the policy config's hosts`);
        continue;
      }
      for (const [dim, unit] of [
        ["diskGb", "GB disk"],
        ["memoryGb", "GB memory"],
        ["cpus", "CPUs"],
      ] as const) {
        const limit = cap[dim] * ratio;
        if (load[dim] > limit + 1e-9)
          report(`host "${host}": ${round(load[dim])} ${unit} placed, above ${round(limit)} (${cap[dim]} × overcommit ${ratio})`);
      }
    }
  },
};

const dataProtected: ResourceValidationPolicy = {
  name: "data-protected",
  description:
    "Data resources (Docker volumes, databases' volumes, buckets, and data a command makes on a host, declared as hostData) are protected in production. Retention on delete is invisible to policies: component tests prove it.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      environments: {
        type: "array",
        items: { type: "string" },
        default: ["prod"],
        description: "Environments whose data must be protected.",
      },
    },
  },
  validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
    // Data a command makes on a host is declared by its component (components/units.ts HostData).
    const hostData = args.type.startsWith("alacarte:")
      ? (known(() => args.props.hostData) as { kind?: unknown; name?: unknown; protect?: unknown } | undefined)
      : undefined;
    if (!DATA_RESOURCES.has(args.type) && !hostData) return;
    const env = envOf(args.urn);
    const environments = args.getConfig<{ environments?: string[] }>().environments ?? ["prod"];
    if (!env || !environments.includes(env)) return;
    if (hostData) {
      if (hostData.protect !== true)
        report(
          `${label(args)} makes the ${String(hostData.kind)} "${String(hostData.name)}" on a host in ${env} but does not protect it (hostData.protect)`,
        );
    } else if (!args.opts.protect) report(`${label(args)} holds data in ${env} but is not protected (protect: true)`);
  },
};

const dataBackedUp: StackValidationPolicy = {
  name: "data-backed-up",
  description:
    "Every data resource is in one of the stack's backup sets (components/platform/backup-fragments.ts): a volume its files, a database server's volume the dumps of its databases, a database its dump, a bucket and a mailbox their store's entries. A volume its service declares `backup: false` is left out on purpose.",
  enforcementLevel: "mandatory",
  validateStack: (args: StackValidationArgs, report: ReportViolation) => {
    const entries: Record<string, unknown>[] = [];
    for (const r of args.resources) {
      if (r.type !== TYPES.backupSet) continue;
      const listed = known(() => r.props.entries) as unknown;
      // Unknown during a preview (a name that is an output): nothing to compare with yet.
      if (!Array.isArray(listed)) return;
      entries.push(...(listed as Record<string, unknown>[]).filter((e) => e && typeof e === "object"));
    }
    const listed = (kind: string, key: string, value: unknown) => entries.some((e) => e.kind === kind && e[key] === value);
    for (const r of args.resources) {
      if (r.type === TYPES.containerService) {
        const volumes = known(() => r.props.volumes) as { name?: unknown; backup?: unknown }[] | undefined;
        const container = known(() => r.props.container);
        for (const v of Array.isArray(volumes) ? volumes : []) {
          if (v.backup === true && !listed("volume", "volume", v.name)) {
            report(`${label(r)}: volume "${String(v.name)}" is in no backup set`, r.urn);
          } else if (v.backup === "dump" && !listed("database", "container", container)) {
            report(
              `${label(r)}: volume "${String(v.name)}" is saved by its databases' dumps, and no backup set dumps a database of "${String(container)}"`,
              r.urn,
            );
          }
        }
      } else if (r.type === TYPES.volume) {
        if (r.parent?.type !== TYPES.containerService)
          report(`${label(r)} belongs to no ContainerService, so no backup set lists it`, r.urn);
      } else if (r.type === TYPES.database) {
        const dump = known(() => r.props.dump) as { database?: unknown } | undefined;
        if (!dump || !listed("database", "database", dump.database)) report(`${label(r)}: its database is dumped by no backup set`, r.urn);
      } else if (r.type.startsWith("alacarte:")) {
        const hostData = known(() => r.props.hostData) as { kind?: unknown; name?: unknown } | undefined;
        if (hostData?.kind === "bucket" && !listed("bucket", "bucket", hostData.name)) {
          report(`${label(r)}: bucket "${String(hostData.name)}" is in no backup set`, r.urn);
        }
        const quota = componentQuota(r);
        if (quota?.offer === "mail") {
          for (const m of quota.mailboxes)
            if (!listed("mailbox", "address", m.address)) report(`${label(r)}: mailbox ${m.address} is in no backup set`, r.urn);
        }
      }
    }
  },
};

const imagePinned: ResourceValidationPolicy = {
  name: "image-pinned",
  description: "Every container image is pinned to a version (an exact tag or a digest).",
  enforcementLevel: "mandatory",
  validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
    let image: unknown;
    if (args.type === TYPES.remoteImage) image = known(() => args.props.name);
    else if (args.type === TYPES.container)
      image = known(() => args.props.image); // often a RemoteImage's output: checked there
    else if (args.type === TYPES.dockerService) image = known(() => args.props.taskSpec.containerSpec.image);
    else return;
    if (typeof image !== "string" || image.startsWith("sha256:")) return; // unknown, or an image id
    try {
      assertPinnedImage(image);
    } catch (e) {
      report((e as Error).message);
    }
  },
};

const routeTls: ResourceValidationPolicy = {
  name: "route-tls",
  description:
    "No public route without TLS: every Traefik router, in a container's labels or a route fragment written on the proxy host, has TLS and is not on the plain-HTTP entry point only.",
  enforcementLevel: "mandatory",
  validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
    if (args.type === TYPES.container) {
      for (const r of labelRoutersWithoutTls(dockerLabels(args.props))) report(`router "${r}" of ${label(args)} has no TLS`);
    } else if (args.type === TYPES.remoteCommand) {
      const content = known(() => args.props.stdin);
      if (typeof content !== "string" || !/^\s*routers:/m.test(content)) return;
      for (const r of routersWithoutTls(content) ?? []) report(`router "${r}" of the route fragment written by ${label(args)} has no TLS`);
    }
  },
};

const bucketNotPublic: StackValidationPolicy = {
  name: "bucket-not-public",
  description: "No bucket is readable by the public, except a static website's.",
  enforcementLevel: "mandatory",
  validateStack: (args: StackValidationArgs, report: ReportViolation) => {
    const website = new Set<string>();
    for (const r of args.resources) {
      if (r.type === TYPES.bucketWebsite || r.type === TYPES.bucketWebsiteV2) {
        const b = known(() => r.props.bucket);
        if (typeof b === "string") website.add(b);
      }
    }
    const bucketName = (r: PolicyResource) => known(() => r.props.bucket) as unknown;
    const isWebsite = (name: unknown, r?: PolicyResource) =>
      (typeof name === "string" && website.has(name)) || (r !== undefined && ancestors(r).some((a) => a.type === TYPES.staticSite));
    for (const r of args.resources) {
      if (BUCKETS.has(r.type)) {
        if (publicAcl(known(() => r.props.acl)) && !isWebsite(bucketName(r), r))
          report(`${label(r)} is readable by the public (acl) and is no static website`, r.urn);
        if (publicPolicyDocument(known(() => r.props.policy)) && !isWebsite(bucketName(r), r))
          report(`${label(r)} has a policy open to anyone and is no static website`, r.urn);
      } else if (r.type === TYPES.bucketAcl || r.type === TYPES.bucketAclV2) {
        const grants = known(() => r.props.accessControlPolicy?.grants) as any[] | undefined;
        const toAll = Array.isArray(grants) && grants.some((g) => /AllUsers|AuthenticatedUsers/.test(String(g?.grantee?.uri ?? "")));
        if ((publicAcl(known(() => r.props.acl)) || toAll) && !isWebsite(bucketName(r)))
          report(`${label(r)} makes bucket "${String(bucketName(r))}" readable by the public, and it is no static website`, r.urn);
      } else if (r.type === TYPES.bucketPolicy) {
        if (publicPolicyDocument(known(() => r.props.policy)) && !isWebsite(bucketName(r)))
          report(`${label(r)} opens bucket "${String(bucketName(r))}" to anyone, and it is no static website`, r.urn);
      }
    }
  },
};

const noPlaintextSecrets: ResourceValidationPolicy = {
  name: "no-plaintext-secrets",
  description:
    "No secret in plain text in a container's environment (it must arrive as a Pulumi secret, through ContainerService's secretEnv) nor in a command's arguments or environment (secrets go on stdin).",
  enforcementLevel: "mandatory",
  validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
    if (args.type === TYPES.containerService) {
      // A policy sees secrets unwrapped: ContainerService says which keys are plain (envKeys).
      const plainKeys = (known(() => args.props.envKeys) ?? []) as string[];
      for (const k of plainKeys.filter(secretLookingKey))
        report(`env var ${k} of ${label(args)} looks like a secret but is in env, not secretEnv`);
    } else if (args.type === TYPES.container) {
      const chain = typeChain(args.urn);
      if (chain[chain.length - 2] === TYPES.containerService) return; // checked on the component
      const envs = known(() => args.props.envs) as unknown;
      if (!Array.isArray(envs)) return;
      for (let i = 0; i < envs.length; i++) {
        const entry = known(() => envs[i]);
        if (typeof entry !== "string") continue; // unknown: derived from another resource
        const [key, ...rest] = entry.split("=");
        if (key && secretLookingKey(key) && rest.join("=") !== "")
          report(`env var ${key} of ${label(args)} is a plain value: use ContainerService's secretEnv`);
      }
    } else if (args.type === TYPES.remoteCommand || args.type === TYPES.localCommand) {
      const env = known(() => args.props.environment) as Record<string, unknown> | undefined;
      for (const key of Object.keys(env ?? {}).filter(secretLookingKey))
        report(`${label(args)} passes ${key} in its environment: give secrets on stdin`);
      for (const field of ["create", "update", "delete"]) {
        const script = known(() => args.props[field]);
        if (typeof script !== "string") continue;
        for (const what of plaintextSecretsInScript(script))
          report(`${label(args)} has ${what} in clear in its ${field} command: give secrets on stdin`);
      }
    }
  },
};

// ---------------------------------------------------------------------------------------------
// Advisory

const mailAllowance: StackValidationPolicy = {
  name: "mail-allowance",
  description: "A tenant's mailboxes stay within the mail allowance included in the membership.",
  enforcementLevel: "advisory",
  configSchema: {
    properties: {
      tenants: { type: "object", default: {}, description: "By tenant slug: includedGb (null while the catalog leaves it undecided)." },
    },
  },
  validateStack: (args: StackValidationArgs, report: ReportViolation) => {
    const slug = args.resources[0] ? tenantOf(args.resources[0].urn) : null;
    if (!slug) args.notApplicable("not a tenant stack");
    const included = args.getConfig<{ tenants?: Record<string, { includedGb?: number | null }> }>().tenants?.[slug!]?.includedGb;
    if (typeof included !== "number") args.notApplicable("the catalog leaves the mail allowance undecided");
    const total = sum(
      args.resources.flatMap((r) => {
        const q = r.type === TYPES.mailDomain ? declaredQuota(r.props) : undefined;
        return q?.offer === "mail" ? q.mailboxes.map((m) => m.gb) : [];
      }),
    );
    if (total > included!)
      report(`tenant "${slug}": its mailboxes total ${total} GB, beyond the ${included} GB included in the membership`);
  },
};

const oidcClientGated: ResourceValidationPolicy = {
  name: "oidc-client-gated",
  description: "A tenant's OIDC client with a browser sign-in is bound to the tenant's gate flow (members only).",
  enforcementLevel: "advisory",
  validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
    if (args.type !== TYPES.oidcClient || !tenantOf(args.urn)) return;
    if (known(() => args.props.standardFlowEnabled) === false) return;
    const overrides = known(() => args.props.authenticationFlowBindingOverrides) as Record<string, unknown> | undefined;
    // `in`, not a read: the flow id is unknown during a preview, and only its presence matters.
    if (!overrides || !("browserId" in overrides))
      report(`${label(args)} has no group restriction: give it the tenant's gate (the OidcClient's gate)`);
  },
};

const membershipPaid: StackValidationPolicy = {
  name: "membership-paid",
  description: "A tenant's membership is paid: past its paid-until date the tenant is flagged (nothing is deleted).",
  enforcementLevel: "advisory",
  configSchema: {
    properties: {
      tenants: { type: "object", default: {}, description: "By tenant slug: paidUntil (YYYY-MM-DD)." },
      today: { type: "string", description: "YYYY-MM-DD. Default: today (UTC)." },
    },
  },
  validateStack: (args: StackValidationArgs, report: ReportViolation) => {
    const slug = args.resources[0] ? tenantOf(args.resources[0].urn) : null;
    if (!slug) args.notApplicable("not a tenant stack");
    const config = args.getConfig<{ tenants?: Record<string, { paidUntil?: string }>; today?: string }>();
    const paidUntil = config.tenants?.[slug!]?.paidUntil;
    const today = config.today ?? new Date().toISOString().slice(0, 10);
    if (paidUntil && paidUntil < today) report(`tenant "${slug}": membership was paid until ${paidUntil}`);
  },
};

/** Every policy of the pack, in the order they are reported. */
export const policies: (ResourceValidationPolicy | StackValidationPolicy)[] = [
  storageHasQuota,
  offerQuotaWithinTier,
  mailboxQuotaWithinMax,
  hostCapacity,
  dataProtected,
  dataBackedUp,
  imagePinned,
  routeTls,
  bucketNotPublic,
  noPlaintextSecrets,
  mailAllowance,
  oidcClientGated,
  membershipPaid,
];
