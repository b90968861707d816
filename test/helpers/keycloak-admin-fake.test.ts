/**
 * The Keycloak fake refuses what Keycloak refuses: a fake that accepts more than the real server
 * would let the `accounts` command pass its tests and fail in production. Driven through
 * @keycloak/keycloak-admin-client where the command uses it, through fetch where the wire matters.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type KeycloakFake, startKeycloakFake } from "./keycloak-admin-fake";

const REALM = "alacarte";
const CLIENT = { clientId: "alacarte-accounts", clientSecret: "s3cret" };
let fake: KeycloakFake;

beforeEach(async () => {
  fake = await startKeycloakFake({ realm: REALM, ...CLIENT });
});
afterEach(async () => {
  await fake.close();
});

async function token(secret = CLIENT.clientSecret): Promise<Response> {
  return fetch(`${fake.url}/realms/${REALM}/protocol/openid-connect/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "client_credentials", client_id: CLIENT.clientId, client_secret: secret }),
  });
}

async function admin(method: string, path: string, body?: unknown): Promise<Response> {
  const { access_token } = (await (await token()).json()) as { access_token: string };
  return fetch(`${fake.url}/admin/realms/${REALM}${path}`, {
    method,
    headers: { authorization: `Bearer ${access_token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

describe("Keycloak fake: token endpoint", () => {
  it("grants client credentials without a refresh token, and refuses a wrong secret with 401", async () => {
    const ok = await token();
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as Record<string, unknown>;
    expect(body.token_type).toBe("Bearer");
    expect(body.refresh_token).toBeUndefined();
    const bad = await token("wrong");
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({ error: "unauthorized_client", error_description: "Invalid client or Invalid client credentials" });
  });

  it("makes the admin client's own auth() fail as Keycloak 26.7.2 does (keycloak/keycloak#46433), which is why the command does not use it", async () => {
    const { default: KeycloakAdminClient } = await import("@keycloak/keycloak-admin-client");
    const client = new KeycloakAdminClient({ baseUrl: fake.url, realmName: REALM });
    await expect(client.auth({ grantType: "client_credentials", ...CLIENT })).rejects.toThrow(/split/);
  });

  it("answers admin calls without a valid bearer token with 401", async () => {
    const none = await fetch(`${fake.url}/admin/realms/${REALM}/users`);
    expect(none.status).toBe(401);
    const forged = await fetch(`${fake.url}/admin/realms/${REALM}/users`, { headers: { authorization: "Bearer forged" } });
    expect(forged.status).toBe(401);
    expect(fake.state.users.size).toBe(0);
  });
});

describe("Keycloak fake: users", () => {
  it("creates with 201 and a Location naming the id, storing the username and email in lowercase", async () => {
    const res = await admin("POST", "/users", { username: "Alice", email: "Alice@Example.net", enabled: true });
    expect(res.status).toBe(201);
    const id = res.headers.get("location")!.split("/").pop()!;
    expect(fake.state.users.get(id)).toMatchObject({ username: "alice", email: "alice@example.net", enabled: true, emailVerified: false });
  });

  it("refuses a taken username or email with 409 and Keycloak's messages, whatever the case", async () => {
    fake.addUser({ username: "alice", email: "alice@example.net", enabled: true });
    const sameName = await admin("POST", "/users", { username: "ALICE", email: "new@example.net" });
    expect(sameName.status).toBe(409);
    expect(await sameName.json()).toEqual({ errorMessage: "User exists with same username" });
    const sameEmail = await admin("POST", "/users", { username: "ally", email: "Alice@example.net" });
    expect(sameEmail.status).toBe(409);
    expect(await sameEmail.json()).toEqual({ errorMessage: "User exists with same email" });
    const noName = await admin("POST", "/users", { email: "x@example.net" });
    expect(noName.status).toBe(400);
    expect(fake.state.users.size).toBe(1);
  });

  it("accepts a duplicate email when the realm allows duplicate emails", async () => {
    await fake.close();
    fake = await startKeycloakFake({ realm: REALM, ...CLIENT, duplicateEmailsAllowed: true });
    fake.addUser({ username: "alice", email: "alice@example.net" });
    expect((await admin("POST", "/users", { username: "ally", email: "alice@example.net" })).status).toBe(201);
  });

  it("searches username and email by substring, or exactly with exact=true; a plain listing leaves service accounts out", async () => {
    fake.addUser({ username: "alice", email: "alice@example.net" });
    fake.addUser({ username: "malice", email: "m@example.net" });
    fake.addUser({ username: "service-account-tool", serviceAccountClientId: "tool" });
    const names = async (query: string) =>
      ((await (await admin("GET", `/users${query}`)).json()) as { username: string }[]).map((u) => u.username);
    expect(await names("?username=alice")).toEqual(["alice", "malice"]);
    expect(await names("?username=ALICE&exact=true")).toEqual(["alice"]);
    expect(await names("?email=alice@example.net&exact=true")).toEqual(["alice"]);
    expect(await names("")).toEqual(["alice", "malice"]);
    expect(await names("?username=service")).toEqual(["service-account-tool"]);
    expect(await names("?first=1&max=1")).toEqual(["malice"]);
    expect(await names('?search="alice"')).toEqual(["alice"]);
    expect(await names("?search=ali")).toEqual(["alice"]);
  });

  it("gives required actions in the full representation only", async () => {
    fake.addUser({ username: "alice", email: "alice@example.net", requiredActions: ["VERIFY_EMAIL", "NOT_A_PROVIDER"] });
    const full = (await (await admin("GET", "/users")).json()) as { requiredActions?: string[] }[];
    expect(full[0]!.requiredActions).toEqual(["VERIFY_EMAIL"]);
    const brief = (await (await admin("GET", "/users?briefRepresentation=true")).json()) as { requiredActions?: string[] }[];
    expect(brief[0]!.requiredActions).toBeUndefined();
  });
});

describe("Keycloak fake: execute-actions-email", () => {
  it("sends with 204, and refuses a disabled user, a user without email and unknown actions with 400", async () => {
    const enabled = fake.addUser({ username: "alice", email: "alice@example.net", enabled: true });
    const disabled = fake.addUser({ username: "bob", email: "bob@example.net", enabled: false });
    const noEmail = fake.addUser({ username: "carol", enabled: true });
    const send = (id: string, actions: unknown) => admin("PUT", `/users/${id}/execute-actions-email?lifespan=60`, actions);

    expect((await send(enabled, ["UPDATE_PASSWORD"])).status).toBe(204);
    expect(fake.state.sentEmails).toEqual([{ userId: enabled, email: "alice@example.net", actions: ["UPDATE_PASSWORD"], lifespan: 60 }]);

    const off = await send(disabled, ["UPDATE_PASSWORD"]);
    expect([off.status, await off.json()]).toEqual([400, { errorMessage: "User is disabled" }]);
    const missing = await send(noEmail, ["UPDATE_PASSWORD"]);
    expect([missing.status, await missing.json()]).toEqual([400, { errorMessage: "User email missing" }]);
    const invalid = await send(enabled, ["FLY"]);
    expect([invalid.status, await invalid.json()]).toEqual([400, { errorMessage: "Provided invalid required actions" }]);
    expect(fake.state.sentEmails).toHaveLength(1);
  });

  it("answers 500 with Keycloak's message when mail cannot be sent", async () => {
    const id = fake.addUser({ username: "alice", email: "alice@example.net", enabled: true });
    fake.state.smtpFailure = "No sender address configured in the realm settings for emails";
    const res = await admin("PUT", `/users/${id}/execute-actions-email`, ["UPDATE_PASSWORD"]);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({
      errorMessage: "Failed to send execute actions email: No sender address configured in the realm settings for emails",
    });
    expect(fake.state.sentEmails).toEqual([]);
  });
});

describe("Keycloak fake: events", () => {
  it("stores DELETE_ACCOUNT with the username detail when a person deletes their account, newest first, filtered by type", async () => {
    const a = fake.addUser({ username: "alice", email: "alice@example.net" });
    const b = fake.addUser({ username: "bob", email: "bob@example.net" });
    fake.selfDelete(a);
    await new Promise((r) => setTimeout(r, 5));
    fake.selfDelete(b, "bob@example.net");
    expect(fake.state.users.size).toBe(0);
    const events = (await (await admin("GET", "/events?type=DELETE_ACCOUNT")).json()) as {
      userId: string;
      details: { username: string };
    }[];
    expect(events.map((e) => [e.userId, e.details.username])).toEqual([
      [b, "bob@example.net"],
      [a, "alice"],
    ]);
    expect(await (await admin("GET", "/events?type=LOGIN")).json()).toEqual([]);
    expect((await admin("GET", `/users/${a}`)).status).toBe(404);
  });
});
