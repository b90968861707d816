import type { OfferPlan, TenantPlan } from "./expand";
import { platformStackName, tenantStackName } from "./naming";
import { OFFERS, type OfferEntry, type OfferTable } from "./offers";
import { placedHost, type PlatformConfig } from "./platform-config";

/**
 * Host load, pure: what each stack of an environment places on each host (disk of its Docker
 * volumes, memory and CPUs of its containers), computed from the platform config, the catalog and
 * every tenant's expansion. A tenant stack's preview sees only its own resources, so the policy
 * pack gets the others' load through its config (infra/model/policy-config.ts); no Pulumi import here, so
 * the pack loads this under ts-node (CJS) as the program does under tsx.
 *
 * Buckets and mailboxes live inside the platform's Garage and mail volumes, which the platform
 * stack already counts: they add nothing to a host's disk.
 */

/** Disk in GB (2^30 bytes), memory in GB (2^30 bytes), CPUs. */
export interface Load {
  diskGb: number;
  memoryGb: number;
  cpus: number;
}

export const NO_LOAD: Load = Object.freeze({ diskGb: 0, memoryGb: 0, cpus: 0 });

export function addLoad(a: Load, b: Load): Load {
  return { diskGb: a.diskGb + b.diskGb, memoryGb: a.memoryGb + b.memoryGb, cpus: a.cpus + b.cpus };
}

/**
 * What each platform service places on its host: containers' limits and volumes' quotas of the
 * platform components (`components/platform/*`). `test/host-load.test.ts` checks these figures
 * against what the offline plan of the platform stack really registers.
 */
export const PLATFORM_SIZING = {
  // Traefik, the mail's well-known nginx (components/platform/mail-well-known.ts) and the webmail
  // (components/platform/webmail.ts, with its database volume), which run beside it.
  proxy: { memoryMb: 256 + 64 + 512, cpus: 1 + 0.25 + 0.5, volumesGb: 1 + 1 },
  keycloak: { memoryMb: 1536 + 512, cpus: 1 + 0.5, volumesGb: 5 },
  storage: { memoryMb: 512, cpus: 1, volumesGb: 0 /* + metaGb + dataGb of the config */ },
  mail: { memoryMb: 2048, cpus: 1, volumesGb: 5 + 1 /* queue + Dovecot state; + dataGb of the config */ },
  // Prometheus (its TSDB volume), Alertmanager (its silences) and the blackbox exporter
  // (components/platform/monitoring.ts), and the notices' state volume of the backup job there.
  monitoring: { memoryMb: 1024 + 128 + 64, cpus: 1 + 0.25 + 0.25, volumesGb: 10 + 1 + 1 },
  // The nginx serving coolwsd its allowed hosts (components/platform/office-server.ts); coolwsd's
  // own limits are the config's `office` and added below. No volume.
  office: { memoryMb: 32, cpus: 0.1, volumesGb: 0 },
} as const;

/**
 * What every host runs besides its services: the backup job (components/platform/backups.ts: its
 * dumps' staging and restic's cache) and a node exporter (components/platform/monitoring.ts).
 */
export const PER_HOST_SIZING = { memoryMb: 1024 + 64, cpus: 1 + 0.25, volumesGb: 100 + 10 } as const;

/**
 * What a tenant offer places on the apps host: its sizing in the offer table, once its component
 * is built (an offer not built yet creates nothing). The host-load test checks the figures against
 * what the offline plan really registers.
 */
export function offerLoad(offer: OfferPlan, offers: OfferTable = OFFERS): Load {
  const entry: OfferEntry = offers[offer.kind];
  if (!entry.built) return NO_LOAD;
  return { diskGb: entry.sizing.diskGb(offer), memoryGb: mb(entry.sizing.memoryMb), cpus: entry.sizing.cpus };
}

const mb = (n: number) => n / 1024;

/**
 * A tenant's database server of one engine (infra/program/tenant-context.ts): one per tenant and
 * engine that its built offers use, on the apps host. Memory in MB, disk in GB.
 */
export const TENANT_DATABASE_SERVER = { memoryMb: 512, cpus: 0.5, diskGb: 5 } as const;

/** Pure: the database engines a tenant's built offers keep their data in (one server each). */
export function databaseEngines(tenant: TenantPlan, offers: OfferTable = OFFERS): ("postgres" | "mariadb")[] {
  const engines = new Set<"postgres" | "mariadb">();
  for (const offer of tenant.offers) {
    const entry: OfferEntry = offers[offer.kind];
    if (entry.built && entry.database) engines.add(entry.database);
  }
  return [...engines].sort();
}

/** Pure: the load each stack of the environment places on each host, keyed by stack then host. */
export function stackLoads(input: {
  env: string;
  config: PlatformConfig;
  tenants: readonly TenantPlan[];
  /** @default the offer table */
  offers?: OfferTable;
}): Record<string, Record<string, Load>> {
  const { env, config } = input;
  const platform: Record<string, Load> = {};
  const place = (into: Record<string, Load>, host: string, load: Load) => {
    into[host] = addLoad(into[host] ?? NO_LOAD, load);
  };
  for (const [service, size] of Object.entries(PLATFORM_SIZING) as [
    keyof typeof PLATFORM_SIZING,
    (typeof PLATFORM_SIZING)[keyof typeof PLATFORM_SIZING],
  ][]) {
    const extraGb = service === "storage" ? config.storage.metaGb + config.storage.dataGb : service === "mail" ? config.mail.dataGb : 0;
    const extra = service === "office" ? config.office : { memoryMb: 0, cpus: 0 };
    place(platform, placedHost(config, service), {
      diskGb: size.volumesGb + extraGb,
      memoryGb: mb(size.memoryMb + extra.memoryMb),
      cpus: size.cpus + extra.cpus,
    });
  }
  for (const host of Object.keys(config.hosts)) {
    place(platform, host, { diskGb: PER_HOST_SIZING.volumesGb, memoryGb: mb(PER_HOST_SIZING.memoryMb), cpus: PER_HOST_SIZING.cpus });
  }
  const loads: Record<string, Record<string, Load>> = { [platformStackName(env)]: platform };
  for (const tenant of input.tenants) {
    const own: Record<string, Load> = {};
    for (const offer of tenant.offers) {
      const load = offerLoad(offer, input.offers);
      if (load.diskGb || load.memoryGb || load.cpus) place(own, config.placement.apps, load);
    }
    const servers = databaseEngines(tenant, input.offers).length;
    if (servers) {
      const s = TENANT_DATABASE_SERVER;
      place(own, config.placement.apps, { diskGb: servers * s.diskGb, memoryGb: servers * mb(s.memoryMb), cpus: servers * s.cpus });
    }
    loads[tenantStackName(env, tenant.slug)] = own;
  }
  return loads;
}

/** Pure: the total load on each host over every stack, optionally leaving one stack out. */
export function hostLoads(loads: Record<string, Record<string, Load>>, except?: string): Record<string, Load> {
  const total: Record<string, Load> = {};
  for (const [stack, byHost] of Object.entries(loads)) {
    if (stack === except) continue;
    for (const [host, load] of Object.entries(byHost)) total[host] = addLoad(total[host] ?? NO_LOAD, load);
  }
  return total;
}
