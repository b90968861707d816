/**
 * The permanent admin setup (infra/cli/keycloak-admin.ts) against the Keycloak fake's master realm,
 * whose rules follow Keycloak's source (test/helpers/keycloak-admin-fake.ts): first and second runs,
 * a changed secret, no way in, Keycloak not answering, and the real entry point on standard input.
 */
import { createServer } from "node:net";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AdminSetupError, type AdminSetupInput, setUpPermanentAdmin } from "../infra/cli/keycloak-admin";
import { type KeycloakFake, startKeycloakFake } from "./helpers/keycloak-admin-fake";
import { runProcess } from "./helpers/run-process";

const ROOT = path.resolve(__dirname, "..");
const BOOTSTRAP = { clientId: "alacarte-bootstrap", secret: "bootstrap-secret-0f3a9c" };
const ADMIN_CLIENT_ID = "alacarte-admin";
const ADMIN_SECRET = "permanent-secret-7d21be";

let fake: KeycloakFake | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function start(withBootstrap = true): Promise<KeycloakFake> {
  fake = await startKeycloakFake({
    realm: "alacarte",
    clientId: "alacarte-accounts",
    clientSecret: "accounts-secret",
    ...(withBootstrap ? { bootstrapAdmin: BOOTSTRAP } : {}),
  });
  return fake;
}

function input(url: string, overrides: Partial<AdminSetupInput> = {}): AdminSetupInput {
  return {
    url,
    bootstrapClientId: BOOTSTRAP.clientId,
    bootstrapSecret: BOOTSTRAP.secret,
    adminClientId: ADMIN_CLIENT_ID,
    adminSecret: ADMIN_SECRET,
    waitSeconds: 5,
    ...overrides,
  };
}

async function token(kc: KeycloakFake, clientId: string, secret: string): Promise<Response> {
  return fetch(`${kc.url}/realms/master/protocol/openid-connect/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "client_credentials", client_id: clientId, client_secret: secret }),
  });
}

async function bearer(kc: KeycloakFake, clientId: string, secret: string): Promise<string> {
  const res = await token(kc, clientId, secret);
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

async function admin(kc: KeycloakFake, accessToken: string, method: string, p: string, body?: unknown): Promise<Response> {
  return fetch(`${kc.url}/admin/realms/master${p}`, {
    method,
    headers: { authorization: `Bearer ${accessToken}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

function clientNamed(kc: KeycloakFake, clientId: string) {
  return [...kc.state.master.clients.values()].find((c) => c.clientId === clientId);
}

/** Master realm roles held by a client's service account, or undefined without one. */
function rolesOf(kc: KeycloakFake, clientId: string): string[] | undefined {
  const client = clientNamed(kc, clientId);
  const account = [...kc.state.master.users.values()].find((u) => u.serviceAccountClientId === client?.id);
  return account ? [...account.realmRoles].sort() : undefined;
}

/** A port nothing listens on: bound by the system, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("Keycloak fake: the master realm refuses what Keycloak refuses", () => {
  it("signs in the bootstrap service account, which holds the master admin role", async () => {
    const kc = await start();
    expect(rolesOf(kc, BOOTSTRAP.clientId)).toEqual(["admin", "default-roles-master"]);
    expect(clientNamed(kc, BOOTSTRAP.clientId)?.attributes).toEqual({ is_temporary_admin: "true" });
    const discovery = await fetch(`${kc.url}/realms/master/.well-known/openid-configuration`);
    expect(discovery.status).toBe(200);
    expect(((await discovery.json()) as { issuer: string }).issuer).toBe(`${kc.url}/realms/master`);
    expect((await fetch(`${kc.url}/realms/nowhere/.well-known/openid-configuration`)).status).toBe(404);
  });

  it("refuses a wrong secret, an unknown client and a client without service accounts with 401", async () => {
    const kc = await start();
    const wrong = await token(kc, BOOTSTRAP.clientId, "wrong");
    expect([wrong.status, await wrong.json()]).toEqual([
      401,
      { error: "unauthorized_client", error_description: "Invalid client or Invalid client credentials" },
    ]);
    const unknown = await token(kc, "nobody", "x");
    expect([unknown.status, ((await unknown.json()) as { error: string }).error]).toEqual([401, "invalid_client"]);

    const boot = await bearer(kc, BOOTSTRAP.clientId, BOOTSTRAP.secret);
    const created = await admin(kc, boot, "POST", "/clients", { clientId: "web", secret: "web-secret" });
    expect(created.status).toBe(201);
    const noAccount = await token(kc, "web", "web-secret");
    expect([noAccount.status, await noAccount.json()]).toEqual([
      401,
      { error: "unauthorized_client", error_description: "Client not enabled to retrieve service account" },
    ]);
    const id = created.headers.get("location")!.split("/").pop()!;
    const user = await admin(kc, boot, "GET", `/clients/${id}/service-account-user`);
    expect([user.status, await user.json()]).toEqual([400, { error: "Service account not enabled for the client 'web'" }]);
    const again = await admin(kc, boot, "POST", "/clients", { clientId: "web" });
    expect([again.status, await again.json()]).toEqual([409, { errorMessage: "Client web already exists" }]);
  });

  it("answers the master admin API to master admins only: 401 without a valid bearer, 403 without the admin role", async () => {
    const kc = await start();
    expect((await admin(kc, "forged", "GET", "/clients")).status).toBe(401);
    const realmToken = await fetch(`${kc.url}/realms/alacarte/protocol/openid-connect/token`, {
      method: "POST",
      body: new URLSearchParams({ grant_type: "client_credentials", client_id: "alacarte-accounts", client_secret: "accounts-secret" }),
    });
    const other = ((await realmToken.json()) as { access_token: string }).access_token;
    expect((await admin(kc, other, "GET", "/clients")).status).toBe(401);

    const boot = await bearer(kc, BOOTSTRAP.clientId, BOOTSTRAP.secret);
    await admin(kc, boot, "POST", "/clients", { clientId: "tool", secret: "tool-secret", serviceAccountsEnabled: true });
    expect(rolesOf(kc, "tool")).toEqual(["default-roles-master"]);
    const tool = await bearer(kc, "tool", "tool-secret");
    expect((await admin(kc, tool, "GET", "/clients")).status).toBe(403);
    expect((await admin(kc, tool, "GET", "/roles/admin")).status).toBe(403);
  });

  it("finds roles by name (404 otherwise), maps a realm role only with its matching id, and drops a service account that an update turns off", async () => {
    const kc = await start();
    const boot = await bearer(kc, BOOTSTRAP.clientId, BOOTSTRAP.secret);
    const missing = await admin(kc, boot, "GET", "/roles/nope");
    expect([missing.status, await missing.json()]).toEqual([404, { error: "Could not find role" }]);
    const role = (await (await admin(kc, boot, "GET", "/roles/admin")).json()) as { id: string; name: string };
    expect(role.name).toBe("admin");

    const created = await admin(kc, boot, "POST", "/clients", { clientId: "tool", secret: "s", serviceAccountsEnabled: true });
    const id = created.headers.get("location")!.split("/").pop()!;
    const account = (await (await admin(kc, boot, "GET", `/clients/${id}/service-account-user`)).json()) as {
      id: string;
      username: string;
    };
    expect(account.username).toBe("service-account-tool");
    const badId = await admin(kc, boot, "POST", `/users/${account.id}/role-mappings/realm`, [{ id: "other", name: "admin" }]);
    expect(badId.status).toBe(404);
    expect(rolesOf(kc, "tool")).toEqual(["default-roles-master"]);
    expect((await admin(kc, boot, "POST", `/users/${account.id}/role-mappings/realm`, [role])).status).toBe(204);
    expect(rolesOf(kc, "tool")).toEqual(["admin", "default-roles-master"]);

    // ClientResource.updateClientFromRep: an update without serviceAccountsEnabled removes the account and its roles.
    expect((await admin(kc, boot, "PUT", `/clients/${id}`, { clientId: "tool", secret: "s2" })).status).toBe(204);
    expect(rolesOf(kc, "tool")).toBeUndefined();
    expect((await token(kc, "tool", "s2")).status).toBe(401);
  });

  it("deletes a client with its service account, so that client's own tokens stop working", async () => {
    const kc = await start();
    const boot = await bearer(kc, BOOTSTRAP.clientId, BOOTSTRAP.secret);
    const id = clientNamed(kc, BOOTSTRAP.clientId)!.id;
    expect((await admin(kc, boot, "DELETE", `/clients/${id}`)).status).toBe(204);
    expect(kc.state.master.clients.size).toBe(0);
    expect(kc.state.master.users.size).toBe(0);
    expect((await admin(kc, boot, "GET", "/clients")).status).toBe(401);
    expect((await token(kc, BOOTSTRAP.clientId, BOOTSTRAP.secret)).status).toBe(401);
  });
});

describe("setUpPermanentAdmin", () => {
  it("on a first run, creates the permanent admin with the master admin role, checks it signs in, and deletes the bootstrap client", async () => {
    const kc = await start();
    const bootstrapId = clientNamed(kc, BOOTSTRAP.clientId)!.id;
    await expect(setUpPermanentAdmin(input(kc.url))).resolves.toBe("set up");

    expect([...kc.state.master.clients.values()].map((c) => c.clientId)).toEqual([ADMIN_CLIENT_ID]);
    expect(clientNamed(kc, ADMIN_CLIENT_ID)).toMatchObject({
      publicClient: false,
      serviceAccountsEnabled: true,
      standardFlowEnabled: false,
      directAccessGrantsEnabled: false,
      secret: ADMIN_SECRET,
    });
    expect(rolesOf(kc, ADMIN_CLIENT_ID)).toEqual(["admin", "default-roles-master"]);
    // The bootstrap client and its service account are gone.
    expect(clientNamed(kc, BOOTSTRAP.clientId)).toBeUndefined();
    expect([...kc.state.master.users.values()].map((u) => u.username)).toEqual([`service-account-${ADMIN_CLIENT_ID}`]);
    expect((await token(kc, BOOTSTRAP.clientId, BOOTSTRAP.secret)).status).toBe(401);
    // The permanent admin can administer the master realm.
    const permanent = await bearer(kc, ADMIN_CLIENT_ID, ADMIN_SECRET);
    expect((await admin(kc, permanent, "GET", "/clients")).status).toBe(200);
    expect(kc.state.calls.filter((c) => !c.startsWith("GET ") && !c.includes("/protocol/openid-connect/token"))).toEqual([
      "POST /admin/realms/master/clients",
      `POST /admin/realms/master/users/${[...kc.state.master.users.keys()][0]}/role-mappings/realm`,
      `DELETE /admin/realms/master/clients/${bootstrapId}`,
    ]);
  });

  it("on a second run, says already set up and calls nothing but discovery, the token endpoint and one read of its own rights", async () => {
    const kc = await start();
    await setUpPermanentAdmin(input(kc.url));
    const before = structuredClone([...kc.state.master.clients.values()]);
    kc.state.calls.length = 0;

    await expect(setUpPermanentAdmin(input(kc.url))).resolves.toBe("already set up");
    expect(kc.state.calls).toEqual([
      "GET /realms/master/.well-known/openid-configuration",
      "POST /realms/master/protocol/openid-connect/token",
      "GET /admin/realms/master/roles/admin",
    ]);
    expect([...kc.state.master.clients.values()]).toEqual(before);
  });

  it("finishes a first run cut short after the admin client was created but before it got the admin role", async () => {
    const kc = await start();
    const boot = await bearer(kc, BOOTSTRAP.clientId, BOOTSTRAP.secret);
    await admin(kc, boot, "POST", "/clients", {
      clientId: ADMIN_CLIENT_ID,
      secret: input(kc.url).adminSecret,
      serviceAccountsEnabled: true,
    });

    await expect(setUpPermanentAdmin(input(kc.url))).resolves.toBe("set up");
    await expect(setUpPermanentAdmin(input(kc.url))).resolves.toBe("already set up");
    const clientIds = [...kc.state.master.clients.values()].map((c) => c.clientId);
    expect(clientIds).toContain(ADMIN_CLIENT_ID);
    expect(clientIds).not.toContain(BOOTSTRAP.clientId);
  });

  it("updates (PUT) a permanent admin whose secret changed while the bootstrap client still exists, keeping its role", async () => {
    const kc = await start();
    const boot = await bearer(kc, BOOTSTRAP.clientId, BOOTSTRAP.secret);
    const created = await admin(kc, boot, "POST", "/clients", {
      clientId: ADMIN_CLIENT_ID,
      secret: "old-secret",
      serviceAccountsEnabled: true,
    });
    const id = created.headers.get("location")!.split("/").pop()!;
    kc.state.calls.length = 0;

    await expect(setUpPermanentAdmin(input(kc.url))).resolves.toBe("set up");
    expect(kc.state.calls).toContain(`PUT /admin/realms/master/clients/${id}`);
    expect(kc.state.calls.some((c) => c === "POST /admin/realms/master/clients")).toBe(false);
    expect(clientNamed(kc, ADMIN_CLIENT_ID)?.id).toBe(id);
    expect(rolesOf(kc, ADMIN_CLIENT_ID)).toEqual(["admin", "default-roles-master"]);
    expect((await token(kc, ADMIN_CLIENT_ID, "old-secret")).status).toBe(401);
    expect((await token(kc, ADMIN_CLIENT_ID, ADMIN_SECRET)).status).toBe(200);
    expect(clientNamed(kc, BOOTSTRAP.clientId)).toBeUndefined();
  });

  it("fails with AdminSetupError naming kc.sh bootstrap-admin service when neither admin can sign in, changing nothing", async () => {
    const kc = await start(false);
    const run = setUpPermanentAdmin(input(kc.url));
    await expect(run).rejects.toBeInstanceOf(AdminSetupError);
    await expect(run).rejects.toThrow(
      /neither alacarte-admin nor the bootstrap admin alacarte-bootstrap can sign in.*`kc\.sh bootstrap-admin service`/,
    );
    expect(kc.state.calls.filter((c) => c.includes(" /admin/"))).toEqual([]);
    expect(kc.state.master.clients.size).toBe(0);
  });

  it("fails with a clear message when Keycloak does not answer within waitSeconds", async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}`;
    const started = Date.now();
    const run = setUpPermanentAdmin(input(url, { waitSeconds: 1 }));
    await expect(run).rejects.toBeInstanceOf(AdminSetupError);
    await expect(run).rejects.toThrow(`${url} did not answer within 1 s`);
    expect(Date.now() - started).toBeLessThan(6000);
  });
});

describe("infra/cli/keycloak-admin.ts as the platform runs it (secrets on standard input)", () => {
  const runEntry = (stdin: string) =>
    runProcess(process.execPath, ["--import", "tsx", "infra/cli/keycloak-admin.ts"], { cwd: ROOT, stdin });

  it("sets up the permanent admin, exits 0, and prints no secret", async () => {
    const kc = await start();
    const { waitSeconds: _wait, ...json } = input(kc.url);
    const { code, stdout, stderr } = await runEntry(JSON.stringify(json));
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout).toBe("Keycloak permanent admin: set up\n");
    expect(rolesOf(kc, ADMIN_CLIENT_ID)).toEqual(["admin", "default-roles-master"]);
    for (const secret of [BOOTSTRAP.secret, ADMIN_SECRET]) expect(stdout + stderr).not.toContain(secret);
  }, 20_000);

  it("exits 1 with one line when neither admin can sign in, and prints no secret", async () => {
    const kc = await start(false);
    const { code, stdout, stderr } = await runEntry(JSON.stringify(input(kc.url, { waitSeconds: 2 })));
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toMatch(/^Keycloak permanent admin: neither alacarte-admin .*kc\.sh bootstrap-admin service.*\n$/);
    for (const secret of [BOOTSTRAP.secret, ADMIN_SECRET]) expect(stdout + stderr).not.toContain(secret);
  }, 20_000);
});
