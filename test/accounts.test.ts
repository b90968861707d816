/**
 * The `accounts` command (docs/accounts.md): the pure plan (listedAccounts, planAccounts, prune),
 * then the command end to end, started as ops start it (node infra/cli/launch.cjs accounts) against
 * the Keycloak fake, on a temporary tenants folder.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  blockedTenants,
  type ExistingAccount,
  type ListedAccount,
  listedAccounts,
  planAccounts,
  prune,
  unlistedAccounts,
} from "../infra/model/accounts";
import { readPlatformConfig } from "../infra/model/platform-config";
import { type KeycloakFake, startKeycloakFake } from "./helpers/keycloak-admin-fake";

const DAY = 24 * 60 * 60 * 1000;
const NOW = Date.UTC(2026, 11, 1);

function member(username: string, email: string) {
  return { username, email, admin: false, access: [] as ("git" | "nextcloud")[] };
}

function person(username: string, email: string, tenants: string[] = ["alpha"]): ListedAccount {
  return { username, email, tenants, platformAdmin: false };
}

function account(a: Partial<ExistingAccount> & { username: string }): ExistingAccount {
  return { id: `id-${a.username}`, enabled: true, emailVerified: true, createdTimestamp: NOW - 100 * DAY, requiredActions: [], ...a };
}

describe("listedAccounts", () => {
  it("lists each username once, with every tenant listing it, sorted", () => {
    const { accounts, adminEmailMismatches } = listedAccounts(
      [
        { slug: "zeta", tenant: { members: [member("bob", "bob@example.net"), member("alice", "alice@example.net")] } },
        { slug: "alpha", tenant: { members: [member("bob", "bob@example.net")] } },
      ],
      [],
    );
    expect(accounts).toEqual([
      { username: "alice", email: "alice@example.net", tenants: ["zeta"], platformAdmin: false },
      { username: "bob", email: "bob@example.net", tenants: ["alpha", "zeta"], platformAdmin: false },
    ]);
    expect(adminEmailMismatches).toEqual([]);
  });

  it("adds platform administrators, merged with their member entry when the emails agree in any case", () => {
    const { accounts, adminEmailMismatches } = listedAccounts(
      [{ slug: "alpha", tenant: { members: [member("camille", "camille@example.org")] } }],
      [
        { username: "camille", email: "Camille@Example.org" },
        { username: "admin2", email: "admin2@example.org" },
      ],
    );
    expect(accounts.map((a) => [a.username, a.tenants, a.platformAdmin])).toEqual([
      ["admin2", [], true],
      ["camille", ["alpha"], true],
    ]);
    expect(adminEmailMismatches).toEqual([]);
  });

  it("reports an administrator whose email differs from the tenant files' and keeps the tenant files' email", () => {
    const { accounts, adminEmailMismatches } = listedAccounts(
      [{ slug: "alpha", tenant: { members: [member("camille", "camille@example.org")] } }],
      [{ username: "camille", email: "someone-else@example.org" }],
    );
    expect(adminEmailMismatches).toEqual(["camille"]);
    expect(accounts[0]!.email).toBe("camille@example.org");
  });
});

describe("planAccounts", () => {
  const plan = (listed: ListedAccount[], existing: ExistingAccount[], deleted: string[] = [], recreateDeleted = false) =>
    planAccounts(listed, existing, new Set(deleted), { recreateDeleted }).map((p) => [p.username, p.status]);

  it("ok when the username's account has the listed email, in any case", () => {
    expect(plan([person("alice", "alice@example.net")], [account({ username: "alice", email: "ALICE@example.net" })])).toEqual([
      ["alice", "ok"],
    ]);
  });

  it("create when neither the username nor the email has an account", () => {
    expect(plan([person("alice", "alice@example.net")], [account({ username: "bob", email: "bob@example.net" })])).toEqual([
      ["alice", "create"],
    ]);
  });

  it("pending while the email is unverified and an invitation action is left; ok once verified", () => {
    const unverified = { username: "alice", email: "alice@example.net", emailVerified: false };
    expect(plan([person("alice", "alice@example.net")], [account({ ...unverified, requiredActions: ["VERIFY_EMAIL"] })])).toEqual([
      ["alice", "pending"],
    ]);
    expect(plan([person("alice", "alice@example.net")], [account({ ...unverified, requiredActions: ["UPDATE_PASSWORD"] })])).toEqual([
      ["alice", "pending"],
    ]);
    expect(plan([person("alice", "alice@example.net")], [account({ ...unverified, requiredActions: [] })])).toEqual([["alice", "ok"]]);
    expect(
      plan([person("alice", "alice@example.net")], [account({ ...unverified, emailVerified: true, requiredActions: ["UPDATE_PASSWORD"] })]),
    ).toEqual([["alice", "ok"]]);
  });

  it("conflict-username when the username's account has another email, even if the email has an account too", () => {
    expect(
      plan(
        [person("alice", "alice@example.net")],
        [account({ username: "alice", email: "other@example.net" }), account({ username: "alice2", email: "alice@example.net" })],
      ),
    ).toEqual([["alice", "conflict-username"]]);
    expect(plan([person("alice", "alice@example.net")], [account({ username: "alice", email: undefined })])).toEqual([
      ["alice", "conflict-username"],
    ]);
  });

  it("conflict-email when another username holds the listed email", () => {
    expect(plan([person("alice", "alice@example.net")], [account({ username: "ally", email: "Alice@example.net" })])).toEqual([
      ["alice", "conflict-email"],
    ]);
  });

  it("disabled when the matching account is disabled, whatever its invitation state", () => {
    expect(
      plan(
        [person("alice", "alice@example.net")],
        [
          account({
            username: "alice",
            email: "alice@example.net",
            enabled: false,
            emailVerified: false,
            requiredActions: ["VERIFY_EMAIL"],
          }),
        ],
      ),
    ).toEqual([["alice", "disabled"]]);
  });

  it("deleted when the person deleted their own account, by username or by the email they signed in with, unless recreateDeleted", () => {
    expect(plan([person("alice", "alice@example.net")], [], ["alice"])).toEqual([["alice", "deleted"]]);
    expect(plan([person("alice", "alice@example.net")], [], ["alice@example.net"])).toEqual([["alice", "deleted"]]);
    expect(plan([person("alice", "alice@example.net")], [], ["alice"], true)).toEqual([["alice", "create"]]);
    // A person who came back and registered again is no longer "deleted".
    expect(plan([person("alice", "alice@example.net")], [account({ username: "alice", email: "alice@example.net" })], ["alice"])).toEqual([
      ["alice", "ok"],
    ]);
  });

  it("blocks the tenants of people without an account of their own, and of failed creations", () => {
    const planned = planAccounts(
      [
        person("alice", "alice@example.net", ["alpha", "beta"]),
        person("bob", "bob@example.net", ["gamma"]),
        person("carol", "carol@example.net", ["delta"]),
        person("dave", "dave@example.net", ["eps"]),
      ],
      [account({ username: "alice", email: "x@example.net" }), account({ username: "dave", email: "dave@example.net", enabled: false })],
      new Set(),
      { recreateDeleted: false },
    );
    expect(blockedTenants(planned)).toEqual(["alpha", "beta"]);
    expect(blockedTenants(planned, new Set(["bob"]))).toEqual(["alpha", "beta", "gamma"]);
  });
});

describe("prune", () => {
  const listed = [person("alice", "alice@example.net")];

  it("keeps listed accounts, by username or email, out of the unlisted ones", () => {
    const existing = [
      account({ username: "alice", email: "other@example.net" }),
      account({ username: "ally", email: "alice@example.net" }),
      account({ username: "zoe", email: "zoe@example.net" }),
    ];
    expect(unlistedAccounts(existing, listed).map((a) => a.username)).toEqual(["zoe"]);
  });

  it("removes only unverified accounts older than the days given, never service accounts or accounts of unknown age", () => {
    const unlisted = [
      account({ username: "old-unverified", emailVerified: false, createdTimestamp: NOW - 15 * DAY }),
      account({ username: "young-unverified", emailVerified: false, createdTimestamp: NOW - 13 * DAY }),
      account({ username: "old-verified", emailVerified: true, createdTimestamp: NOW - 400 * DAY }),
      account({ username: "service-account-tool", emailVerified: false, createdTimestamp: NOW - 400 * DAY }),
      account({ username: "no-age", emailVerified: false, createdTimestamp: undefined }),
    ];
    expect(prune(unlisted, NOW, 14).map((a) => a.username)).toEqual(["old-unverified"]);
    expect(prune(unlisted, NOW, 12).map((a) => a.username)).toEqual(["old-unverified", "young-unverified"]);
  });
});

// ---------------------------------------------------------------------------------------------
// The command, end to end.

const ROOT = path.resolve(__dirname, "..");
const REALM = "alacarte";
const CLIENT_ID = "alacarte-accounts";
const SECRET = "accounts-secret-for-tests";
/** The platform administrators of production's settings are listed too. */
const ADMINS = readPlatformConfig("prod").admins;

const TENANTS: Record<string, string> = {
  alpha: `slug: alpha
name: Alpha
type: collective
contact: contact@alpha.example.net
members:
  - username: alice
    email: alice@alpha.example.net
    admin: true
  - username: bob
    email: bob@alpha.example.net
`,
  beta: `slug: beta
name: Beta
type: collective
contact: contact@beta.example.net
members:
  - username: bob
    email: bob@alpha.example.net
    admin: true
  - username: carol
    email: carol@beta.example.net
`,
};
/** Every email the fixtures hold: none may appear in the command's output. */
const FIXTURE_EMAILS = [
  ...new Set([...Object.values(TENANTS).flatMap((t) => t.match(/[\w.+-]+@[\w.-]+/g) ?? []), ...ADMINS.map((a) => a.email)]),
];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let tenantsDir: string;
let fake: KeycloakFake;

function runAccounts(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const base: NodeJS.ProcessEnv = {
    ...process.env,
    ALACARTE_TENANTS_DIR: tenantsDir,
    KEYCLOAK_URL: fake.url,
    KEYCLOAK_REALM: REALM,
    KEYCLOAK_CLIENT_ID: CLIENT_ID,
    KEYCLOAK_CLIENT_SECRET: SECRET,
  };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete base[k];
    else base[k] = v;
  }
  const realmEmails = [...fake.state.users.values()].flatMap((u) => (u.email ? [u.email] : []));
  // Asynchronous: the fake answers from this process.
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(ROOT, "infra", "cli", "launch.cjs"), "accounts", ...args],
      { env: base, cwd: ROOT },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        expectNoEmail(realmEmails, stdout, stderr);
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** No email of the fixtures nor of the realm's accounts in what the command printed. */
function expectNoEmail(realmEmails: readonly string[], ...outputs: string[]): void {
  for (const out of outputs)
    for (const email of [...FIXTURE_EMAILS, ...realmEmails]) expect(out.toLowerCase()).not.toContain(email.toLowerCase());
}

async function runJson(args: string[]): Promise<{ code: number; doc: any }> {
  const run = await runAccounts([...args, "--json"]);
  expect(run.stdout, run.stderr).not.toBe("");
  return { code: run.code, doc: JSON.parse(run.stdout) };
}

function statusOf(doc: any, username: string): string {
  return doc.accounts.find((a: any) => a.username === username)?.status;
}

function userNamed(username: string) {
  return [...fake.state.users.values()].find((u) => u.username === username);
}

beforeAll(() => {
  tenantsDir = fs.mkdtempSync(path.join(os.tmpdir(), "accounts-tenants-"));
  for (const [slug, text] of Object.entries(TENANTS)) fs.writeFileSync(path.join(tenantsDir, `${slug}.yaml`), text);
});

afterAll(() => fs.rmSync(tenantsDir, { recursive: true, force: true }));

describe("npm run accounts", () => {
  beforeEach(async () => {
    fake = await startKeycloakFake({ realm: REALM, clientId: CLIENT_ID, clientSecret: SECRET });
  });
  afterEach(async () => {
    await fake.close();
  });

  it("without --send lists what it would do and writes nothing", async () => {
    const { code, doc } = await runJson([]);
    expect(code).toBe(0);
    expect(statusOf(doc, "alice")).toBe("create");
    expect(doc.accounts.find((a: any) => a.username === "bob").tenants).toEqual(["alpha", "beta"]);
    for (const admin of ADMINS) expect(doc.accounts.find((a: any) => a.username === admin.username).platformAdmin).toBe(true);
    expect(fake.state.users.size).toBe(0);
    expect(fake.state.sentEmails).toEqual([]);
    expect(fake.state.calls.filter((c) => !c.startsWith("GET ") && !c.includes("/protocol/openid-connect/token"))).toEqual([]);
  });

  it("--send creates and invites every listed person once; a second run creates nothing", async () => {
    const first = await runJson(["--send"]);
    expect(first.code).toBe(0);
    const people = ["alice", "bob", "carol", ...ADMINS.map((a) => a.username)];
    for (const username of people) {
      const user = userNamed(username);
      expect(user, username).toBeDefined();
      expect(user!.enabled).toBe(true);
      expect(user!.emailVerified).toBe(false);
      expect(fake.state.sentEmails.filter((m) => m.userId === user!.id)).toEqual([
        { userId: user!.id, email: user!.email, actions: ["UPDATE_PASSWORD", "VERIFY_EMAIL"], lifespan: 7 * 24 * 3600 },
      ]);
    }
    expect(userNamed("bob")!.email).toBe("bob@alpha.example.net");
    expect(first.doc.accounts.map((a: any) => a.action)).toEqual(first.doc.accounts.map(() => "created"));

    // The people completed their invitation.
    for (const user of fake.state.users.values()) Object.assign(user, { emailVerified: true, requiredActions: [] });
    const usersBefore = fake.state.users.size;
    const second = await runJson(["--send"]);
    expect(second.code).toBe(0);
    expect(fake.state.users.size).toBe(usersBefore);
    expect(second.doc.accounts.every((a: any) => a.status === "ok" && a.action === undefined)).toBe(true);
    expect(fake.state.sentEmails).toHaveLength(people.length);
  });

  it("reports a failed invitation, exits 1, leaves the account pending and sends it again on the next --send", async () => {
    fake.state.smtpFailure = "550 5.1.1 <alice@alpha.example.net>: Recipient address rejected";
    const failed = await runAccounts(["--send"]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(
      /create\s+alice \(alpha\): created, invitation not sent: 500 Failed to send execute actions email: 550 5\.1\.1 <<email>>/,
    );
    expect(userNamed("alice")).toBeDefined();
    expect(fake.state.sentEmails).toEqual([]);

    const dry = await runJson([]);
    expect(statusOf(dry.doc, "alice")).toBe("pending");

    fake.state.smtpFailure = null;
    const again = await runJson(["--send"]);
    expect(again.code).toBe(0);
    expect(again.doc.accounts.find((a: any) => a.username === "alice")).toMatchObject({ status: "pending", action: "invited" });
    expect(fake.state.sentEmails.map((m) => m.userId)).toContain(userNamed("alice")!.id);
    expect([...fake.state.users.values()].filter((u) => u.username === "alice")).toHaveLength(1);
  });

  it("reports a disabled account and never enables it", async () => {
    fake.addUser({
      username: "carol",
      email: "carol@beta.example.net",
      enabled: false,
      emailVerified: false,
      requiredActions: ["VERIFY_EMAIL"],
    });
    const run = await runAccounts(["--send"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/disabled\s+carol \(beta\): the account is disabled; never re-enabled/);
    expect(userNamed("carol")!.enabled).toBe(false);
    expect(fake.state.sentEmails.map((m) => m.userId)).not.toContain(userNamed("carol")!.id);
    expect(fake.state.calls.some((c) => c.startsWith("PUT ") && c.includes(userNamed("carol")!.id))).toBe(false);
  });

  it("never invites nor joins a username held by someone else, and lists the tenants it blocks", async () => {
    const holder = fake.addUser({ username: "bob", email: "bob@elsewhere.example.com", enabled: true, emailVerified: true });
    const run = await runAccounts(["--send"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /conflict-username\s+bob \(alpha, beta\): the username belongs to an account with another email; never joined\. Contact the holder/,
    );
    expect(run.stdout).toMatch(/blocked tenant stacks, not applied until resolved: alpha, beta/);
    expect(fake.state.sentEmails.map((m) => m.userId)).not.toContain(holder);
    expect(fake.state.users.get(holder)!.email).toBe("bob@elsewhere.example.com");
    const json = await runJson([]);
    expect(json.doc.blockedTenants).toEqual(["alpha", "beta"]);
  });

  it("reports an email held by another username as conflict-email and creates nothing for it", async () => {
    fake.addUser({ username: "caro", email: "carol@beta.example.net", enabled: true, emailVerified: true });
    const { code, doc } = await runJson(["--send"]);
    expect(code).toBe(1);
    expect(statusOf(doc, "carol")).toBe("conflict-email");
    expect(userNamed("carol")).toBeUndefined();
    expect(doc.blockedTenants).toEqual(["beta"]);
  });

  it("does not re-create a self-deleted account unless --recreate-deleted", async () => {
    const id = fake.addUser({ username: "alice", email: "alice@alpha.example.net", enabled: true, emailVerified: true });
    fake.selfDelete(id);
    const kept = await runJson(["--send"]);
    expect(kept.code).toBe(0);
    expect(statusOf(kept.doc, "alice")).toBe("deleted");
    expect(userNamed("alice")).toBeUndefined();
    expect(kept.doc.blockedTenants).toEqual(["alpha"]);

    const recreated = await runJson(["--send", "--recreate-deleted"]);
    expect(recreated.doc.accounts.find((a: any) => a.username === "alice")).toMatchObject({ status: "create", action: "created" });
    expect(userNamed("alice")).toBeDefined();
  });

  it("finds a self-deleted account by the email the person signed in with", async () => {
    const id = fake.addUser({ username: "carol", email: "carol@beta.example.net", enabled: true, emailVerified: true });
    fake.selfDelete(id, "Carol@Beta.example.net");
    const { doc } = await runJson([]);
    expect(statusOf(doc, "carol")).toBe("deleted");
  });

  it("--prune --send removes only old unverified unlisted accounts", async () => {
    const old = Date.now() - 30 * DAY;
    fake.addUser({ username: "stale", email: "stale@example.com", enabled: true, emailVerified: false, createdTimestamp: old });
    fake.addUser({ username: "fresh", email: "fresh@example.com", enabled: true, emailVerified: false });
    fake.addUser({ username: "verified", email: "verified@example.com", enabled: true, emailVerified: true, createdTimestamp: old });
    fake.addUser({ username: "alice", email: "alice@alpha.example.net", enabled: true, emailVerified: false, createdTimestamp: old });
    fake.addUser({ username: "service-account-tool", enabled: true, createdTimestamp: old, serviceAccountClientId: "tool" });

    const dry = await runJson(["--prune"]);
    expect(dry.doc.prune).toEqual({ days: 14, accounts: [{ username: "stale", removed: false }] });
    expect(userNamed("stale")).toBeDefined();

    const run = await runJson(["--prune", "--send"]);
    expect(run.doc.prune.accounts).toEqual([{ username: "stale", removed: true }]);
    expect(userNamed("stale")).toBeUndefined();
    for (const kept of ["fresh", "verified", "alice", "service-account-tool"]) expect(userNamed(kept), kept).toBeDefined();
  });

  it("exits 2 with one line when KEYCLOAK_CLIENT_SECRET is missing, and when Keycloak refuses it", async () => {
    const missing = await runAccounts([], { KEYCLOAK_CLIENT_SECRET: undefined });
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split("\n")).toEqual([expect.stringContaining("KEYCLOAK_CLIENT_SECRET is not set")]);
    expect(fake.state.calls).toEqual([]);

    const refused = await runAccounts([], { KEYCLOAK_CLIENT_SECRET: "wrong" });
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim().split("\n")).toEqual([expect.stringContaining("refused the client credentials of alacarte-accounts")]);
  });

  it("refuses to run on an invalid tenant file, naming the file and no email", async () => {
    const bad = path.join(tenantsDir, "broken.yaml");
    fs.writeFileSync(bad, TENANTS.alpha!.replace("slug: alpha", "slug: broken").replace("bob@alpha.example.net", "Bob@alpha.example.net"));
    try {
      const run = await runAccounts([]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/invalid tenant files \(.*broken\.yaml\)/);
      expect(run.stderr.toLowerCase()).not.toContain("bob@alpha.example.net");
      expect(fake.state.calls).toEqual([]);
    } finally {
      fs.rmSync(bad);
    }
  });
});
