import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import * as net from "node:net";
import * as tls from "node:tls";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import nodemailer from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateTenantSet } from "../bench/generate";
import { assembleCommand, mailServerEnv, PLATFORM_FRAGMENT, renderPlatformFragment } from "../components/platform/mail-server";
import { loadTenantText } from "../infra/contract/load";
import { mailFragmentPath, renderMailFragmentFile, type MailFragmentsInput } from "../components/tenant/mail-domain-config";
import { MAIL_CLIENT_ID, MAIL_ROLE } from "../components/platform/sso-realm";
import { needTools, requireTool } from "./helpers/debian-tools";
import { freePort, lineReader, waitForPort } from "./helpers/loopback";
import { type PasswordGrantAccount, type PasswordGrantFake, startPasswordGrantFake } from "./helpers/keycloak-password-grant-fake";

/**
 * The mail image's own configuration (images/mail: Postfix's main.cf and master.cf, Dovecot's
 * dovecot.conf, rspamd's local.d and override.d, entrypoint.sh), started by its own entrypoint with
 * Debian 12's Postfix, Dovecot, OpenDKIM, postsrsd and rspamd
 * on loopback ports in a scratch folder, fed by the assemble script from tenant fragments as on the
 * mail host. Mail goes in with swaks; sign-ins are checked with doveadm auth.
 */

const ROOT = resolve(__dirname, "..");
const execFileAsync = promisify(execFile);
const ENTRYPOINT = join(ROOT, "images/mail/entrypoint.sh");

const AMIS: MailFragmentsInput = {
  domain: "amis.org",
  mailboxes: [
    { address: "alice@amis.org", quotaGb: 1, owner: "alice" },
    { address: "contact@amis.org", quotaGb: 2, owner: "chloe", sharedWith: ["alice"] },
    { address: "a+b@amis.org", quotaGb: 1 },
    { address: "info@amis.org", quotaGb: 3 },
    { address: "contact-info@amis.org", quotaGb: 20 },
    { address: "gaston@amis.org", quotaGb: 1, owner: "gaston" },
    // Owned by people with no app password for them: their Keycloak password opens them.
    { address: "elise@amis.org", quotaGb: 1, owner: "elise" },
    { address: "tresorerie@amis.org", quotaGb: 1, owner: "chloe" },
  ],
  redirections: [
    { from: "bureau@amis.org", to: ["alice@amis.org", "contact@amis.org", "outside@example.net"] },
    { from: "solo@amis.org", to: ["alice@amis.org"] },
  ],
};
/** A tenant's address on a platform's shared domain. */
const SHARED: MailFragmentsInput = {
  domain: "lautre.example.org",
  mailboxes: [{ address: "dominique@lautre.example.org", quotaGb: 1, owner: "dominique" }],
  redirections: [],
};

const PASSWORDS = {
  "alice/alice@amis.org": "alice-phone-1",
  "chloe/contact@amis.org": "chloe-laptop",
  "alice/contact@amis.org": "alice-for-contact",
  "bruno/contact@amis.org": "bruno-never-shared",
  "dominique/dominique@lautre.example.org": "dominique-pw",
};

/** The realm's accounts (their Keycloak passwords), as the fake token endpoint knows them. */
const ACCOUNTS: PasswordGrantAccount[] = [
  { username: "alice", email: "alice@elsewhere.example", password: "alice-keycloak", roles: [MAIL_ROLE] },
  // Compulsory second factor (a tenant admin): Dovecot sends no one-time code.
  { username: "chloe", email: "chloe@elsewhere.example", password: "chloe-keycloak", roles: [MAIL_ROLE], secondFactorRequired: true },
  { username: "dominique", email: "dominique@elsewhere.example", password: "dominique-keycloak", roles: [MAIL_ROLE] },
  { username: "elise", email: "elise@elsewhere.example", password: "elise-keycloak", roles: [MAIL_ROLE] },
  // Whose email is a redirection's address: Keycloak would sign him in by it.
  { username: "bruno", email: "solo@amis.org", password: "bruno-keycloak", roles: [MAIL_ROLE] },
  // An owner no tenant has as a member (no member-mail role).
  { username: "gaston", email: "gaston@elsewhere.example", password: "gaston-keycloak", roles: [] },
];
const MAIL_CLIENT = { clientId: MAIL_CLIENT_ID, secret: "mail-client-secret", directAccessGrantsEnabled: true, gateRole: MAIL_ROLE };

/** An access token of the members-mail client for an account, from the token endpoint (as the webmail gets one). */
async function accessToken(tokenUrl: string, username: string): Promise<string> {
  const account = ACCOUNTS.find((a) => a.username === username)!;
  const answer = await fetch(tokenUrl, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "password",
      username,
      password: account.password,
      client_id: MAIL_CLIENT.clientId,
      client_secret: MAIL_CLIENT.secret,
    }),
  });
  return ((await answer.json()) as { access_token: string }).access_token;
}

/**
 * An IMAP session over TLS (the server's certificate is the test's self-signed one): each command
 * gets its tagged answer and the untagged lines before it.
 */
async function imapSession(port: number, localAddress = "127.0.0.1") {
  const socket = tls.connect({ socket: net.connect({ host: "127.0.0.1", port, localAddress }), rejectUnauthorized: false });
  const untilLine = lineReader(socket);
  await untilLine((l) => l.startsWith("* OK"));
  let n = 0;
  return {
    /** The command's lines; the last is its tagged answer. */
    async run(command: string): Promise<string[]> {
      const tag = `t${++n}`;
      socket.write(`${tag} ${command}\r\n`);
      const lines: string[] = [];
      for (;;) {
        lines.push(...(await untilLine((l) => l.startsWith(`${tag} `) || l.startsWith("+"))));
        if (!lines.at(-1)!.startsWith("+")) return lines;
        // A refused XOAUTH2 answers with a challenge (its error) that the client ends with an empty line.
        socket.write("\r\n");
      }
    },
    /** APPEND with a synchronizing literal: the message is sent once the server asks for it. */
    async append(mailbox: string, message: string): Promise<string[]> {
      const tag = `t${++n}`;
      socket.write(`${tag} APPEND "${mailbox}" {${Buffer.byteLength(message)}}\r\n`);
      await untilLine((l) => l.startsWith("+") || l.startsWith(`${tag} `));
      socket.write(`${message}\r\n`);
      return untilLine((l) => l.startsWith(`${tag} `));
    },
    close: () => socket.destroy(),
  };
}

/** A ManageSieve session (RFC 5804) on loopback, where Dovecot takes a password without TLS: each command's lines up to its OK, NO or BYE. */
async function manageSieveSession(port: number) {
  const socket = net.connect({ host: "127.0.0.1", port });
  const untilLine = lineReader(socket);
  const answer = () => untilLine((l) => /^(OK|NO|BYE)\b/.test(l));
  await answer();
  return {
    async run(command: string): Promise<string[]> {
      socket.write(`${command}\r\n`);
      return answer();
    },
    close: () => socket.destroy(),
  };
}

/**
 * A resolver on loopback that knows no name: it answers every query at once with NXDOMAIN (RFC 1035
 * 4.1.1: the query's header and question, QR set, RCODE 3, no other record), so rspamd's SPF, DKIM,
 * DMARC and blocklist lookups end at once here, with no network, as they would for names with no
 * records. Its own process: the test's mail goes through swaks synchronously, which holds this
 * one's event loop while rspamd waits for an answer.
 */
const NO_NAME_RESOLVER = `
const socket = require("node:dgram").createSocket("udp4");
socket.on("message", (query, from) => {
  if (query.length < 12) return;
  // The question: labels up to the root's empty one, then QTYPE and QCLASS.
  let end = 12;
  while (end < query.length && query[end] !== 0) end += query[end] + 1;
  end += 5;
  if (end > query.length) return;
  const answer = Buffer.from(query.subarray(0, end));
  answer[2] = 0x80 | (query[2] & 0x79); // QR, the query's opcode and RD
  answer[3] = 0x80 | 3; // RA, NXDOMAIN
  answer.writeUInt16BE(1, 4);
  answer.fill(0, 6, 12);
  socket.send(answer, from.port, from.address);
});
socket.bind(0, "127.0.0.1", () => console.log(socket.address().port));
`;

async function startNoNameResolver(): Promise<{ process: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ["-e", NO_NAME_RESOLVER], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once("exit", (code) => reject(new Error(`the test's resolver exited (${code})`)));
  });
  return { process: child, port };
}

describe("the mail image's Postfix and Dovecot (Debian 12), end to end", () => {
  needTools(
    "bash",
    "chown",
    "awk",
    "flock",
    "openssl",
    "postfix",
    "postmap",
    "dovecot",
    "doveadm",
    "swaks",
    "/usr/lib/dovecot/lmtp",
    "/usr/lib/dovecot/imap",
    "/usr/lib/dovecot/managesieve",
    "sievec",
    "opendkim",
    "postsrsd",
    "perl",
    "dkimverify",
    "rspamd",
    "rspamadm",
  );

  let root = "";
  let dkimRun = "";
  let env: NodeJS.ProcessEnv = {};
  let server: ChildProcess | undefined;
  let smtpPort = 0;
  let submissionPort = 0;
  let imapsPort = 0;
  let submissionsPort = 0;
  let sievePort = 0;
  let rspamdMilterPort = 0;
  let resolver: { process: ChildProcess; port: number } | undefined;
  let output = "";
  let keycloak: PasswordGrantFake | undefined;
  const dirs = { fragments: "", maps: "", passwords: "", mail: "" };

  const doveadm = (...args: string[]) =>
    execFileSync(requireTool("doveadm"), ["-c", join(root, "dovecot/dovecot.conf"), ...args], { encoding: "utf8", stdio: "pipe" });
  /** doveadm without blocking the event loop: the fake token endpoint answers in this process. */
  const doveadmAsync = async (...args: string[]) =>
    (await execFileAsync(requireTool("doveadm"), ["-c", join(root, "dovecot/dovecot.conf"), ...args], { encoding: "utf8" })).stdout;
  // Each check from an address of its own: Dovecot delays failures per client address, up to 15 s
  // (src/auth/auth-penalty.h), which would only slow the next check here.
  let clientAddress = 0;
  const signsIn = async (user: string, password: string) => {
    clientAddress++;
    try {
      await doveadmAsync("auth", "test", "-x", `rip=10.0.${clientAddress >> 8}.${clientAddress & 255}`, user, password);
      return true;
    } catch {
      return false;
    }
  };
  /** swaks to one recipient; the SMTP transcript. */
  const send = (to: string, body = "hello", subject = "test") => {
    try {
      return execFileSync(
        requireTool("swaks"),
        [
          ...[
            "--server",
            `127.0.0.1:${smtpPort}`,
            "--from",
            "sender@example.net",
            "--to",
            to,
            "--body",
            body,
            "--helo",
            "test.example.net",
          ],
          ...["--header", `Subject: ${subject}`],
        ],
        { encoding: "utf8", stdio: "pipe" },
      );
    } catch (e) {
      return `${(e as { stdout?: string }).stdout ?? ""}`;
    }
  };
  const messages = (address: string): number => {
    const [local, domain] = address.split("@");
    try {
      return readdirSync(join(dirs.mail, domain!, local!, "Maildir", "new")).length;
    } catch {
      return 0;
    }
  };
  const readdirSafe = (dir: string) => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  };
  const assemble = () =>
    execFileSync(requireTool("bash"), [
      "-c",
      assembleCommand({ fragmentsDir: dirs.fragments, configDir: dirs.maps, passwordsDir: dirs.passwords }),
    ]);
  /** Waits for the entrypoint's watcher to build the tables (every second here). */
  const settle = () => new Promise((r) => setTimeout(r, 2500));
  const untilAsync = async (what: () => Promise<boolean>, seconds = 15) => {
    const deadline = Date.now() + seconds * 1000;
    while (!(await what())) {
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 300));
    }
    return true;
  };
  const until = async (what: () => boolean, seconds = 10) => {
    const deadline = Date.now() + seconds * 1000;
    while (!what()) {
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 200));
    }
    return true;
  };

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "alacarte-mail-e2e-"));
    dkimRun = mkdtempSync("/run/alacarte-opendkim-");
    chmodSync(dkimRun, 0o755);
    // Postfix's and Dovecot's own users work below it, as in the image's folders.
    chmodSync(root, 0o755);
    Object.assign(dirs, {
      fragments: join(root, "fragments"),
      maps: join(root, "maps"),
      passwords: join(root, "app-passwords"),
      mail: join(root, "mail"),
    });
    mkdirSync(dirs.fragments);
    smtpPort = await freePort();
    submissionPort = await freePort();
    rspamdMilterPort = await freePort();
    resolver = await startNoNameResolver();
    const ports = {
      submission: submissionPort,
      submissions: await freePort(),
      imap: await freePort(),
      imaps: await freePort(),
      sieve: await freePort(),
    };
    imapsPort = ports.imaps;
    submissionsPort = ports.submissions;
    sievePort = ports.sieve;
    keycloak = await startPasswordGrantFake({ realm: "alacarte", clients: [MAIL_CLIENT], accounts: ACCOUNTS });
    env = {
      // The daemons live in sbin, which a test runner's PATH may leave out (the image's root PATH has it).
      PATH: `${process.env.PATH}:/usr/local/sbin:/usr/sbin:/sbin`,
      MAIL_HOSTNAME: "mail.example.org",
      MAIL_MAPS: dirs.maps,
      MAIL_ROOT: dirs.mail,
      TLS_CERT: join(root, "tls/fullchain.pem"),
      TLS_KEY: join(root, "tls/privkey.pem"),
      // Traefik's store, absent at start as before the proxy's first certificate.
      ACME_JSON: join(root, "acme/acme.json"),
      ACME_RESOLVER: "le",
      TEMPLATES: join(ROOT, "images/mail"),
      POSTFIX_CONF: join(root, "postfix"),
      DOVECOT_CONF: join(root, "dovecot"),
      POSTFIX_QUEUE: join(root, "spool"),
      POSTFIX_DATA: join(root, "postfix-data"),
      POSTFIX_LOG: join(root, "postfix.log"),
      DOVECOT_RUN: join(root, "run"),
      DOVECOT_STATE: join(root, "state"),
      DOVECOT_LOG: join(root, "dovecot.log"),
      LISTEN: "127.0.0.1",
      INET_PROTOCOLS: "ipv4",
      SMTP_LISTEN: `127.0.0.1:${smtpPort}`,
      SUBMISSION_LISTEN: `127.0.0.1:${ports.submission}`,
      SUBMISSIONS_LISTEN: `127.0.0.1:${ports.submissions}`,
      IMAP_PORT: String(ports.imap),
      IMAPS_PORT: String(ports.imaps),
      SIEVE_PORT: String(ports.sieve),
      INTERNAL_SMTP_LISTEN: `127.0.0.1:${await freePort()}`,
      VMAIL_USER: "nobody",
      VMAIL_GROUP: "nogroup",
      WATCH_SECONDS: "1",
      OPENDKIM_CONF: join(root, "opendkim"),
      // OpenDKIM refuses a key below a folder others may write (RequireSafeKeys checks every parent; /tmp is one).
      OPENDKIM_RUN: dkimRun,
      OPENDKIM_PORT: String(await freePort()),
      SRS_FORWARD_PORT: String(await freePort()),
      SRS_REVERSE_PORT: String(await freePort()),
      SRS_PIDFILE: join(dkimRun, "postsrsd.pid"),
      // Small limits, reached by the test (the image's are 300 and 1,500 recipients an hour).
      RATE_PER_MAILBOX: "4",
      RATE_PER_DOMAIN: "6",
      ...mailServerEnv({ hostname: "mail.example.org", keycloak }),
      OAUTH2_CLIENT_ID: MAIL_CLIENT.clientId,
      OAUTH2_CLIENT_SECRET: MAIL_CLIENT.secret,
      RSPAMD_CONF: join(root, "rspamd"),
      RSPAMD_RUN: join(root, "rspamd-run"),
      RSPAMD_DB: join(root, "rspamd-db"),
      RSPAMD_MILTER_PORT: String(rspamdMilterPort),
      // No network here: rspamd asks the loopback resolver above, which knows no name.
      RSPAMD_DNS_SERVERS: `127.0.0.1:${resolver.port}`,
      // The add-header GTUBE-like pattern, for the Junk case (never in production).
      RSPAMD_TEST_PATTERNS: "true",
    };
    // Started with no map and no certificate at all: the platform before its first tenant.
    server = spawn(requireTool("bash"), [ENTRYPOINT, "start"], { env, stdio: ["ignore", "pipe", "pipe"] });
    server.stdout!.on("data", (d: Buffer) => {
      output += d.toString();
    });
    server.stderr!.on("data", (d: Buffer) => {
      output += d.toString();
    });
    await waitForPort(smtpPort, 30).catch((e: Error) => {
      throw new Error(`${e.message}; the entrypoint said:\n${output}`);
    });
  }, 60_000);

  afterAll(async () => {
    // The entrypoint stops its servers on SIGTERM; wait for it, then for anything it left.
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server!.once("exit", resolve));
      server.kill("SIGTERM");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    }
    for (const pidfile of [join(dkimRun, "opendkim.pid"), join(dkimRun, "postsrsd.pid"), join(root, "rspamd-run", "rspamd.pid")]) {
      try {
        process.kill(Number(readFileSync(pidfile, "utf8")), "SIGTERM");
      } catch {
        // Stopped by the entrypoint already.
      }
    }
    resolver?.process.kill();
    if (dkimRun && !process.env.KEEP_MAIL_E2E) rmSync(dkimRun, { recursive: true, force: true });
    try {
      execFileSync(requireTool("postfix"), ["-c", join(root, "postfix"), "stop"], { stdio: "ignore" });
    } catch {
      // Stopped by the entrypoint already.
    }
    try {
      doveadm("stop");
    } catch {
      // Stopped by the entrypoint already.
    }
    await keycloak?.close();
    // KEEP_MAIL_E2E=1 keeps the folders (logs, maps, mailboxes) to look into after a failure, with
    // what the entrypoint and rspamd printed.
    if (root && process.env.KEEP_MAIL_E2E) writeFileSync(join(root, "entrypoint.log"), output);
    if (root && !process.env.KEEP_MAIL_E2E) rmSync(root, { recursive: true, force: true });
  });

  it("starts and answers with no mailbox and no certificate yet, refusing every recipient", () => {
    expect(output).toContain("a temporary self-signed one");
    expect(send("alice@amis.org")).toMatch(/<\*\* 5\d\d /);
  });

  it("delivers to every mailbox and every redirection target once the fragments are assembled, without a restart", async () => {
    writeFileSync(mailFragmentPath(dirs.fragments, "amis", "amis.org"), renderMailFragmentFile(AMIS));
    writeFileSync(mailFragmentPath(dirs.fragments, "dominique", SHARED.domain), renderMailFragmentFile({ ...SHARED, shared: true }));
    writeFileSync(join(dirs.fragments, PLATFORM_FRAGMENT), renderPlatformFragment(["lautre.example.org"]));
    for (const [key, password] of Object.entries(PASSWORDS)) {
      mkdirSync(join(dirs.passwords, key.split("/")[0]!), { recursive: true });
      writeFileSync(join(dirs.passwords, key), `${doveadm("pw", "-s", "ARGON2ID", "-p", password).trim()}\n`);
    }
    assemble();
    await settle();

    for (const address of ["alice@amis.org", "contact@amis.org", "a+b@amis.org", "info@amis.org", "dominique@lautre.example.org"]) {
      expect(send(address), address).toContain("<-  250 2.0.0 Ok: queued");
    }
    expect(send("bureau@amis.org")).toContain("<-  250 2.0.0 Ok: queued");
    expect(await until(() => messages("alice@amis.org") === 2 && messages("contact@amis.org") === 2)).toBe(true);
    expect(messages("a+b@amis.org")).toBe(1);
    expect(messages("dominique@lautre.example.org")).toBe(1);
  });

  it("refuses an address nobody declared, on a tenant's and on a shared domain", () => {
    expect(send("nobody@amis.org")).toContain("550 5.1.1 <nobody@amis.org>: Recipient address rejected");
    expect(send("someone@lautre.example.org")).toContain("550 5.1.1 <someone@lautre.example.org>: Recipient address rejected");
  });

  it("gives each mailbox exactly its own quota (info@ is not contact-info@)", () => {
    const quota = (user: string) => doveadm("user", "-f", "quota_rule", user).trim();
    expect(quota("info@amis.org")).toBe(`*:bytes=${3 * 2 ** 30}`);
    expect(quota("contact-info@amis.org")).toBe(`*:bytes=${20 * 2 ** 30}`);
    expect(quota("a+b@amis.org")).toBe(`*:bytes=${2 ** 30}`);
  });

  it("refuses mail for a full mailbox at RCPT with a clear code", () => {
    // Maildir++ quota (the image's backend): the mailbox's own usage file says it is full.
    const maildir = join(dirs.mail, "amis.org", "info", "Maildir");
    mkdirSync(maildir, { recursive: true });
    writeFileSync(join(maildir, "maildirsize"), `${3 * 2 ** 30}S\n${3 * 2 ** 30} 1\n`);
    execFileSync("chown", ["-R", "nobody:nogroup", join(dirs.mail, "amis.org", "info")]);
    expect(send("info@amis.org")).toContain("<** 552 5.2.2 <info@amis.org>: Recipient address rejected: Mailbox is full");
    // Its neighbour with the longer name keeps its own, larger room.
    expect(send("contact-info@amis.org")).toContain("<-  250 2.0.0 Ok: queued");
  });

  it("never makes a redirection a user or a login", async () => {
    expect(() => doveadm("user", "solo@amis.org")).toThrow();
    expect(() => doveadm("user", "bureau@amis.org")).toThrow();
    expect(await signsIn("solo@amis.org", PASSWORDS["alice/alice@amis.org"])).toBe(false);
  });

  it("signs the owner in with their app password for the mailbox, whatever their own email", async () => {
    expect(await signsIn("alice@amis.org", PASSWORDS["alice/alice@amis.org"])).toBe(true);
    expect(await signsIn("alice@amis.org", "wrong")).toBe(false);
    expect(await signsIn("dominique@lautre.example.org", PASSWORDS["dominique/dominique@lautre.example.org"])).toBe(true);
    expect(await signsIn("contact@amis.org", PASSWORDS["chloe/contact@amis.org"])).toBe(true);
    // One person's app password opens only the mailbox it was made for.
    expect(await signsIn("alice@amis.org", PASSWORDS["alice/contact@amis.org"])).toBe(false);
  });

  it("signs an owner in with their Keycloak password through the password grant, into the mailbox, whatever their own email", async () => {
    const before = keycloak!.grants.length;
    const login = await doveadmAsync("auth", "login", "elise@amis.org", "elise-keycloak");
    // The session is the mailbox's (pass_attrs gives the user back), with the mailbox's own quota.
    expect(login).toMatch(/^\s*user=elise@amis\.org$/m);
    expect(login).toContain(`quota_rule=*:bytes=${2 ** 30}`);
    expect(keycloak!.grants.slice(before)).toEqual([{ username: "elise", outcome: "token" }]);
  });

  it("once the owner has an app password for a mailbox, opens it by app passwords only: a stale one never reaches Keycloak", async () => {
    const before = keycloak!.grants.length;
    expect(await signsIn("alice@amis.org", "alice-keycloak")).toBe(false);
    expect(await signsIn("alice@amis.org", "an-old-app-password")).toBe(false);
    expect(await signsIn("dominique@lautre.example.org", "dominique-keycloak")).toBe(false);
    expect(await signsIn("alice@amis.org", PASSWORDS["alice/alice@amis.org"])).toBe(true);
    expect(keycloak!.grants.slice(before)).toEqual([]);
  });

  it("refuses a wrong Keycloak password, an account with a second factor, and an owner the member-mail gate refuses", async () => {
    const before = keycloak!.grants.length;
    expect(await signsIn("elise@amis.org", "elise-wrong")).toBe(false);
    expect(await signsIn("tresorerie@amis.org", "chloe-keycloak")).toBe(false);
    expect(await signsIn("gaston@amis.org", "gaston-keycloak")).toBe(false);
    expect(keycloak!.grants.slice(before)).toEqual([
      { username: "elise", outcome: "401 invalid_grant: Invalid user credentials" },
      { username: "chloe", outcome: "401 invalid_grant: Invalid user credentials" },
      { username: "gaston", outcome: "401 access denied (gate)" },
    ]);
    expect(keycloak!.failures.get("elise")).toBe(1);
  });

  it("sends Keycloak only an owner's username: never a mailbox with no owner, a redirection, or a member a mailbox is shared with", async () => {
    const before = keycloak!.grants.length;
    // bruno's Keycloak email is solo@amis.org, a redirection: Keycloak would have signed him in by it.
    expect(await signsIn("solo@amis.org", "bruno-keycloak")).toBe(false);
    expect(await signsIn("info@amis.org", "bruno-keycloak")).toBe(false);
    expect(await signsIn("contact@amis.org*alice", "alice-keycloak")).toBe(false);
    // Any password for an owned mailbox is the owner's to Keycloak: alice's opens nothing of chloe's.
    expect(await signsIn("tresorerie@amis.org", "alice-keycloak")).toBe(false);
    expect(keycloak!.grants.slice(before)).toEqual([{ username: "chloe", outcome: "401 invalid_grant: Invalid user credentials" }]);
  });

  it("opens to a person signed in with a Keycloak token (the webmail) every mailbox they own or share, and no other", async () => {
    const xoauth2 = (user: string, token: string) => Buffer.from(`user=${user}\x01auth=Bearer ${token}\x01\x01`).toString("base64");
    const session = await imapSession(imapsPort);
    try {
      expect(
        (await session.run(`AUTHENTICATE XOAUTH2 ${xoauth2("alice", await accessToken(keycloak!.tokenUrl, "alice"))}`)).at(-1),
      ).toMatch(/^t1 OK/);
      const listed = (await session.run('LIST "Mailboxes/" "%"')).filter((l) => l.startsWith("* LIST")).map((l) => l.split(" ").at(-1));
      expect(listed.sort()).toEqual(["Mailboxes/alice@amis.org", "Mailboxes/contact@amis.org"]);
      expect((await session.run('SELECT "Mailboxes/contact@amis.org"')).at(-1)).toMatch(/^t3 OK/);
      expect((await session.run('SELECT "Mailboxes/info@amis.org"')).at(-1)).toMatch(/^t4 NO/);
      expect((await session.run('SELECT "Mailboxes/dominique@lautre.example.org"')).at(-1)).toMatch(/^t5 NO/);
      // What the person files there is in the mailbox's own folder, which its owner's phone reads.
      const maildir = join(dirs.mail, "amis.org", "contact", "Maildir");
      const stored = () => readdirSafe(join(maildir, "new")).length + readdirSafe(join(maildir, "cur")).length;
      const before = stored();
      const message = "Subject: filed from the webmail\r\n\r\nhello\r\n";
      expect((await session.append("Mailboxes/contact@amis.org", message)).at(-1)).toMatch(/^t6 OK/);
      expect(stored()).toBe(before + 1);
    } finally {
      session.close();
    }
    // A token nobody issued, or one for another person than the login, opens nothing. From an
    // address of its own: Dovecot then slows every sign-in from the address that failed (up to
    // 15 s, src/auth/auth-penalty.h), which would slow the tests after this one.
    const forged = await imapSession(imapsPort, "127.0.0.2");
    try {
      expect((await forged.run(`AUTHENTICATE XOAUTH2 ${xoauth2("alice", "forged-token")}`)).at(-1)).toMatch(/^t1 NO/);
      const dominique = await accessToken(keycloak!.tokenUrl, "dominique");
      expect((await forged.run(`AUTHENTICATE XOAUTH2 ${xoauth2("alice", dominique)}`)).at(-1)).toMatch(/^t2 NO/);
      // And never with a mailbox's address as the login.
      expect((await forged.run(`AUTHENTICATE XOAUTH2 ${xoauth2("dominique@lautre.example.org", dominique)}`)).at(-1)).toMatch(/^t3 NO/);
    } finally {
      forged.close();
    }
  });

  it("lets a person signed in with a token send as the mailboxes they own or share, not as another", async () => {
    const client = nodemailer.createTransport({
      host: "127.0.0.1",
      port: submissionPort,
      requireTLS: true,
      tls: { rejectUnauthorized: false },
      auth: { type: "OAuth2", user: "alice", accessToken: await accessToken(keycloak!.tokenUrl, "alice") },
    });
    const sent = await client.sendMail({ from: "contact@amis.org", to: "alice@amis.org", subject: "as contact", text: "x" });
    expect(sent.response).toMatch(/^250 2\.0\.0 Ok: queued/);
    await expect(client.sendMail({ from: "info@amis.org", to: "alice@amis.org", subject: "spoof", text: "x" })).rejects.toThrow(
      /553 5\.7\.1 <info@amis\.org>: Sender address rejected: not owned by user alice/,
    );
  });

  it("opens a shared mailbox to a member it is shared with, by their own app password, and to nobody else", async () => {
    expect(await signsIn("contact@amis.org*alice", PASSWORDS["alice/contact@amis.org"])).toBe(true);
    // bruno has a hash in the store, but the tenant file does not share the mailbox with him.
    expect(await signsIn("contact@amis.org*bruno", PASSWORDS["bruno/contact@amis.org"])).toBe(false);
    expect(await signsIn("alice@amis.org*alice", PASSWORDS["alice/contact@amis.org"])).toBe(false);
    expect(await signsIn("contact@amis.org*alice", PASSWORDS["chloe/contact@amis.org"])).toBe(false);
  });

  it("DKIM-signs what a signed-in client sends, with its domain's key made on the host, as dkimpy verifies against the published record", async () => {
    // The watcher picked the key up; a client signs in on submission (STARTTLS) with an app password.
    const record = readFileSync(join(dirs.maps, "dkim", "amis.org.dns"), "utf8").trim();
    expect(record).toMatch(/^v=DKIM1; k=rsa; p=[A-Za-z0-9+/=]{300,}$/);
    expect(statSync(join(dirs.maps, "dkim", "amis.org.key")).mode & 0o077).toBe(0);
    const before = messages("contact@amis.org");
    // A mail client: STARTTLS (the temporary certificate), then AUTH PLAIN, as Thunderbird does.
    const client = nodemailer.createTransport({
      host: "127.0.0.1",
      port: submissionPort,
      secure: false,
      requireTLS: true,
      tls: { rejectUnauthorized: false },
      auth: { user: "alice@amis.org", pass: PASSWORDS["alice/alice@amis.org"] },
    });
    const sent = await client.sendMail({ from: "alice@amis.org", to: "contact@amis.org", subject: "signed", text: "signed body" });
    expect(sent.response).toMatch(/^250 2\.0\.0 Ok: queued/);
    // Sending as another address than the mailbox signed in is refused.
    await expect(client.sendMail({ from: "contact@amis.org", to: "contact@amis.org", subject: "spoof", text: "x" })).rejects.toThrow(
      /553 5\.7\.1 <contact@amis\.org>: Sender address rejected: not owned by user alice@amis\.org/,
    );
    expect(await until(() => messages("contact@amis.org") === before + 1)).toBe(true);
    const dir = join(dirs.mail, "amis.org", "contact", "Maildir", "new");
    const signed = readdirSync(dir)
      .map((f) => readFileSync(join(dir, f), "utf8"))
      .find((m) => m.includes("Subject: signed"))!;
    expect(signed).toMatch(/^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/simple; d=amis\.org;\s+s=alacarte1;/m);
    // dkimpy (Debian's python3-dkim), its DNS answered with the record the plan would publish.
    const verify = `import dkim, sys\nrecord = open(sys.argv[1], "rb").read().strip()\nok = dkim.verify(sys.stdin.buffer.read(), dnsfunc=lambda name, timeout=5: record if name == b"alacarte1._domainkey.amis.org." else None)\nprint("pass" if ok else "fail")`;
    const python = resolve(dirname(requireTool("dkimverify")), "python3");
    expect(execFileSync(python, ["-c", verify, join(dirs.maps, "dkim", "amis.org.dns")], { input: signed, encoding: "utf8" }).trim()).toBe(
      "pass",
    );
    // The same message altered no longer verifies: the check can fail.
    const altered = signed.replace("signed body", "altered body");
    expect(execFileSync(python, ["-c", verify, join(dirs.maps, "dkim", "amis.org.dns")], { input: altered, encoding: "utf8" }).trim()).toBe(
      "fail",
    );
  });

  it("renders an rspamd configuration that rspamadm configtest accepts", () => {
    const test = execFileSync(
      requireTool("rspamadm"),
      [
        `--var=LOCAL_CONFDIR=${join(root, "rspamd")}`,
        `--var=DBDIR=${join(root, "rspamd-db")}`,
        `--var=RUNDIR=${join(root, "rspamd-run")}`,
        "configtest",
        "-c",
        "/etc/rspamd/rspamd.conf",
      ],
      { encoding: "utf8", stdio: "pipe" },
    );
    expect(test).toContain("syntax OK");
  });

  it("refuses spam coming in at DATA with rspamd's reject, and files what rspamd marks into Junk by the global Sieve script", async () => {
    // rspamd binds its milter once its configuration is loaded; before that Postfix accepts unscanned.
    await waitForPort(rspamdMilterPort, 60);
    // rspamd's GTUBE pattern (https://rspamd.com/doc/other/gtube_patterns.html): the reject action.
    const gtube = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";
    expect(send("a+b@amis.org", `Buy now.\n${gtube}\n`, "spam")).toMatch(/<\*\* 554 5\.7\.1 /);
    // Its add-header variant (test patterns on here): delivered, marked, and filed into Junk.
    const home = join(dirs.mail, "amis.org", "a+b", "Maildir");
    const inboxBefore = readdirSafe(join(home, "new")).length;
    expect(send("a+b@amis.org", `Maybe spam.\nY${gtube.slice(1)}\n`, "probable spam")).toContain("<-  250 2.0.0 Ok: queued");
    expect(await until(() => readdirSafe(join(home, ".Junk", "new")).length === 1, 20)).toBe(true);
    const junk = readFileSync(join(home, ".Junk", "new", readdirSafe(join(home, ".Junk", "new"))[0]!), "utf8");
    expect(junk).toMatch(/^X-Spam: Yes$/m);
    expect(junk).toContain("Subject: probable spam");
    // A plain message still reaches the inbox, unmarked.
    expect(send("a+b@amis.org", "See you on Tuesday.", "meeting")).toContain("<-  250 2.0.0 Ok: queued");
    expect(await until(() => readdirSafe(join(home, "new")).length === inboxBefore + 1, 20)).toBe(true);
    const plain = readdirSafe(join(home, "new"))
      .map((f) => readFileSync(join(home, "new", f), "utf8"))
      .find((m) => m.includes("Subject: meeting"))!;
    expect(plain).not.toMatch(/^X-Spam:/m);
    expect(readdirSafe(join(home, ".Junk", "new"))).toHaveLength(1);
  });

  it("does not spam-filter what a signed-in client sends (only signs it)", async () => {
    // Submission has the signing milter only: rspamd would refuse this body on port 25.
    const dominique = nodemailer.createTransport({
      host: "127.0.0.1",
      port: submissionPort,
      requireTLS: true,
      tls: { rejectUnauthorized: false },
      auth: { user: "dominique@lautre.example.org", pass: PASSWORDS["dominique/dominique@lautre.example.org"] },
    });
    const gtube = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";
    const before = messages("contact-info@amis.org");
    const sent = await dominique.sendMail({
      from: "dominique@lautre.example.org",
      to: "contact-info@amis.org",
      subject: "test string",
      text: gtube,
    });
    expect(sent.response).toMatch(/^250 2\.0\.0 Ok: queued/);
    expect(await until(() => messages("contact-info@amis.org") === before + 1)).toBe(true);
  });

  it("runs each mailbox's Sieve script at delivery: a filter files into a folder, a vacation reply is sent", async () => {
    const home = join(dirs.mail, "amis.org", "alice");
    writeFileSync(
      join(home, ".dovecot.sieve"),
      'require ["fileinto", "vacation"];\nif header :contains "subject" "filter-me" { fileinto "Junk"; stop; }\nvacation :days 1 :subject "Away" "Back on Monday.";\n',
    );
    execFileSync("chown", ["nobody:nogroup", join(home, ".dovecot.sieve")]);
    expect(send("alice@amis.org", "filtered", "filter-me")).toContain("<-  250 2.0.0 Ok: queued");
    expect(await until(() => readdirSafe(join(home, "Maildir", ".Junk", "new")).length === 1)).toBe(true);
    expect(send("alice@amis.org", "hello", "a question")).toContain("<-  250 2.0.0 Ok: queued");
    // The reply goes to the outside sender through the server's internal SMTP service (it then
    // cannot leave: there is no DNS here).
    const logs = () => readFileSync(join(root, "dovecot.log"), "utf8") + readFileSync(join(root, "postfix.log"), "utf8");
    // Inbound envelope senders carry SRS (postsrsd rewrites every sender of another domain): the
    // reply goes to that address, which the server turns back into the sender's own.
    expect(
      await until(() => /vacation action: sent vacation response to <SRS0=[^>]*=example\.net=sender@mail\.example\.org>/.test(logs())),
    ).toBe(true);
    expect(logs()).toMatch(/postfix\/internal\/smtpd\[\d+\]: \w+: client=localhost\[127\.0\.0\.1\]/);
  });

  it("takes a mailbox's Sieve script over ManageSieve, signed in with the mailbox's app password, and runs it at delivery", async () => {
    const sieve = await manageSieveSession(sievePort);
    try {
      const login = Buffer.from(`\0dominique@lautre.example.org\0${PASSWORDS["dominique/dominique@lautre.example.org"]}`).toString(
        "base64",
      );
      expect((await sieve.run(`AUTHENTICATE "PLAIN" "${login}"`)).at(-1)).toMatch(/^OK/);
      const script = 'require ["fileinto"];\r\nif header :contains "subject" "sieve-upload" { fileinto "Junk"; stop; }\r\n';
      expect((await sieve.run(`PUTSCRIPT "rules" {${Buffer.byteLength(script)}+}\r\n${script}`)).at(-1)).toMatch(/^OK/);
      // A script the Sieve compiler refuses is refused at upload, with the reason.
      const broken = 'fileinto "Junk";\r\n';
      expect((await sieve.run(`PUTSCRIPT "broken" {${Buffer.byteLength(broken)}+}\r\n${broken}`)).join("\n")).toMatch(/^NO/m);
      expect((await sieve.run('SETACTIVE "rules"')).at(-1)).toMatch(/^OK/);
      expect(await sieve.run("LISTSCRIPTS")).toContain('"rules" ACTIVE');
      // Somebody else's password opens nothing.
      const other = await manageSieveSession(sievePort);
      try {
        const wrong = Buffer.from(`\0dominique@lautre.example.org\0${PASSWORDS["alice/alice@amis.org"]}`).toString("base64");
        expect((await other.run(`AUTHENTICATE "PLAIN" "${wrong}"`)).at(-1)).toMatch(/^NO/);
      } finally {
        other.close();
      }
    } finally {
      sieve.close();
    }
    const junk = join(dirs.mail, "lautre.example.org", "dominique", "Maildir", ".Junk", "new");
    const before = readdirSafe(junk).length;
    expect(send("dominique@lautre.example.org", "filtered", "sieve-upload")).toContain("<-  250 2.0.0 Ok: queued");
    expect(await until(() => readdirSafe(junk).length === before + 1)).toBe(true);
  });

  it("forwards outside with an SRS sender in the server's own name, turns its bounce back, and leaves hosted senders alone", async () => {
    const postfixLog = () => readFileSync(join(root, "postfix.log"), "utf8");
    const fromOf = (sender: string) => {
      // qmgr logs each queued message's envelope sender: the one of a forwarded copy is rewritten.
      const ids = [...postfixLog().matchAll(/postfix\/smtpd\[\d+\]: (\w+): client=/g)].map((m) => m[1]!);
      return ids.map((id) => new RegExp(`${id}: from=<([^>]*)>`).exec(postfixLog())?.[1]).filter((f) => f?.includes(sender));
    };
    expect(send("bureau@amis.org", "forwarded")).toContain("<-  250 2.0.0 Ok: queued");
    let srs: string | undefined;
    expect(await until(() => (srs = fromOf("sender").find((f) => f!.startsWith("SRS0="))) !== undefined)).toBe(true);
    expect(srs).toMatch(/^SRS0=[A-Za-z0-9+/]{4}=[A-Z0-9]{2}=example\.net=sender@mail\.example\.org$/);
    // A hosted domain's sender keeps its address: the server is its MX, SPF passes as it is.
    const hosted = execFileSync(
      requireTool("swaks"),
      ["--server", `127.0.0.1:${smtpPort}`, "--from", "alice@amis.org", "--to", "bureau@amis.org", "--helo", "x.example.net"],
      { encoding: "utf8" },
    );
    expect(hosted).toContain("<-  250 2.0.0 Ok: queued");
    expect(await until(() => fromOf("alice@amis.org").length > 0)).toBe(true);
    expect(fromOf("alice@amis.org").every((f) => f === "alice@amis.org")).toBe(true);
    // The bounce of the forwarded copy comes back to the SRS address and goes to the original sender.
    expect(send(srs!, "bounce")).toContain("<-  250 2.0.0 Ok: queued");
    expect(
      await until(() => new RegExp(`to=<sender@example\\.net>, orig_to=<${srs!.replace(/[+.=/]/g, "\\$&")}>`).test(postfixLog())),
    ).toBe(true);
    // A forged SRS address (wrong hash) is nobody.
    expect(send(srs!.replace(/^SRS0=..../, "SRS0=AAAA"))).toMatch(/<\*\* 55\d /);
  });

  it("limits the recipients a signed-in mailbox, and its domain, may send to in an hour", async () => {
    const client = (user: string, pass: string) =>
      nodemailer.createTransport({
        host: "127.0.0.1",
        port: submissionPort,
        requireTLS: true,
        tls: { rejectUnauthorized: false },
        auth: { user, pass },
      });
    const chloe = client("contact@amis.org", PASSWORDS["chloe/contact@amis.org"]);
    // contact@ sends to 4 recipients (its limit) in one message, then one more is refused for the hour.
    const to = ["alice@amis.org", "info@amis.org", "contact-info@amis.org", "a+b@amis.org"];
    expect((await chloe.sendMail({ from: "contact@amis.org", to, subject: "news", text: "x" })).accepted).toEqual(to);
    await expect(chloe.sendMail({ from: "contact@amis.org", to: "alice@amis.org", subject: "more", text: "x" })).rejects.toThrow(
      /450 4\.7\.1 <alice@amis\.org>: Recipient address rejected: Sending limit reached: 4 recipients an hour for this mailbox/,
    );
    // alice@ (same domain; one recipient sent earlier) reaches the domain's 6 with its second recipient.
    const alice = client("alice@amis.org", PASSWORDS["alice/alice@amis.org"]);
    expect((await alice.sendMail({ from: "alice@amis.org", to: "contact@amis.org", subject: "one", text: "x" })).accepted).toEqual([
      "contact@amis.org",
    ]);
    await expect(alice.sendMail({ from: "alice@amis.org", to: "info@amis.org", subject: "two", text: "x" })).rejects.toThrow(
      /450 4\.7\.1 <info@amis\.org>: Recipient address rejected: Sending limit reached: 6 recipients an hour for this domain/,
    );
    // Mail coming in on port 25 is not counted.
    expect(send("contact@amis.org")).toContain("<-  250 2.0.0 Ok: queued");
  });

  it("closes a share's login as soon as the tenant file drops it", async () => {
    writeFileSync(
      mailFragmentPath(dirs.fragments, "amis", "amis.org"),
      renderMailFragmentFile({
        ...AMIS,
        mailboxes: AMIS.mailboxes.map((m) => (m.address === "contact@amis.org" ? { ...m, sharedWith: [] } : m)),
      }),
    );
    assemble();
    expect(await signsIn("contact@amis.org*alice", PASSWORDS["alice/contact@amis.org"])).toBe(false);
    expect(await signsIn("contact@amis.org", PASSWORDS["chloe/contact@amis.org"])).toBe(true);
  });

  it("takes its certificate from Traefik's store once the proxy has one, and again when it is renewed, without a restart", async () => {
    const served = async (port: number) => {
      const socket = tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false, servername: "mail.example.org" });
      await new Promise<void>((resolve, reject) => socket.once("secureConnect", resolve).once("error", reject));
      const fingerprint = socket.getPeerX509Certificate()!.fingerprint256;
      socket.destroy();
      return fingerprint;
    };
    /** A certificate and key as Traefik stores them: base64 of the PEM (traefik v3 pkg/provider/acme/local_store.go). */
    const issue = (cn: string) => {
      const dir = mkdtempSync(join(root, "cert-"));
      execFileSync(
        requireTool("openssl"),
        [
          ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", `/CN=${cn}`],
          ...["-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")],
        ],
        { stdio: "ignore" },
      );
      const pem = readFileSync(join(dir, "cert.pem"), "utf8");
      return {
        fingerprint: new X509Certificate(pem).fingerprint256,
        stored: {
          domain: { main: cn, sans: [] },
          certificate: Buffer.from(pem).toString("base64"),
          key: readFileSync(join(dir, "key.pem")).toString("base64"),
          Store: "default",
        },
      };
    };
    const store = (certificates: unknown[]) => {
      mkdirSync(join(root, "acme"), { recursive: true });
      writeFileSync(
        join(root, "acme/acme.json.tmp"),
        JSON.stringify({ le: { Account: { Email: "ops@example.org" }, Certificates: certificates } }),
      );
      renameSync(join(root, "acme/acme.json.tmp"), join(root, "acme/acme.json"));
    };
    const temporary = await served(imapsPort);
    // Another hostname's certificate first in the store: only the mail hostname's is taken.
    const other = issue("sso.example.org");
    const first = issue("mail.example.org");
    store([other.stored, first.stored]);
    expect(await untilAsync(async () => (await served(imapsPort)) === first.fingerprint)).toBe(true);
    expect(temporary).not.toBe(first.fingerprint);
    expect(await served(submissionsPort)).toBe(first.fingerprint);
    const renewed = issue("mail.example.org");
    store([other.stored, renewed.stored]);
    expect(await untilAsync(async () => (await served(imapsPort)) === renewed.fingerprint)).toBe(true);
    expect(await served(submissionsPort)).toBe(renewed.fingerprint);
  });

  it("resolves every address of the association's scale (the benchmark's set: 50 domains, 360 mailboxes, 1,600 redirections) as the tenant files say", async () => {
    const shared = ["alacarte.example.org", "lautre.example.org"];
    const set = generateTenantSet({ seed: 1, sharedMailDomains: shared });
    const mailboxes = new Map<string, number>();
    const redirections = new Map<string, string>();
    const domains = new Set<string>();
    const people = new Set<string>();
    for (const f of readdirSync(dirs.fragments)) rmSync(join(dirs.fragments, f));
    for (const [file, text] of set.files) {
      const tenant = loadTenantText(file, text).tenant!.tenant;
      for (const d of tenant.mail?.domains ?? []) {
        const isShared = shared.includes(d.domain);
        if (!isShared) domains.add(d.domain);
        writeFileSync(mailFragmentPath(dirs.fragments, tenant.slug, d.domain), renderMailFragmentFile({ ...d, shared: isShared }));
        for (const m of d.mailboxes) {
          mailboxes.set(m.address, m.quotaGb);
          for (const person of [m.owner, ...(m.sharedWith ?? [])]) if (person) people.add(person);
        }
        for (const r of d.redirections) redirections.set(r.from, [...new Set(r.to)].sort().join(","));
      }
    }
    writeFileSync(join(dirs.fragments, PLATFORM_FRAGMENT), renderPlatformFragment(shared));
    assemble();
    await settle();
    expect({ domains: domains.size + shared.length, mailboxes: mailboxes.size, redirections: redirections.size }).toEqual({
      domains: set.summary.mailDomains,
      mailboxes: set.summary.mailboxes,
      redirections: set.summary.redirections,
    });

    // Postfix's own lookups, every key at once (postmap -q - reads them from its input).
    const lookup = (map: string, keys: readonly string[]) =>
      new Map(
        execFileSync(requireTool("postmap"), ["-c", join(root, "postfix"), "-q", "-", `hash:${join(dirs.maps, map)}`], {
          input: `${keys.join("\n")}\n`,
          encoding: "utf8",
        })
          .trim()
          .split("\n")
          .map((line) => line.split(/\s+/) as [string, string]),
      );
    const boxes = lookup("mailboxes", [...mailboxes.keys()]);
    expect([...mailboxes.keys()].filter((a) => boxes.get(a) !== "OK")).toEqual([]);
    const aliases = lookup("redirections", [...redirections.keys()]);
    expect([...redirections].filter(([from, to]) => aliases.get(from) !== to)).toEqual([]);
    const hosted = lookup("domains", [...domains, ...shared]);
    expect([...domains, ...shared].filter((d) => hosted.get(d) !== "OK")).toEqual([]);
    // Dovecot's users are exactly the mailboxes, each with its own quota, and the people who open
    // them as themselves (owners and members they are shared with).
    const users = doveadm("user", "*").trim().split("\n").sort();
    expect(users.filter((u) => u.includes("@"))).toEqual([...mailboxes.keys()].sort());
    expect(users.filter((u) => !u.includes("@"))).toEqual([...people].sort());
    for (const address of [...mailboxes.keys()].filter((_, i) => i % 60 === 0)) {
      expect(doveadm("user", "-f", "quota_rule", address).trim(), address).toBe(`*:bytes=${mailboxes.get(address)! * 2 ** 30}`);
    }
    // And the running server takes mail for them.
    const [from] = [...redirections.keys()];
    expect(send(from!)).toContain("<-  250 2.0.0 Ok: queued");
    console.log(
      `association scale: ${domains.size} custom + ${shared.length} shared domains, ${mailboxes.size} mailboxes, ${redirections.size} redirections resolved`,
    );
  }, 120_000);
});
