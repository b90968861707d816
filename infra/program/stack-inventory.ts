import * as pulumi from "@pulumi/pulumi";
import { BackupSet } from "../../components/blocks/backup-set";
import { CONTAINER_SERVICE_TYPE, type VolumeQuota } from "../../components/blocks/container-service";
import { DATABASE_TYPE, type DatabaseDump } from "../../components/blocks/database";
import type { DeclaredProbes } from "../../components/blocks/container-service";
import { HostFile } from "../../components/blocks/host-file";
import type { BackupEntry } from "../../components/platform/backup-fragments";
import { DEFAULT_MONITORING_DIR } from "../../components/platform/monitoring";
import { PLATFORM_PROBE_FILE, type ProbeTargets, probeTargetsFile, tenantProbeFileName } from "../../components/platform/monitoring-config";
import type { HostConnection } from "../../components/platform/outputs";
import type { HostData, StorageQuota } from "../../components/units";

/** A service's volumes, as its ContainerService registers them. */
interface ObservedService {
  offer: string;
  host: string;
  container: string;
  volumes: VolumeQuota[];
}

/** Where a stack's mailboxes, buckets and mail store live: hosts of the platform's placement. */
export interface InventoryHosts {
  /** Host name of the mail server. */
  mail: string;
  /** Host name of the object store. */
  storage: string;
}

/**
 * What a stack holds that the backups must save and the monitoring must watch, seen as the stack
 * registers it: a stack transformation
 * (https://www.pulumi.com/docs/iac/concepts/options/transformations/) reads the props each
 * component declares — a ContainerService's volumes, host and probes, a Database's dump, a
 * bucket's hostData, a mail quota's mailboxes, the mail server's store, a route's pages — so that
 * what is saved and watched is derived from the components, never listed by hand. Each resource is
 * credited to the offer (or platform service) of its nearest ancestor that `offerOf` names.
 *
 * Make it before the stack's resources, and call {@link backupSets} after them: components make
 * their children in their constructors, synchronously. Anything made later, inside an apply, is
 * not seen, and the policy pack's `data-backed-up` then reports it.
 */
export class StackInventory {
  private readonly offers = new WeakMap<pulumi.Resource, string>();
  private readonly services: ObservedService[] = [];
  private readonly databases: (DatabaseDump & { offer: string })[] = [];
  private readonly mailboxes: string[] = [];
  private readonly buckets: { offer: string; bucket: string }[] = [];
  private mailStore?: { volume: string; container: string; mountPath: string };
  private readonly probes: (DeclaredProbes & { service: string })[] = [];

  /** @param offerOf the offer or platform service a component stands for, from its type and name; undefined for the others. */
  constructor(private readonly offerOf: (type: string, name: string) => string | undefined) {
    pulumi.runtime.registerStackTransformation((args) => {
      this.observe(args);
      return undefined;
    });
  }

  private observe(args: pulumi.ResourceTransformationArgs): void {
    const inherited = args.opts.parent ? this.offers.get(args.opts.parent) : undefined;
    const offer = this.offerOf(args.type, args.name) ?? inherited;
    if (offer !== undefined) this.offers.set(args.resource, offer);
    if (!args.type.startsWith("alacarte:")) return;
    const props = args.props as Record<string, unknown>;
    const credited = offer ?? "other";
    if (args.type === CONTAINER_SERVICE_TYPE) {
      this.services.push({
        offer: credited,
        host: props.host as string,
        container: props.container as string,
        volumes: props.volumes as VolumeQuota[],
      });
    } else if (args.type === DATABASE_TYPE && props.dump) {
      this.databases.push({ ...(props.dump as DatabaseDump), offer: credited });
    }
    const hostData = props.hostData as HostData | undefined;
    if (hostData?.kind === "bucket") this.buckets.push({ offer: credited, bucket: hostData.name });
    const quota = props.quota as StorageQuota | undefined;
    if (quota?.offer === "mail") this.mailboxes.push(...quota.mailboxes.map((m) => m.address));
    if (props.mailStore) this.mailStore = props.mailStore as NonNullable<StackInventory["mailStore"]>;
    const probes = props.probes as DeclaredProbes | undefined;
    if (probes && (probes.http.length || probes.tls.length)) this.probes.push({ ...probes, service: credited });
  }

  /** Pure over what was seen: every probe, labelled with its offer or service (and the tenant). */
  probeTargets(tenant?: string): ProbeTargets {
    const labels = (service: string) => ({ service, ...(tenant !== undefined ? { tenant } : {}) });
    return {
      http: this.probes.flatMap((p) => p.http.map((url) => ({ url, ...labels(p.service) }))),
      tls: this.probes.flatMap((p) => p.tls.map((address) => ({ address, ...labels(p.service) }))),
    };
  }

  /**
   * The stack's own probe file in the monitoring's targets folder (`tenant-<slug>.json`, or the
   * platform's `platform.json`), which Prometheus reads without a reload; none when nothing is
   * watched. @param tenant the tenant's slug, undefined for the platform stack.
   */
  probeFile(monitoringHost: HostConnection, tenant?: string): HostFile | undefined {
    const targets = this.probeTargets(tenant);
    if (!targets.http?.length && !targets.tls?.length) return undefined;
    const file = tenant === undefined ? PLATFORM_PROBE_FILE : tenantProbeFileName(tenant);
    return new HostFile(`${tenant ?? "platform"}-probes`, {
      host: monitoringHost,
      path: `${DEFAULT_MONITORING_DIR}/targets/${file}`,
      content: probeTargetsFile(targets),
      mode: "0644",
    });
  }

  /** Pure over what was seen: each host's backup entries, hosts sorted by name. */
  entriesByHost(hosts: InventoryHosts): Map<string, BackupEntry[]> {
    const byHost = new Map<string, BackupEntry[]>();
    const add = (host: string, entry: BackupEntry) => {
      const list = byHost.get(host) ?? [];
      list.push(entry);
      byHost.set(host, list);
    };
    for (const service of this.services) {
      for (const v of service.volumes) {
        if (v.backup !== true) continue;
        add(service.host, {
          kind: "volume",
          offer: service.offer,
          volume: v.name,
          quotaGb: v.quotaGb,
          ...(v.stopForBackup ? { stop: service.container } : {}),
        });
      }
    }
    for (const { offer, engine, container, database, host } of this.databases) {
      add(host, { kind: "database", offer, engine, container, database });
    }
    for (const address of this.mailboxes) add(hosts.mail, { kind: "mailbox", offer: "mail", address });
    for (const { offer, bucket } of this.buckets) add(hosts.storage, { kind: "bucket", offer, bucket });
    if (this.mailStore) {
      const owner = this.services.find((s) => s.volumes.some((v) => v.name === this.mailStore!.volume));
      add(owner?.host ?? hosts.mail, { kind: "mailstore", offer: "mail", ...this.mailStore });
    }
    return new Map([...byHost].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /**
   * One BackupSet per host holding the stack's data, named `<set>-backup-<host>`: the fragments
   * the host's backup job reads.
   */
  backupSets(set: string, hosts: Record<string, HostConnection>, placed: InventoryHosts): BackupSet[] {
    return [...this.entriesByHost(placed)].map(([hostName, entries]) => {
      const host = hosts[hostName];
      if (!host) throw new Error(`backup set ${set}: data on unknown host "${hostName}"`);
      return new BackupSet(`${set}-backup-${hostName}`, { set, host, entries });
    });
  }
}
