/**
 * The WordPress offer under Pulumi's mocks, planned through the real program (infra/program) for
 * a tenant file with `engine: wordpress`: its resources under one component named from the slug
 * and the offer, the volume's quota from the tier, the OIDC client bound to the tenant's gate, a
 * tier and a domain change that replace no data resource (infra/model/replacement-properties.ts),
 * and a removal that deletes none (protected, retained on delete).
 */
import { TEST_TENANTS_DIR as dir } from "../helpers/tenants-dir";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WORDPRESS_IMAGE } from "../../components/tenant/wordpress-image";
import { WORDPRESS_LIMITS } from "../../components/tenant/wordpress-site-config";
import { OFFERS } from "../../infra/model/offers";
import { readPlatformConfig } from "../../infra/model/platform-config";
import { REPLACEMENT_PROPERTIES } from "../../infra/model/replacement-properties";
import * as mocks from "../helpers/mocks";
import { optionsRecorder, plain, plainStrings, type RecordedOptions } from "../helpers/options";
import { platformReference } from "../helpers/platform-outputs";

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const config = readPlatformConfig("prod");
const SLUG = "velo-club";

function tenant(website: Record<string, unknown> | undefined) {
  return {
    version: 1,
    slug: SLUG,
    name: "Vélo Club",
    type: "collective",
    rate: "standard",
    contact: "bureau@veloclub.example.org",
    membership: { paidUntil: "2027-06-30" },
    members: [
      { username: "alice", email: "alice@veloclub.example.org", admin: true },
      { username: "bruno", email: "bruno@example.net" },
    ],
    ...(website ? { services: { website } } : {}),
  };
}
const SITE = { engine: "wordpress", domains: ["veloclub.example.org", "www.veloclub.example.org"], storageGb: 5 };

let program: typeof import("../../infra/program/program");
beforeAll(async () => {
  mocks.installMocks();
  program = await import("../../infra/program/program.js");
});

interface Planned {
  resources: mocks.MockedResource[];
  opts: RecordedOptions[];
  outputs: Record<string, unknown>;
}

async function plan(t: unknown): Promise<Planned> {
  fs.writeFileSync(path.join(dir, `${SLUG}.yaml`), stringify(t));
  const ref = platformReference(config);
  mocks.installMocks({
    stack: `prod.${SLUG}`,
    state: (type) =>
      type === "pulumi:pulumi:StackReference" ? { outputs: { platform: ref.platform, platformSecrets: ref.platformSecrets } } : undefined,
  });
  const rec = optionsRecorder();
  let outputs: Record<string, unknown> = {};
  await pulumi.runtime.runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation(rec.transformation);
    outputs = program.buildStack(`prod.${SLUG}`);
    return outputs;
  });
  for (let i = 0; i < 20; i++) await mocks.settle();
  return { resources: [...mocks.resources()], opts: rec.seen, outputs };
}

/** Every resource registered under the offer's component, by the parent chain the transformation saw (Pulumi's `__name`, `__parentResource`). */
function underSite(p: Planned): RecordedOptions[] {
  type Node = { __name?: string; __parentResource?: Node };
  return p.opts.filter((o) => {
    for (let parent = o.opts.parent as Node | undefined; parent; parent = parent.__parentResource)
      if (parent.__name === `${SLUG}-website`) return true;
    return false;
  });
}

const DATA_TYPES = new Set(["docker:index/volume:Volume"]);
/** The site's data: its volume and the command that makes its database (its Database's hostData.madeBy). */
function siteData(p: Planned): Map<string, Record<string, unknown>> {
  const madeBy = new Set(
    p.resources.filter((r) => r.type === "alacarte:block:Database" && r.inputs.hostData).map((r) => r.inputs.hostData.madeBy as string),
  );
  const out = new Map<string, Record<string, unknown>>();
  for (const r of p.resources) {
    if (!r.name.startsWith(`${SLUG}-website`)) continue;
    if (!DATA_TYPES.has(r.type) && !(r.type === "command:remote:Command" && madeBy.has(r.name))) continue;
    const entry = REPLACEMENT_PROPERTIES[r.type]!;
    const inputs = plain(r.inputs) as Record<string, unknown>;
    out.set(`${r.type}::${r.name}`, Object.fromEntries(entry.replaceOnChange.map((k) => [k, inputs[k]])));
  }
  return out;
}

describe("the WordPress offer", () => {
  it("builds its resources under one component named from the slug and the offer, labelled with the tenant", async () => {
    const p = await plan(tenant(SITE));
    const site = mocks.one("alacarte:tenant:WordpressSite");
    expect(site.name).toBe(`${SLUG}-website`);
    const children = underSite(p);
    expect(children.length).toBeGreaterThan(10);
    for (const c of children) expect(c.name.startsWith(`${SLUG}-website-`), c.name).toBe(true);
    const names = p.resources.filter((r) => r.name.startsWith(`${SLUG}-website`)).map((r) => `${r.type} ${r.name}`);
    for (const want of [
      `alacarte:block:Database ${SLUG}-website-db`,
      `alacarte:block:ContainerService ${SLUG}-website-web`,
      `alacarte:block:ContainerService ${SLUG}-website-cli`,
      `alacarte:block:OidcClient ${SLUG}-website-oidc`,
      `alacarte:block:AppSetup ${SLUG}-website-setup`,
      `alacarte:block:ProxyRoute ${SLUG}-website-route`,
      `docker:index/volume:Volume ${SLUG}-website-web-html`,
    ])
      expect(names).toContain(want);
    const web = mocks.one("docker:index/container:Container", `${SLUG}-website-web-container`);
    const cli = mocks.one("docker:index/container:Container", `${SLUG}-website-cli-container`);
    for (const c of [web, cli]) expect(c.inputs.labels).toContainEqual({ label: "alacarte.tenant", value: SLUG });
    expect(web.inputs.image).toBe(WORDPRESS_IMAGE.images["7.1.0"]!.image);
    expect(cli.inputs.command).toEqual(["tail", "-f", "/dev/null"]);
    // The web container on the tenant's network and the proxy's; the CLI on the tenant's only.
    expect(web.inputs.networksAdvanced).toEqual([{ name: `${SLUG}-network` }, { name: "proxy" }]);
    expect(cli.inputs.networksAdvanced).toEqual([{ name: `${SLUG}-network` }]);
    expect(cli.inputs.volumes).toEqual([{ volumeName: `${SLUG}-website-web-html`, containerPath: "/var/www/html", readOnly: false }]);
    expect(web.inputs.memory + cli.inputs.memory).toBe(OFFERS.wordpress.sizing.memoryMb);
    // The database is on the tenant's MariaDB server, named from the slug and the offer.
    expect(mocks.one("alacarte:block:Database", `${SLUG}-website-db`).inputs.hostData).toMatchObject({
      engine: "mariadb",
      name: "velo_club_website",
    });
    // What the tenant gets: URLs, nothing secret.
    const outputs = await mocks.promiseOf(pulumi.output(p.outputs as Record<string, unknown>));
    expect(outputs.website).toEqual({
      urls: ["https://veloclub.example.org/", "https://www.veloclub.example.org/"],
      adminUrl: "https://veloclub.example.org/wp-admin/",
    });
  });

  it("keeps every secret out of the plain inputs: the database, OIDC and SMTP passwords reach the containers as secret env only", async () => {
    const p = await plan(tenant(SITE));
    const web = mocks.one("docker:index/container:Container", `${SLUG}-website-web-container`);
    const envs = plain(web.inputs.envs) as string[];
    expect(envs).toContainEqual(`WORDPRESS_DB_PASSWORD=mock-password-${SLUG}-website-db-password`);
    expect(envs.some((e) => e.startsWith("ALACARTE_OIDC_CLIENT_SECRET=mock-secret-"))).toBe(true);
    const extra = envs.find((e) => e.startsWith("WORDPRESS_CONFIG_EXTRA="))!;
    expect(extra).toContain("define('OIDC_CLIENT_SECRET', getenv('ALACARTE_OIDC_CLIENT_SECRET'));");
    expect(extra).toContain("define('OIDC_ENDPOINT_LOGIN_URL', 'https://sso.");
    expect(extra).toContain("/realms/alacarte/protocol/openid-connect/auth');");
    expect(extra).toContain("define('WP_HOME', 'https://veloclub.example.org');");
    expect(extra).toContain("define('DISALLOW_FILE_MODS', true);");
    expect(extra).toContain("@ini_set('upload_max_filesize', '64M');");
    for (const r of p.resources.filter((x) => x.name.startsWith(`${SLUG}-website`))) {
      const visible = plainStrings(r.inputs).join("\n");
      expect(visible, r.name).not.toContain("mock-password-");
      expect(visible, r.name).not.toContain("mock-secret-");
    }
  });

  it("gives the containers every variable the tenant gate reads", async () => {
    await plan(tenant(SITE));
    const gate = fs.readFileSync(path.resolve(__dirname, "../../components/tenant/scripts/wordpress-tenant-gate.php"), "utf8");
    const read = [...gate.matchAll(/getenv\( '([A-Z_]+)' \)/g)].map((m) => m[1]!);
    expect(read.length).toBeGreaterThan(5);
    for (const container of [`${SLUG}-website-web-container`, `${SLUG}-website-cli-container`]) {
      const names = (plain(mocks.one("docker:index/container:Container", container).inputs.envs) as string[]).map((e) => e.split("=")[0]);
      for (const name of read) expect(names, `${container} ${name}`).toContain(name);
    }
  });

  it("declares the tier as the site's quota and its volume's size, saved by the backups", async () => {
    await plan(tenant({ ...SITE, storageGb: 10 }));
    expect(mocks.one("alacarte:tenant:WordpressSite").inputs.quota).toEqual({ offer: "website", gb: 10 });
    expect(mocks.one("alacarte:block:ContainerService", `${SLUG}-website-web`).inputs.volumes).toEqual([
      { name: `${SLUG}-website-web-html`, quotaGb: 10, backup: true },
    ]);
  });

  it("binds the OIDC client to the tenant's sign-in gate, confidential, without PKCE, one redirect URI per domain", async () => {
    await plan(tenant(SITE));
    const client = mocks.one("keycloak:openid/client:Client", `${SLUG}-website-oidc-client`);
    const flow = mocks.byType("keycloak:authentication/flow:Flow").find((f) => f.inputs.alias === `tenant-${SLUG}-browser`)!;
    expect(flow).toBeDefined();
    expect(client.inputs).toMatchObject({
      clientId: `${SLUG}-website`,
      accessType: "CONFIDENTIAL",
      pkceCodeChallengeMethod: "",
      authenticationFlowBindingOverrides: { browserId: `${flow.name}-id` },
      validRedirectUris: [
        "https://veloclub.example.org/wp-admin/admin-ajax.php?action=openid-connect-authorize",
        "https://www.veloclub.example.org/wp-admin/admin-ajax.php?action=openid-connect-authorize",
      ],
    });
    expect(
      mocks.one("keycloak:openid/clientDefaultScopes:ClientDefaultScopes", `${SLUG}-website-oidc-scopes`).inputs.defaultScopes,
    ).toContain("alacarte-gated");
  });

  it("runs the setup in the CLI container as uid 33, with the pins and the members, re-run by a hash of its inputs", async () => {
    await plan(tenant(SITE));
    const run = mocks.one("command:remote:Command", `${SLUG}-website-setup-run`);
    const create = run.inputs.create as string;
    expect(create).toMatch(/^'docker' 'exec' '-i' '-u' '33' 'velo-club-website-cli' 'sh' '-c' /);
    for (const arg of ["'https://veloclub.example.org'", "'7.1.0'", "'alice:admin'", "'bruno:member'"]) expect(create).toContain(arg);
    expect(create).toContain(
      "'daggerhart-openid-connect-generic|3.10.3|https://downloads.wordpress.org/plugin/daggerhart-openid-connect-generic.3.10.3.zip'",
    );
    expect(run.inputs.triggers).toHaveLength(2);
    const before = run.inputs.triggers[0];
    await plan({ ...tenant(SITE), members: [tenant(SITE).members[0]] });
    expect(mocks.one("command:remote:Command", `${SLUG}-website-setup-run`).inputs.triggers[0]).not.toBe(before);
  });

  it("routes the domains to the web container once their DNS points at the platform, and only after the setup installed WordPress", async () => {
    const p = await plan(tenant(SITE));
    const route = p.opts.find((o) => o.name === `${SLUG}-website-route`)!;
    const after = ([] as unknown[]).concat(route.opts.dependsOn ?? []).map((d) => (d as { __name?: string }).__name);
    expect(after).toContain(`${SLUG}-website-setup`);
    const write = mocks.byType("command:remote:Command").find((c) => c.name.startsWith(`${SLUG}-website-route`))!;
    const fragment = plain(write.inputs.stdin) as string;
    expect(fragment).toContain("Host(`veloclub.example.org`) || Host(`www.veloclub.example.org`)");
    expect(fragment).toContain(`http://${SLUG}-website-web:80`);
    expect(write.inputs.create).toContain(`/srv/alacarte/routes/pending/${SLUG}-website.yml.pending`);
  });

  it("updates, never replaces, its data on a tier change and on a domain change", async () => {
    const before = siteData(await plan(tenant(SITE)));
    expect([...before.keys()].sort()).toEqual([
      `command:remote:Command::${SLUG}-website-db-create`,
      `docker:index/volume:Volume::${SLUG}-website-web-html`,
    ]);
    for (const after of [
      await plan(tenant({ ...SITE, storageGb: 20 })),
      await plan(tenant({ ...SITE, domains: ["velo.example.net", "www.veloclub.example.org"] })),
    ]) {
      expect(siteData(after)).toEqual(before);
    }
  });

  it("deletes no data when the offer is removed: its volume and database are protected and retained on delete", async () => {
    const p = await plan(tenant(SITE));
    const data = [...siteData(p).keys()].map((k) => k.split("::")[1]!);
    for (const name of data) {
      const o = p.opts.find((x) => x.name === name)!;
      expect(o.opts, name).toMatchObject({ protect: true, retainOnDelete: true });
    }
    const without = await plan(tenant(undefined));
    expect(without.resources.filter((r) => r.name.startsWith(`${SLUG}-website`))).toEqual([]);
  });
});

describe("the offer table's WordPress sizing", () => {
  it("is the sum of the two containers' limits", () => {
    expect(OFFERS.wordpress.sizing.memoryMb).toBe(WORDPRESS_LIMITS.web.memoryMb + WORDPRESS_LIMITS.cli.memoryMb);
    expect(OFFERS.wordpress.sizing.cpus).toBeCloseTo(WORDPRESS_LIMITS.web.cpus + WORDPRESS_LIMITS.cli.cpus, 10);
    expect(OFFERS.wordpress.built).toBe(true);
  });
});
