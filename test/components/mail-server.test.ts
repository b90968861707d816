import { execFileSync } from "node:child_process";
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  MAIL_FRAGMENT_KINDS,
  MAIL_IMAGE,
  PLATFORM_FRAGMENT,
  assembleCommand,
  dkimRecordOf,
  mailServerEnv,
  printDkimRecord,
  renderPlatformFragment,
} from "../../components/platform/mail-server";
import { renderMailFragmentFile } from "../../components/tenant/mail-domain-config";
import { needTools } from "../helpers/debian-tools";

const GIB = 2 ** 30;

describe("assembleCommand", () => {
  // openssl: the script makes each domain's DKIM key.
  needTools("sh", "awk", "flock", "shellcheck", "openssl");
  const setup = () => {
    const root = mkdtempSync(join(tmpdir(), "alacarte-mail-"));
    const frag = join(root, "fragments");
    const conf = join(root, "config");
    mkdirSync(frag);
    return { root, frag, conf };
  };
  const read = (conf: string) => Object.fromEntries(MAIL_FRAGMENT_KINDS.map(({ file }) => [file, readFileSync(join(conf, file), "utf8")]));

  it("splits the sections of every .mail fragment into the mail image's maps, in byte order", () => {
    const { root, frag, conf } = setup();
    writeFileSync(
      join(frag, "zeta--z.org.mail"),
      renderMailFragmentFile({
        domain: "z.org",
        mailboxes: [{ address: "zoe@z.org", quotaGb: 3, sharedWith: ["yann"] }],
        redirections: [{ from: "hello@z.org", to: ["zoe@z.org"] }],
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
    writeFileSync(join(frag, PLATFORM_FRAGMENT), renderPlatformFragment(["membres.example.org"]));
    // Hand-written: lines before the first marker and unknown sections are skipped, no final newline is fine.
    writeFileSync(
      join(frag, "amis--membres.example.org.mail"),
      "stray@membres.example.org OK\n#> redirections\namis@membres.example.org alice@amis.org\n#> future\nx y\n#> mailboxes\namis2@membres.example.org OK",
    );
    writeFileSync(join(frag, ".amis--amis.org.mail.alacarte-tmp"), "#> mailboxes\nhalf@amis.org OK\n"); // a write in progress
    writeFileSync(join(frag, "notes.txt"), "#> redirections\nignored@x.org y@x.org\n");

    execFileSync("sh", ["-c", assembleCommand({ fragmentsDir: frag })]);

    expect(read(conf)).toEqual({
      domains: "amis.org OK\nz.org OK\nmembres.example.org OK\n",
      mailboxes: "alice@amis.org OK\ncontact@amis.org OK\namis2@membres.example.org OK\nzoe@z.org OK\n",
      users:
        `alice@amis.org:::::::userdb_quota_rule=*:bytes=${5 * GIB}\ncontact@amis.org:::::::userdb_quota_rule=*:bytes=${2 * GIB}\n` +
        `zoe@z.org:::::::userdb_quota_rule=*:bytes=${3 * GIB}\n`,
      senders: "alice@amis.org alice@amis.org,alice\ncontact@amis.org contact@amis.org,alice,bruno\nzoe@z.org zoe@z.org,yann\n",
      logins: "alice@amis.org owner alice\ncontact@amis.org shared alice\ncontact@amis.org shared bruno\nzoe@z.org shared yann\n",
      redirections:
        "bureau@amis.org alice@amis.org,bruno@example.net\n" + "amis@membres.example.org alice@amis.org\n" + "hello@z.org zoe@z.org\n",
    });
    expect(readdirSync(conf).filter((f) => f.includes("alacarte-tmp"))).toEqual([]);
    expect(statSync(join(conf, "users")).mode & 0o777).toBe(0o644);

    // A fragment moved away (tenant or domain removed) disappears from the maps on the next run.
    execFileSync("sh", ["-c", `mv '${join(frag, "zeta--z.org.mail")}' '${root}/' && ${assembleCommand({ fragmentsDir: frag })}`]);
    expect(read(conf).redirections).toBe("bureau@amis.org alice@amis.org,bruno@example.net\namis@membres.example.org alice@amis.org\n");
    expect(read(conf).logins).not.toContain("zoe@z.org");
  });

  it("builds each mailbox's password files from the app-password store, for the logins the fragments allow only", () => {
    const { root, frag, conf } = setup();
    writeFileSync(
      join(frag, "amis--amis.org.mail"),
      renderMailFragmentFile({
        domain: "amis.org",
        mailboxes: [
          { address: "alice@amis.org", quotaGb: 1, owner: "alice" },
          { address: "contact@amis.org", quotaGb: 1, owner: "chloe", sharedWith: ["alice"] },
          { address: "bureau@amis.org", quotaGb: 1, owner: "alice" },
        ],
        redirections: [],
      }),
    );
    const store = join(root, "app-passwords");
    for (const [user, mailbox, hash] of [
      ["alice", "alice@amis.org", "{ARGON2ID}alice-own"],
      ["alice", "contact@amis.org", "{ARGON2ID}alice-shared"],
      ["chloe", "contact@amis.org", "{ARGON2ID}chloe-own"],
      ["bruno", "contact@amis.org", "{ARGON2ID}bruno-not-shared"],
    ] as const) {
      mkdirSync(join(store, user), { recursive: true });
      writeFileSync(join(store, user, mailbox), `${hash}\n`);
    }
    execFileSync("sh", ["-c", assembleCommand({ fragmentsDir: frag })]);
    const passdb = join(conf, "passdb");
    expect(lstatSync(passdb).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(passdb, "owners", "alice@amis.org"), "utf8")).toBe("alice@amis.org:{ARGON2ID}alice-own\n");
    expect(readFileSync(join(passdb, "owners", "contact@amis.org"), "utf8")).toBe("contact@amis.org:{ARGON2ID}chloe-own\n");
    expect(readFileSync(join(passdb, "shared", "contact@amis.org"), "utf8")).toBe("alice:{ARGON2ID}alice-shared\n");
    // The Keycloak password only for an owned mailbox its owner has no app password for.
    expect(readFileSync(join(passdb, "keycloak"), "utf8")).toBe("bureau@amis.org:::::::user=alice noauthenticate\n");
    // What each person opens as themselves: the ACL lines, the dict and the people.
    expect(readFileSync(join(passdb, "acl"), "utf8").split("\n")).toEqual([
      "* owner lrwstipekx",
      "Mailboxes/alice@amis.org user=alice lrwstipekx",
      "Mailboxes/alice@amis.org/* user=alice lrwstipekx",
      "Mailboxes/bureau@amis.org user=alice lrwstipekx",
      "Mailboxes/bureau@amis.org/* user=alice lrwstipekx",
      "Mailboxes/contact@amis.org user=chloe lrwstipekx",
      "Mailboxes/contact@amis.org/* user=chloe lrwstipekx",
      "Mailboxes/contact@amis.org user=alice lrwstipekx",
      "Mailboxes/contact@amis.org/* user=alice lrwstipekx",
      "",
    ]);
    expect(readFileSync(join(passdb, "shared-mailboxes"), "utf8")).toContain("shared/shared-boxes/user/alice/contact@amis.org\n1\n");
    expect(readFileSync(join(passdb, "people"), "utf8")).toBe("alice:::::::\nchloe:::::::\n");
    const before = readlinkSync(passdb);
    // A second run swaps in a new folder and leaves no old one behind.
    execFileSync("sh", ["-c", assembleCommand({ fragmentsDir: frag })]);
    expect(readlinkSync(passdb)).not.toBe(before);
    expect(readdirSync(conf).filter((f) => f.startsWith("passdb.")).length).toBe(1);
  });

  it("leaves the maps untouched when a fragment cannot be read", () => {
    const { frag, conf } = setup();
    writeFileSync(join(frag, "a--a.org.mail"), "#> redirections\nx@a.org y@b.org\n");
    execFileSync("sh", ["-c", assembleCommand({ fragmentsDir: frag, configDir: conf })]);
    // A regular file whose read fails (EIO), whoever runs the test (root reads a chmod 000 file).
    symlinkSync("/proc/self/mem", join(frag, "b--b.org.mail"));
    expect(() => execFileSync("sh", ["-c", assembleCommand({ fragmentsDir: frag, configDir: conf })], { stdio: "pipe" })).toThrow();
    expect(read(conf).redirections).toBe("x@a.org y@b.org\n");
  });

  it("passes shellcheck (Debian's shellcheck, installed by test/setup-debian.sh)", () => {
    expect(() =>
      execFileSync("shellcheck", ["-s", "sh", "--severity=warning", "-"], {
        input: assembleCommand({ fragmentsDir: "/srv/alacarte/mail/fragments" }),
        encoding: "utf8",
      }),
    ).not.toThrow();
  });

  it("writes empty maps when there is no fragment yet", () => {
    const root = mkdtempSync(join(tmpdir(), "alacarte-mail-"));
    execFileSync("sh", ["-c", assembleCommand({ fragmentsDir: join(root, "fragments"), configDir: join(root, "config") })]);
    for (const { file } of MAIL_FRAGMENT_KINDS) expect(readFileSync(join(root, "config", file), "utf8")).toBe("");
  });

  it("defaults the maps and store folders to the fragments folder's siblings", () => {
    expect(assembleCommand({ fragmentsDir: "/srv/alacarte/mail/fragments" })).toBe(
      assembleCommand({
        fragmentsDir: "/srv/alacarte/mail/fragments",
        configDir: "/srv/alacarte/mail/config",
        passwordsDir: "/srv/alacarte/mail/app-passwords",
      }),
    );
    expect(assembleCommand({ fragmentsDir: "/srv/alacarte/mail/fragments" })).toContain("for f in '/srv/alacarte/mail/fragments'/*.mail;");
  });

  it("rejects relative folders", () => expect(() => assembleCommand({ fragmentsDir: "fragments" })).toThrow(/absolute/));
});

describe("a domain's DKIM record", () => {
  it("is made with its key by the assemble script and read back from the fragment command's output", () => {
    const root = mkdtempSync(join(tmpdir(), "alacarte-mail-"));
    const frag = join(root, "fragments");
    mkdirSync(frag);
    writeFileSync(join(frag, "a--a.org.mail"), renderMailFragmentFile({ domain: "a.org", mailboxes: [], redirections: [] }));
    const folders = { fragmentsDir: frag };
    const out = execFileSync("sh", ["-c", `${assembleCommand(folders)}\n${printDkimRecord(folders, "a.org")}`], { encoding: "utf8" });
    const record = dkimRecordOf(out, "a.org")!;
    expect(record).toMatchObject({ name: "alacarte1._domainkey.a.org", type: "TXT" });
    expect(record.value).toMatch(/^v=DKIM1; k=rsa; p=[A-Za-z0-9+/]+=*$/);
    // The key stays where it was made, root's only; a second run keeps it.
    const key = readFileSync(join(root, "config", "dkim", "a.org.key"), "utf8");
    expect(key).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(statSync(join(root, "config", "dkim")).mode & 0o077).toBe(0);
    expect(out).not.toContain("PRIVATE KEY");
    execFileSync("sh", ["-c", assembleCommand(folders)]);
    expect(readFileSync(join(root, "config", "dkim", "a.org.key"), "utf8")).toBe(key);
  });

  it("is undefined before the key exists", () => expect(dkimRecordOf("dkim \n", "a.org")).toBeUndefined());
});

describe("the platform's fragment", () => {
  it("declares only the shared domains, deduplicated and sorted", () =>
    expect(renderPlatformFragment(["B.org", "a.org", "b.org"])).toBe("#> domains\na.org OK\nb.org OK\n"));
  it("sorts after every tenant fragment, so a tenant's line never hides it", () =>
    expect([PLATFORM_FRAGMENT, "zz--z.org.mail", "0a--a.org.mail"].sort()).toEqual([
      "0a--a.org.mail",
      "zz--z.org.mail",
      PLATFORM_FRAGMENT,
    ]));
});

describe("mailServerEnv", () => {
  it("gives the image its hostname and nothing secret", () =>
    expect(mailServerEnv({ hostname: "mail.example.org" })).toEqual({ MAIL_HOSTNAME: "mail.example.org" }));

  it("sends mail out by default, and names the discard transport when the environment keeps its mail in", () => {
    expect(mailServerEnv({ hostname: "mail.example.org", outbound: "deliver" })).toEqual({ MAIL_HOSTNAME: "mail.example.org" });
    expect(mailServerEnv({ hostname: "mail.example.org", outbound: "discard" })).toEqual({
      MAIL_HOSTNAME: "mail.example.org",
      OUTBOUND_TRANSPORT: "discard:outbound-mail-off",
    });
  });
});

describe("MailServer under mocks", () => {
  const host = { name: "mx", address: "mx.infra.example.org", user: "deploy" };

  it("discards mail for other domains where the platform config says so, as staging's does", async () => {
    const { installMocks, one, settle } = await import("../helpers/mocks.js");
    const { plain } = await import("../helpers/options.js");
    const { readPlatformConfig } = await import("../../infra/model/platform-config.js");
    expect(readPlatformConfig("staging").mail.outbound).toBe("discard");
    expect(readPlatformConfig("prod").mail.outbound).toBe("deliver");
    installMocks();
    const mod = await import("../../components/platform/mail-server.js");
    new mod.MailServer("ms3", { host, hostname: "mail.example.org", network: "proxy", sharedDomains: [], dataGb: 5, outbound: "discard" });
    await settle();
    expect(plain(one("docker:index/container:Container", "ms3-mailserver-container").inputs).envs).toContain(
      "OUTBOUND_TRANSPORT=discard:outbound-mail-off",
    );
  });

  it("builds the mail image from the repository and runs it with the mail ports, retained volumes and the maps folder", async () => {
    const { installMocks, one, byType, promiseOf, settle } = await import("../helpers/mocks.js");
    const { optionsRecorder, plain } = await import("../helpers/options.js");
    installMocks();
    const mod = await import("../../components/platform/mail-server.js");
    const rec = optionsRecorder();
    const mail = new mod.MailServer(
      "ms",
      { host, hostname: "mail.example.org", network: "proxy", sharedDomains: ["membres.example.org"], dataGb: 50 },
      { transformations: [rec.transformation] },
    );
    expect(await promiseOf(mail.containerName)).toBe("ms-mailserver");
    expect(mail.hostname).toBe("mail.example.org");
    expect(mail.fragmentsDir).toBe("/srv/alacarte/mail/fragments");
    expect(mail.assembleCommand).toBe(assembleCommand({ fragmentsDir: "/srv/alacarte/mail/fragments" }));
    await settle();

    expect(byType("docker:index/remoteImage:RemoteImage")).toEqual([]);
    const image = plain(one("docker:index/image:Image").inputs);
    expect(image).toMatchObject({ imageName: MAIL_IMAGE, skipPush: true, build: { platform: "linux/amd64" } });
    expect(image.build.context).toMatch(/\/images\/mail$/);
    const c = plain(one("docker:index/container:Container").inputs);
    expect(c.ports.map((p: any) => p.external)).toEqual([25, 465, 587, 143, 993, 4190]);
    expect(c.envs).toEqual(["MAIL_HOSTNAME=mail.example.org"]);
    expect(c.volumes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ hostPath: "/srv/alacarte/mail/config", containerPath: "/etc/alacarte/mail" }),
        expect.objectContaining({ hostPath: "/srv/alacarte/mail/tls", containerPath: "/etc/alacarte/tls" }),
        expect.objectContaining({ volumeName: "ms-mailserver-data", containerPath: "/var/mail" }),
      ]),
    );
    expect(
      byType("docker:index/volume:Volume")
        .map((v) => v.name)
        .sort(),
    ).toEqual(["ms-mailserver-data", "ms-mailserver-queue", "ms-mailserver-state"]);
    // The shared domains, in the platform's own fragment, before the server starts.
    const shared = one("command:remote:Command", "ms-shared-domains-write");
    expect(plain(shared.inputs.stdin)).toBe("#> domains\nmembres.example.org OK\n");
    expect(plain(shared.inputs.create)).toContain(`'/srv/alacarte/mail/fragments/${PLATFORM_FRAGMENT}'`);
    expect(rec.get("ms-mailserver-data").opts.protect).toBe(true);
    expect(rec.get("ms-mailserver-data").opts.retainOnDelete).toBe(true);
    expect(rec.get("ms-mailserver").opts.parent).toBe(mail);
  });

  it("on the proxy's host, reads Traefik's ACME store read-only, and gets the Keycloak client's secret only as a secret", async () => {
    const { installMocks, one, settle } = await import("../helpers/mocks.js");
    const { plain, isSecretInput } = await import("../helpers/options.js");
    installMocks();
    const mod = await import("../../components/platform/mail-server.js");
    new mod.MailServer("ms2", {
      host,
      hostname: "mail.example.org",
      network: "proxy",
      sharedDomains: [],
      dataGb: 50,
      acmeVolumeName: "proxy-traefik-letsencrypt",
      keycloak: {
        tokenUrl: "https://sso.example.org/realms/alacarte/protocol/openid-connect/token",
        introspectionUrl: "https://sso.example.org/realms/alacarte/protocol/openid-connect/token/introspect",
        clientId: "members-mail",
        clientSecret: "s3cret-value",
      },
    });
    await settle();
    const container = one("docker:index/container:Container", "ms2-mailserver-container");
    const c = plain(container.inputs);
    expect(c.volumes).toContainEqual({ volumeName: "proxy-traefik-letsencrypt", containerPath: "/etc/alacarte/acme", readOnly: true });
    // Traefik answers the ACME challenges there: the mail server publishes no port 80.
    expect(c.ports.map((p: any) => p.external)).toEqual([25, 465, 587, 143, 993, 4190]);
    expect(c.envs).toEqual(
      expect.arrayContaining([
        "ACME_JSON=/etc/alacarte/acme/acme.json",
        "ACME_RESOLVER=le",
        "OAUTH2_CLIENT_ID=members-mail",
        "OAUTH2_TOKEN_URL=https://sso.example.org/realms/alacarte/protocol/openid-connect/token",
      ]),
    );
    // The secret reaches the container, and the variables holding it travel as a secret.
    expect(c.envs).toContain("OAUTH2_CLIENT_SECRET=s3cret-value");
    expect(isSecretInput(container.inputs.envs)).toBe(true);
  });

  it("on a host of its own, runs the image's ACME client and publishes port 80 for its HTTP-01 answers", async () => {
    const { installMocks, one, settle } = await import("../helpers/mocks.js");
    const { plain } = await import("../helpers/options.js");
    installMocks();
    const mod = await import("../../components/platform/mail-server.js");
    new mod.MailServer("ms3", {
      host,
      hostname: "mail.example.org",
      network: "alacarte",
      sharedDomains: [],
      dataGb: 50,
      acmeClient: { acmeDirectory: mod.LETS_ENCRYPT_DIRECTORY, email: "ops@example.org" },
    });
    await settle();
    const c = plain(one("docker:index/container:Container", "ms3-mailserver-container").inputs);
    expect(c.ports.map((p: any) => p.external)).toEqual([25, 465, 587, 143, 993, 4190, 80]);
    expect(c.envs).toEqual(
      expect.arrayContaining(["ACME_DIRECTORY=https://acme-v02.api.letsencrypt.org/directory", "ACME_EMAIL=ops@example.org"]),
    );
    expect(c.envs.some((e: string) => e.startsWith("ACME_JSON="))).toBe(false);
  });
});
