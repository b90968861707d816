import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  phpString,
  WEBMAIL_CONFIG_FILE,
  WEBMAIL_SECRET_ENV,
  webmailConfigPhp,
  webmailHealthCheck,
  webmailHostname,
  webmailSettings,
} from "../../components/platform/webmail-config";
import { needTools, requireTool } from "../helpers/debian-tools";

const input = {
  webmailHostname: "webmail.example.org",
  mailHostname: "mail.example.org",
  issuerUrl: "https://sso.example.org/realms/alacarte",
  clientId: "members-mail",
};

/** What Roundcube must end up with, the secrets being those of the environment. */
function expectedConfig(secrets: { clientSecret: string; desKey: string }, providerName = "sso.example.org") {
  const oidc = "https://sso.example.org/realms/alacarte/protocol/openid-connect";
  return {
    oauth_provider: "generic",
    oauth_provider_name: providerName,
    oauth_client_id: "members-mail",
    oauth_client_secret: secrets.clientSecret,
    oauth_auth_uri: `${oidc}/auth`,
    oauth_token_uri: `${oidc}/token`,
    oauth_identity_uri: `${oidc}/userinfo`,
    oauth_scope: "openid profile email",
    oauth_identity_fields: ["preferred_username"],
    oauth_login_redirect: true,
    oauth_verify_peer: true,
    imap_host: "ssl://mail.example.org:993",
    smtp_host: "ssl://mail.example.org:465",
    smtp_user: "%u",
    smtp_pass: "%p",
    use_https: true,
    cipher_method: "AES-256-CBC",
    des_key: secrets.desKey,
  };
}

describe("webmailHostname", () => {
  it("is webmail. under the base domain", () => expect(webmailHostname("example.org")).toBe("webmail.example.org"));
});

describe("webmailSettings", () => {
  it("signs in through Keycloak's endpoints of the realm, reads the secrets from the environment, uses the mail server's public name", () =>
    expect(webmailSettings(input)).toEqual(
      expectedConfig({ clientSecret: { env: "WEBMAIL_OAUTH_CLIENT_SECRET" } as never, desKey: { env: "ROUNDCUBEMAIL_DES_KEY" } as never }),
    ));

  it("never names the image's own client-secret variable, which its entrypoint copies in clear", () =>
    expect(Object.values(WEBMAIL_SECRET_ENV)).not.toContain("ROUNDCUBEMAIL_OAUTH_CLIENT_SECRET"));

  it.each([
    [{ mailHostname: "mail example.org" }, /mail hostname "mail example.org" is not a hostname/],
    [{ webmailHostname: "" }, /hostname "" is not a hostname/],
    [{ issuerUrl: "http://sso.example.org/realms/alacarte" }, /must be a Keycloak realm's https URL/],
    [{ issuerUrl: "https://sso.example.org" }, /must be a Keycloak realm's https URL/],
  ])("refuses %o", (change, message) => expect(() => webmailSettings({ ...input, ...change })).toThrow(message));
});

describe("phpString", () => {
  it("escapes only the backslash and the quote", () => expect(phpString("a'b\\c$d\n")).toBe("'a\\'b\\\\c$d\n'"));
});

describe("webmailConfigPhp", () => {
  it("writes each setting once, and reads the two secrets with getenv only", () => {
    const php = webmailConfigPhp(input);
    expect(php.startsWith("<?php\n")).toBe(true);
    expect(php).toContain("$config['oauth_client_secret'] = $alacarteSecret('WEBMAIL_OAUTH_CLIENT_SECRET');");
    expect(php).toContain("$config['des_key'] = $alacarteSecret('ROUNDCUBEMAIL_DES_KEY');");
    expect(php).toContain("$value = getenv($name);");
    expect(php.match(/^\$config\[/gm)).toHaveLength(Object.keys(webmailSettings(input)).length);
  });
});

describe("the generated configuration, run by Debian's PHP", () => {
  needTools("php");
  const dir = mkdtempSync(join(tmpdir(), "alacarte-webmail-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  /** Includes the file as Roundcube's rcube_config::load_from_file does, with `$config` set before, and prints it as JSON. */
  const load = (file: string, env: Record<string, string>) =>
    spawnSync(
      requireTool("php"),
      ["-r", `$config = ['product_name' => 'kept']; include ${phpString(file)}; echo json_encode($config);`],
      // Only what the test gives: the secrets must come from here, not from the runner's environment.
      { env: { PATH: process.env.PATH ?? "", ...env }, encoding: "utf8" },
    );
  const secrets = { clientSecret: `s3cr'et\\"$x`, desKey: "k".repeat(32) };
  const env = { [WEBMAIL_SECRET_ENV.oauthClientSecret]: secrets.clientSecret, [WEBMAIL_SECRET_ENV.desKey]: secrets.desKey };

  it("passes php -l", () => {
    const run = spawnSync(requireTool("php"), ["-l", write(WEBMAIL_CONFIG_FILE, webmailConfigPhp(input))], { encoding: "utf8" });
    expect(run.stdout).toContain("No syntax errors detected");
    expect(run.status).toBe(0);
  });

  it("fails php -l when broken, so the check can fail", () => {
    const broken = write("broken.inc.php", webmailConfigPhp(input).replace("'generic';", "'generic'"));
    expect(spawnSync(requireTool("php"), ["-l", broken], { encoding: "utf8" }).status).not.toBe(0);
  });

  it("gives Roundcube exactly the settings, the secrets taken from the environment, and leaves no variable behind", () => {
    const file = write(WEBMAIL_CONFIG_FILE, webmailConfigPhp(input));
    const run = load(file, env);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ product_name: "kept", ...expectedConfig(secrets) });
    const leftovers = spawnSync(
      requireTool("php"),
      ["-r", `$config = []; include ${phpString(file)}; echo json_encode(array_keys(get_defined_vars()));`],
      { env: { PATH: process.env.PATH ?? "", ...env }, encoding: "utf8" },
    );
    expect(JSON.parse(leftovers.stdout)).not.toContain("alacarteSecret");
  });

  it("keeps a provider name with quotes and backslashes exactly", () => {
    const providerName = 'L\'asso \\ "sso" $HOME';
    const run = load(write("quoted.inc.php", webmailConfigPhp({ ...input, providerName })), env);
    expect(JSON.parse(run.stdout).oauth_provider_name).toBe(providerName);
  });

  it.each([WEBMAIL_SECRET_ENV.oauthClientSecret, WEBMAIL_SECRET_ENV.desKey])("fails loudly when %s is missing", (missing) => {
    const run = load(write("missing.inc.php", webmailConfigPhp(input)), { ...env, [missing]: "" });
    expect(run.status).not.toBe(0);
    expect(run.stderr + run.stdout).toContain(`${missing} is not set in the environment`);
  });
});

describe("the health check, run by Debian's PHP against a server answering each status", () => {
  needTools("php");
  const dir = mkdtempSync(join(tmpdir(), "alacarte-webmail-health-"));
  let server: ChildProcess | undefined;
  afterAll(() => {
    server?.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  });

  const freePort = () =>
    new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.once("error", reject);
      s.listen(0, "127.0.0.1", () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
    });

  /** Runs the check's command (Docker's CMD form: the arguments after "CMD") against `port`. */
  const check = (port: number) => {
    const [cmd, tool, ...args] = webmailHealthCheck(port);
    expect([cmd, tool]).toEqual(["CMD", "php"]);
    return spawnSync(requireTool("php"), args, { encoding: "utf8", timeout: 20_000 }).status;
  };

  async function serve(): Promise<number> {
    const port = await freePort();
    // PHP's built-in server, answering the status named in status.txt (Roundcube's 302 to Keycloak, a 500…),
    // and logging each path asked: a redirect followed would ask /followed.
    writeFileSync(
      join(dir, "router.php"),
      [
        "<?php file_put_contents(__DIR__ . '/paths.log', $_SERVER['REQUEST_URI'] . \"\\n\", FILE_APPEND);",
        "$s = (int) file_get_contents(__DIR__ . '/status.txt'); http_response_code($s);",
        "if ($s === 302) header('Location: /followed'); echo 'x';",
      ].join("\n"),
    );
    writeFileSync(join(dir, "status.txt"), "200");
    server = spawn(requireTool("php"), ["-S", `127.0.0.1:${port}`, join(dir, "router.php")], { stdio: "ignore" });
    for (let i = 0; i < 100; i++) {
      try {
        await fetch(`http://127.0.0.1:${port}/`);
        return port;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new Error("php -S did not start");
  }

  it("passes on a 200 and on Roundcube's redirect to Keycloak (never followed), fails on a 500, a 404 and no server", async () => {
    const port = await serve();
    const statuses: Record<string, number | null> = {};
    for (const status of ["200", "302", "500", "404"]) {
      writeFileSync(join(dir, "status.txt"), status);
      statuses[status] = check(port);
    }
    statuses.none = check(await freePort());
    expect(statuses).toEqual({ "200": 0, "302": 0, "500": 1, "404": 1, none: 1 });
    const paths = readFileSync(join(dir, "paths.log"), "utf8").split("\n").filter(Boolean);
    expect(paths).toContain("/");
    expect(paths).not.toContain("/followed");
  });

  it("asks the image's own port by default", () => expect(webmailHealthCheck().join(" ")).toContain('"http://127.0.0.1:80/"'));
});
