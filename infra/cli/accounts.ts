import { parseArgs } from "node:util";
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
import { type AccountOutcome, type AccountsRun, exitCode, type PruneOutcome, reportJson, reportLines } from "./accounts-report";
import { connectKeycloak, type KeycloakAccounts, KeycloakCallError, type KeycloakSettings } from "./keycloak-accounts";
import { runCli, UsageError } from "./run";

/**
 * npm run accounts [-- --env <env>] [--send] [--recreate-deleted] [--prune] [--json]: the Keycloak
 * accounts the listed people need, created and invited with --send (docs/accounts.md). Without
 * --send it only reads. Keycloak's address and credentials come from the environment, never flags.
 */
runCli(async () => {
  try {
    return await accounts();
  } catch (e) {
    if (!(e instanceof KeycloakUnavailable)) throw e;
    console.error(e.message);
    return 1;
  }
});

async function accounts(): Promise<number> {
  const { values } = parseArgs({
    options: {
      env: { type: "string", default: "prod" },
      send: { type: "boolean", default: false },
      "recreate-deleted": { type: "boolean", default: false },
      prune: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
    },
  });
  const env = values.env!;
  const platform = readPlatformConfig(env);
  const settings = keycloakSettings(platform, process.env);
  const tenants = await validTenants(platform);
  const listed = listedAccounts(tenants, platform.admins);

  const keycloak = await connectKeycloak(settings);
  const existing = await readOrFail(() => keycloak.listAccounts(), "list the accounts");
  const selfDeleted = await readOrFail(() => keycloak.selfDeleted(), "read the DELETE_ACCOUNT events");
  const planned = planAccounts(listed.accounts, existing, selfDeleted, { recreateDeleted: values["recreate-deleted"]! });

  const accounts: AccountOutcome[] = values.send ? await act(keycloak, planned) : planned;
  const failedCreations = new Set(accounts.filter((a) => a.action === "create-failed").map((a) => a.username));
  const run: AccountsRun = {
    environment: env,
    send: values.send!,
    accounts,
    adminEmailMismatches: listed.adminEmailMismatches,
    blockedTenants: blockedTenants(accounts, failedCreations),
  };
  if (values.prune) {
    const days = platform.unverifiedAccountDays;
    const candidates = prune(unlistedAccounts(existing, listed.accounts), Date.now(), days);
    run.prune = {
      days,
      accounts: values.send ? await removeAll(keycloak, candidates) : candidates.map((a) => ({ username: a.username!, removed: false })),
    };
  }

  if (values.json) console.log(JSON.stringify(reportJson(run), null, 2));
  else for (const line of reportLines(run)) console.log(line);
  return exitCode(run);
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
class KeycloakUnavailable extends Error {}

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
