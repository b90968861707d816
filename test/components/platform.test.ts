import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import type { PlatformOutputs } from "../../components/platform/outputs";
import { dockerHostUrl, resolvePlacement } from "../../components/platform/platform";

const hosts = {
  h1: { name: "h1", address: "h1.infra.example.org", user: "deploy" },
  h2: { name: "h2", address: "h2.infra.example.org", user: "ops" },
};
const placement = { proxy: "h1", keycloak: "h1", mail: "h2", storage: "h1" };

describe("resolvePlacement", () => {
  it("maps services to hosts and lists each placed host once, sorted", () => {
    const r = resolvePlacement(hosts, { proxy: "h2", keycloak: "h2", storage: "h2", mail: "h1" });
    expect(r.byService.mail).toBe(hosts.h1);
    expect(r.byService.keycloak).toBe(hosts.h2);
    expect(r.hostNames).toEqual(["h1", "h2"]);
  });

  it("only lists hosts that run something", () =>
    expect(resolvePlacement({ ...hosts, spare: hosts.h1 }, placement).hostNames).toEqual(["h1", "h2"]));

  it("keeps the label-routed services on the proxy host", () =>
    expect(() => resolvePlacement(hosts, { ...placement, keycloak: "h2" })).toThrow(
      'Platform placement.keycloak: "h2" is not the proxy host "h1"',
    ));

  it("keeps the office server on the proxy host, its default", () => {
    expect(resolvePlacement(hosts, placement).byService.office).toBe(hosts.h1);
    expect(() => resolvePlacement(hosts, { ...placement, office: "h2" })).toThrow(
      'Platform placement.office: "h2" is not the proxy host "h1"',
    );
  });

  it("names the service and the unknown host", () =>
    expect(() => resolvePlacement(hosts, { ...placement, mail: "h3" })).toThrow(
      'Platform placement.mail: unknown host "h3" (hosts: h1, h2)',
    ));
});

describe("dockerHostUrl", () => {
  it("reaches the engine over ssh as the host's user", () => expect(dockerHostUrl(hosts.h2)).toBe("ssh://ops@h2.infra.example.org"));
});

/** What the platform's calls and its object store's bootstrap answer under the mocks. */
const PLATFORM_MOCKS: import("../helpers/mocks").InstallMocksOptions = {
  stack: "staging",
  calls: {
    "keycloak:openid/getClient:getClient": () => ({ id: "rm-uuid", clientId: "realm-management" }),
    "keycloak:index/getRole:getRole": (inputs) => ({ id: `${inputs.name}-uuid`, name: inputs.name }),
  },
  state: (type, name) =>
    type === "command:remote:Command" && name === "p-storage-bootstrap"
      ? { stdout: `Key ID: GK00112233445566778899aabb\nSecret key: ${"ef".repeat(32)}\n` }
      : undefined,
};

/** The platform's arguments under test (placeholder values). */
function platformArgs(): import("../../components/platform/platform").PlatformArgs {
  return {
    baseDomain: "example.org",
    acmeEmail: "ops@example.org",
    publicIp: "203.0.113.10",
    hosts,
    placement,
    sharedMailDomains: ["membres.example.org", "asso.example.org"],
    storage: { metaGb: 2, dataGb: 100 },
    mail: { dataGb: 200 },
    protect: true,
    smtp: {
      host: "mail.example.org",
      port: 587,
      from: "noreply@example.org",
      fromDisplayName: "alacarte",
      starttls: true,
      auth: { username: "noreply@example.org", password: pulumi.secret("smtp-password") },
    },
    monitoring: {
      alertTo: ["ops@example.org"],
      outsideRelay: { host: "smtp.relay.example.net", username: "alerts@relay.example.net", password: pulumi.secret("relay-password") },
    },
    backup: {
      repository: "s3:https://s3.backup.example.net/p",
      password: pulumi.secret("restic-password"),
      schedule: "17 2 * * *",
      pruneSchedule: "40 5 * * 0",
      retention: { daily: 7, weekly: 5, monthly: 12 },
    },
  };
}

describe("Platform under mocks", () => {
  it("builds the four services on their hosts through one Docker provider per host and exports the outputs", async () => {
    const { installMocks, one, byType, promiseOf, secretOf, settle } = await import("../helpers/mocks.js");
    const { optionsRecorder, plain } = await import("../helpers/options.js");
    installMocks(PLATFORM_MOCKS);
    const mod = await import("../../components/platform/platform.js");
    const rec = optionsRecorder();
    const p = new mod.Platform("p", platformArgs(), { transformations: [rec.transformation] });

    const out = await promiseOf(pulumi.output(p.outputs));
    const typed: PlatformOutputs = out; // the exported shape is what tenant stacks read
    expect(typed.keycloak.realm).toBe("alacarte");
    expect(out).toEqual({
      environment: "staging",
      baseDomain: "example.org",
      publicIp: "203.0.113.10",
      hosts,
      proxy: { host: hosts.h1, network: "proxy", routesDir: "/srv/alacarte/routes" },
      keycloak: {
        url: "https://sso.example.org",
        realm: "alacarte",
        tenantsGroupId: "p-keycloak-tenants-group-id",
        adminClientId: "alacarte-tenants",
        adminClientSecret: "mock-secret-p-keycloak-tenants-client",
        accountsClientId: "alacarte-accounts",
        accountsClientSecret: "mock-secret-p-keycloak-accounts-client",
        memberServiceRoleIds: { git: "p-keycloak-git-role-id", nextcloud: "p-keycloak-nextcloud-role-id" },
      },
      objectStorage: {
        host: hosts.h1,
        endpoint: "https://s3.example.org",
        region: "garage",
        accessKeyId: "GK00112233445566778899aabb",
        secretAccessKey: "ef".repeat(32),
        webUpstream: "http://p-storage-garage:3902",
        adminToken: "mock-password-p-storage-admin-token",
      },
      mail: {
        host: hosts.h2,
        hostname: "mail.example.org",
        fragmentsDir: "/srv/alacarte/mail/fragments",
        sharedDomains: ["asso.example.org", "membres.example.org"],
        dnsRecords: mod.platformMailRecords(
          { mailHostname: "mail.example.org", proxyIp: "203.0.113.10", tlsReportAddress: "postmaster@example.org" },
          "203.0.113.10",
          ["membres.example.org", "asso.example.org"],
          "webmail.example.org",
        ),
        wellKnownUpstream: "http://p-mail-well-known-nginx:8080",
      },
      office: { url: "https://office.example.org", host: hosts.h1, fragmentsDir: "/srv/alacarte/office/fragments" },
    });
    expect(typed.mail.dnsRecords.slice(0, 3)).toEqual([
      { name: "mail.example.org", type: "A", value: "203.0.113.10" },
      { name: "10.113.0.203.in-addr.arpa", type: "PTR", value: "mail.example.org." },
      { name: "webmail.example.org", type: "A", value: "203.0.113.10" },
    ]);
    expect(typed.mail.dnsRecords.filter((r) => r.type === "MX").map((r) => r.name)).toEqual(["asso.example.org", "membres.example.org"]);
    const isSecret = (v: unknown) => secretOf(pulumi.output(v as pulumi.Input<string>));
    expect(await isSecret(p.outputs.keycloak.adminClientSecret)).toBe(true);
    expect(await isSecret(p.outputs.keycloak.accountsClientSecret)).toBe(true);
    expect(await isSecret(p.outputs.objectStorage.accessKeyId)).toBe(true);
    expect(await isSecret(p.outputs.objectStorage.secretAccessKey)).toBe(true);
    expect(await isSecret(p.outputs.objectStorage.adminToken)).toBe(true);
    expect(await isSecret(p.outputs.objectStorage.webUpstream)).toBe(false);
    expect(await isSecret(p.outputs.proxy.network)).toBe(false);
    expect(await isSecret(p.outputs.keycloak.tenantsGroupId)).toBe(false);
    await settle();

    // One Docker provider per placed host, over ssh in batch mode.
    const providers = byType("pulumi:providers:docker");
    expect(providers.map((r) => r.name).sort()).toEqual(["p-docker-h1", "p-docker-h2"]);
    expect(plain(one("pulumi:providers:docker", "p-docker-h2").inputs)).toMatchObject({ host: "ssh://ops@h2.infra.example.org" });
    expect(JSON.parse(one("pulumi:providers:docker", "p-docker-h1").inputs.sshOpts)).toEqual(["-o", "BatchMode=yes"]);

    // Each container runs on its host's engine.
    const engineOf = (container: string) => one("docker:index/container:Container", container).provider ?? "";
    expect(engineOf("p-proxy-traefik-container")).toContain("::p-docker-h1::");
    expect(engineOf("p-keycloak-server-container")).toContain("::p-docker-h1::");
    expect(engineOf("p-storage-garage-container")).toContain("::p-docker-h1::");
    expect(engineOf("p-mail-mailserver-container")).toContain("::p-docker-h2::");
    expect(engineOf("p-mail-well-known-nginx-container")).toContain("::p-docker-h1::");
    expect(engineOf("p-webmail-roundcube-container")).toContain("::p-docker-h1::");
    expect(engineOf("p-office-collabora-container")).toContain("::p-docker-h1::");
    expect(engineOf("p-office-config-container")).toContain("::p-docker-h1::");

    // The mail host, away from the proxy, gets its own local network on its own engine.
    expect(one("docker:index/network:Network", "p-network-h2").provider).toContain("::p-docker-h2::");
    expect(one("docker:index/network:Network", "p-proxy-network").provider).toContain("::p-docker-h1::");
    expect(plain(one("docker:index/container:Container", "p-mail-mailserver-container").inputs.networksAdvanced)).toEqual([
      { name: "alacarte" },
    ]);
    expect(plain(one("docker:index/container:Container", "p-keycloak-server-container").inputs.networksAdvanced)).toEqual([
      { name: "proxy" },
    ]);

    // Components are children of the platform; the whole tree is typed by our tokens.
    for (const child of [
      "p-proxy",
      "p-keycloak",
      "p-storage",
      "p-mail",
      "p-mail-well-known",
      "p-webmail",
      "p-office",
      "p-docker-h1",
      "p-docker-h2",
    ]) {
      expect(rec.get(child).opts.parent).toBe(p);
    }
    expect(one("alacarte:platform:ReverseProxy").name).toBe("p-proxy");
    expect(one("alacarte:platform:Keycloak").name).toBe("p-keycloak");
    expect(one("alacarte:platform:ObjectStorage").name).toBe("p-storage");
    expect(one("alacarte:platform:MailServer").name).toBe("p-mail");
    expect(one("alacarte:platform:MailWellKnown").name).toBe("p-mail-well-known");
    expect(one("alacarte:platform:Webmail").name).toBe("p-webmail");
    expect(one("alacarte:platform:OfficeServer").name).toBe("p-office");

    // The webmail: on the proxy network at webmail.<baseDomain>, signing in with the members-mail client, whose secret stays secret.
    const webmail = one("docker:index/container:Container", "p-webmail-roundcube-container");
    expect(plain(webmail.inputs.networksAdvanced)).toEqual([{ name: "proxy" }]);
    const webmailLabels = plain(webmail.inputs.labels) as { label: string; value: string }[];
    expect(webmailLabels.find((l) => l.label === "traefik.http.routers.p-webmail-roundcube-0.rule")?.value).toBe(
      "Host(`webmail.example.org`)",
    );
    expect(plain(webmail.inputs.envs)).toContain("WEBMAIL_OAUTH_CLIENT_SECRET=mock-secret-p-keycloak-mail-oidc-client");
    const webmailConfig = one("command:remote:Command", "p-webmail-config-write").inputs.stdin as string;
    expect(webmailConfig).toContain("$config['oauth_client_id'] = 'members-mail';");
    expect(webmailConfig).toContain(
      "$config['oauth_token_uri'] = 'https://sso.example.org/realms/alacarte/protocol/openid-connect/token';",
    );
    expect(webmailConfig).toContain("$config['imap_host'] = 'ssl://mail.example.org:993';");
    expect(webmailConfig).not.toContain("mock-secret");

    // The well-known service answers each shared domain's three names; not the mail server's own
    // name, whose host (h2) is not the proxy's: that name resolves elsewhere, and the mail server gets
    // its certificate from its own ACME client.
    const wellKnownLabels = plain(one("docker:index/container:Container", "p-mail-well-known-nginx-container").inputs.labels) as {
      label: string;
      value: string;
    }[];
    expect(wellKnownLabels.find((l) => l.label === "traefik.http.routers.p-mail-well-known-nginx-0.rule")?.value).toBe(
      [
        "autoconfig.asso.example.org",
        "autodiscover.asso.example.org",
        "mta-sts.asso.example.org",
        "autoconfig.membres.example.org",
        "autodiscover.membres.example.org",
        "mta-sts.membres.example.org",
      ]
        .map((h) => `Host(\`${h}\`)`)
        .join(" || "),
    );
    expect(typed.mail.dnsRecords.filter((r) => r.name.startsWith("_mta-sts.")).map((r) => r.name)).toEqual([
      "_mta-sts.asso.example.org",
      "_mta-sts.membres.example.org",
    ]);

    // Every image pinned to an exact version (CODE's tags have five numbers: version and build).
    for (const img of byType("docker:index/remoteImage:RemoteImage")) {
      expect(img.inputs.name).toMatch(/:v?\d+(\.\d+){1,4}(-[a-z0-9.]+)?$/);
    }
  });

  it("pulls the repository's images from the forge's registry, pinned by digest, once the platform config lists them", async () => {
    const { installMocks, byType, one, settle } = await import("../helpers/mocks.js");
    const { plain } = await import("../helpers/options.js");
    installMocks(PLATFORM_MOCKS);
    const mod = await import("../../components/platform/platform.js");
    const { MAIL_IMAGE } = await import("../../components/platform/mail-server.js");
    const pushed = `forge.example.org/alacarte/${MAIL_IMAGE.split("/").pop()}@sha256:${"ab".repeat(32)}`;
    new mod.Platform("p", { ...platformArgs(), images: { mail: pushed } });
    await settle();
    // Pulled by digest on the mail host, not built there; the backup job is still built (not listed).
    expect(byType("docker:index/remoteImage:RemoteImage").map((i) => i.inputs.name)).toContain(pushed);
    expect(
      byType("docker:index/image:Image")
        .map((i) => i.name)
        .some((n) => n.includes("mail")),
    ).toBe(false);
    expect(
      byType("docker:index/image:Image")
        .map((i) => i.name)
        .some((n) => n.includes("backups")),
    ).toBe(true);
    // Every host's engine logs in to that registry, with the login of where Pulumi runs.
    // Provider settings reach the engine as JSON strings.
    for (const p of byType("pulumi:providers:docker"))
      expect(JSON.parse(plain(p.inputs.registryAuth))).toEqual([{ address: "forge.example.org" }]);
    expect(one("pulumi:providers:docker", "p-docker-h2").inputs.registryAuth).toBeDefined();
  });
});
