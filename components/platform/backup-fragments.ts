/**
 * The contract between the stacks, which each write one backup fragment per backup set and host,
 * and the host's backup job (images/backup), which saves and restores what the fragments list
 * (docs/services/backups.md "Fragments"). Pure: both sides and the tests import it.
 */
import { gbToBytes } from "../units";

/** Folder of the fragments on every host: `<dir>/<set>.backup`. */
export const BACKUP_FRAGMENTS_DIR = "/srv/alacarte/backup.d";

/** Suffix of a fragment file. */
export const BACKUP_FRAGMENT_SUFFIX = ".backup";

/** The set of the platform stack's own data; a tenant's set is its slug. */
export const PLATFORM_BACKUP_SET = "platform";

/** One thing a set saves, and how. `offer` is what `restore --offer` selects: a tenant's offer, or a platform service. */
export type BackupEntry =
  /** The files of a Docker volume; `stop` is a container stopped around the snapshot (a SQLite file, say). */
  | { kind: "volume"; offer: string; volume: string; quotaGb: number; stop?: string }
  /** A database, dumped through `docker exec` in its server's container (never its files copied live). */
  | { kind: "database"; offer: string; engine: "postgres" | "mariadb"; container: string; database: string }
  /** A tenant's mailbox: saved with the platform's mail store, restored alone on request. */
  | { kind: "mailbox"; offer: "mail"; address: string }
  /** The platform's mail store: the volume holding `<domain>/<local part>/Maildir`, and where its container mounts it. */
  | { kind: "mailstore"; offer: "mail"; volume: string; container: string; mountPath: string }
  /** A bucket of the object store, saved with the store's own volumes (docs/services/backups.md "Buckets"). */
  | { kind: "bucket"; offer: string; bucket: string };

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const OFFER = /^[a-z0-9]+(-[a-z0-9]+)*$/;

function word(value: string, what: string, pattern = NAME): string {
  if (!pattern.test(value)) throw new Error(`backup fragment: invalid ${what} "${value}"`);
  return value;
}

/** Pure: a fragment line; every field is one word the job's `read` splits on spaces. */
export function backupLine(entry: BackupEntry): string {
  const offer = word(entry.offer, "offer", OFFER);
  switch (entry.kind) {
    case "volume": {
      if (!(entry.quotaGb > 0)) throw new Error(`backup fragment: volume "${entry.volume}" needs a positive quota`);
      const stop = entry.stop === undefined ? "-" : word(entry.stop, "container");
      return `volume ${offer} ${word(entry.volume, "volume")} ${Math.round(gbToBytes(entry.quotaGb))} ${stop}`;
    }
    case "database":
      return `database ${offer} ${entry.engine} ${word(entry.container, "container")} ${word(entry.database, "database", /^[a-z_][a-z0-9_]{0,62}$/)}`;
    case "mailbox":
      // A mailbox address of the contract: no space, no quote, one `@` (infra/contract/names.ts).
      return `mailbox ${offer} ${word(entry.address, "address", /^[^\s@'"\\]+@[a-z0-9.-]+$/)}`;
    case "mailstore":
      return `mailstore ${offer} ${word(entry.volume, "volume")} ${word(entry.container, "container")} ${word(entry.mountPath, "mount path", /^\/[A-Za-z0-9_./-]*$/)}`;
    case "bucket":
      return `bucket ${offer} ${word(entry.bucket, "bucket")}`;
    default: {
      const never: never = entry;
      throw new Error(`backup fragment: unknown entry ${JSON.stringify(never)}`);
    }
  }
}

/** Pure: the text of a set's fragment on one host, lines sorted and without repeats. */
export function renderBackupFragment(set: string, host: string, entries: readonly BackupEntry[]): string {
  word(set, "set", OFFER);
  const lines = [...new Set(entries.map(backupLine))].sort();
  return [`# Managed by alacarte: backup set ${set} on host ${host}. The next deployment overwrites it.`, ...lines, ""].join("\n");
}

/** Pure: where a set's fragment lives on a host. */
export function backupFragmentPath(set: string): string {
  return `${BACKUP_FRAGMENTS_DIR}/${word(set, "set", OFFER)}${BACKUP_FRAGMENT_SUFFIX}`;
}

/**
 * The name of the platform's Backups component (components/platform/platform.ts names it
 * `<platform>-backups`, the platform being `platform`, infra/program/platform-stack.ts).
 */
export const PLATFORM_BACKUPS = "platform-backups";

/** Pure: the backup job's container of a host, as Backups names it and `npm run restore` reaches it. */
export function backupJobContainer(hostName: string, backupsName = PLATFORM_BACKUPS): string {
  return `${backupsName}-${hostName}`;
}
