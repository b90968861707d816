/** The contract's GB is 2^30 bytes everywhere: quotas, policies and bills. */
export const BYTES_PER_GB = 2 ** 30;

/** Storage size in the contract's gigabytes (2^30 bytes). */
export type GB = number;

export function gbToBytes(gb: GB): number {
  return gb * BYTES_PER_GB;
}

/** Docker and Garage read sizes like "20G" as 20 × 2^30 bytes. */
export function gbToSizeString(gb: GB): string {
  return `${gb}G`;
}

/**
 * The quota a storage-bearing component declares, for the policy pack (policies/policies.ts):
 * passed both as its registered props (`super(TYPE, name, { quota }, opts)`, what per-resource
 * policies see) and in `registerOutputs({ quota })` (what stack policies see). `offer` is the
 * catalog offer it counts against; mail lists every mailbox instead of one size.
 */
export type StorageQuota =
  | { offer: "website" | "nextcloud" | "video" | "accounting"; gb: GB }
  | { offer: "mail"; mailboxes: { address: string; gb: GB }[] };

/**
 * Data that a command creates on a host rather than a resource of a provider (a database added to
 * a shared server, a bucket made through an admin API). Its component declares it in its
 * registered props (`super(TYPE, name, { hostData }, opts)`) and outputs, so the policy pack checks
 * it as it checks a volume: protected in production, and saved by the backups.
 */
export interface HostData {
  kind: "database" | "bucket";
  /** Its name where it lives (the database's, the bucket's). */
  name: string;
  /** Which engine or store holds it. @example "postgres" */
  engine: string;
  /** It is protected against deletion (the command that made it is, and it is retained on delete). */
  protect: boolean;
  /** How the backups save it. @example "server-dump" (the server's databases dumped together) */
  backup: string;
  /** The name of the resource (a command, child of the component) that makes it. @example "acme-nextcloud-db-create" */
  madeBy: string;
}
