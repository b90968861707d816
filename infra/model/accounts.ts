/**
 * Which Keycloak accounts the listed people need (docs/accounts.md): the members of tenant files and
 * the platform administrators, compared with what the realm holds. Pure: the `accounts` command
 * (infra/cli/accounts.ts) reads Keycloak and acts on the plan.
 */
import type UserRepresentation from "@keycloak/keycloak-admin-client/lib/defs/userRepresentation.js";
import type { Tenant } from "../contract/tenant";

/** A person who needs an account: listed in tenant files, in the platform config, or both. */
export interface ListedAccount {
  username: string;
  email: string;
  /** Slugs of the tenants listing the person, sorted. */
  tenants: string[];
  platformAdmin: boolean;
}

export interface ListedAccounts {
  /** Sorted by username. */
  accounts: ListedAccount[];
  /** Platform administrators whose email differs from the one their tenant files give the same username. */
  adminEmailMismatches: string[];
}

/** A platform administrator as the platform config lists them. */
export interface PlatformAdmin {
  username: string;
  email: string;
}

/** A tenant file's content with its slug. */
export interface SluggedTenant {
  slug: string;
  tenant: Pick<Tenant, "members">;
}

/** What the plan reads of an account: Keycloak's own representation, as `GET /users` returns it. */
export type ExistingAccount = Pick<
  UserRepresentation,
  "id" | "username" | "email" | "enabled" | "emailVerified" | "createdTimestamp" | "requiredActions"
>;

export type AccountStatus = "ok" | "create" | "pending" | "conflict-username" | "conflict-email" | "disabled" | "deleted";

export interface PlannedAccount extends ListedAccount {
  status: AccountStatus;
  /** The account holding the username (ok, pending, disabled, conflict-username) or the email (conflict-email). */
  accountId?: string;
}

export interface PlanOptions {
  /** Create the account of a person who deleted their own account (ops have checked they want one again). */
  recreateDeleted: boolean;
}

/** The required actions the invitation carries (infra/cli/keycloak-accounts.ts): while one is left and the email unverified, the invitation is pending. */
export const INVITATION_ACTIONS = ["UPDATE_PASSWORD", "VERIFY_EMAIL"] as const;

/** Keycloak names the user behind a client's service account `service-account-<client id>` (docs/accounts.md "Pruning"). */
export const SERVICE_ACCOUNT_PREFIX = "service-account-";

const DAY_MS = 24 * 60 * 60 * 1000;

/** Keycloak stores usernames and emails in lowercase and compares them so (docs/accounts.md "How Keycloak matches"). */
function key(value: string | undefined): string | undefined {
  return value?.toLowerCase();
}

/**
 * Everyone who needs an account. Validated tenant files give one email per username across files
 * (infra/contract/cross-rules.ts); an administrator listed with another email than the tenant files
 * keeps the tenant files' and is reported, since it is unclear which person holds the username.
 */
export function listedAccounts(tenants: readonly SluggedTenant[], admins: readonly PlatformAdmin[]): ListedAccounts {
  const byUsername = new Map<string, ListedAccount>();
  for (const { slug, tenant } of tenants) {
    for (const member of tenant.members) {
      const username = key(member.username)!;
      const known = byUsername.get(username);
      if (known) {
        if (!known.tenants.includes(slug)) known.tenants.push(slug);
      } else byUsername.set(username, { username, email: member.email, tenants: [slug], platformAdmin: false });
    }
  }
  const adminEmailMismatches: string[] = [];
  for (const admin of admins) {
    const username = key(admin.username)!;
    const known = byUsername.get(username);
    if (!known) byUsername.set(username, { username, email: admin.email, tenants: [], platformAdmin: true });
    else {
      known.platformAdmin = true;
      if (key(known.email) !== key(admin.email)) adminEmailMismatches.push(username);
    }
  }
  const accounts = [...byUsername.values()].sort((a, b) => compare(a.username, b.username));
  for (const account of accounts) account.tenants.sort(compare);
  return { accounts, adminEmailMismatches: [...new Set(adminEmailMismatches)].sort(compare) };
}

/**
 * What each listed person's account needs. `existing` is what the realm holds for their usernames
 * and emails (more is ignored); `selfDeleted` holds the usernames, or the emails they signed in
 * with, of people who deleted their own account (DELETE_ACCOUNT events, docs/accounts.md
 * "Self-deleted accounts"), in lowercase.
 */
export function planAccounts(
  listed: readonly ListedAccount[],
  existing: readonly ExistingAccount[],
  selfDeleted: ReadonlySet<string>,
  options: PlanOptions,
): PlannedAccount[] {
  const byUsername = new Map<string, ExistingAccount>();
  const byEmail = new Map<string, ExistingAccount>();
  for (const account of existing) {
    if (account.username) byUsername.set(key(account.username)!, account);
    if (account.email) byEmail.set(key(account.email)!, account);
  }
  return listed.map((person) => {
    const username = key(person.username)!;
    const email = key(person.email)!;
    const holder = byUsername.get(username);
    if (holder) {
      // A membership goes only to the account whose email is the tenant file's (docs/architecture.md "Who owns what").
      if (key(holder.email) !== email) return { ...person, status: "conflict-username", accountId: holder.id };
      return { ...person, status: statusOfMatch(holder), accountId: holder.id };
    }
    const emailHolder = byEmail.get(email);
    if (emailHolder) return { ...person, status: "conflict-email", accountId: emailHolder.id };
    if (!options.recreateDeleted && (selfDeleted.has(username) || selfDeleted.has(email))) return { ...person, status: "deleted" };
    return { ...person, status: "create" };
  });
}

function statusOfMatch(account: ExistingAccount): AccountStatus {
  if (account.enabled === false) return "disabled";
  const actions = new Set(account.requiredActions ?? []);
  if (account.emailVerified !== true && INVITATION_ACTIONS.some((a) => actions.has(a))) return "pending";
  return "ok";
}

/** Statuses after which the person has no account of their own, so their tenants' memberships cannot apply. */
const BLOCKING: ReadonlySet<AccountStatus> = new Set<AccountStatus>(["conflict-username", "conflict-email", "deleted"]);

export function blocksMemberships(status: AccountStatus): boolean {
  return BLOCKING.has(status);
}

/** Slugs of the tenants listing a person whose status blocks memberships, or whose account could not be created. */
export function blockedTenants(planned: readonly PlannedAccount[], failedCreations: ReadonlySet<string> = new Set()): string[] {
  const slugs = new Set<string>();
  for (const p of planned) if (blocksMemberships(p.status) || failedCreations.has(p.username)) for (const s of p.tenants) slugs.add(s);
  return [...slugs].sort(compare);
}

/** The accounts of the realm that no listed person holds, by username or by email. */
export function unlistedAccounts(existing: readonly ExistingAccount[], listed: readonly ListedAccount[]): ExistingAccount[] {
  const usernames = new Set(listed.map((p) => key(p.username)));
  const emails = new Set(listed.map((p) => key(p.email)));
  return existing.filter((a) => !usernames.has(key(a.username)) && !(a.email && emails.has(key(a.email))));
}

/**
 * Unlisted accounts to remove: email still unverified `days` days after creation (self-registrations
 * nobody completed). Never a service account, never an account whose age is unknown.
 */
export function prune(unlisted: readonly ExistingAccount[], now: number, days: number): ExistingAccount[] {
  const before = now - days * DAY_MS;
  return unlisted
    .filter(
      (a) =>
        a.emailVerified !== true &&
        typeof a.createdTimestamp === "number" &&
        a.createdTimestamp < before &&
        !(a.username ?? "").startsWith(SERVICE_ACCOUNT_PREFIX),
    )
    .sort((a, b) => compare(a.username ?? "", b.username ?? ""));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
