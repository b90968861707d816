import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appPasswordScript } from "../components/platform/mail-server";
import { renderMailFragmentFile, mailFragmentPath } from "../components/tenant/mail-domain-config";
import { appPasswordLogin, mailboxLogins } from "../infra/model/mail-logins";
import type { Tenant } from "../infra/contract/tenant";
import { needTools, requireTool } from "./helpers/debian-tools";

const ROOT = resolve(__dirname, "..");

describe("who may have an app password for a mailbox (pure)", () => {
  const tenants = [
    {
      mail: {
        domains: [
          {
            domain: "amis.org",
            mailboxes: [
              { address: "alice@amis.org", owner: "alice", quotaGb: 1, sharedWith: [] },
              { address: "contact@amis.org", quotaGb: 1, sharedWith: ["alice", "bruno", "alice"] },
            ],
            redirections: [{ from: "bureau@amis.org", to: ["alice@amis.org"] }],
          },
        ],
      },
    },
  ] as unknown as Tenant[];
  const logins = mailboxLogins(tenants);

  it("signs the owner in as the mailbox and a sharer in the master-user form", () => {
    expect(appPasswordLogin(logins, "alice@amis.org", "alice")).toEqual({ login: "alice@amis.org" });
    expect(appPasswordLogin(logins, "Contact@amis.org", "bruno")).toEqual({ login: "contact@amis.org*bruno" });
    expect(logins.get("contact@amis.org")).toEqual({ shared: ["alice", "bruno"] });
  });

  it("refuses anyone else, and a redirection", () => {
    expect(appPasswordLogin(logins, "alice@amis.org", "bruno")).toEqual({
      refused: "bruno neither owns alice@amis.org nor is it shared with them in the tenant file",
    });
    expect(appPasswordLogin(logins, "bureau@amis.org", "alice")).toEqual({ refused: "bureau@amis.org is no mailbox of any tenant file" });
  });
});

/**
 * The command through launch.cjs, with ssh and docker replaced by stubs that run the script here
 * and Debian's doveadm in place of the mail container's: the store, the assembled password files
 * and the hashes are the real ones.
 */
describe("npm run mail-passwords, against the mail host's folders", () => {
  needTools("sh", "awk", "flock", "doveadm", "shellcheck", "openssl");
  let dir = "";
  let mailDir = "";
  let env: NodeJS.ProcessEnv = {};

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "alacarte-app-passwords-"));
    mailDir = join(dir, "mail");
    const bin = join(dir, "bin");
    mkdirSync(bin);
    // ssh [options] user@host WORDS… runs WORDS joined by spaces in the remote user's shell, as ssh does;
    // docker exec -i CONTAINER doveadm … → doveadm ….
    writeFileSync(join(bin, "fake-ssh"), '#!/bin/sh\nwhile [ "$1" != sh ]; do shift; done\nexec sh -c "$*"\n');
    // The container must be the platform's mail server, as the platform stack names it.
    writeFileSync(
      join(bin, "docker"),
      `#!/bin/sh\n[ "$1" = exec ] && shift\n[ "$1" = -i ] && shift\n[ "$1" = platform-mail-mailserver ] || { echo "no container $1" >&2; exit 9; }\nshift\nexec "$@"\n`,
    );
    chmodSync(join(bin, "fake-ssh"), 0o755);
    chmodSync(join(bin, "docker"), 0o755);
    // The fragments the tenant stacks wrote: those of the repository's tenant files.
    mkdirSync(join(mailDir, "fragments"), { recursive: true });
    writeFileSync(
      mailFragmentPath(join(mailDir, "fragments"), "amis-du-velo", "amisduvelo.org"),
      renderMailFragmentFile({
        domain: "amisduvelo.org",
        mailboxes: [
          { address: "alice@amisduvelo.org", quotaGb: 5, owner: "alice" },
          { address: "contact@amisduvelo.org", quotaGb: 2, sharedWith: ["alice", "bruno"] },
        ],
        redirections: [],
      }),
    );
    env = { ...process.env, PATH: `${bin}:${process.env.PATH}:/usr/sbin:/sbin`, ALACARTE_SSH: join(bin, "fake-ssh") };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [join(ROOT, "infra/cli/launch.cjs"), "mail-passwords", ...args, "--mail-dir", mailDir], {
      env,
      encoding: "utf8",
    });
  const verifies = (hash: string, password: string) => {
    try {
      execFileSync(requireTool("doveadm"), ["pw", "-t", hash, "-p", password], { stdio: "pipe" });
      return true;
    } catch {
      return false;
    }
  };

  it("sets an app password the owner signs in with, printed once with the login, hashed on the host", () => {
    const run = cli("set", "--user", "alice", "--mailbox", "alice@amisduvelo.org");
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const password = /password: (\S+)/.exec(run.stdout)![1]!;
    expect(run.stdout).toContain("login:    alice@amisduvelo.org");
    const stored = readFileSync(join(mailDir, "app-passwords/alice/alice@amisduvelo.org"), "utf8").trim();
    expect(stored).toMatch(/^\{ARGON2ID\}\$argon2id\$/);
    expect(stored).not.toContain(password);
    expect(verifies(stored, password)).toBe(true);
    expect(readFileSync(join(mailDir, "config/passdb/owners/alice@amisduvelo.org"), "utf8")).toBe(`alice@amisduvelo.org:${stored}\n`);
  });

  it("gives a member a mailbox is shared with their own login to it, and lists and revokes it", () => {
    const run = cli("set", "--user", "bruno", "--mailbox", "contact@amisduvelo.org");
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("login:    contact@amisduvelo.org*bruno");
    expect(readFileSync(join(mailDir, "config/passdb/shared/contact@amisduvelo.org"), "utf8")).toMatch(/^bruno:\{ARGON2ID\}/);
    expect(cli("list", "--user", "bruno").stdout).toBe("bruno contact@amisduvelo.org\n");

    expect(cli("revoke", "--user", "bruno", "--mailbox", "contact@amisduvelo.org").status).toBe(0);
    expect(existsSync(join(mailDir, "app-passwords/bruno/contact@amisduvelo.org"))).toBe(false);
    expect(existsSync(join(mailDir, "config/passdb/shared/contact@amisduvelo.org"))).toBe(false);
    expect(cli("list", "--user", "bruno").stdout).toBe("bruno has no app password\n");
  });

  it("refuses a login the tenant files do not allow, before reaching the host", () => {
    const run = cli("set", "--user", "bruno", "--mailbox", "alice@amisduvelo.org");
    expect(run.status).toBe(2);
    expect(run.stderr.trim()).toBe(
      "no app password: bruno neither owns alice@amisduvelo.org nor is it shared with them in the tenant file",
    );
    expect(existsSync(join(mailDir, "app-passwords/bruno/alice@amisduvelo.org"))).toBe(false);
  });

  it("runs scripts that pass shellcheck", () => {
    for (const action of ["set", "revoke", "list"] as const) {
      const script = appPasswordScript({
        action,
        user: "alice",
        mailbox: "alice@amisduvelo.org",
        container: "mail",
        folders: { fragmentsDir: "/srv/alacarte/mail/fragments" },
      });
      expect(() => execFileSync(requireTool("shellcheck"), ["-s", "sh", "-"], { input: script, encoding: "utf8" }), action).not.toThrow();
    }
  });

  it("answers a bad command line with its usage", () => {
    const run = cli("show", "--user", "alice");
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^usage: npm run mail-passwords -- set\|revoke/);
  });
});
