/**
 * Sets up Keycloak's permanent admin, run by the platform stack (components/platform/keycloak.ts)
 * once Keycloak is ready: a confidential service-account client of the master realm holding the
 * master realm's `admin` role, created by the temporary bootstrap admin, which is then deleted
 * (docs/services/keycloak.md "Admin"). Idempotent: when the permanent admin signs in, nothing is
 * done. Secrets arrive as JSON on standard input, never in arguments or the environment:
 *   {"url", "bootstrapClientId", "bootstrapSecret", "adminClientId", "adminSecret"}
 * Calls only Keycloak's admin REST API (keycloak/keycloak `services/.../resources/admin/`).
 */
import { readFileSync } from "node:fs";

export interface AdminSetupInput {
  url: string;
  bootstrapClientId: string;
  bootstrapSecret: string;
  adminClientId: string;
  adminSecret: string;
  /** How long to wait for the public URL to answer. @default 300 */
  waitSeconds?: number;
}

/** A setup that cannot go on: one line for the operator, no stack trace. */
export class AdminSetupError extends Error {}

const MASTER = "master";

async function token(url: string, clientId: string, secret: string): Promise<string | undefined> {
  const response = await fetch(`${url}/realms/${MASTER}/protocol/openid-connect/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "client_credentials", client_id: clientId, client_secret: secret }),
  });
  if (response.status === 400 || response.status === 401) return undefined;
  if (!response.ok) throw new AdminSetupError(`token endpoint answered ${response.status}`);
  return ((await response.json()) as { access_token: string }).access_token;
}

/**
 * Whether a client signs in and holds the master realm's admin rights: a sign-in alone would take
 * a first run cut short between creating the client and granting its role for a finished one.
 */
async function isAdmin(url: string, clientId: string, secret: string): Promise<boolean> {
  const bearer = await token(url, clientId, secret);
  if (!bearer) return false;
  const response = await fetch(`${url}/admin/realms/${MASTER}/roles/admin`, { headers: { authorization: `Bearer ${bearer}` } });
  if (response.status === 403) return false;
  if (!response.ok) throw new AdminSetupError(`GET /roles/admin answered ${response.status}`);
  return true;
}

/** Waits until the realm's discovery document answers through the public URL (proxy and TLS included). */
async function waitForKeycloak(url: string, seconds: number): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    try {
      const response = await fetch(`${url}/realms/${MASTER}/.well-known/openid-configuration`);
      if (response.ok) return;
    } catch {
      // Not answering yet.
    }
    if (Date.now() >= deadline) throw new AdminSetupError(`${url} did not answer within ${seconds} s`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

/** The admin API of the master realm as one bearer. */
function adminApi(url: string, bearer: string) {
  const base = `${url}/admin/realms/${MASTER}`;
  return async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; json?: T; location?: string }> => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (!response.ok) throw new AdminSetupError(`${method} ${path} answered ${response.status}`);
    const text = await response.text();
    return {
      status: response.status,
      ...(text ? { json: JSON.parse(text) as T } : {}),
      ...(response.headers.get("location") ? { location: response.headers.get("location")! } : {}),
    };
  };
}

/** What a run did, for the log. */
export type AdminSetupResult = "already set up" | "set up";

export async function setUpPermanentAdmin(input: AdminSetupInput): Promise<AdminSetupResult> {
  const url = input.url.replace(/\/+$/, "");
  await waitForKeycloak(url, input.waitSeconds ?? 300);
  if (await isAdmin(url, input.adminClientId, input.adminSecret)) return "already set up";

  const bootstrap = await token(url, input.bootstrapClientId, input.bootstrapSecret);
  if (!bootstrap) {
    throw new AdminSetupError(
      `neither ${input.adminClientId} nor the bootstrap admin ${input.bootstrapClientId} can sign in to ${url}: ` +
        'recover with Keycloak\'s `kc.sh bootstrap-admin service` (docs/services/keycloak.md "Admin")',
    );
  }
  const api = adminApi(url, bootstrap);
  type Client = { id: string; clientId: string };
  const found = (await api<Client[]>("GET", `/clients?clientId=${encodeURIComponent(input.adminClientId)}`)).json ?? [];
  const client = {
    clientId: input.adminClientId,
    name: "alacarte (permanent admin)",
    enabled: true,
    publicClient: false,
    serviceAccountsEnabled: true,
    standardFlowEnabled: false,
    directAccessGrantsEnabled: false,
    secret: input.adminSecret,
  };
  let id = found[0]?.id;
  if (id) {
    // A permanent admin whose secret changed: take the new one.
    await api("PUT", `/clients/${id}`, { ...client, id });
  } else {
    const created = await api("POST", "/clients", client);
    id = created.location?.split("/").pop();
    if (!id) throw new AdminSetupError("Keycloak created the admin client but did not say where");
  }
  const serviceAccount = (await api<{ id: string }>("GET", `/clients/${id}/service-account-user`)).json!;
  const adminRole = (await api<{ id: string; name: string }>("GET", "/roles/admin")).json!;
  await api("POST", `/users/${serviceAccount.id}/role-mappings/realm`, [{ id: adminRole.id, name: adminRole.name }]);

  if (!(await isAdmin(url, input.adminClientId, input.adminSecret))) {
    throw new AdminSetupError(`${input.adminClientId} was set up but cannot administer the master realm; the bootstrap admin is kept`);
  }
  // Keycloak's advice for the temporary admin: delete it once a permanent one exists.
  const bootstrapClients = (await api<Client[]>("GET", `/clients?clientId=${encodeURIComponent(input.bootstrapClientId)}`)).json ?? [];
  for (const c of bootstrapClients) await api("DELETE", `/clients/${c.id}`);
  return "set up";
}

function parseInput(text: string): AdminSetupInput {
  let value: Partial<AdminSetupInput>;
  try {
    value = JSON.parse(text) as Partial<AdminSetupInput>;
  } catch {
    throw new AdminSetupError("standard input is not JSON");
  }
  for (const key of ["url", "bootstrapClientId", "bootstrapSecret", "adminClientId", "adminSecret"] as const) {
    if (typeof value[key] !== "string" || !value[key]) throw new AdminSetupError(`standard input lacks "${key}"`);
  }
  return value as AdminSetupInput;
}

if (process.argv[1] && /keycloak-admin\.(ts|js|cjs)$/.test(process.argv[1])) {
  setUpPermanentAdmin(parseInput(readFileSync(0, "utf8")))
    .then((result) => console.log(`Keycloak permanent admin: ${result}`))
    .catch((e: unknown) => {
      console.error(e instanceof AdminSetupError ? `Keycloak permanent admin: ${e.message}` : e);
      process.exitCode = 1;
    });
}
