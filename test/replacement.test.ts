/**
 * Edits never replace data (docs/architecture.md): every example tenant is planned before and
 * after a tier change, a domain change and a member change, and the platform before and after a
 * change of its storage sizes; on every volume, database and bucket, the properties whose change
 * makes the provider replace it (infra/model/replacement-properties.ts) must stay the same, and the
 * resource itself must stay (same name). The stacks run under Pulumi's mocks with their inputs
 * recorded.
 */
// First: the program must read this test's tenant files (test/helpers/tenants-dir.ts).
import { TEST_TENANTS_DIR } from "./helpers/tenants-dir";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse, stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCatalog } from "../infra/catalog/catalog";
import { REPLACEMENT_PROPERTIES } from "../infra/model/replacement-properties";
import { readPlatformConfig, type PlatformConfig } from "../infra/model/platform-config";
import * as mocks from "./helpers/mocks";
import { plain } from "./helpers/options";
import { hostConnections } from "../infra/program/platform-stack";
import { platformReference } from "./helpers/platform-outputs";

const ROOT = path.resolve(__dirname, "..");
const TENANTS = path.join(ROOT, "tenants");
const dir = TEST_TENANTS_DIR;
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const DATA_TYPES = new Set(["docker:index/volume:Volume", "aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"]);
const config = readPlatformConfig("prod");
const catalog = loadCatalog();

/** What a data resource is to the provider: its name and the inputs whose change replaces it. */
type DataSnapshot = Map<string, Record<string, unknown>>;

/**
 * The data resources of what was just registered: volumes and buckets, and the commands that make
 * data on a host (a database on a shared server, a bucket through Garage's admin API), named by
 * their component's `hostData.madeBy`.
 */
export function dataSnapshot(recorded: readonly mocks.MockedResource[]): DataSnapshot {
  // Data a command makes on a host: its component names the command (components/units.ts HostData).
  const madeOnHosts = new Set(
    recorded.filter((r) => r.type.startsWith("alacarte:") && r.inputs.hostData).map((r) => r.inputs.hostData.madeBy as string),
  );
  const out: DataSnapshot = new Map();
  for (const r of recorded) {
    if (!DATA_TYPES.has(r.type) && !(r.type === "command:remote:Command" && madeOnHosts.has(r.name))) continue;
    const entry = REPLACEMENT_PROPERTIES[r.type];
    if (!entry) throw new Error(`${r.type} is not in the replacement table`);
    const inputs = plain(r.inputs) as Record<string, unknown>;
    out.set(`${r.type}::${r.name}`, Object.fromEntries(entry.replaceOnChange.map((p) => [p, inputs[p]])));
  }
  return out;
}

/** What would replace or delete a data resource, in words; empty when nothing would. */
export function replacedData(before: DataSnapshot, after: DataSnapshot): string[] {
  const problems: string[] = [];
  for (const [key, props] of before) {
    const now = after.get(key);
    if (!now) {
      problems.push(`${key} disappears`);
      continue;
    }
    for (const [prop, value] of Object.entries(props)) {
      if (JSON.stringify(value) !== JSON.stringify(now[prop]))
        problems.push(`${key}: ${prop} changes (${JSON.stringify(value)} → ${JSON.stringify(now[prop])}), which replaces it`);
    }
  }
  return problems;
}

let program: typeof import("../infra/program/program");
let platformMod: typeof import("../components/platform/platform");

beforeAll(async () => {
  mocks.installMocks();
  program = await import("../infra/program/program.js");
  // The edits below reach the program only if it reads this folder.
  expect((await import("../infra/contract/paths.js")).TENANTS_DIR).toBe(dir);
  platformMod = await import("../components/platform/platform.js");
});

async function planTenant(slug: string, tenant: unknown): Promise<{ data: DataSnapshot; types: string[] }> {
  fs.writeFileSync(path.join(dir, `${slug}.yaml`), stringify(tenant));
  const ref = platformReference(config);
  mocks.installMocks({
    stack: `prod.${slug}`,
    state: (type) =>
      type === "pulumi:pulumi:StackReference" ? { outputs: { platform: ref.platform, platformSecrets: ref.platformSecrets } } : undefined,
  });
  // In a stack, as the CLI runs it: the program registers a stack transformation (its data inventory).
  await pulumi.runtime.runInPulumiStack(async () => program.buildStack(`prod.${slug}`));
  for (let i = 0; i < 20; i++) await mocks.settle();
  const recorded = [...mocks.resources()];
  return { data: dataSnapshot(recorded), types: recorded.map((r) => r.type) };
}

async function planPlatform(settings: Readonly<PlatformConfig>): Promise<{ data: DataSnapshot; types: string[] }> {
  mocks.installMocks({
    stack: "prod",
    calls: {
      "keycloak:openid/getClient:getClient": () => ({ id: "rm-uuid", clientId: "realm-management" }),
      "keycloak:index/getRole:getRole": (inputs) => ({ id: `${inputs.name}-uuid`, name: inputs.name }),
    },
    state: (type, name) =>
      type === "command:remote:Command" && name.endsWith("-bootstrap")
        ? { stdout: `Key ID: GK00112233445566778899aabb\nSecret key: ${"ef".repeat(32)}\n` }
        : undefined,
  });
  new platformMod.Platform("platform", {
    baseDomain: settings.baseDomain,
    acmeEmail: settings.acmeEmail,
    publicIp: settings.publicIp,
    hosts: hostConnections(settings),
    placement: settings.placement,
    sharedMailDomains: settings.sharedMailDomains,
    storage: settings.storage,
    mail: settings.mail,
    protect: settings.protect,
    environment: "prod",
    smtp: { ...settings.smtp!, auth: { username: settings.smtp!.username!, password: "smtp-password" } },
    monitoring: { alertTo: settings.monitoring.alertTo, outsideRelay: { ...settings.monitoring.outsideRelay, password: "relay-password" } },
    backup: {
      repository: settings.backup.repository,
      password: "restic-password",
      schedule: settings.backup.schedule,
      pruneSchedule: settings.backup.pruneSchedule,
      retention: settings.backup.keep,
    },
  });
  for (let i = 0; i < 20; i++) await mocks.settle();
  const recorded = [...mocks.resources()];
  return { data: dataSnapshot(recorded), types: recorded.map((r) => r.type) };
}

type Tenant = Record<string, any>;
const nextTier = (tiers: { storageGb: number }[], gb: number) => tiers.map((t) => t.storageGb).find((s) => s !== gb)!;

/** The edits ops make every day, each as a function of a tenant file. */
const EDITS: Record<string, (t: Tenant) => Tenant> = {
  tier: (t) => {
    const s = t.services ?? {};
    if (s.website) s.website.storageGb = nextTier(catalog.offers.website.tiers, s.website.storageGb);
    if (s.nextcloud) s.nextcloud.storageGb = nextTier(catalog.offers.nextcloud.tiers, s.nextcloud.storageGb);
    if (s.video) s.video.storageGb = nextTier(catalog.offers.video.tiers, s.video.storageGb);
    for (const d of t.mail?.domains ?? []) for (const b of d.mailboxes ?? []) b.quotaGb = b.quotaGb === 1 ? 2 : 1;
    return t;
  },
  domain: (t) => {
    const s = t.services ?? {};
    if (s.website) s.website.domains = [`site.${t.slug}.example.net`, ...s.website.domains.slice(1)];
    if (s.nextcloud) s.nextcloud.domain = `cloud.${t.slug}.example.net`;
    if (s.accounting) s.accounting.domain = `compta.${t.slug}.example.net`;
    if (s.newsletter?.domain && !s.accounting) s.newsletter.domain = `lettre.${t.slug}.example.net`;
    return t;
  },
  member: (t) => {
    t.members.push({ username: "zoe-nouvelle", email: `zoe@${t.slug}.example.net`, admin: true });
    const other = t.members.find((m: Tenant) => !m.admin);
    if (other) other.admin = true;
    return t;
  },
};

const examples = fs
  .readdirSync(TENANTS)
  .filter((f) => f.endsWith(".yaml"))
  .map((f) => f.replace(/\.yaml$/, ""))
  .sort();

describe("edits of a tenant file never replace its data", () => {
  it("has example tenants, and among them data to keep", async () => {
    expect(examples.length).toBeGreaterThan(0);
    let data = 0;
    for (const slug of examples)
      data += (await planTenant(slug, parse(fs.readFileSync(path.join(TENANTS, `${slug}.yaml`), "utf8")))).data.size;
    expect(data).toBeGreaterThan(0);
  });

  for (const slug of examples) {
    for (const [edit, apply] of Object.entries(EDITS)) {
      it(`${slug}: a ${edit} change`, async () => {
        const original = parse(fs.readFileSync(path.join(TENANTS, `${slug}.yaml`), "utf8")) as Tenant;
        const before = await planTenant(slug, original);
        const after = await planTenant(slug, apply(structuredClone(original)));
        expect(replacedData(before.data, after.data)).toEqual([]);
      });
    }
  }
});

describe("the platform's data", () => {
  it("stays when the storage sizes of its settings change", async () => {
    const before = await planPlatform(config);
    expect(before.data.size).toBeGreaterThan(0);
    const after = await planPlatform({
      ...config,
      storage: { metaGb: config.storage.metaGb * 2, dataGb: config.storage.dataGb * 2 },
      mail: { ...config.mail, dataGb: config.mail.dataGb * 2 },
    });
    expect(replacedData(before.data, after.data)).toEqual([]);
  });
});

describe("the replacement table", () => {
  it("lists every resource type the platform and the example tenants create", async () => {
    const types = new Set((await planPlatform(config)).types);
    for (const slug of examples)
      for (const t of (await planTenant(slug, parse(fs.readFileSync(path.join(TENANTS, `${slug}.yaml`), "utf8")))).types) types.add(t);
    const missing = [...types].filter((t) => !t.startsWith("alacarte:") && !t.startsWith("pulumi:") && !(t in REPLACEMENT_PROPERTIES));
    expect(missing).toEqual([]);
  });

  it("can tell: a volume labelled with its tier would be replaced by a tier change", () => {
    const volume = (gb: number): mocks.MockedResource => ({
      type: "docker:index/volume:Volume",
      name: "acme-data",
      custom: true,
      inputs: { name: "acme-data", labels: [{ label: "alacarte.quota-gb", value: String(gb) }] },
    });
    expect(replacedData(dataSnapshot([volume(5)]), dataSnapshot([volume(10)]))).toEqual([
      'docker:index/volume:Volume::acme-data: labels changes ([{"label":"alacarte.quota-gb","value":"5"}] → [{"label":"alacarte.quota-gb","value":"10"}]), which replaces it',
    ]);
    expect(replacedData(dataSnapshot([volume(5)]), dataSnapshot([]))).toEqual(["docker:index/volume:Volume::acme-data disappears"]);
  });
});
