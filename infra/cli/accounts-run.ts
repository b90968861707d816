import { loadCatalog } from "../catalog/catalog";
import { fileStem } from "../contract/load";
import { hasErrors, validateTenantsInParallel } from "../contract/validate";
import {
  blockedTenants,
  listedAccounts,
  planAccounts,
  prune,
  unlistedAccounts,
  type PlannedAccount,
  type SluggedTenant,
} from "../model/accounts";
import { type PlatformConfig, readPlatformConfig } from "../model/platform-config";
import { type AccountOutcome, type AccountsRun, exitCode, type PruneOutcome } from "./accounts-report";
import { connectKeycloak, type KeycloakAccounts, KeycloakCallError, type KeycloakSettings, redactEmails } from "./keycloak-accounts";
import { UsageError } from "./run";

/**
 * The accounts step of npm run accounts (docs/accounts.md), as a function: the deploy command runs
 * it with `send` for the one tenant whose stack it is about to apply. `connect` opens Keycloak
 * (the real admin API by default; tests hand an in-memory one).
 */
export interface AccountsOptions {
  env: string;
  send: boolean;
  recreateDeleted?: boolean;
  prune?: boolean;
  /** Only these tenants' members (and no platform administrator): the deploy's per-tenant step. */
  onlyTenants?: readonly string[];
  connect?: (settings: KeycloakSettings) => Promise<KeycloakAccounts>;
  environment?: NodeJS.ProcessEnv;
}

export async function runAccounts(options: AccountsOptions): Promise<AccountsRun> {
  const env = options.env;
  const platform = readPlatformConfig(env);
  const settings = keycloakSettings(platform, options.environment ?? process.env);
  const only = options.onlyTenants ? new Set(options.onlyTenants) : undefined;
  const tenants = (await validTenants(platform)).filter((t) => !only || only.has(t.slug));
  if (only) {
    const missing = [...only].filter((slug) => !tenants.some((t) => t.slug === slug));
    if (missing.length) throw new UsageError(`no tenant file for ${missing.join(", ")} in this environment`);
  }
  const listed = listedAccounts(tenants, only ? [] : platform.admins);

  const keycloak = await (options.connect ?? connectKeycloak)(settings);
  const existing = await readOrFail(() => keycloak.listAccounts(), "list the accounts");
  const selfDeleted = await readOrFail(() => keycloak.selfDeleted(), "read the DELETE_ACCOUNT events");
  const planned = planAccounts(listed.accounts, existing, selfDeleted, { recreateDeleted: options.recreateDeleted ?? false });

  const accounts: AccountOutcome[] = options.send ? await act(keycloak, planned) : planned;
  const failedCreations = new Set(accounts.filter((a) => a.action === "create-failed").map((a) => a.username));
  const run: AccountsRun = {
    environment: env,
    send: options.send,
    accounts,
    adminEmailMismatches: listed.adminEmailMismatches,
    blockedTenants: blockedTenants(accounts, failedCreations),
  };
  if (options.prune) {
    const days = platform.unverifiedAccountDays;
    const candidates = prune(unlistedAccounts(existing, listed.accounts), Date.now(), days);
    run.prune = {
      days,
      accounts: options.send ? await removeAll(keycloak, candidates) : candidates.map((a) => ({ username: a.username!, removed: false })),
    };
  }
  return run;
}

/** Keycloak's address and the accounts client's credentials, from the environment (docs/accounts.md "Environment"). */
function keycloakSettings(platform: Readonly<PlatformConfig>, env: NodeJS.ProcessEnv): KeycloakSettings {
  const clientSecret = env.KEYCLOAK_CLIENT_SECRET;
  if (!clientSecret)
    throw new UsageError("KEYCLOAK_CLIENT_SECRET is not set: the secret of Keycloak's accounts client (docs/accounts.md#environment)");
  return {
    // components/platform/keycloak.ts serves Keycloak on sso.<baseDomain>.
    url: env.KEYCLOAK_URL || `https://sso.${platform.baseDomain}`,
    realm: env.KEYCLOAK_REALM || "alacarte",
    clientId: env.KEYCLOAK_CLIENT_ID || "alacarte-accounts",
    clientSecret,
  };
}

/** Every tenant file, checked as `npm run validate` checks it; the command refuses to run on an invalid one. */
async function validTenants(platform: Readonly<PlatformConfig>): Promise<SluggedTenant[]> {
  const result = await validateTenantsInParallel({ sharedMailDomains: platform.sharedMailDomains, catalog: loadCatalog() });
  if (hasErrors(result.problems)) {
    // validate's messages may quote members' emails: name the files only.
    const files = [...new Set(result.problems.filter((p) => p.severity === "error").map((p) => p.file))];
    throw new UsageError(`invalid tenant files (${files.join(", ")}): run npm run validate, fix them, then run accounts again`);
  }
  // Staging may run a subset of the tenants (platform config `tenants`).
  const only = platform.tenants ? new Set(platform.tenants) : undefined;
  return result.tenants
    .map((t) => ({ slug: fileStem(t.path ?? t.file), tenant: t.tenant }))
    .filter((t) => !only || only.has(t.slug))
    .sort((a, b) => (a.slug < b.slug ? -1 : 1));
}

/** A read the plan cannot do without stops the run with one line. */
async function readOrFail<T>(read: () => Promise<T>, what: string): Promise<T> {
  try {
    return await read();
  } catch (e) {
    if (e instanceof KeycloakCallError)
      throw new KeycloakUnavailable(`cannot ${what} in Keycloak (${e.status ?? "no answer"}: ${e.message})`);
    throw e;
  }
}

/** Keycloak answered a read with an error: reported on one line, exit 1 (not a usage mistake). */
export class KeycloakUnavailable extends Error {}

/** Creates and invites, or invites again; one person's failure is reported and the others go on. */
async function act(keycloak: KeycloakAccounts, planned: readonly PlannedAccount[]): Promise<AccountOutcome[]> {
  const out: AccountOutcome[] = [];
  for (const person of planned) {
    if (person.status === "create") {
      let id: string;
      try {
        id = await keycloak.create(person);
      } catch (e) {
        out.push({ ...person, action: "create-failed", error: describe(e) });
        continue;
      }
      out.push(await invite(keycloak, { ...person, accountId: id }, "created"));
    } else if (person.status === "pending") out.push(await invite(keycloak, person, "invited"));
    else out.push(person);
  }
  return out;
}

async function invite(keycloak: KeycloakAccounts, person: PlannedAccount, done: "created" | "invited"): Promise<AccountOutcome> {
  try {
    await keycloak.invite(person.accountId!);
    return { ...person, action: done };
  } catch (e) {
    return { ...person, action: "invite-failed", error: describe(e) };
  }
}

async function removeAll(keycloak: KeycloakAccounts, accounts: readonly { id?: string; username?: string }[]): Promise<PruneOutcome[]> {
  const out: PruneOutcome[] = [];
  for (const a of accounts) {
    try {
      await keycloak.remove(a.id!);
      out.push({ username: a.username!, removed: true });
    } catch (e) {
      out.push({ username: a.username!, removed: false, error: describe(e) });
    }
  }
  return out;
}

function describe(e: unknown): string {
  if (e instanceof KeycloakCallError) return `${e.status ?? "no answer"} ${e.message}`;
  throw e;
}

/**
 * The deploy's accounts step for one tenant: `npm run accounts -- --send` for that tenant's
 * members only, before its stack's `up` (docs/accounts.md). The stack is not applied when a
 * person of it is in conflict, an action failed or the tenant is blocked; the line names counts
 * and usernames' statuses, never an email.
 */
export function tenantAccountsStep(
  env: string,
  options: Pick<AccountsOptions, "connect" | "environment"> = {},
): (tenant: string) => Promise<{ ok: boolean; line: string }> {
  return async (tenant) => {
    try {
      const run = await runAccounts({ env, send: true, onlyTenants: [tenant], ...options });
      const count = (p: (a: AccountOutcome) => boolean) => run.accounts.filter(p).length;
      const failed = count((a) => a.action === "create-failed" || a.action === "invite-failed");
      const conflicts = count((a) => a.status === "conflict-username" || a.status === "conflict-email");
      const blocked = run.blockedTenants.includes(tenant);
      const line =
        `${run.accounts.length} listed, ${count((a) => a.action === "created")} created and invited, ${count((a) => a.action === "invited")} invited again` +
        `${failed ? `, ${failed} failed` : ""}${conflicts ? `, ${conflicts} in conflict` : ""}${blocked ? "; the tenant is blocked (npm run accounts -- --env " + env + ")" : ""}`;
      return { ok: exitCode(run) === 0 && !blocked, line };
    } catch (e) {
      if (e instanceof UsageError || e instanceof KeycloakUnavailable || e instanceof KeycloakCallError)
        return { ok: false, line: redactEmails(e.message) };
      throw e;
    }
  };
}
