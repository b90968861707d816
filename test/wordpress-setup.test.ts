/**
 * The WordPress setup script (components/tenant/scripts/wordpress-setup.sh) run as AppSetup runs
 * it (`sh -c <script> <name> <args…>`), by Debian's dash like the CLI image's busybox sh, against
 * a stateful wp-cli stub (test/helpers/wp-stub.cjs) that fails as wp-cli does on a duplicate or a
 * missing item: a second run exits 0 and changes nothing, and a member removed between runs loses
 * their roles, sessions and application passwords.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { appScript } from "../components/blocks/app-setup";
import { WORDPRESS_IMAGE } from "../components/tenant/wordpress-image";
import { wordpressPlan, wordpressSetupArgs } from "../components/tenant/wordpress-site-config";
import { needTools, requireTool } from "./helpers/debian-tools";

needTools("dash", "shellcheck", "cmp");

const SCRIPT = appScript(WORDPRESS_IMAGE.setupScript);
const GATE = appScript("wordpress-tenant-gate.php").text;
const STUB = path.resolve(__dirname, "helpers", "wp-stub.cjs");

let dir: string;
let env: NodeJS.ProcessEnv;
const statePath = () => path.join(dir, "state.json");
const logPath = () => path.join(dir, "changes.log");
const readState = () => JSON.parse(fs.readFileSync(statePath(), "utf8"));
const writeState = (s: unknown) => fs.writeFileSync(statePath(), `${JSON.stringify(s, null, 2)}\n`);

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "alacarte-wp-setup-"));
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin);
  fs.mkdirSync(path.join(dir, "html"));
  fs.writeFileSync(path.join(bin, "wp"), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(STUB)} "$@"\n`, {
    mode: 0o755,
  });
  env = {
    ...process.env,
    PATH: `${bin}:${process.env.PATH}`,
    WP_STUB_STATE: statePath(),
    WP_STUB_LOG: logPath(),
    // What the web image's entrypoint copied into the volume: the tenant's version.
    WP_STUB_CORE_VERSION: "7.1.0",
  };
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const plan = wordpressPlan("amis-du-velo", ["amisduvelo.org", "www.amisduvelo.org"], 5);
function argsFor(members: { username: string; admin: boolean }[]): string[] {
  return wordpressSetupArgs(plan, {
    title: "Les Amis du Vélo",
    adminEmail: "noreply@example.org",
    version: "7.1.0",
    gatePhp: GATE,
    members,
  });
}
const MEMBERS = [
  { username: "alice", admin: true },
  { username: "bruno", admin: false },
];

/** One run; returns the commands that changed the state. */
function run(args: string[]): string[] {
  fs.writeFileSync(logPath(), "");
  const r = spawnSync(requireTool("dash"), ["-c", SCRIPT.text, SCRIPT.name, ...args], {
    cwd: path.join(dir, "html"),
    env,
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`setup exited ${r.status}: ${r.stderr}`);
  return fs.readFileSync(logPath(), "utf8").split("\n").filter(Boolean);
}

/** A person signing in through the OIDC plugin: their account, with the role the gate gave and a session. */
function signIn(login: string, roles: string[], sessions = 1, appPasswords = 0) {
  const s = readState();
  s.users.push({ login, email: `${login}@example.net`, roles, sessions, appPasswords, subject: `${login}-sub` });
  writeState(s);
}

describe("wordpress-setup.sh", () => {
  it("passes shellcheck as POSIX sh", () => {
    expect(() =>
      execFileSync(requireTool("shellcheck"), ["-s", "sh", path.resolve(__dirname, "..", "components/tenant/scripts", SCRIPT.name)], {
        encoding: "utf8",
      }),
    ).not.toThrow();
  });

  it("installs once with a random admin password on stdin, the pinned plugin active and the gate; a second run changes nothing", () => {
    expect(run(argsFor(MEMBERS))).toEqual([
      "core install _alacarte",
      "plugin install daggerhart-openid-connect-generic 3.10.3",
      "plugin activate daggerhart-openid-connect-generic",
    ]);
    const first = fs.readFileSync(statePath(), "utf8");
    const state = JSON.parse(first);
    expect(state.installed).toBe(true);
    expect(state.home).toBe("https://amisduvelo.org");
    expect(state.users).toEqual([expect.objectContaining({ login: "_alacarte", roles: ["administrator"], passwordLength: 48 })]);
    expect(state.plugins).toEqual({ "daggerhart-openid-connect-generic": { version: "3.10.3", active: true } });
    const gate = path.join(dir, "html", "wp-content/mu-plugins/alacarte-tenant-gate.php");
    expect(fs.readFileSync(gate, "utf8")).toBe(`${GATE}\n`);
    const gateTime = fs.statSync(gate).mtimeMs;

    expect(run(argsFor(MEMBERS))).toEqual([]);
    expect(fs.readFileSync(statePath(), "utf8")).toBe(first);
    expect(fs.statSync(gate).mtimeMs).toBe(gateTime);
  });

  it("sets members' roles from the admin flag, and strips a removed member of roles, sessions and application passwords", () => {
    run(argsFor(MEMBERS));
    signIn("alice", ["editor"], 1, 0);
    signIn("bruno", ["editor"], 2, 1);
    expect(run(argsFor(MEMBERS))).toEqual(["user set-role alice administrator"]);
    const settled = fs.readFileSync(statePath(), "utf8");
    expect(run(argsFor(MEMBERS))).toEqual([]);
    expect(fs.readFileSync(statePath(), "utf8")).toBe(settled);

    // An account made by hand in the admin screens is no member either.
    signIn("eve smith", ["administrator"], 1, 2);
    expect(run(argsFor(MEMBERS))).toEqual([
      "user remove-role eve smith",
      "user session destroy eve smith",
      "user application-password delete eve smith",
    ]);

    // Bruno leaves the tenant file.
    expect(run(argsFor([MEMBERS[0]!]))).toEqual([
      "user remove-role bruno",
      "user session destroy bruno",
      "user application-password delete bruno",
    ]);
    const users = readState().users;
    expect(users.find((u: { login: string }) => u.login === "bruno")).toMatchObject({ roles: [], sessions: 0, appPasswords: 0 });
    expect(users.find((u: { login: string }) => u.login === "alice")).toMatchObject({ roles: ["administrator"], sessions: 1 });
    const after = fs.readFileSync(statePath(), "utf8");
    expect(run(argsFor([MEMBERS[0]!]))).toEqual([]);
    expect(fs.readFileSync(statePath(), "utf8")).toBe(after);
  });

  it("replaces a plugin at another version by the pinned one, keeping it active", () => {
    run(argsFor(MEMBERS));
    const s = readState();
    s.plugins["daggerhart-openid-connect-generic"].version = "3.9.1";
    writeState(s);
    expect(run(argsFor(MEMBERS))).toEqual(["plugin install daggerhart-openid-connect-generic 3.10.3"]);
    expect(readState().plugins["daggerhart-openid-connect-generic"]).toEqual({ version: "3.10.3", active: true });
  });

  it("updates the core to a higher pin, and its database, once", () => {
    run(argsFor(MEMBERS));
    const pinned = (version: string) =>
      wordpressSetupArgs(plan, { title: "Les Amis du Vélo", adminEmail: "noreply@example.org", version, gatePhp: GATE, members: MEMBERS });
    expect(run(pinned("7.2.0"))).toEqual(["core update 7.2.0", "core update-db 7.2.0"]);
    expect(readState()).toMatchObject({ coreVersion: "7.2.0", dbVersion: "7.2.0" });
    expect(run(pinned("7.2.0"))).toEqual([]);
  });

  it("rewrites a gate that differs from the repository's", () => {
    run(argsFor(MEMBERS));
    const gate = path.join(dir, "html", "wp-content/mu-plugins/alacarte-tenant-gate.php");
    fs.writeFileSync(gate, "<?php // edited\n");
    run(argsFor(MEMBERS));
    expect(fs.readFileSync(gate, "utf8")).toBe(`${GATE}\n`);
  });
});

describe("the wp stub fails as wp-cli does", () => {
  const wp = (...args: string[]) => spawnSync(path.join(dir, "bin", "wp"), args, { env, encoding: "utf8", cwd: dir });

  it("on a duplicate or a missing item", () => {
    expect(wp("plugin", "get", "x", "--field=version").status).toBe(1); // not installed yet
    expect(
      wp("core", "install", "--url=https://a.example", "--title=t", "--admin_user=_a", "--admin_email=a@example.org", "--admin_password=p")
        .status,
    ).toBe(0);
    expect(
      wp("core", "install", "--url=https://a.example", "--title=t", "--admin_user=_a", "--admin_email=a@example.org").stdout,
    ).toContain("already installed");
    const url = WORDPRESS_IMAGE.extensions["daggerhart-openid-connect-generic"]!.url!;
    expect(wp("plugin", "install", url).status).toBe(0);
    const again = wp("plugin", "install", url);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain("Destination folder already exists.");
    expect(wp("plugin", "get", "missing", "--field=version").stderr).toContain("The 'missing' plugin could not be found.");
    expect(wp("plugin", "activate", "missing").status).toBe(1);
    expect(wp("user", "get", "nobody", "--field=roles").stderr).toContain("Invalid user ID, email or login: 'nobody'");
    expect(wp("user", "set-role", "_a", "owner").stderr).toContain("Role doesn't exist: owner");
    expect(wp("user", "session", "destroy", "_a").status).toBe(1);
    expect(wp("user", "application-password", "delete", "_a").status).toBe(1);
    expect(wp("user", "list", "--field=user_login", "--bogus").status).toBe(1);
    expect(wp("site", "list").stderr).toContain("is not a registered wp command");
  });
});
