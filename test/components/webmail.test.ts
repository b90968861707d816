import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import * as mocks from "../helpers/mocks";
import * as options from "../helpers/options";

const proxyHost = { name: "h1", address: "h1.infra.example.org", user: "deploy" };
const CLIENT_SECRET = "client-secret-value";
const DES_KEY = "mock-password-wm-des-key";

const { plainStrings } = options;

describe("Webmail under mocks", () => {
  let mod: typeof import("../../components/platform/webmail");

  beforeAll(async () => {
    mocks.installMocks();
    mod = await import("../../components/platform/webmail.js");
  });

  async function build() {
    mocks.reset();
    const rec = options.optionsRecorder();
    const webmail = new mod.Webmail(
      "wm",
      {
        host: proxyHost,
        network: "proxy",
        hostname: "webmail.example.org",
        mailHostname: "mail.example.org",
        issuerUrl: "https://sso.example.org/realms/alacarte",
        client: { clientId: pulumi.output("members-mail"), clientSecret: pulumi.secret(CLIENT_SECRET) },
      },
      { transformations: [rec.transformation] },
    );
    const upstream = await mocks.promiseOf(webmail.upstream);
    await mocks.settle();
    return { webmail, upstream, rec };
  }

  it("writes the generated configuration on the proxy host, without a secret", async () => {
    await build();
    const write = mocks.one("command:remote:Command", "wm-config-write");
    expect(options.plain(write.inputs.connection)).toMatchObject({ host: "h1.infra.example.org", user: "deploy" });
    expect(write.inputs.create).toContain("'/srv/alacarte/webmail/alacarte.inc.php'");
    expect(options.isSecretInput(write.inputs.stdin)).toBe(false);
    expect(write.inputs.stdin).toBe(
      mod.webmailConfigPhp({
        webmailHostname: "webmail.example.org",
        mailHostname: "mail.example.org",
        issuerUrl: "https://sso.example.org/realms/alacarte",
        clientId: "members-mail",
      }),
    );
    expect(write.inputs.stdin).toContain("getenv($name)");
  });

  it("runs the pinned Roundcube image, routed with TLS at its name, with the configuration folder read-only and its database on a backed-up volume", async () => {
    const { upstream, webmail } = await build();
    expect(upstream).toBe("http://wm-roundcube:80");
    expect(webmail.url).toBe("https://webmail.example.org");
    expect(mocks.one("docker:index/remoteImage:RemoteImage", "wm-roundcube-image").inputs.name).toBe(mod.ROUNDCUBE_IMAGE);
    expect(mod.ROUNDCUBE_IMAGE).toMatch(/^roundcube\/roundcubemail:1\.6\.\d+-apache$/);
    const container = mocks.one("docker:index/container:Container", "wm-roundcube-container");
    const labels = Object.fromEntries(
      (options.plain(container.inputs.labels) as { label: string; value: string }[]).map((l) => [l.label, l.value]),
    );
    expect(labels).toMatchObject({
      "traefik.enable": "true",
      "traefik.http.routers.wm-roundcube-0.rule": "Host(`webmail.example.org`)",
      "traefik.http.routers.wm-roundcube-0.entrypoints": "websecure",
      "traefik.http.routers.wm-roundcube-0.tls.certresolver": "le",
      "traefik.http.services.wm-roundcube-0.loadbalancer.server.port": "80",
    });
    expect(options.plain(container.inputs.networksAdvanced)).toEqual([{ name: "proxy" }]);
    expect(options.plain(container.inputs.volumes)).toEqual([
      { volumeName: "wm-roundcube-db", containerPath: "/var/roundcube/db", readOnly: false },
      { hostPath: "/srv/alacarte/webmail", containerPath: "/var/roundcube/config", readOnly: true },
    ]);
    const service = mocks.one("alacarte:block:ContainerService", "wm-roundcube");
    expect(service.inputs.volumes).toEqual([{ name: "wm-roundcube-db", quotaGb: 1, backup: true, stopForBackup: true }]);
    expect(options.plain(container.inputs.healthcheck).tests).toEqual(mod.webmailHealthCheck());
    expect(options.plain(container.inputs.healthcheck).tests.join(" ")).not.toMatch(/curl|wget/);
  });

  it("passes the client secret and the encryption key as secret environment only, under the names the file reads", async () => {
    await build();
    const service = mocks.one("alacarte:block:ContainerService", "wm-roundcube");
    expect(service.inputs.secretEnvKeys).toEqual(["ROUNDCUBEMAIL_DES_KEY", "WEBMAIL_OAUTH_CLIENT_SECRET"]);
    expect(service.inputs.envKeys).toEqual(["ROUNDCUBEMAIL_DB_TYPE", "ROUNDCUBEMAIL_PLUGINS", "ROUNDCUBEMAIL_SKIN"]);
    expect(Object.values(mod.WEBMAIL_SECRET_ENV).sort()).toEqual(service.inputs.secretEnvKeys);

    const container = mocks.one("docker:index/container:Container", "wm-roundcube-container");
    expect(options.isSecretInput(container.inputs.envs)).toBe(true);
    expect(options.plain(container.inputs.envs)).toEqual([
      `ROUNDCUBEMAIL_DB_TYPE=sqlite`,
      `ROUNDCUBEMAIL_DES_KEY=${DES_KEY}`,
      "ROUNDCUBEMAIL_PLUGINS=archive,zipdownload",
      "ROUNDCUBEMAIL_SKIN=elastic",
      `WEBMAIL_OAUTH_CLIENT_SECRET=${CLIENT_SECRET}`,
    ]);
    const key = mocks.one("random:index/randomPassword:RandomPassword", "wm-des-key");
    expect(key.inputs).toMatchObject({ length: mod.WEBMAIL_DES_KEY_LENGTH, special: false });

    // No secret in clear anywhere: not in the file, the scripts, the labels, the env or the registered props.
    for (const r of mocks.resources()) {
      for (const text of plainStrings(r.inputs)) {
        expect({ resource: r.name, text }).not.toEqual({ resource: r.name, text: expect.stringContaining(CLIENT_SECRET) });
        expect({ resource: r.name, text }).not.toEqual({ resource: r.name, text: expect.stringContaining(DES_KEY) });
      }
    }
  });

  it("is seven resources with the component, all under it", async () => {
    const { rec } = await build();
    expect(mocks.registered()).toEqual([
      "alacarte:block:ContainerService wm-roundcube",
      "alacarte:platform:Webmail wm",
      "command:remote:Command wm-config-write",
      "docker:index/container:Container wm-roundcube-container",
      "docker:index/remoteImage:RemoteImage wm-roundcube-image",
      "docker:index/volume:Volume wm-roundcube-db",
      "random:index/randomPassword:RandomPassword wm-des-key",
    ]);
    for (const child of ["wm-config-write", "wm-roundcube", "wm-des-key"]) expect(rec.get(child).opts.parent).toBeDefined();
  });
});
