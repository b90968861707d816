/**
 * What `npm run accounts` prints: a line per person who needs attention and what ops do about it,
 * or one JSON document for the pull-request flow. Tenant files hold personal data, so this names
 * people by username and tenants by slug, never by email (docs/architecture.md "Rules that always hold").
 */
import type { AccountStatus, PlannedAccount } from "../model/accounts";

/** What a run did for a person: nothing (dry run, or nothing to do), or one of these. */
export type AccountAction = "created" | "invited" | "create-failed" | "invite-failed";

export interface AccountOutcome extends PlannedAccount {
  action?: AccountAction;
  /** Keycloak's status and message when the action failed (emails already removed). */
  error?: string;
}

export interface PruneOutcome {
  username: string;
  removed: boolean;
  error?: string;
}

export interface AccountsRun {
  environment: string;
  send: boolean;
  accounts: AccountOutcome[];
  adminEmailMismatches: string[];
  blockedTenants: string[];
  /** Present with --prune. */
  prune?: { days: number; accounts: PruneOutcome[] };
}

const STATUSES: readonly AccountStatus[] = ["ok", "create", "pending", "conflict-username", "conflict-email", "disabled", "deleted"];

/** 1 when a person is in conflict or an action failed: ops must act before the blocked stacks apply. */
export function exitCode(run: AccountsRun): number {
  const conflict = run.accounts.some((a) => a.status === "conflict-username" || a.status === "conflict-email");
  const failed = run.accounts.some((a) => a.action === "create-failed" || a.action === "invite-failed");
  const pruneFailed = run.prune?.accounts.some((p) => p.error !== undefined) ?? false;
  return conflict || failed || pruneFailed || run.adminEmailMismatches.length > 0 ? 1 : 0;
}

export function reportJson(run: AccountsRun): unknown {
  return {
    environment: run.environment,
    send: run.send,
    counts: counts(run),
    accounts: run.accounts.map((a) => ({
      username: a.username,
      status: a.status,
      tenants: a.tenants,
      platformAdmin: a.platformAdmin,
      ...(a.action ? { action: a.action } : {}),
      ...(a.error ? { error: a.error } : {}),
    })),
    adminEmailMismatches: run.adminEmailMismatches,
    blockedTenants: run.blockedTenants,
    ...(run.prune ? { prune: run.prune } : {}),
    exitCode: exitCode(run),
  };
}

export function reportLines(run: AccountsRun): string[] {
  const mode = run.send ? "--send" : "dry run, nothing written (--send to act)";
  const lines = [`accounts ${run.environment}, ${mode}: ${run.accounts.length} listed`];
  const width = Math.max(...STATUSES.map((s) => s.length));
  for (const a of run.accounts) {
    const text = describe(a, run.send);
    if (text) lines.push(`  ${a.status.padEnd(width)} ${a.username} (${whose(a)}): ${text}`);
  }
  for (const username of run.adminEmailMismatches) {
    lines.push(
      `  admin email       ${username}: the platform config gives this administrator another email than the tenant files; the tenant files' is used. Make them agree (docs/accounts.md#admin-email-mismatch)`,
    );
  }
  if (run.blockedTenants.length) lines.push(`blocked tenant stacks, not applied until resolved: ${run.blockedTenants.join(", ")}`);
  if (run.prune) {
    const { days, accounts } = run.prune;
    const names = accounts.map((p) => (p.error ? `${p.username} (${p.error})` : p.username)).join(", ");
    const verb = run.send ? `removed ${accounts.filter((p) => p.removed).length}` : "would remove (with --send)";
    lines.push(
      `prune: ${accounts.length} unlisted account${accounts.length === 1 ? "" : "s"} unverified after ${days} days, ${verb}${names ? `: ${names}` : ""}`,
    );
  }
  const c = counts(run);
  lines.push(
    STATUSES.filter((s) => c[s])
      .map((s) => `${c[s]} ${s}`)
      .join(", ") || "nobody listed",
  );
  return lines;
}

function counts(run: AccountsRun): Record<AccountStatus, number> {
  const out = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<AccountStatus, number>;
  for (const a of run.accounts) out[a.status]++;
  return out;
}

function whose(a: PlannedAccount): string {
  return [...a.tenants, ...(a.platformAdmin ? ["platform admin"] : [])].join(", ");
}

/** The line's text for a person: what happened or would happen, and what ops do (docs/accounts.md "Statuses"). */
function describe(a: AccountOutcome, send: boolean): string | undefined {
  switch (a.status) {
    case "ok":
      return undefined;
    case "create":
      if (!send) return "no account; --send creates it and sends the invitation";
      if (a.action === "create-failed") return `not created: ${a.error}. Its tenants stay blocked; run again once Keycloak is fixed`;
      if (a.action === "invite-failed") return `created, invitation not sent: ${a.error}. It stays pending; the next --send sends it again`;
      return "created and invited";
    case "pending":
      if (!send) return "invitation not used yet; --send sends it again";
      if (a.action === "invite-failed") return `invitation not sent: ${a.error}. The next --send tries again`;
      return "invitation sent again";
    case "conflict-username":
      return "the username belongs to an account with another email; never joined. Contact the holder: the member takes another username in the tenant file, or, once the holder is confirmed to be the member, set that account's email to the tenant file's in the admin console. Never merge accounts (docs/accounts.md#conflict-username)";
    case "conflict-email":
      return "the email belongs to an account with another username. Ask the person which username they use and write that one in the tenant file, or have them change that account's email (docs/accounts.md#conflict-email)";
    case "disabled":
      return "the account is disabled; never re-enabled by this command. Ops decide, with the person, whether to enable it in the admin console (docs/accounts.md#disabled)";
    case "deleted":
      return "the person deleted their own account; not re-created. Ask them; if they want an account again, run with --recreate-deleted, or remove them from the tenant file (docs/accounts.md#deleted)";
  }
}
