import * as pulumi from "@pulumi/pulumi";
import { type BackupEntry, backupFragmentPath, renderBackupFragment } from "../platform/backup-fragments";
import type { HostConnection } from "../platform/outputs";
import { HostFile } from "./host-file";

export const BACKUP_SET_TYPE = "alacarte:block:BackupSet";

export interface BackupSetArgs {
  /** The set: a tenant's slug, or `platform`. One snapshot per set and host. */
  set: string;
  /** The host whose backup job saves these entries (where they live). */
  host: HostConnection;
  /** What the set saves on that host; names may be outputs. */
  entries: pulumi.Input<BackupEntry>[];
}

/**
 * What one stack saves on one host: its fragment in the host's backup folder, read by the host's
 * backup job at each run (images/backup, docs/services/backups.md). The entries are also its
 * registered props and outputs, which the policy pack's `data-backed-up` compares with the stack's data.
 * Deleting it retires the fragment into the folder's attic: the set's snapshots stay, under the
 * repository's retention.
 */
export class BackupSet extends pulumi.ComponentResource {
  /** The fragment's path on the host. */
  readonly path: string;

  constructor(name: string, args: BackupSetArgs, opts?: pulumi.ComponentResourceOptions) {
    // In its props and outputs: per-resource policies see the one, stack policies the other (policies/policies.ts).
    const declared = { set: args.set, host: args.host.name, entries: args.entries };
    super(BACKUP_SET_TYPE, name, declared, opts);
    this.path = backupFragmentPath(args.set);
    new HostFile(
      name,
      {
        host: args.host,
        path: this.path,
        content: pulumi.all(args.entries).apply((entries) => renderBackupFragment(args.set, args.host.name, entries as BackupEntry[])),
        mode: "0644",
      },
      { parent: this },
    );
    this.registerOutputs({ path: this.path, ...declared });
  }
}
