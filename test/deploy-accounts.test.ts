/**
 * The deploy's accounts step for one tenant (infra/cli/accounts-run.ts tenantAccountsStep): npm
 * run accounts' logic with --send for that tenant's members only — no other tenant's, no platform
 * administrator — against the Keycloak fake (test/helpers/keycloak-admin-fake.ts), and a member
 * in conflict keeping the stack from being applied.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { tenantAccountsStep } from "../infra/cli/accounts-run";
import { type KeycloakFake, startKeycloakFake } from "./helpers/keycloak-admin-fake";

const REALM = "alacarte";
const CLIENT_ID = "alacarte-accounts";
const SECRET = "accounts-client-secret";
let fake: KeycloakFake;
beforeEach(async () => {
  fake = await startKeycloakFake({ realm: REALM, clientId: CLIENT_ID, clientSecret: SECRET });
});
afterEach(async () => {
  await fake.close();
});

const step = () =>
  tenantAccountsStep("prod", {
    environment: { KEYCLOAK_URL: fake.url, KEYCLOAK_REALM: REALM, KEYCLOAK_CLIENT_ID: CLIENT_ID, KEYCLOAK_CLIENT_SECRET: SECRET },
  });

describe("the accounts step before a tenant's up", () => {
  it("creates and invites that tenant's members only, then finds them there", async () => {
    const first = await step()("jardins-partages");
    expect(first).toEqual({ ok: true, line: "3 listed, 3 created and invited, 0 invited again" });
    // The tenant file's members (tenants/jardins-partages.yaml); camille, the platform's administrator, is not created.
    expect([...fake.state.users.values()].map((u) => u.username).sort()).toEqual(["alice", "farid", "gaelle"]);
    expect(fake.state.sentEmails).toHaveLength(3);
    expect(first.line).not.toMatch(/@/);
    const again = await step()("jardins-partages");
    expect(again.ok).toBe(true);
    expect(fake.state.users.size).toBe(3);
  });

  it("keeps the stack from being applied when a member's username is someone else's", async () => {
    fake.addUser({ username: "dominique", email: "someone-else@example.com", enabled: true, emailVerified: true });
    const run = await step()("dominique-moreau");
    expect(run.ok).toBe(false);
    expect(run.line).toMatch(/1 in conflict/);
    expect(run.line).not.toMatch(/@/);
  });

  it("says so, on one line, when the tenant has no file or Keycloak refuses the secret", async () => {
    expect(await step()("nobody")).toEqual({ ok: false, line: "no tenant file for nobody in this environment" });
    const refused = await tenantAccountsStep("prod", {
      environment: { KEYCLOAK_URL: fake.url, KEYCLOAK_REALM: REALM, KEYCLOAK_CLIENT_ID: CLIENT_ID, KEYCLOAK_CLIENT_SECRET: "wrong" },
    })("jardins-partages");
    expect(refused.ok).toBe(false);
    expect(refused.line).not.toContain("wrong");
  });
});
