import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type * as docker from "@pulumi/docker";
import { PROJECT_ROOT } from "../../infra/contract/paths";
import { repositoryImage } from "../blocks/image-pin";
import { ContainerService } from "../blocks/container-service";
import { NOTICES_DIR } from "../../infra/model/tenant-notices";
import { BACKUP_FRAGMENTS_DIR, backupJobContainer } from "./backup-fragments";
import type { HostConnection } from "./outputs";

export const BACKUPS_TYPE = "alacarte:platform:Backups";

/**
 * The backup image, built from `images/backup` (Debian 12's restic, busybox's cron, Docker's
 * static CLI, the scripts of the folder: docs/services/backups.md). The tag ends with the first 12
 * hex digits of the SHA-256 of the folder's files (test/backup-image.test.ts): an edit of the
 * folder that keeps the tag fails the tests.
 */
export const BACKUP_IMAGE = "alacarte/backup:1.0.0-e652ed9a3ec1";

/** The build folder of the backup image, from the project root. */
export const BACKUP_IMAGE_CONTEXT = "images/backup";

/** Where node exporter's textfile collector reads the job's metrics on every host (docs/services/monitoring.md). */
export const METRICS_DIR = "/srv/alacarte/metrics";

/** Where the notices job keeps what it has sent (images/backup/notices.sh). */
export const NOTICES_STATE_DIR = "/var/lib/alacarte/notices";

/** Where `npm run decommission` leaves each export for the tenant, on the host holding the data (docs/decommission.md). */
export const EXPORTS_DIR = "/srv/alacarte/exports";

/** Where the retention records of decommissioned data are, read by the job's daily purge (images/backup/purge.sh). */
export const RETAINED_DIR = "/srv/alacarte/retained.d";

/** Docker keeps each volume's files in `<dir>/<name>/_data`; the job reads and restores them there. */
export const DOCKER_VOLUMES_DIR = "/var/lib/docker/volumes";

/** How many snapshots of each set and host the repository keeps (restic `forget --keep-*`). */
export interface BackupRetention {
  daily: number;
  weekly: number;
  monthly: number;
}

export interface BackupsArgs {
  /** The backup image pushed to the forge's registry, pinned by digest (platform config `images.backup`). @default built on each host from images/backup */
  pushedImage?: string;
  /** Every host, each with its Docker provider: each runs its own job, for the sets whose data it holds. */
  hosts: { host: HostConnection; provider: docker.Provider }[];
  /**
   * The restic repository every host saves into, without credentials.
   * @example "s3:https://s3.eu-west-1.example.net/alacarte-backups"
   */
  repository: string;
  /** The repository's password (secret): restic encrypts everything with the key it unlocks. */
  password: pulumi.Input<string>;
  /** The S3 target's credentials (secret), when the repository is on S3. */
  s3?: { accessKeyId: pulumi.Input<string>; secretAccessKey: pulumi.Input<string> };
  /** When each host's job runs, a cron schedule (UTC). @example "17 2 * * *" */
  schedule: string;
  /** When the retention is applied and unused data pruned, a cron schedule (UTC), from `pruneHost` only. */
  pruneSchedule: string;
  /** The host that prunes (the repository's exclusive lock: one host only). */
  pruneHost: string;
  retention: BackupRetention;
  /** Resource limits of each host's job. @default { memoryMb: 1024, cpus: 1 } */
  limits?: { memoryMb: number; cpus: number };
  /** The tenants' notices (docs/services/notices.md), sent by the job of the monitoring host. @default none */
  notices?: BackupNotices;
  /** The object store, whose decommissioned buckets the job of its host deletes once retained long enough (docs/decommission.md). @default none */
  objectStore?: BackupObjectStore;
}

/** What the purge needs to delete a bucket of Garage: its admin API and its S3 API, on `network`. */
export interface BackupObjectStore {
  /** The host running Garage. */
  host: string;
  network: pulumi.Input<string>;
  /** Garage's admin API on `network`. @example "http://platform-storage-garage:3903" */
  adminUrl: pulumi.Input<string>;
  /** Garage's S3 API on `network`. @example "http://platform-storage-garage:3900" */
  s3Url: pulumi.Input<string>;
  /** Garage's `s3_region`. */
  region: string;
  /** The admin API's bearer token (secret): in the job's secret environment only. */
  adminToken: pulumi.Input<string>;
}

/** What the notices job needs: Prometheus for the quotas, the platform's mail to send. */
export interface BackupNotices {
  /** The host whose job sends them (where the tenants write their notice fragments: the monitoring's). */
  host: string;
  /** Prometheus, on `network`. */
  prometheusUrl: pulumi.Input<string>;
  network: pulumi.Input<string>;
  /** When they are checked, a cron schedule (UTC). @default "0 8 * * *" */
  schedule?: string;
  smtp: { url: string; starttls: boolean; username: string; password: pulumi.Input<string> };
}

/** Pure: the job's environment on a host (no secret in it). */
export function backupEnv(
  args: Pick<BackupsArgs, "repository" | "schedule" | "pruneSchedule" | "pruneHost" | "retention">,
  hostName: string,
): Record<string, string> {
  if (/^[a-z0-9]+:[^/]*\/\/[^/@]*@/i.test(args.repository) || /^sftp:[^@]*:[^@]*@/.test(args.repository)) {
    throw new Error("the backup repository must not hold credentials: give them as config secrets (docs/services/backups.md)");
  }
  return {
    BACKUP_HOST: hostName,
    RESTIC_REPOSITORY: args.repository,
    BACKUP_SCHEDULE: args.schedule,
    FRAGMENTS_DIR: BACKUP_FRAGMENTS_DIR,
    VOLUMES_DIR: DOCKER_VOLUMES_DIR,
    METRICS_DIR,
    STAGING_DIR: "/var/backups/alacarte",
    EXPORTS_DIR,
    RETAINED_DIR,
    RESTIC_CACHE_DIR: "/var/cache/restic",
    KEEP_DAILY: String(args.retention.daily),
    KEEP_WEEKLY: String(args.retention.weekly),
    KEEP_MONTHLY: String(args.retention.monthly),
    ...(hostName === args.pruneHost ? { PRUNE: "true", PRUNE_SCHEDULE: args.pruneSchedule } : {}),
  };
}

/**
 * The backup job of every host (docs/services/backups.md): a container of the backup image that
 * saves, on its schedule, each backup set whose fragment the stacks wrote on that host, into one
 * encrypted restic repository, and restores one on request. It reaches the host's engine through
 * its socket (dumps through `docker exec`, services stopped around a snapshot) and the volumes'
 * files where Docker keeps them: it holds root's power on its host, as the proxy does.
 */
export class Backups extends pulumi.ComponentResource {
  // Its containers are `<name>-<host>` (backupJobContainer): the platform names it `platform-backups`,
  // whose containers `npm run restore` reaches.
  /** The job's container name by host name. */
  readonly containers: Record<string, string>;

  constructor(name: string, args: BackupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super(BACKUPS_TYPE, name, {}, opts);
    if (!args.hosts.some((h) => h.host.name === args.pruneHost))
      throw new Error(`Backups: pruneHost "${args.pruneHost}" is not one of the hosts`);
    this.containers = {};
    for (const { host, provider } of args.hosts) {
      const container = backupJobContainer(host.name, name);
      const notices = args.notices?.host === host.name ? args.notices : undefined;
      const store = args.objectStore?.host === host.name ? args.objectStore : undefined;
      new ContainerService(
        container,
        {
          ...repositoryImage(BACKUP_IMAGE, path.join(PROJECT_ROOT, BACKUP_IMAGE_CONTEXT), args.pushedImage),
          host,
          env: {
            ...backupEnv(args, host.name),
            ...(notices
              ? {
                  NOTICES_SCHEDULE: notices.schedule ?? "0 8 * * *",
                  NOTICES_DIR,
                  STATE_DIR: NOTICES_STATE_DIR,
                  PROMETHEUS_URL: notices.prometheusUrl,
                  SMTP_URL: notices.smtp.url,
                  SMTP_STARTTLS: String(notices.smtp.starttls),
                  SMTP_USERNAME: notices.smtp.username,
                }
              : {}),
            ...(store ? { GARAGE_ADMIN_URL: store.adminUrl, GARAGE_S3_URL: store.s3Url, GARAGE_S3_REGION: store.region } : {}),
          },
          secretEnv: {
            RESTIC_PASSWORD: args.password,
            ...(args.s3 ? { AWS_ACCESS_KEY_ID: args.s3.accessKeyId, AWS_SECRET_ACCESS_KEY: args.s3.secretAccessKey } : {}),
            ...(notices ? { SMTP_PASSWORD: notices.smtp.password } : {}),
            ...(store ? { GARAGE_ADMIN_TOKEN: store.adminToken } : {}),
          },
          volumes: [
            // What the job makes again at each run: its dumps (saved in the snapshot) and restic's cache.
            { name: "staging", containerPath: "/var/backups/alacarte", sizeGb: 100, backup: false },
            { name: "cache", containerPath: "/var/cache/restic", sizeGb: 10, backup: false },
            // Which notices were sent: lost, each would be sent again.
            ...(notices ? [{ name: "notices", containerPath: NOTICES_STATE_DIR, sizeGb: 1, backup: true }] : []),
          ],
          networks: [...(notices ? [notices.network] : []), ...(store ? [store.network] : [])],
          hostPaths: [
            { hostPath: "/var/run/docker.sock", containerPath: "/var/run/docker.sock" },
            // At the same path as on the host, so what the fragments name is where the job looks.
            { hostPath: DOCKER_VOLUMES_DIR, containerPath: DOCKER_VOLUMES_DIR },
            { hostPath: BACKUP_FRAGMENTS_DIR, containerPath: BACKUP_FRAGMENTS_DIR, readOnly: true },
            { hostPath: METRICS_DIR, containerPath: METRICS_DIR },
            // Written by decommission.sh (exports, retention records), read and moved by purge.sh.
            { hostPath: EXPORTS_DIR, containerPath: EXPORTS_DIR },
            { hostPath: RETAINED_DIR, containerPath: RETAINED_DIR },
            ...(notices ? [{ hostPath: NOTICES_DIR, containerPath: NOTICES_DIR, readOnly: true }] : []),
          ],
          limits: args.limits ?? { memoryMb: 1024, cpus: 1 },
          labels: { "alacarte.role": "backup" },
        },
        { parent: this, provider },
      );
      this.containers[host.name] = container;
    }
    this.registerOutputs({ containers: this.containers });
  }
}
