import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as command from "@pulumi/command";
import * as s3 from "@pulumi/aws/s3";
import { beforeAll, describe, expect, it } from "vitest";
import { ContainerService, CONTAINER_SERVICE_TYPE } from "../components/blocks/container-service";
import { Database } from "../components/blocks/database";
import { HostFile } from "../components/blocks/host-file";
import { OidcClient } from "../components/blocks/oidc-client";
import { MailDomain, MAIL_DOMAIN_TYPE } from "../components/tenant/mail-domain";
import { StaticSite, STATIC_SITE_TYPE } from "../components/tenant/static-site";
import { TENANT_IDENTITY_TYPE } from "../components/tenant/identity";
import { environmentPolicyConfig, plan, planFailed, planProgram, type PlanResult, type StackPlan } from "../infra/plan/offline-plan";
import type { PolicyViolation } from "../infra/plan/policy-eval";
import { policies, TYPES } from "../policies/policies";
import { StackInventory } from "../infra/program/stack-inventory";

const host = { name: "h1", address: "h1.infra.alacarte.example.org", user: "deploy" };
const config = environmentPolicyConfig("prod");

function of(violations: PolicyViolation[], policy: string): PolicyViolation[] {
  return violations.filter((v) => v.policy === policy);
}

function stack(result: PlanResult, name: string): StackPlan {
  return result.stacks.find((s) => s.name === name)!;
}

/** A component of the test's own, to hang raw resources under. */
class Holder extends pulumi.ComponentResource {
  constructor(type: string, name: string, props: Record<string, unknown> = {}, opts?: pulumi.ComponentResourceOptions) {
    super(type, name, props, opts);
  }
}

const dockerProvider = () => new docker.Provider("docker-h1", { host: `ssh://deploy@${host.address}` });

function site(name: string, storageGb: number, protect = true): StaticSite {
  return new StaticSite(name, {
    slug: "jardins-partages",
    domains: ["jardins-partages.fr"],
    storageGb,
    storage: { host, webUpstream: "http://garage:3902", adminToken: "token" },
    proxy: { host, routesDir: "/srv/alacarte/routes", publicIp: "192.0.2.10" },
    protect,
  });
}

describe("the policy pack on the real stacks", () => {
  let result: PlanResult;
  beforeAll(async () => {
    result = await plan({ env: "prod", today: "2026-11-25" });
  });

  it("passes every stack: no policy finding at all", () => {
    expect(result.stacks.flatMap((s) => s.policies)).toEqual([]);
    expect(planFailed(result)).toBe(false);
  });

  it("type tokens the policies look for are the components' own", () => {
    expect(TYPES.containerService).toBe(CONTAINER_SERVICE_TYPE);
    expect(TYPES.staticSite).toBe(STATIC_SITE_TYPE);
    expect(TYPES.mailDomain).toBe(MAIL_DOMAIN_TYPE);
    expect(TYPES.identity).toBe(TENANT_IDENTITY_TYPE);
  });

  it("host-capacity: fails the platform stack when the overcommit leaves no room, and the plan exits non-zero", async () => {
    const tight = await plan({ env: "prod", today: "2026-11-25", policyConfig: { "host-capacity": { overcommit: 0.01 } } });
    const found = of(stack(tight, "prod").policies, "host-capacity");
    expect(found.map((v) => v.message)).toContain('host "h1": 11.6 CPUs placed, above 0.16 (16 × overcommit 0.01)');
    expect(found.every((v) => v.level === "mandatory")).toBe(true);
    expect(planFailed(tight)).toBe(true);
  });

  it("mail-allowance (advisory): a tenant beyond a decided allowance is flagged, within it is not", async () => {
    const decided = await plan({
      env: "prod",
      today: "2026-11-25",
      policyConfig: { "mail-allowance": { tenants: { "amis-du-velo": { includedGb: 5 }, "jardins-partages": { includedGb: 10 } } } },
    });
    expect(of(stack(decided, "prod.amis-du-velo").policies, "mail-allowance")).toEqual([
      {
        policy: "mail-allowance",
        level: "advisory",
        urn: null,
        message: 'tenant "amis-du-velo": its mailboxes total 9 GB, beyond the 5 GB included in the membership',
      },
    ]);
    expect(of(stack(decided, "prod.jardins-partages").policies, "mail-allowance")).toEqual([]);
    expect(planFailed(decided)).toBe(false); // advisory only
  });

  it("membership-paid (advisory): flags a tenant past its paid-until date", async () => {
    const later = await plan({
      env: "prod",
      tenants: ["amis-du-velo"],
      today: "2026-11-25",
      policyConfig: { "membership-paid": { today: "2027-07-01" } },
    });
    expect(of(stack(later, "prod.amis-du-velo").policies, "membership-paid").map((v) => v.message)).toEqual([
      'tenant "amis-du-velo": membership was paid until 2027-06-30',
    ]);
  });

  it("enforcement levels come from the config: `all`, then per policy", async () => {
    const relaxed = await plan({
      env: "prod",
      tenants: ["amis-du-velo"],
      today: "2026-11-25",
      policyConfig: { all: "advisory", "membership-paid": { enforcementLevel: "mandatory", today: "2027-07-01" } },
    });
    expect(of(stack(relaxed, "prod.amis-du-velo").policies, "membership-paid")[0]!.level).toBe("mandatory");
    const disabled = await plan({
      env: "prod",
      tenants: ["amis-du-velo"],
      today: "2026-11-25",
      policyConfig: { "membership-paid": { enforcementLevel: "disabled", today: "2027-07-01" } },
    });
    expect(stack(disabled, "prod.amis-du-velo").policies).toEqual([]);
  });
});

describe("the policy pack on components built for the test (offline plan of a program)", () => {
  const T = "prod.jardins-partages"; // a real tenant: pays for a 5 GB website

  it("storage-has-quota: passes quota-declaring components; fails an unlabelled volume, a bucket under no quota, a tenant component without quota", async () => {
    const ok = await planProgram(
      T,
      () => {
        site("ok-website", 5);
      },
      { policyConfig: config },
    );
    expect(of(ok.policies, "storage-has-quota")).toEqual([]);
    const bad = await planProgram(
      T,
      () => {
        const p = dockerProvider();
        const widget = new Holder("alacarte:tenant:Widget", "widget");
        new docker.Volume("bare", { name: "bare" }, { parent: widget, provider: p, protect: true });
        new s3.Bucket("loose", { bucket: "loose" }, { parent: widget, protect: true });
      },
      { policyConfig: config },
    );
    expect(
      of(bad.policies, "storage-has-quota")
        .map((v) => v.message)
        .sort(),
    ).toEqual(
      [
        'alacarte:tenant:Widget "widget" declares no quota (components/units.ts StorageQuota, in its props and outputs)',
        'docker:index/volume:Volume "bare" has no quota: its ContainerService declares none for it (volumes[].quotaGb)',
        'aws:s3/bucket:Bucket "loose" is under no component that declares its quota',
      ].sort(),
    );
    expect(bad.policies.find((v) => v.policy === "storage-has-quota")!.level).toBe("mandatory");
  });

  it("offer-quota-within-tier: a 5 GB site passes; a 20 GB site of a tenant paying 5 GB and a 7 GB non-tier site fail", async () => {
    const ok = await planProgram(
      T,
      () => {
        site("w", 5);
      },
      { policyConfig: config },
    );
    expect(of(ok.policies, "offer-quota-within-tier")).toEqual([]);
    const above = await planProgram(
      T,
      () => {
        site("w", 20);
      },
      { policyConfig: config },
    );
    expect(of(above.policies, "offer-quota-within-tier").map((v) => v.message)).toEqual([
      'alacarte:tenant:StaticSite "w": quota 20 GB is above the 5 GB tier tenant "jardins-partages" pays for',
    ]);
    const notTier = await planProgram(
      "prod.amis-du-velo",
      () => {
        site("w", 7);
      },
      { policyConfig: config },
    );
    expect(of(notTier.policies, "offer-quota-within-tier").map((v) => v.message)).toEqual([
      'alacarte:tenant:StaticSite "w": quota 7 GB is above the 5 GB tier tenant "amis-du-velo" pays for',
      'alacarte:tenant:StaticSite "w": quota 7 GB is not a website tier of the catalog (5, 10, 20)',
    ]);
    const unknownTenant = await planProgram(
      "prod.nobody",
      () => {
        site("w", 5);
      },
      { policyConfig: config },
    );
    expect(of(unknownTenant.policies, "offer-quota-within-tier")[0]!.message).toMatch(/gives no paid tiers for tenant "nobody"/);
  });

  const mail = (quotaGb: number) => () => {
    new MailDomain("m", {
      slug: "jardins-partages",
      domain: "jardins-partages.fr",
      shared: false,
      mailboxes: [{ address: "big@jardins-partages.fr", quotaGb }],
      redirections: [],
      mail: { host, fragmentsDir: "/srv/alacarte/mail/fragments", hostname: "mail.alacarte.example.org" },
      wellKnown: {
        upstream: "http://platform-mail-well-known-nginx:8080",
        proxy: { host, routesDir: "/srv/alacarte/routes", publicIp: "203.0.113.10" },
        tlsReportAddress: "postmaster@alacarte.example.org",
      },
    });
  };

  it("mailbox-quota-within-max: a 10 GB mailbox passes, a 12 GB one fails", async () => {
    expect(of((await planProgram(T, mail(10), { policyConfig: config })).policies, "mailbox-quota-within-max")).toEqual([]);
    const bad = await planProgram(T, mail(12), { policyConfig: config });
    expect(of(bad.policies, "mailbox-quota-within-max")).toEqual([
      {
        policy: "mailbox-quota-within-max",
        level: "mandatory",
        urn: expect.stringContaining("alacarte:tenant:MailDomain::m") as unknown as string,
        message: "mailbox big@jardins-partages.fr: quota 12 GB is above the catalog's 10 GB per mailbox",
      },
    ]);
  });

  const service =
    (over: Partial<ConstructorParameters<typeof ContainerService>[1]> = {}) =>
    () => {
      const p = dockerProvider();
      new ContainerService(
        "app",
        {
          image: "nginx:1.27.2",
          host,
          limits: { memoryMb: 256, cpus: 0.5 },
          volumes: [{ name: "data", containerPath: "/data", sizeGb: 5 }],
          routes: [{ hostnames: ["app.jardins-partages.fr"], port: 80 }],
          ...over,
        },
        { providers: { docker: p } },
      );
    };

  it("host-capacity: a container within the host passes; one beyond its memory fails", async () => {
    expect(of((await planProgram(T, service(), { policyConfig: config })).policies, "host-capacity")).toEqual([]);
    const big = await planProgram(T, service({ limits: { memoryMb: 200 * 1024, cpus: 1 } }), { policyConfig: config });
    expect(of(big.policies, "host-capacity").map((v) => v.message)).toEqual([
      'host "h1": 210.09 GB memory placed, above 96 (64 × overcommit 1.5)',
    ]);
  });

  it("data-protected: protected volumes and sites' buckets pass in prod; unprotected ones fail in prod, not in staging", async () => {
    expect(
      of(
        (
          await planProgram(
            T,
            () => {
              site("w", 5);
              service()();
            },
            { policyConfig: config },
          )
        ).policies,
        "data-protected",
      ),
    ).toEqual([]);
    const bad = await planProgram(
      T,
      () => {
        site("w", 5, false);
        service({ protect: false })();
      },
      { policyConfig: config },
    );
    expect(of(bad.policies, "data-protected").map((v) => v.message)).toEqual([
      'alacarte:tenant:StaticSite "w" makes the bucket "site-jardins-partages" on a host in prod but does not protect it (hostData.protect)',
      'docker:index/volume:Volume "app-data" holds data in prod but is not protected (protect: true)',
    ]);
    const staging = await planProgram(
      "staging.jardins-partages",
      () => {
        site("w", 5, false);
      },
      { policyConfig: config },
    );
    expect(of(staging.policies, "data-protected")).toEqual([]);
  });

  /** The tenant's PostgreSQL server, as TenantContext makes it. */
  const server = {
    engine: "postgres" as const,
    host,
    containerName: "jp-postgres-server",
    container: "jp-postgres-server",
    port: 5432,
    networks: ["jp-network"],
  };

  it("data-protected: a database a command adds to a shared server is checked as a resource would be", async () => {
    const db = (protect: boolean) => () => {
      new Database("jp-nextcloud-db", { engine: "postgres", name: "jp_nextcloud", server: { existing: server }, protect });
    };
    expect(of((await planProgram(T, db(true), { policyConfig: config })).policies, "data-protected")).toEqual([]);
    expect(of((await planProgram(T, db(false), { policyConfig: config })).policies, "data-protected").map((v) => v.message)).toEqual([
      'alacarte:block:Database "jp-nextcloud-db" makes the database "jp_nextcloud" on a host in prod but does not protect it (hostData.protect)',
    ]);
  });

  it("data-backed-up: what the stack inventory lists passes; a volume, a database or a bucket no backup set lists fails", async () => {
    const data =
      (withBackupSets: boolean, extra: () => void = () => {}) =>
      () => {
        const inventory = new StackInventory((type, name) => (type.startsWith("alacarte:tenant:") ? name.split("-").pop() : undefined));
        const p = dockerProvider();
        new ContainerService(
          "jp-app",
          {
            image: "nginx:1.27.2",
            host,
            limits: { memoryMb: 256, cpus: 0.5 },
            volumes: [
              { name: "data", containerPath: "/data", sizeGb: 5, backup: true },
              { name: "cache", containerPath: "/cache", sizeGb: 1, backup: false },
            ],
          },
          { providers: { docker: p } },
        );
        new Database("jp-nextcloud-db", { engine: "postgres", name: "jp_nextcloud", server: { existing: server } });
        site("jp-website", 5);
        extra();
        if (withBackupSets) inventory.backupSets("jardins-partages", { h1: host }, { mail: "h1", storage: "h1" });
      };
    expect(of((await planProgram(T, data(true), { policyConfig: config })).policies, "data-backed-up")).toEqual([]);
    expect(
      of((await planProgram(T, data(false), { policyConfig: config })).policies, "data-backed-up")
        .map((v) => v.message)
        .sort(),
    ).toEqual([
      'alacarte:block:ContainerService "jp-app": volume "jp-app-data" is in no backup set',
      'alacarte:block:Database "jp-nextcloud-db": its database is dumped by no backup set',
      'alacarte:tenant:StaticSite "jp-website": bucket "site-jardins-partages" is in no backup set',
    ]);
    // A volume outside a ContainerService, and a database server's volume whose databases nobody dumps.
    const stray = await planProgram(
      T,
      data(true, () => {
        const p = new docker.Provider("docker-h1-extra", { host: `ssh://deploy@${host.address}` });
        new docker.Volume("stray", { name: "stray" }, { provider: p });
        new ContainerService(
          "jp-mariadb-server",
          {
            image: "mariadb:11.4.8",
            host,
            limits: { memoryMb: 256, cpus: 0.5 },
            volumes: [{ name: "data", containerPath: "/var/lib/mysql", sizeGb: 5, backup: "dump" }],
          },
          { providers: { docker: p } },
        );
      }),
      { policyConfig: config },
    );
    expect(stray.problems).toEqual([]);
    expect(of(stray.policies, "data-backed-up").map((v) => v.message)).toEqual([
      'docker:index/volume:Volume "stray" belongs to no ContainerService, so no backup set lists it',
      'alacarte:block:ContainerService "jp-mariadb-server": volume "jp-mariadb-server-data" is saved by its databases\' dumps, and no backup set dumps a database of "jp-mariadb-server"',
    ]);
  });

  it("image-pinned: a pinned image passes; latest and a bare major fail", async () => {
    expect(of((await planProgram(T, service(), { policyConfig: config })).policies, "image-pinned")).toEqual([]);
    const bad = await planProgram(
      T,
      () => {
        const p = dockerProvider();
        new docker.RemoteImage("latest", { name: "nginx:latest" }, { provider: p });
        new docker.Container("major", { image: "postgres:17" }, { provider: p });
      },
      { policyConfig: config },
    );
    expect(of(bad.policies, "image-pinned").map((v) => v.message)).toEqual([
      expect.stringContaining('Image "nginx:latest" uses the tag "latest"'),
      expect.stringContaining('Image "postgres:17" names only a major version'),
    ]);
  });

  it("route-tls: ContainerService and ProxyRoute routes pass; a label router and a fragment router without TLS fail", async () => {
    expect(
      of(
        (
          await planProgram(
            T,
            () => {
              service()();
              site("w", 5);
            },
            { policyConfig: config },
          )
        ).policies,
        "route-tls",
      ),
    ).toEqual([]);
    const bad = await planProgram(
      T,
      () => {
        const p = dockerProvider();
        new docker.Container(
          "plain",
          {
            image: "nginx:1.27.2",
            labels: [
              { label: "traefik.http.routers.plain.rule", value: "Host(`a.example.org`)" },
              { label: "traefik.http.routers.plain.entrypoints", value: "web" },
            ],
          },
          { provider: p },
        );
        new HostFile("route", {
          host,
          path: "/srv/alacarte/routes/plain.yml",
          content: 'http:\n  routers:\n    plain:\n      rule: "Host(`b.example.org`)"\n      entryPoints: [web]\n      service: plain\n',
        });
      },
      { policyConfig: config },
    );
    expect(of(bad.policies, "route-tls").map((v) => v.message)).toEqual([
      'router "plain" of docker:index/container:Container "plain" has no TLS',
      'router "plain" of the route fragment written by command:remote:Command "route-write" has no TLS',
    ]);
  });

  it("bucket-not-public: a website bucket may be public-read; any other public bucket fails", async () => {
    const quota = { quota: { offer: "website", gb: 5 } };
    const ok = await planProgram(
      T,
      () => {
        const holder = new Holder("alacarte:tenant:TestSite", "holder", quota);
        new s3.Bucket("site", { bucket: "site-x", acl: "public-read" }, { parent: holder, protect: true });
        new s3.BucketWebsiteConfiguration("site-web", { bucket: "site-x", indexDocument: { suffix: "index.html" } }, { parent: holder });
      },
      { policyConfig: config },
    );
    expect(of(ok.policies, "bucket-not-public")).toEqual([]);
    const bad = await planProgram(
      T,
      () => {
        const holder = new Holder("alacarte:tenant:TestStore", "holder", quota);
        new s3.Bucket("files", { bucket: "files-x", acl: "public-read" }, { parent: holder, protect: true });
        new s3.BucketPolicy(
          "files-policy",
          {
            bucket: "files-x",
            policy: JSON.stringify({
              Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "arn:aws:s3:::files-x/*" }],
            }),
          },
          { parent: holder },
        );
      },
      { policyConfig: config },
    );
    expect(
      of(bad.policies, "bucket-not-public")
        .map((v) => v.message)
        .sort(),
    ).toEqual(
      [
        'aws:s3/bucket:Bucket "files" is readable by the public (acl) and is no static website',
        'aws:s3/bucketPolicy:BucketPolicy "files-policy" opens bucket "files-x" to anyone, and it is no static website',
      ].sort(),
    );
  });

  it("no-plaintext-secrets: secretEnv and stdin pass; a password in env, a raw container's token, a command's environment and arguments fail", async () => {
    const ok = await planProgram(
      T,
      () => {
        service({ env: { APP_USER: "app" }, secretEnv: { APP_PASSWORD: pulumi.secret("generated") } })();
        site("w", 5); // its Garage command gets the admin token on stdin
      },
      { policyConfig: config },
    );
    expect(of(ok.policies, "no-plaintext-secrets")).toEqual([]);
    const bad = await planProgram(
      T,
      () => {
        service({ env: { APP_PASSWORD: "hunter22" } })();
        const p = dockerProvider();
        new docker.Container("raw", { image: "nginx:1.27.2", envs: ["API_TOKEN=abcdef123456"] }, { provider: p });
        new command.remote.Command("cmd", {
          connection: { host: host.address },
          create: "curl -H 'Authorization: Bearer abcdefghijklmnop1234' https://x && DB_PASSWORD=hunter22 psql",
          environment: { ADMIN_TOKEN: "t" },
        });
      },
      { policyConfig: config },
    );
    expect(
      of(bad.policies, "no-plaintext-secrets")
        .map((v) => v.message)
        .sort(),
    ).toEqual(
      [
        'env var APP_PASSWORD of alacarte:block:ContainerService "app" looks like a secret but is in env, not secretEnv',
        'env var API_TOKEN of docker:index/container:Container "raw" is a plain value: use ContainerService\'s secretEnv',
        'command:remote:Command "cmd" passes ADMIN_TOKEN in its environment: give secrets on stdin',
        'command:remote:Command "cmd" has DB_PASSWORD in clear in its create command: give secrets on stdin',
        'command:remote:Command "cmd" has Bearer token in clear in its create command: give secrets on stdin',
      ].sort(),
    );
  });

  it("oidc-client-gated (advisory): a client bound to the gate flow passes; one without fails", async () => {
    const client = (browserFlowId?: pulumi.Output<string>) => () => {
      new OidcClient("app", {
        realmId: "alacarte",
        clientId: "jardins-partages-app",
        name: "App",
        redirectUris: ["https://app.jardins-partages.fr/cb"],
        ...(browserFlowId ? { gate: { browserFlowId } } : {}),
      });
    };
    // The flow id is unknown during a preview: the policy checks its presence, never its value.
    const unknownFlow = () => new Holder("alacarte:test:Flow", "flow").urn.apply(() => "flow-id");
    expect(of((await planProgram(T, () => client(unknownFlow())(), { policyConfig: config })).policies, "oidc-client-gated")).toEqual([]);
    const bad = await planProgram(T, client(), { policyConfig: config });
    expect(of(bad.policies, "oidc-client-gated")).toEqual([
      expect.objectContaining({ level: "advisory", message: expect.stringContaining("has no group restriction") }),
    ]);
  });

  it('a policy reading a value unknown during preview reports "can\'t run" as an advisory, as @pulumi/policy does', async () => {
    const reader = {
      name: "reads-unknown",
      description: "reads an unknown",
      enforcementLevel: "mandatory" as const,
      validateResource: (args: { type: string; props: Record<string, any> }) => {
        if (args.type === "docker:index/container:Container") void args.props.image.length;
      },
    };
    const run = await planProgram(
      T,
      () => {
        const p = dockerProvider();
        const image = new docker.RemoteImage("img", { name: "nginx:1.27.2" }, { provider: p });
        new docker.Container("c", { image: image.imageId }, { provider: p }); // imageId is computed: unknown
      },
      { policyConfig: {}, policies: [reader] },
    );
    expect(run.policies).toEqual([
      {
        policy: "reads-unknown",
        level: "advisory",
        urn: expect.stringContaining("Container::c") as unknown as string,
        message:
          "can't run policy 'reads-unknown' from policy pack 'alacarte@v0.1.0' during preview: string value at .image can't be known during preview",
      },
    ]);
  });

  it("every policy of the pack has a test above", () => {
    expect(policies.map((p) => p.name).sort()).toEqual([
      "bucket-not-public",
      "data-backed-up",
      "data-protected",
      "host-capacity",
      "image-pinned",
      "mail-allowance",
      "mailbox-quota-within-max",
      "membership-paid",
      "no-plaintext-secrets",
      "offer-quota-within-tier",
      "oidc-client-gated",
      "route-tls",
      "storage-has-quota",
    ]);
  });
});
