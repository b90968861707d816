import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { OFFERS } from "../../infra/model/offers";
import * as mocks from "../helpers/mocks";
import * as options from "../helpers/options";

const appsHost = { name: "h1", address: "h1.infra.example.org", user: "deploy" };
const proxyHost = { name: "p1", address: "p1.infra.example.org", user: "deploy" };
const SMTP_PASSWORD = "smtp-password-value";
const OIDC_SECRET = "keycloak-made-secret";

describe("NextcloudSuite under mocks", () => {
  let mod: typeof import("../../components/tenant/nextcloud-suite");
  let db: typeof import("../../components/blocks/database");

  beforeAll(async () => {
    mocks.installMocks({
      state: (type) => (type === "keycloak:openid/client:Client" ? { clientSecret: OIDC_SECRET } : undefined),
    });
    mod = await import("../../components/tenant/nextcloud-suite.js");
    db = await import("../../components/blocks/database.js");
  });

  async function build(overrides: Partial<import("../../components/tenant/nextcloud-suite").NextcloudSuiteArgs> = {}) {
    mocks.reset();
    const rec = options.optionsRecorder();
    const suite = new mod.NextcloudSuite(
      "acme-nextcloud",
      {
        slug: "acme",
        hostname: "cloud.acme.org",
        storageGb: 20,
        apps: ["calendar", "forms", "office"],
        version: "34.0.2",
        members: [
          { username: "alice", admin: true },
          { username: "bruno", admin: false },
        ],
        host: appsHost,
        tenantNetwork: "acme-network",
        proxyNetwork: "proxy",
        proxy: { host: appsHost, routesDir: "/srv/alacarte/routes", publicIp: "203.0.113.10" },
        database: (parent) =>
          new db.Database(
            "acme-nextcloud-db",
            {
              engine: "postgres",
              name: "acme_nextcloud",
              server: {
                existing: {
                  engine: "postgres",
                  host: appsHost,
                  containerName: "acme-postgres-server",
                  container: "acme-postgres-server",
                  port: 5432,
                  networks: ["acme-network"],
                },
              },
            },
            { parent },
          ),
        keycloak: {
          realmId: "alacarte",
          issuerUrl: "https://sso.example.org/realms/alacarte",
          gate: { browserFlowId: pulumi.output("gate-flow-id") },
        },
        mail: {
          host: "mail.example.org",
          port: 587,
          starttls: true,
          username: "noreply@example.org",
          password: pulumi.secret(SMTP_PASSWORD),
          from: "noreply@example.org",
        },
        office: { url: "https://office.example.org", host: proxyHost, fragmentsDir: "/srv/alacarte/office/fragments" },
        ...overrides,
      },
      { transformations: [rec.transformation] },
    );
    await mocks.promiseOf(suite.url);
    await mocks.settle();
    return { suite, rec };
  }

  it("parents every resource under the suite, named from the slug and the offer, labelled with the tenant", async () => {
    const { suite, rec } = await build();
    const names = mocks.resources().map((r) => r.name);
    for (const name of names) expect(name, name).toMatch(/^acme-nextcloud(-|$)/);
    for (const c of mocks.byType("alacarte:block:ContainerService")) expect(rec.get(c.name).opts.parent).toBe(suite);
    for (const c of mocks.byType("docker:index/container:Container")) {
      expect(options.plain(c.inputs.labels)).toContainEqual({ label: "alacarte.tenant", value: "acme" });
    }
    expect(
      mocks
        .byType("alacarte:block:ContainerService")
        .map((c) => c.name)
        .sort(),
    ).toEqual(["acme-nextcloud-app", "acme-nextcloud-cron", "acme-nextcloud-redis"]);
  });

  it("declares the tier as its quota and as the data volume's size; the volumes are protected and retained on delete", async () => {
    const { rec } = await build({ storageGb: 50 });
    expect(mocks.one("alacarte:tenant:NextcloudSuite").inputs.quota).toEqual({ offer: "nextcloud", gb: 50 });
    const app = mocks.one("alacarte:block:ContainerService", "acme-nextcloud-app");
    expect(app.inputs.volumes).toEqual([
      { name: "acme-nextcloud-app-html", quotaGb: mod.NEXTCLOUD_HTML_GB, backup: true, stopForBackup: true },
      { name: "acme-nextcloud-app-data", quotaGb: 50 - mod.NEXTCLOUD_HTML_GB, backup: true, stopForBackup: true },
    ]);
    for (const v of mocks.byType("docker:index/volume:Volume"))
      expect(rec.get(v.name).opts).toMatchObject({ protect: true, retainOnDelete: true });
    expect(rec.get("acme-nextcloud-db-create").opts).toMatchObject({ protect: true, retainOnDelete: true });
  });

  it("reserves on its host what the offer table says", async () => {
    await build();
    const limits = mocks
      .byType("docker:index/container:Container")
      .map((c) => ({ memory: c.inputs.memory as number, cpus: Number(c.inputs.cpus) }));
    expect(limits.reduce((s, l) => s + l.memory, 0)).toBe(OFFERS.nextcloud.sizing.memoryMb);
    expect(limits.reduce((s, l) => s + l.cpus, 0)).toBeCloseTo(OFFERS.nextcloud.sizing.cpus, 5);
  });

  it("runs the pinned image of its version, the cron on the same volumes, Redis on the tenant's network only", async () => {
    await build({ version: "33.0.7" });
    const containers = Object.fromEntries(mocks.byType("docker:index/container:Container").map((c) => [c.name, c.inputs]));
    const images = mocks.byType("docker:index/remoteImage:RemoteImage").map((i) => i.inputs.name);
    expect(images).toEqual(expect.arrayContaining(["nextcloud:33.0.7-apache", mod.REDIS.image]));
    expect(containers["acme-nextcloud-cron-container"]!.command).toEqual(["/cron.sh"]);
    expect(options.plain(containers["acme-nextcloud-cron-container"]!.volumes).map((v: { volumeName: string }) => v.volumeName)).toEqual([
      "acme-nextcloud-app-html",
      "acme-nextcloud-app-data",
    ]);
    expect(options.plain(containers["acme-nextcloud-redis-container"]!.networksAdvanced)).toEqual([{ name: "acme-network" }]);
    expect(options.plain(containers["acme-nextcloud-app-container"]!.networksAdvanced)).toEqual([
      { name: "acme-network" },
      { name: "proxy" },
    ]);
  });

  it("keeps every secret out of clear inputs: the database, admin and SMTP passwords are secret env, the OIDC secret goes on stdin", async () => {
    await build();
    const app = mocks.one("alacarte:block:ContainerService", "acme-nextcloud-app");
    expect(app.inputs.secretEnvKeys).toEqual(["NEXTCLOUD_ADMIN_PASSWORD", "POSTGRES_PASSWORD", "SMTP_PASSWORD"]);
    const setup = mocks.one("command:remote:Command", "acme-nextcloud-setup-run");
    expect(options.isSecretInput(setup.inputs.stdin)).toBe(true);
    expect((options.plain(setup.inputs.stdin) as string).split("\n")[0]).toBe(OIDC_SECRET);
    for (const c of mocks.byType("command:remote:Command")) {
      const visible = JSON.stringify(options.plain({ ...c.inputs, stdin: undefined }));
      expect(visible, c.name).not.toContain(OIDC_SECRET);
      expect(visible, c.name).not.toContain(SMTP_PASSWORD);
    }
    const container = mocks.one("docker:index/container:Container", "acme-nextcloud-app-container");
    expect(options.isSecretInput(container.inputs.envs)).toBe(true);
  });

  it("signs in through a Keycloak client behind the tenant's gate, redirecting to user_oidc's code endpoint", async () => {
    await build();
    const client = mocks.one("keycloak:openid/client:Client", "acme-nextcloud-oidc-client");
    expect(client.inputs.clientId).toBe("acme-nextcloud");
    expect(client.inputs.validRedirectUris).toEqual(["https://cloud.acme.org/apps/user_oidc/code"]);
    expect(options.plain(client.inputs.authenticationFlowBindingOverrides)).toEqual({ browserId: "gate-flow-id" });
    const setup = mocks.one("command:remote:Command", "acme-nextcloud-setup-run");
    const create = options.plain(setup.inputs.create) as string;
    expect(create).toContain("'^\\/tenants\\/acme$'");
    expect(create).toContain("'alice|1 bruno|0'");
    expect(create).toContain(`'${20 - mod.NEXTCLOUD_HTML_GB} GB'`);
    expect(create).toContain("'https://office.example.org'");
    expect(create).toContain("'calendar forms richdocuments user_oidc'");
  });

  it("routes its hostname once DNS points at the proxy, and is watched on status.php", async () => {
    await build();
    const write = mocks.byType("command:remote:Command").find((c) => c.name.startsWith("acme-nextcloud-route"))!;
    const fragment = options.plain(write.inputs.stdin) as string;
    expect(fragment).toContain("Host(`cloud.acme.org`)");
    expect(fragment).toContain("http://acme-nextcloud-app:80");
    expect(write.inputs.create).toContain("/srv/alacarte/routes/pending/acme-nextcloud.yml.pending");
    expect(mocks.one("alacarte:block:ProxyRoute").inputs.probes).toEqual({ http: ["https://cloud.acme.org/status.php"], tls: [] });
  });

  it("re-runs its setup when the members change, not otherwise", async () => {
    await build();
    const first = options.plain(mocks.one("command:remote:Command", "acme-nextcloud-setup-run").inputs.triggers)[0];
    await build();
    expect(options.plain(mocks.one("command:remote:Command", "acme-nextcloud-setup-run").inputs.triggers)[0]).toBe(first);
    await build({ members: [{ username: "alice", admin: true }] });
    expect(options.plain(mocks.one("command:remote:Command", "acme-nextcloud-setup-run").inputs.triggers)[0]).not.toBe(first);
  });

  it("lets the suite in to the office server through the tenant's own fragment, and only with the office app", async () => {
    await build();
    const fragment = mocks.byType("command:remote:Command").find((c) => c.name.startsWith("acme-nextcloud-office"))!;
    expect(fragment.inputs.create).toContain("/srv/alacarte/office/fragments/acme");
    expect(options.plain(fragment.inputs.connection)).toMatchObject({ host: "p1.infra.example.org" });
    expect(options.plain(fragment.inputs.stdin) as string).toContain("https://cloud.acme.org");
    await build({ apps: ["calendar"] });
    expect(mocks.byType("alacarte:block:OfficeAccess")).toEqual([]);
    expect(options.plain(mocks.one("command:remote:Command", "acme-nextcloud-setup-run").inputs.create) as string).not.toContain(
      "office.example.org",
    );
  });

  it("refuses the office app without the platform's office server, and a version the table lacks", () => {
    expect(() => new mod.NextcloudSuite("x-nextcloud", { ...minimal(), office: undefined })).toThrow(/office server/);
    expect(() => new mod.NextcloudSuite("y-nextcloud", { ...minimal(), version: "32.0.13", apps: [] })).toThrow(
      /no image for version 32.0.13/,
    );
  });

  function minimal(): import("../../components/tenant/nextcloud-suite").NextcloudSuiteArgs {
    return {
      slug: "acme",
      hostname: "cloud.acme.org",
      storageGb: 20,
      apps: ["office"],
      version: "34.0.2",
      members: [{ username: "alice", admin: true }],
      host: appsHost,
      tenantNetwork: "n",
      proxyNetwork: "p",
      proxy: { host: appsHost, routesDir: "/srv/alacarte/routes", publicIp: "203.0.113.10" },
      database: () => {
        throw new Error("not reached");
      },
      keycloak: { realmId: "alacarte", issuerUrl: "https://sso.example.org/realms/alacarte" },
      mail: { host: "mail.example.org", port: 587, starttls: true, username: "u", password: "p", from: "noreply@example.org" },
    };
  }
});
