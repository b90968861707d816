import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  MTA_STS_MAX_AGE_SECONDS,
  mtaStsPolicy,
  mtaStsPolicyId,
  nginxQuoted,
  outlookAutodiscover,
  thunderbirdAutoconfig,
  WELL_KNOWN_PATHS,
  wellKnownHostnames,
  wellKnownNginxConf,
  wellKnownRouteName,
} from "../../components/platform/mail-well-known-config";
import { needTools, requireTool } from "../helpers/debian-tools";
import { freePort } from "../helpers/loopback";
import { runProcess } from "../helpers/run-process";

describe("mtaStsPolicy", () => {
  it("is RFC 8461's policy in enforce mode, one MX, a week's max_age, each line ending in CRLF", () => {
    expect(mtaStsPolicy("Mail.Example.org")).toBe("version: STSv1\r\nmode: enforce\r\nmx: mail.example.org\r\nmax_age: 604800\r\n");
    expect(MTA_STS_MAX_AGE_SECONDS).toBe(7 * 24 * 3600);
  });

  it("can be switched to testing", () => expect(mtaStsPolicy("mail.example.org", "testing")).toContain("\r\nmode: testing\r\n"));

  it("refuses a name that is no hostname", () => expect(() => mtaStsPolicy("mail example.org")).toThrow(/is not a hostname/));
});

describe("mtaStsPolicyId", () => {
  it("is 1 to 32 letters or digits (RFC 8461 §3.1), the same for the same policy, another for another", () => {
    const enforce = mtaStsPolicyId(mtaStsPolicy("mail.example.org"));
    expect(enforce).toMatch(/^[A-Za-z0-9]{1,32}$/);
    expect(mtaStsPolicyId(mtaStsPolicy("mail.example.org"))).toBe(enforce);
    expect(mtaStsPolicyId(mtaStsPolicy("mail.example.org", "testing"))).not.toBe(enforce);
    expect(mtaStsPolicyId(mtaStsPolicy("mail.example.net"))).not.toBe(enforce);
  });
});

describe("thunderbirdAutoconfig and outlookAutodiscover", () => {
  const autoconfig = thunderbirdAutoconfig("mail.example.org");
  const autodiscover = outlookAutodiscover("mail.example.org");

  it("gives Thunderbird IMAP 993 over TLS, SMTP 465 over TLS and 587 with STARTTLS, the address as login", () => {
    const servers = [...autoconfig.matchAll(/<(incoming|outgoing)Server type="(\w+)">([\s\S]*?)<\/\1Server>/g)].map(([, , type, body]) => ({
      type,
      hostname: /<hostname>(.*)<\/hostname>/.exec(body!)![1],
      port: /<port>(.*)<\/port>/.exec(body!)![1],
      socketType: /<socketType>(.*)<\/socketType>/.exec(body!)![1],
      authentication: /<authentication>(.*)<\/authentication>/.exec(body!)![1],
      username: /<username>(.*)<\/username>/.exec(body!)![1],
    }));
    const common = { hostname: "mail.example.org", authentication: "password-cleartext", username: "%EMAILADDRESS%" };
    expect(servers).toEqual([
      { type: "imap", port: "993", socketType: "SSL", ...common },
      { type: "smtp", port: "465", socketType: "SSL", ...common },
      { type: "smtp", port: "587", socketType: "STARTTLS", ...common },
    ]);
    expect(autoconfig).toMatch(
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<clientConfig version="1.1">\n {2}<emailProvider id="mail.example.org">/,
    );
  });

  it("gives Outlook IMAP 993 and SMTP 465 over TLS in the outlook response schema, without LoginName", () => {
    expect(autodiscover).toContain('<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">');
    expect(autodiscover).toContain('<Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">');
    const protocols = [...autodiscover.matchAll(/<Protocol>([\s\S]*?)<\/Protocol>/g)].map(([, body]) =>
      Object.fromEntries([...body!.matchAll(/<(\w+)>([^<]*)<\/\1>/g)].map(([, k, v]) => [k, v])),
    );
    const common = { Server: "mail.example.org", DomainRequired: "off", SPA: "off", SSL: "on", AuthRequired: "on" };
    expect(protocols).toEqual([
      { Type: "IMAP", Port: "993", ...common },
      { Type: "SMTP", Port: "465", ...common },
    ]);
    expect(autodiscover).not.toContain("LoginName");
  });
});

describe("nginxQuoted", () => {
  it("escapes quotes, backslashes and line ends the way nginx's parser reads them", () =>
    expect(nginxQuoted('a "b" \\ c\r\n\t')).toBe('"a \\"b\\" \\\\ c\\r\\n\\t"'));

  it("refuses a $, which nginx would read as a variable", () => expect(() => nginxQuoted("cost: $5")).toThrow(/literal \$/));
});

describe("wellKnownHostnames and wellKnownRouteName", () => {
  it("names a domain's three web names", () =>
    expect(wellKnownHostnames("AmisDuVelo.org")).toEqual([
      "autoconfig.amisduvelo.org",
      "autodiscover.amisduvelo.org",
      "mta-sts.amisduvelo.org",
    ]));

  it("gives each domain of a tenant its own kebab-case route name, punycode and look-alikes included", () => {
    const names = ["a-b.org", "a.b.org", "jardins.xn--p1ai"].map((d) => wellKnownRouteName("amis", d));
    for (const n of names) expect(n).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    expect(new Set(names).size).toBe(3);
    expect(names[0]).toMatch(/^amis-mail-a-b-org-[0-9a-f]{6}$/);
    expect(wellKnownRouteName("amis", "A.B.org")).toBe(names[1]);
  });
});

describe("wellKnownNginxConf", () => {
  it("answers each document from the configuration and 404 elsewhere", () => {
    const conf = wellKnownNginxConf({ mailHostname: "mail.example.org" });
    expect(conf).toContain("daemon off;");
    expect(conf).toContain("listen 8080 default_server;");
    expect(conf).toContain("pid /tmp/nginx.pid;");
    for (const path of [WELL_KNOWN_PATHS.mtaSts, ...WELL_KNOWN_PATHS.autoconfig, WELL_KNOWN_PATHS.autodiscover]) {
      expect(conf).toContain(`location = ${path} {`);
    }
    expect(conf).toContain(`return 200 ${nginxQuoted(mtaStsPolicy("mail.example.org"))};`);
    expect(conf).toMatch(/location \/ \{\n {6}return 404;/);
  });

  it.each([
    [{ port: 0 }, /invalid port 0/],
    [{ runDir: "tmp" }, /absolute path/],
    [{ mailHostname: "bad host" }, /is not a hostname/],
  ])("refuses %o", (change, message) => expect(() => wellKnownNginxConf({ mailHostname: "mail.example.org", ...change })).toThrow(message));
});

/** A free loopback port: the kernel's pick, released for nginx to take. */
describe("the configuration under Debian's nginx (nginx -t, then served on a loopback port)", () => {
  needTools("nginx", "xmllint");
  const dir = mkdtempSync(join(tmpdir(), "alacarte-well-known-"));
  const runDir = join(dir, "run");
  mkdirSync(runDir);
  let port = 0;
  let nginx: ChildProcess | undefined;
  let nginxErrors = "";
  const configFile = join(dir, "nginx.conf");
  // nginx's output is a file, as a container's is a pipe: /dev/stdout (the access log) cannot be opened on a socket, node's pipes.
  const accessLog = join(dir, "stdout.log");
  let stdoutFd = -1;

  beforeAll(async () => {
    port = await freePort();
    stdoutFd = openSync(accessLog, "w");
    writeFileSync(configFile, wellKnownNginxConf({ mailHostname: "mail.example.org", port, listenAddress: "127.0.0.1", runDir }));
  });

  afterAll(async () => {
    if (nginx?.pid !== undefined && nginx.exitCode === null) {
      const closed = new Promise((resolve) => nginx!.once("close", resolve));
      process.kill(nginx.pid, "SIGTERM");
      await closed;
    }
    if (stdoutFd >= 0) closeSync(stdoutFd);
    rmSync(dir, { recursive: true, force: true });
  });

  const nginxTest = (file: string) => {
    const run = spawnSync(requireTool("nginx"), ["-t", "-p", `${dir}/`, "-e", "stderr", "-c", file], {
      stdio: ["ignore", stdoutFd, "pipe"],
      encoding: "utf8",
    });
    return { code: run.status, stderr: run.stderr };
  };

  it("passes nginx -t", async () => {
    const run = await nginxTest(configFile);
    expect(run.stderr).toContain("test is successful");
    expect(run.code).toBe(0);
  });

  it("fails nginx -t when broken, so the check can fail", async () => {
    const broken = join(dir, "broken.conf");
    writeFileSync(
      broken,
      wellKnownNginxConf({ mailHostname: "mail.example.org", port, runDir }).replace("server_name _;", "server_name _"),
    );
    const run = await nginxTest(broken);
    expect(run.code).not.toBe(0);
  });

  async function started(): Promise<void> {
    if (nginx) return;
    nginx = spawn(requireTool("nginx"), ["-p", `${dir}/`, "-e", "stderr", "-c", configFile], { stdio: ["ignore", stdoutFd, "pipe"] });
    nginx.stderr!.on("data", (d: Buffer) => {
      nginxErrors += d.toString("utf8");
    });
    for (let i = 0; i < 100; i++) {
      if (nginx.exitCode !== null) throw new Error(`nginx exited ${nginx.exitCode}: ${nginxErrors}`);
      try {
        await fetch(`http://127.0.0.1:${port}/`);
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    throw new Error(`nginx did not answer on port ${port}: ${nginxErrors}`);
  }

  const get = async (path: string, init?: RequestInit) => {
    await started();
    const response = await fetch(`http://127.0.0.1:${port}${path}`, {
      ...init,
      headers: { Host: "mta-sts.amisduvelo.org", ...init?.headers },
    });
    return { status: response.status, type: response.headers.get("content-type"), body: await response.text() };
  };

  const wellFormed = async (xml: string) => (await runProcess(requireTool("xmllint"), ["--noout", "-"], { stdin: xml })).code;

  it("serves the MTA-STS policy as text/plain, byte for byte with its CRLFs", async () => {
    expect(await get(WELL_KNOWN_PATHS.mtaSts)).toEqual({ status: 200, type: "text/plain", body: mtaStsPolicy("mail.example.org") });
  });

  it.each(WELL_KNOWN_PATHS.autoconfig)("serves Thunderbird's autoconfig at %s, well-formed XML", async (path) => {
    const got = await get(`${path}?emailaddress=alice%40amisduvelo.org`, { headers: { Host: "autoconfig.amisduvelo.org" } });
    expect(got).toEqual({ status: 200, type: "application/xml", body: thunderbirdAutoconfig("mail.example.org") });
    expect(await wellFormed(got.body)).toBe(0);
  });

  it("answers Outlook's autodiscover POST and GET, well-formed XML", async () => {
    const request =
      '<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">' +
      "<Request><EMailAddress>alice@amisduvelo.org</EMailAddress>" +
      "<AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>";
    const posted = await get(WELL_KNOWN_PATHS.autodiscover, {
      method: "POST",
      body: request,
      headers: { Host: "autodiscover.amisduvelo.org", "Content-Type": "text/xml" },
    });
    const expected = { status: 200, type: "application/xml", body: outlookAutodiscover("mail.example.org") };
    expect(posted).toEqual(expected);
    expect(await get(WELL_KNOWN_PATHS.autodiscover)).toEqual(expected);
    expect(await wellFormed(posted.body)).toBe(0);
  });

  it("answers 404 elsewhere, and xmllint refuses broken XML, so both checks can fail", async () => {
    expect((await get("/.well-known/other.txt")).status).toBe(404);
    // Each request is logged to the container's output.
    expect(readFileSync(accessLog, "utf8")).toMatch(/"GET \/\.well-known\/other\.txt HTTP\/1\.1" 404/);
    expect(await wellFormed("<clientConfig><emailProvider></clientConfig>")).not.toBe(0);
  });
});
