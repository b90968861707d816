/**
 * The Nextcloud suite's post-install script (components/tenant/scripts/nextcloud-setup.sh), run
 * for real by Debian's dash (the image's /bin/sh) with Debian's PHP reading occ's JSON, against a
 * stateful stub of occ and of the script's two HTTP calls (test/helpers/nextcloud-stub.mjs), twice:
 * the second run changes nothing. Then the changes a tenant file makes: a member removed, an
 * admin demoted, an app dropped, a tier raised, a version upgraded.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appScript } from "../components/blocks/app-setup";
import { extensionPins } from "../components/blocks/app-image";
import {
  NEXTCLOUD_ADMIN_USER,
  NEXTCLOUD_IMAGE,
  nextcloudAppIds,
  nextcloudGroupRegex,
  nextcloudMemberArgs,
} from "../components/tenant/nextcloud-image";
import { needTools } from "./helpers/debian-tools";

needTools("dash", "php", "tar", "shellcheck");

const STUB = path.join(__dirname, "helpers", "nextcloud-stub.mjs");
const script = appScript(NEXTCLOUD_IMAGE.setupScript);
const ADMIN_PASSWORD = "BootstrapPassword42";
const OIDC_SECRET = "client-secret-from-keycloak";

let dir: string;
let fixtures: Record<string, string>;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "nextcloud-setup-"));
  fs.mkdirSync(path.join(dir, "bin"));
  fs.symlinkSync(STUB, path.join(dir, "bin", "curl"));
  fs.chmodSync(STUB, 0o755);
  // One archive per pinned app and version, as the release assets are: `<id>/appinfo/info.xml`.
  fixtures = {};
  const archives = path.join(dir, "archives");
  for (const version of Object.keys(NEXTCLOUD_IMAGE.images)) {
    for (const pin of extensionPins(NEXTCLOUD_IMAGE, version)) {
      const [id, appVersion, url] = pin.split("|") as [string, string, string];
      if (fixtures[url]) continue;
      const src = path.join(archives, `${id}-${appVersion}`);
      fs.mkdirSync(path.join(src, id, "appinfo"), { recursive: true });
      fs.writeFileSync(path.join(src, id, "appinfo", "info.xml"), `<info><id>${id}</id><version>${appVersion}</version></info>\n`);
      const tarball = path.join(archives, `${id}-${appVersion}.tar.gz`);
      execFileSync("tar", ["-czf", tarball, "-C", src, id]);
      fixtures[url] = tarball;
    }
  }
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Suite {
  root: string;
  state: string;
}

/** A freshly installed instance, as the image's entrypoint leaves it: the bootstrap admin and shipped apps. */
function freshSuite(name: string): Suite {
  const root = path.join(dir, name);
  fs.mkdirSync(path.join(root, "custom_apps"), { recursive: true });
  const state = path.join(dir, `${name}.json`);
  fs.writeFileSync(
    state,
    JSON.stringify({
      installed: true,
      version: "34.0.2",
      adminPassword: ADMIN_PASSWORD,
      users: { [NEXTCLOUD_ADMIN_USER]: { displayName: NEXTCLOUD_ADMIN_USER, enabled: true, backend: "Database", tokens: [] } },
      groups: { admin: [NEXTCLOUD_ADMIN_USER] },
      apps: { files: { enabled: true, version: "2.4.0", shippedVersion: "2.4.0" } },
      appConfig: {},
      systemConfig: {},
      providers: {},
    }),
  );
  return { root, state };
}

interface Inputs {
  version: string;
  apps: string[];
  members: { username: string; admin: boolean }[];
  storageGb: number;
  hostname: string;
}

const base: Inputs = {
  version: "34.0.2",
  apps: ["calendar", "forms", "office"],
  members: [
    { username: "alice", admin: true },
    { username: "bruno", admin: false },
  ],
  storageGb: 20,
  hostname: "cloud.amisduvelo.org",
};

/** The arguments the component passes (components/tenant/nextcloud-suite.ts), from the same pure functions. */
function args(i: Inputs): string[] {
  return [
    i.hostname,
    "https://sso.example.org/realms/alacarte",
    "amis-du-velo-nextcloud",
    nextcloudGroupRegex("amis-du-velo"),
    `${i.storageGb} GB`,
    i.apps.includes("office") ? "https://office.example.org" : "",
    nextcloudAppIds(i.apps).join(" "),
    extensionPins(NEXTCLOUD_IMAGE, i.version).join(" "),
    nextcloudMemberArgs(i.members).join(" "),
  ];
}

function run(suite: Suite, i: Inputs, over: { stdin?: string; fixtures?: Record<string, string> } = {}) {
  // As AppSetup runs it: `sh -c <script> <name> <args…>`, the secrets a line each on stdin.
  return spawnSync("dash", ["-c", script.text, script.name, ...args(i)], {
    input: over.stdin ?? `${OIDC_SECRET}\n${ADMIN_PASSWORD}\n`,
    encoding: "utf8",
    env: {
      PATH: `${path.join(dir, "bin")}:${process.env.PATH}`,
      OCC: STUB,
      OCC_STATE: suite.state,
      NEXTCLOUD_ROOT: suite.root,
      NEXTCLOUD_ADMIN_USER,
      CURL_FIXTURES: JSON.stringify(over.fixtures ?? fixtures),
    },
  });
}

function state(suite: Suite) {
  return JSON.parse(fs.readFileSync(suite.state, "utf8"));
}

function appsOnDisk(suite: Suite): string[] {
  return fs.readdirSync(path.join(suite.root, "custom_apps")).sort();
}

function expectOk(result: ReturnType<typeof run>) {
  expect(result.stderr, result.stderr).not.toMatch(/not found|does not exist|not defined|Error/);
  expect(result.status, result.stderr).toBe(0);
}

describe("the Nextcloud suite's setup script", () => {
  it("passes shellcheck as POSIX sh", () => {
    expect(
      spawnSync("shellcheck", ["-s", "sh", path.resolve(__dirname, "../components/tenant/scripts", script.name)], { encoding: "utf8" })
        .stdout,
    ).toBe("");
  });

  it("configures a fresh instance, and a second run exits 0 and changes nothing", () => {
    const suite = freshSuite("fresh");
    expectOk(run(suite, base));
    const first = state(suite);
    const disk = appsOnDisk(suite);

    // The pinned apps of the tenant file and user_oidc, enabled at their pinned versions.
    expect(
      Object.keys(first.apps)
        .filter((id) => first.apps[id].enabled)
        .sort(),
    ).toEqual(["calendar", "files", "forms", "richdocuments", "user_oidc"]);
    for (const pin of extensionPins(NEXTCLOUD_IMAGE, "34.0.2")) {
      const [id, version] = pin.split("|") as [string, string];
      if (first.apps[id]) expect(first.appConfig[id].installed_version).toBe(version);
    }
    expect(disk).toEqual(["calendar", "forms", "richdocuments", "user_oidc"]);
    // Keycloak only, for the tenant's group only, with the secret from stdin and readable uids.
    expect(first.providers.keycloak.settings).toMatchObject({
      clientid: "amis-du-velo-nextcloud",
      clientsecret: OIDC_SECRET,
      discoveryuri: "https://sso.example.org/realms/alacarte/.well-known/openid-configuration",
      "unique-uid": "0",
      "mapping-uid": "preferred_username",
      "mapping-groups": "groups",
      "group-whitelist-regex": "^\\/tenants\\/amis-du-velo$",
      "group-restrict-login-to-whitelist": "1",
    });
    expect(first.appConfig.user_oidc.allow_multiple_user_backends).toBe("0");
    expect(first.systemConfig.user_oidc).toEqual({ soft_auto_provision: false });
    expect(first.systemConfig.lost_password_link).toBe("disabled");
    expect(first.systemConfig.trusted_domains).toEqual({ 0: "localhost", 1: "cloud.amisduvelo.org" });
    expect(first.appConfig.files.default_quota).toBe("20 GB");
    expect(first.appConfig.core.backgroundjobs_mode).toBe("cron");
    expect(first.appConfig.richdocuments.activated).toBe("https://office.example.org");
    // One account per member, the admins in Nextcloud's admin group.
    expect(Object.keys(first.users).sort()).toEqual([NEXTCLOUD_ADMIN_USER, "alice", "bruno"]);
    expect(first.users.alice.backend).toBe("user_oidc");
    expect(first.groups.admin).toEqual([NEXTCLOUD_ADMIN_USER, "alice"]);

    const second = run(suite, base);
    expectOk(second);
    expect(state(suite)).toEqual(first);
    expect(appsOnDisk(suite)).toEqual(disk);
  });

  it("a member removed from the tenant file is disabled, loses admin, sessions and app passwords; back in the file, enabled again", () => {
    const suite = freshSuite("removal");
    expectOk(run(suite, base));
    const s = state(suite);
    s.users.alice.tokens = [
      { id: "1", lastUsed: Math.floor(Date.now() / 1000) - 60 },
      { id: "2", lastUsed: Math.floor(Date.now() / 1000) },
    ];
    fs.writeFileSync(suite.state, JSON.stringify(s));

    expectOk(run(suite, { ...base, members: [{ username: "bruno", admin: true }] }));
    const after = state(suite);
    expect(after.users.alice.enabled).toBe(false);
    expect(after.users.alice.tokens).toEqual([]);
    expect(after.groups.admin).toEqual([NEXTCLOUD_ADMIN_USER, "bruno"]);
    expect(after.users[NEXTCLOUD_ADMIN_USER].enabled).toBe(true);

    expectOk(run(suite, base));
    expect(state(suite).users.alice.enabled).toBe(true);
    expect(state(suite).groups.admin).toEqual([NEXTCLOUD_ADMIN_USER, "alice"]);
  });

  it("an app dropped from the tenant file is disabled, a raised tier raises the quota, a new domain is trusted", () => {
    const suite = freshSuite("changes");
    expectOk(run(suite, base));
    expectOk(run(suite, { ...base, apps: ["calendar"], storageGb: 50, hostname: "nuage.amisduvelo.org" }));
    const after = state(suite);
    expect(after.apps.forms.enabled).toBe(false);
    expect(after.apps.richdocuments.enabled).toBe(false);
    expect(after.apps.calendar.enabled).toBe(true);
    expect(after.appConfig.files.default_quota).toBe("50 GB");
    expect(after.systemConfig.trusted_domains[1]).toBe("nuage.amisduvelo.org");
    expect(after.systemConfig["overwrite.cli.url"]).toBe("https://nuage.amisduvelo.org");
  });

  it("a major upgrade replaces the per-major apps with their pins for the new major and migrates them", () => {
    const suite = freshSuite("upgrade");
    expectOk(run(suite, { ...base, version: "33.0.7", apps: ["deck", "office"] }));
    expect(state(suite).appConfig.deck.installed_version).toBe("1.17.4");
    expectOk(run(suite, { ...base, version: "34.0.2", apps: ["deck", "office"] }));
    const after = state(suite);
    expect(after.appConfig.deck.installed_version).toBe("1.18.3");
    expect(after.appConfig.richdocuments.installed_version).toBe("11.1.0");
    expect(appsOnDisk(suite)).toEqual(["deck", "richdocuments", "user_oidc"]);
  });

  it("refuses an archive that does not hold the pinned version, and leaves the installed app in place", () => {
    const suite = freshSuite("bad-archive");
    const pins = extensionPins(NEXTCLOUD_IMAGE, "34.0.2");
    const formsUrl = pins.find((p) => p.startsWith("forms|"))!.split("|")[2]!;
    const other = Object.values(fixtures).find((f) => f.includes("polls"))!;
    const result = run(suite, base, { fixtures: { ...fixtures, [formsUrl]: other } });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("does not hold version");
    expect(appsOnDisk(suite)).not.toContain("forms");
    expect(appsOnDisk(suite).filter((d) => d.startsWith("."))).toEqual([]);
  });

  it("the OCS calls need the bootstrap admin's password: a wrong one stops the script", () => {
    const suite = freshSuite("wrong-password");
    const result = run(suite, base, { stdin: `${OIDC_SECRET}\nnot-the-password\n` });
    expect(result.status).not.toBe(0);
    expect(Object.keys(state(suite).users)).toEqual([NEXTCLOUD_ADMIN_USER]);
  });
});

describe("user_oidc's group whitelist", () => {
  // Checked with PHP's own preg_match, wrapped as user_oidc wraps a pattern without a leading `/`
  // (lib/Service/ProvisioningService.php getGroupWhitelistRegex).
  function matches(slug: string, group: string): boolean {
    const code =
      '$r = $argv[1]; if ($r && substr($r, 0, 1) !== "/") { $r = "/" . $r . "/"; } exit(preg_match($r, $argv[2]) === 1 ? 0 : 1);';
    return spawnSync("php", ["-r", code, "--", nextcloudGroupRegex(slug), group]).status === 0;
  }

  it("matches the tenant's group only", () => {
    expect(matches("amis-du-velo", "/tenants/amis-du-velo")).toBe(true);
    expect(matches("amis-du-velo", "/tenants/amis-du-velo/admins")).toBe(false);
    expect(matches("amis-du-velo", "/tenants/amis-du-velo-bis")).toBe(false);
    expect(matches("amis", "/tenants/amis-du-velo")).toBe(false);
    expect(matches("amis-du-velo", "/other/tenants/amis-du-velo")).toBe(false);
  });
});
