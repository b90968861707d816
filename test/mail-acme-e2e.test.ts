import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { needTools, requireTool } from "./helpers/debian-tools";
import { freePort, waitForPort } from "./helpers/loopback";

/**
 * The mail image's own ACME client (images/mail/entrypoint.sh `acme`: Debian's dehydrated, HTTP-01
 * answered by busybox's httpd), as on a mail host that is not the proxy's, against Debian's Pebble,
 * Let's Encrypt's test ACME server, which validates the challenge over HTTP for real: its DNS is
 * pebble-challtestsrv, answering 127.0.0.1 for every name.
 */

const ENTRYPOINT = resolve(__dirname, "../images/mail/entrypoint.sh");

describe("the mail image's ACME client, against Pebble", () => {
  needTools("bash", "openssl", "dehydrated", "busybox", "pebble", "pebble-challtestsrv", "curl");

  let root = "";
  let directory = "";
  let httpPort = 0;
  const servers: ChildProcess[] = [];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "alacarte-mail-acme-"));
    // Pebble's own HTTPS certificate, which dehydrated's curl is told to trust.
    execFileSync(requireTool("openssl"), [
      ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"],
      ...["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", join(root, "pebble.key"), "-out", join(root, "pebble.crt")],
    ]);
    const [acmePort, managementPort, dnsPort, challengeManagement] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    httpPort = await freePort();
    writeFileSync(
      join(root, "pebble.json"),
      JSON.stringify({
        pebble: {
          listenAddress: `127.0.0.1:${acmePort}`,
          managementListenAddress: `127.0.0.1:${managementPort}`,
          certificate: join(root, "pebble.crt"),
          privateKey: join(root, "pebble.key"),
          // Where Pebble fetches the HTTP-01 answer: the port the entrypoint's httpd listens on.
          httpPort,
          tlsPort: await freePort(),
          ocspResponderURL: "",
          externalAccountBindingRequired: false,
        },
      }),
    );
    const quiet = { stdio: "ignore" as const };
    servers.push(
      spawn(
        requireTool("pebble-challtestsrv"),
        [
          ...["-dns01", `127.0.0.1:${dnsPort}`, "-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""],
          ...["-http01", "", "-https01", "", "-tlsalpn01", "", "-management", `127.0.0.1:${challengeManagement}`],
        ],
        quiet,
      ),
    );
    servers.push(
      spawn(requireTool("pebble"), ["-config", join(root, "pebble.json"), "-dnsserver", `127.0.0.1:${dnsPort}`], {
        ...quiet,
        // No random nonce refusals nor validation delays: the test checks the client, not its retries.
        env: { ...process.env, PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0" },
      }),
    );
    await waitForPort(acmePort, 20);
    directory = `https://127.0.0.1:${acmePort}/dir`;
  }, 60_000);

  afterAll(() => {
    for (const server of servers) server.kill("SIGTERM");
    if (root) rmSync(root, { recursive: true, force: true });
  });

  const run = (acmeDirectory: string) =>
    spawnSync(requireTool("bash"), [ENTRYPOINT, "acme"], {
      encoding: "utf8",
      timeout: 120_000,
      env: {
        PATH: `${process.env.PATH}:/usr/local/sbin:/usr/sbin:/sbin`,
        MAIL_HOSTNAME: "mail.example.org",
        TLS_CERT: join(root, "tls/fullchain.pem"),
        TLS_KEY: join(root, "tls/privkey.pem"),
        ACME_DIRECTORY: acmeDirectory,
        ACME_EMAIL: "ops@example.org",
        ACME_STATE: join(root, "acme"),
        ACME_HTTP_PORT: String(httpPort),
        VMAIL_USER: "nobody",
        VMAIL_GROUP: "nogroup",
        CURL_CA_BUNDLE: join(root, "pebble.crt"),
      },
    });
  const certificate = () => new X509Certificate(readFileSync(join(root, "tls/fullchain.pem")));

  it("gets a certificate for the mail hostname, Pebble having fetched the HTTP-01 answer from the entrypoint's httpd", () => {
    mkdirSync(join(root, "tls"), { recursive: true });
    const first = run(directory);
    expect(first.status, first.stderr).toBe(0);
    const cert = certificate();
    expect(cert.subjectAltName).toBe("DNS:mail.example.org");
    expect(cert.issuer).toMatch(/Pebble/);
    // The key written beside it is the certificate's.
    expect(cert.checkPrivateKey(createPrivateKey(readFileSync(join(root, "tls/privkey.pem"))))).toBe(true);
  });

  it("keeps the certificate on the next run, as long as it is not due for renewal", () => {
    const before = certificate().fingerprint256;
    const again = run(directory);
    expect(again.status, again.stderr).toBe(0);
    expect(certificate().fingerprint256).toBe(before);
  });

  it("keeps the certificate and says so when the ACME server cannot be reached, to try again later", () => {
    const before = certificate().fingerprint256;
    const down = run("https://127.0.0.1:1/dir");
    expect(down.status).toBe(0);
    expect(down.stderr).toContain("the ACME client failed for mail.example.org");
    expect(certificate().fingerprint256).toBe(before);
  });
});
