import { parseArgs } from "node:util";
import { backupJobContainer, PLATFORM_BACKUP_SET } from "../../components/platform/backup-fragments";
import { shellQuote } from "../../components/blocks/shell";
import { slugProblem } from "../contract/names";
import type { PlatformConfig } from "../model/platform-config";
import { UsageError } from "./run";

/** Pure parts of `npm run restore` (infra/cli/restore.ts): the request and the ssh commands. */

/** What ops asked to restore. */
export interface RestoreRequest {
  set: string;
  offer?: string;
  snapshot?: string;
  mailbox?: string;
  folder?: string;
}

/** Exit code of the job's restore script when the host holds nothing of the set (images/backup/restore.sh). */
export const NOTHING_ON_HOST = 3;

/** Pure: the job's arguments after `alacarte-backup restore`. */
export function restoreArguments(request: RestoreRequest, dryRun: boolean): string[] {
  return [
    request.set,
    ...(request.offer ? ["--offer", request.offer] : []),
    ...(request.snapshot ? ["--snapshot", request.snapshot] : []),
    ...(request.mailbox ? ["--mailbox", request.mailbox] : []),
    ...(request.folder ? ["--folder", request.folder] : []),
    ...(dryRun ? ["--dry-run"] : []),
  ];
}

/** ssh without a prompt: a missing key fails at once instead of waiting for a password. */
export const DEFAULT_SSH = ["ssh", "-o", "BatchMode=yes"] as const;

/**
 * Pure: the command of each host to ask, through ssh (`ssh` words, e.g. `ssh -o BatchMode=yes`):
 * every host for a set's volumes and databases (a tenant's data may be on several), the mail host
 * only for a mailbox. The remote command is one string the remote shell splits: every word is quoted.
 */
export function restoreCommands(
  config: Pick<PlatformConfig, "hosts" | "placement">,
  request: RestoreRequest,
  dryRun: boolean,
  ssh: readonly string[] = DEFAULT_SSH,
): { host: string; argv: string[] }[] {
  const hosts = request.mailbox ? [config.placement.mail] : Object.keys(config.hosts).sort();
  return hosts.map((host) => {
    const { address, user } = config.hosts[host]!;
    const remote = ["docker", "exec", backupJobContainer(host), "alacarte-backup", "restore", ...restoreArguments(request, dryRun)];
    return { host, argv: [...ssh, `${user}@${address}`, remote.map(shellQuote).join(" ")] };
  });
}

/** Pure: the request from the command line. @throws UsageError naming the bad argument. */
export function parseRestoreArgs(args: string[]): { request: RestoreRequest; env: string; yes: boolean } {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      offer: { type: "string" },
      snapshot: { type: "string" },
      mailbox: { type: "string" },
      folder: { type: "string" },
      env: { type: "string", default: "prod" },
      yes: { type: "boolean", default: false },
    },
  });
  const usage =
    "usage: npm run restore -- <tenant> [--offer <offer>] [--snapshot <id>] [--mailbox <address> [--folder <name>]] [--env <env>] [--yes]";
  if (positionals.length !== 1) throw new UsageError(usage);
  const set = positionals[0]!;
  const bad = set === PLATFORM_BACKUP_SET ? undefined : slugProblem(set);
  if (bad) throw new UsageError(`restore: "${set}" is not a tenant's slug: ${bad}`);
  if (values.offer !== undefined && !/^[a-z0-9]+(-[a-z0-9]+)*$/.test(values.offer))
    throw new UsageError(`restore: --offer "${values.offer}" is not an offer`);
  if (values.snapshot !== undefined && !/^[0-9a-f]{8,64}$/.test(values.snapshot))
    throw new UsageError("restore: --snapshot takes a snapshot id (8 to 64 hexadecimal digits)");
  if (values.folder !== undefined && values.mailbox === undefined) throw new UsageError("restore: --folder goes with --mailbox");
  if (values.mailbox !== undefined && values.offer !== undefined) throw new UsageError("restore: --mailbox and --offer do not go together");
  if (values.mailbox !== undefined && !/^[^\s@'"\\/]+@[a-z0-9.-]+$/.test(values.mailbox))
    throw new UsageError(`restore: --mailbox "${values.mailbox}" is not an address`);
  if (values.folder !== undefined && (/[\s'"\\]/.test(values.folder) || values.folder.includes("..")))
    throw new UsageError("restore: --folder takes a folder name such as Archives/2025");
  const request: RestoreRequest = {
    set,
    ...(values.offer !== undefined ? { offer: values.offer } : {}),
    ...(values.snapshot !== undefined ? { snapshot: values.snapshot } : {}),
    ...(values.mailbox !== undefined ? { mailbox: values.mailbox } : {}),
    ...(values.folder !== undefined ? { folder: values.folder } : {}),
  };
  return { request, env: values.env!, yes: values.yes! };
}
