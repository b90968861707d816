import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  MAILSERVER_IMAGE,
  assembleCommand,
  mailServerEnv,
  oauth2IntrospectionUrl,
} from "../../components/platform/mail-server";

describe("assembleCommand", () => {
  it("concatenates every fragment kind into docker-mailserver's files, in byte order", () => {
    const root = mkdtempSync(join(tmpdir(), "alacarte-mail-"));
    const frag = join(root, "fragments");
    const conf = join(root, "config");
    mkdirSync(frag);
    writeFileSync(join(frag, "zeta--z.org.virtual"), "hello@z.org a@z.org\n");
    writeFileSync(join(frag, "amis--amis.org.virtual"), "bureau@amis.org alice@amis.org,bruno@example.net"); // no final newline
    writeFileSync(join(frag, "amis--amis.org.accounts"), "alice@amis.org|{SHA512-CRYPT}!\n");
    writeFileSync(join(frag, "amis--amis.org.quotas"), "alice@amis.org:5G\n");
    writeFileSync(join(frag, ".amis--amis.org.quotas.alacarte-tmp"), "half@amis.org:1G\n"); // a write in progress
    writeFileSync(join(frag, "notes.txt"), "ignored\n");

    execFileSync("sh", ["-c", assembleCommand(frag, conf)]);

    expect(readFileSync(join(conf, "postfix-virtual.cf"), "utf8")).toBe(
      "bureau@amis.org alice@amis.org,bruno@example.net\nhello@z.org a@z.org\n",
    );
    expect(readFileSync(join(conf, "postfix-accounts.cf"), "utf8")).toBe("alice@amis.org|{SHA512-CRYPT}!\n");
    expect(readFileSync(join(conf, "dovecot-quotas.cf"), "utf8")).toBe("alice@amis.org:5G\n");
    expect(existsSync(join(conf, "postfix-virtual.cf.alacarte-tmp"))).toBe(false);

    // A fragment moved away (tenant removed) disappears from the maps on the next run.
    execFileSync("sh", ["-c", `mv '${join(frag, "zeta--z.org.virtual")}' '${root}/' && ${assembleCommand(frag, conf)}`]);
    expect(readFileSync(join(conf, "postfix-virtual.cf"), "utf8")).toBe("bureau@amis.org alice@amis.org,bruno@example.net\n");
  });

  it("writes empty maps when there is no fragment yet", () => {
    const root = mkdtempSync(join(tmpdir(), "alacarte-mail-"));
    execFileSync("sh", ["-c", assembleCommand(join(root, "fragments"), join(root, "config"))]);
    expect(readFileSync(join(root, "config", "dovecot-quotas.cf"), "utf8")).toBe("");
  });

  it("defaults the config folder to the fragments folder's sibling", () => {
    expect(assembleCommand("/srv/alacarte/mail/fragments")).toBe(
      assembleCommand("/srv/alacarte/mail/fragments", "/srv/alacarte/mail/config"),
    );
    expect(assembleCommand("/srv/alacarte/mail/fragments")).toContain(
      "assemble '/srv/alacarte/mail/fragments' '/srv/alacarte/mail/config'/postfix-virtual.cf virtual",
    );
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

  it("pins an exact 15.x image", () =>
    expect(MAILSERVER_IMAGE).toMatch(/^ghcr\.io\/docker-mailserver\/docker-mailserver:15\.\d+\.\d+$/));
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
    expect(byType("docker:index/volume:Volume").map((v) => v.name).sort()).toEqual([
      "ms-mailserver-data",
      "ms-mailserver-logs",
      "ms-mailserver-state",
    ]);
    expect(rec.get("ms-mailserver-data").opts.protect).toBe(true);
    expect(rec.get("ms-mailserver-data").opts.retainOnDelete).toBe(true);
    expect(rec.get("ms-mailserver").opts.parent).toBe(mail);
  });
});
