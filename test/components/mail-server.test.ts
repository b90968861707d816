import { execFileSync } from "node:child_process";
import { mkdtempSync, symlinkSync, readFileSync, readdirSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  MAILSERVER_IMAGE,
  MAIL_FRAGMENT_KINDS,
  assembleCommand,
  mailServerEnv,
  oauth2IntrospectionUrl,
} from "../../components/platform/mail-server";
import { renderMailFragmentFile } from "../../components/tenant/mail-domain-config";
import { needTools } from "../helpers/debian-tools";

const LOCKED = "{SHA512-CRYPT}!";

describe("assembleCommand", () => {
  needTools("sh", "awk", "flock", "shellcheck");
  const setup = () => {
    const root = mkdtempSync(join(tmpdir(), "alacarte-mail-"));
    const frag = join(root, "fragments");
    const conf = join(root, "config");
    mkdirSync(frag);
    return { root, frag, conf };
  };
  const read = (conf: string) => Object.fromEntries(MAIL_FRAGMENT_KINDS.map(({ file }) => [file, readFileSync(join(conf, file), "utf8")]));

  it("splits the sections of every tenant's .mail fragment into docker-mailserver's files, in byte order", () => {
    const { root, frag, conf } = setup();
    // Two tenants, each with its own domain and addresses on a shared one.
    writeFileSync(
      join(frag, "zeta--z.org.mail"),
      renderMailFragmentFile({
        domain: "z.org",
        mailboxes: [{ address: "zoe@z.org", quotaGb: 3, sharedWith: ["yann"] }],
        redirections: [{ from: "hello@z.org", to: ["zoe@z.org"] }],
      }),
    );
    writeFileSync(
      join(frag, "zeta--membres.example.org.mail"),
      renderMailFragmentFile({
        domain: "membres.example.org",
        mailboxes: [{ address: "zeta@membres.example.org", quotaGb: 1 }],
        redirections: [],
      }),
    );
    writeFileSync(
      join(frag, "amis--amis.org.mail"),
      renderMailFragmentFile({
        domain: "amis.org",
        mailboxes: [
          { address: "alice@amis.org", quotaGb: 5, owner: "alice" },
          { address: "contact@amis.org", quotaGb: 2, sharedWith: ["alice", "bruno"] },
        ],
        redirections: [{ from: "bureau@amis.org", to: ["alice@amis.org", "bruno@example.net"] }],
      }),
    );
    // Hand-written: lines before the first marker and unknown sections are skipped, no final newline is fine.
    writeFileSync(
      join(frag, "amis--membres.example.org.mail"),
      "stray@membres.example.org:9G\n#> virtual\namis@membres.example.org alice@amis.org\n#> future\nx y\n#> quotas\n#> accounts\namis2@membres.example.org|{SHA512-CRYPT}!",
    );
    writeFileSync(join(frag, ".amis--amis.org.mail.alacarte-tmp"), "#> quotas\nhalf@amis.org:1G\n"); // a write in progress
    writeFileSync(join(frag, "notes.txt"), "#> virtual\nignored@x.org y@x.org\n");

    execFileSync("sh", ["-c", assembleCommand(frag, conf)]);

    expect(read(conf)).toEqual({
      "postfix-virtual.cf":
        "bureau@amis.org alice@amis.org,bruno@example.net\n" + "amis@membres.example.org alice@amis.org\n" + "hello@z.org zoe@z.org\n",
      "postfix-accounts.cf":
        `alice@amis.org|${LOCKED}\ncontact@amis.org|${LOCKED}\n` +
        `amis2@membres.example.org|${LOCKED}\n` +
        `zeta@membres.example.org|${LOCKED}\n` +
        `zoe@z.org|${LOCKED}\n`,
      "dovecot-quotas.cf": "alice@amis.org:5G\ncontact@amis.org:2G\nzeta@membres.example.org:1G\nzoe@z.org:3G\n",
      "dovecot-acl.cf": "contact@amis.org user=alice lrwstipekx\ncontact@amis.org user=bruno lrwstipekx\nzoe@z.org user=yann lrwstipekx\n",
    });
    expect(readdirSync(conf).filter((f) => f.includes("alacarte-tmp"))).toEqual([]);
    expect(statSync(join(conf, "postfix-accounts.cf")).mode & 0o777).toBe(0o640);

    // A fragment moved away (tenant or domain removed) disappears from the maps on the next run.
    execFileSync("sh", ["-c", `mv '${join(frag, "zeta--z.org.mail")}' '${root}/' && ${assembleCommand(frag, conf)}`]);
    expect(read(conf)["postfix-virtual.cf"]).toBe(
      "bureau@amis.org alice@amis.org,bruno@example.net\namis@membres.example.org alice@amis.org\n",
    );
    expect(read(conf)["dovecot-acl.cf"]).toBe("contact@amis.org user=alice lrwstipekx\ncontact@amis.org user=bruno lrwstipekx\n");
  });

  it("still reads legacy per-kind fragments, unless the tenant's .mail fragment of that domain exists", () => {
    const { frag, conf } = setup();
    writeFileSync(join(frag, "old--old.org.virtual"), "a@old.org b@x.org"); // no final newline
    writeFileSync(join(frag, "old--old.org.quotas"), "m@old.org:1G\n");
    writeFileSync(join(frag, "new--new.org.virtual"), "stale@new.org b@x.org\n"); // superseded by new--new.org.mail
    writeFileSync(join(frag, "new--new.org.mail"), "#> virtual\nfresh@new.org b@x.org\n");
    execFileSync("sh", ["-c", assembleCommand(frag, conf)]);
    expect(read(conf)).toEqual({
      "postfix-virtual.cf": "fresh@new.org b@x.org\na@old.org b@x.org\n",
      "postfix-accounts.cf": "",
      "dovecot-quotas.cf": "m@old.org:1G\n",
      "dovecot-acl.cf": "",
    });
  });

  it("leaves the maps untouched when a fragment cannot be read", () => {
    const { frag, conf } = setup();
    writeFileSync(join(frag, "a--a.org.mail"), "#> virtual\nx@a.org y@b.org\n");
    execFileSync("sh", ["-c", assembleCommand(frag, conf)]);
    // A regular file whose read fails (EIO), whoever runs the test (root reads a chmod 000 file).
    symlinkSync("/proc/self/mem", join(frag, "b--b.org.mail"));
    expect(() => execFileSync("sh", ["-c", assembleCommand(frag, conf)], { stdio: "pipe" })).toThrow();
    expect(read(conf)["postfix-virtual.cf"]).toBe("x@a.org y@b.org\n");
  });

  it("passes shellcheck (Debian's shellcheck, installed by test/setup-debian.sh)", () => {
    expect(() =>
      execFileSync("shellcheck", ["-s", "sh", "--severity=warning", "-"], {
        input: assembleCommand("/srv/alacarte/mail/fragments"),
        encoding: "utf8",
      }),
    ).not.toThrow();
  });

  it("writes empty maps when there is no fragment yet", () => {
    const root = mkdtempSync(join(tmpdir(), "alacarte-mail-"));
    execFileSync("sh", ["-c", assembleCommand(join(root, "fragments"), join(root, "config"))]);
    for (const { file } of MAIL_FRAGMENT_KINDS) expect(readFileSync(join(root, "config", file), "utf8")).toBe("");
  });

  it("defaults the config folder to the fragments folder's sibling", () => {
    expect(assembleCommand("/srv/alacarte/mail/fragments")).toBe(
      assembleCommand("/srv/alacarte/mail/fragments", "/srv/alacarte/mail/config"),
    );
    expect(assembleCommand("/srv/alacarte/mail/fragments")).toContain("'/srv/alacarte/mail/config'/postfix-virtual.cf");
    expect(assembleCommand("/srv/alacarte/mail/fragments")).toContain("for f in '/srv/alacarte/mail/fragments'/*;");
  });

  it("rejects relative folders", () => expect(() => assembleCommand("fragments")).toThrow(/absolute/));
});

describe("mailServerEnv", () => {
  it("turns quotas and OAuth2 on, against the realm's userinfo endpoint", () => {
    const env = mailServerEnv({ hostname: "mail.example.org", keycloakUrl: "https://sso.example.org/", realm: "alacarte" });
    expect(env.ENABLE_QUOTAS).toBe("1");
    expect(env.ENABLE_OAUTH2).toBe("1");
    expect(env.OAUTH2_INTROSPECTION_URL).toBe("https://sso.example.org/realms/alacarte/protocol/openid-connect/userinfo");
    expect(env.OVERRIDE_HOSTNAME).toBe("mail.example.org");
    expect(env.SSL_TYPE).toBe("manual");
    expect(Object.keys(env)).toEqual(Object.keys(env).sort());
  });

  it("builds the introspection URL", () =>
    expect(oauth2IntrospectionUrl("https://sso.e.org", "r")).toBe("https://sso.e.org/realms/r/protocol/openid-connect/userinfo"));

  it("pins an exact 15.x image", () => expect(MAILSERVER_IMAGE).toMatch(/^ghcr\.io\/docker-mailserver\/docker-mailserver:15\.\d+\.\d+$/));
});

describe("MailServer under mocks", () => {
  const host = { name: "mx", address: "mx.infra.example.org", user: "deploy" };

  it("runs pinned docker-mailserver with the mail ports, retained volumes and the config folder", async () => {
    const { installMocks, one, byType, promiseOf, settle } = await import("../helpers/mocks.js");
    const { optionsRecorder, plain } = await import("../helpers/options.js");
    installMocks();
    const mod = await import("../../components/platform/mail-server.js");
    const rec = optionsRecorder();
    const mail = new mod.MailServer(
      "ms",
      { host, hostname: "mail.example.org", network: "proxy", keycloakUrl: "https://sso.example.org", realm: "alacarte", dataGb: 50 },
      { transformations: [rec.transformation] },
    );
    expect(await promiseOf(mail.containerName)).toBe("ms-mailserver");
    expect(mail.hostname).toBe("mail.example.org");
    expect(mail.fragmentsDir).toBe("/srv/alacarte/mail/fragments");
    expect(mail.assembleCommand).toBe(assembleCommand("/srv/alacarte/mail/fragments", "/srv/alacarte/mail/config"));
    await settle();

    expect(one("docker:index/remoteImage:RemoteImage").inputs.name).toBe(MAILSERVER_IMAGE);
    const c = plain(one("docker:index/container:Container").inputs);
    expect(c.ports.map((p: any) => p.external)).toEqual([25, 465, 587, 143, 993]);
    expect(c.envs).toContain("ENABLE_QUOTAS=1");
    expect(c.envs).toContain("ENABLE_OAUTH2=1");
    expect(c.envs).toContain("OAUTH2_INTROSPECTION_URL=https://sso.example.org/realms/alacarte/protocol/openid-connect/userinfo");
    expect(c.volumes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ hostPath: "/srv/alacarte/mail/config", containerPath: "/tmp/docker-mailserver" }),
        expect.objectContaining({ volumeName: "ms-mailserver-data", containerPath: "/var/mail" }),
      ]),
    );
    expect(
      byType("docker:index/volume:Volume")
        .map((v) => v.name)
        .sort(),
    ).toEqual(["ms-mailserver-data", "ms-mailserver-logs", "ms-mailserver-state"]);
    expect(rec.get("ms-mailserver-data").opts.protect).toBe(true);
    expect(rec.get("ms-mailserver-data").opts.retainOnDelete).toBe(true);
    expect(rec.get("ms-mailserver").opts.parent).toBe(mail);
  });
});
