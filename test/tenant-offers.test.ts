/**
 * What every tenant stack's offers keep to, on the example tenants under Pulumi's mocks.
 *
 * A tenant's containers join its own network and the proxy's, nothing else; its database servers
 * its own network only: no tenant's container can reach another tenant's database.
 *
 * Taking an offer out of a tenant file deletes no data (docs/architecture.md, DESIGN "Removing an
 * offer is a decommission"): planned with the offer, every data resource of the offer (a volume, a
 * database or bucket made on a host) is protected in production and retained on delete, so a plain
 * `up` without it cannot delete it and the pull-request flow sends it to `npm run decommission`;
 * planned again with the offer back, the same resources come back under the same names, so the
 * retained data is found again. Each example tenant, each built offer it has, under Pulumi's mocks.
 */
// First: the program must read this test's tenant files (test/helpers/tenants-dir.ts).
import { TEST_TENANTS_DIR } from "./helpers/tenants-dir";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse, stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCatalog } from "../infra/catalog/catalog";
import { loadTenantText } from "../infra/contract/load";
import { expandTenant } from "../infra/model/expand";
import { isBuilt } from "../infra/model/offers";
import { readPlatformConfig } from "../infra/model/platform-config";
import { DATA_RESOURCES } from "../policies/policies";
import * as mocks from "./helpers/mocks";
import { plain } from "./helpers/options";
import { platformReference } from "./helpers/platform-outputs";

const ROOT = path.resolve(__dirname, "..");
const dir = TEST_TENANTS_DIR;
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const config = readPlatformConfig("prod");
const catalog = loadCatalog();

let program: typeof import("../infra/program/program");
beforeAll(async () => {
  mocks.installMocks();
  program = await import("../infra/program/program.js");
  // The edits below reach the program only if it reads this folder.
  expect((await import("../infra/contract/paths.js")).TENANTS_DIR).toBe(dir);
});

interface Planned {
  name: string;
  type: string;
  protect: boolean;
  retainOnDelete: boolean;
  /** A command that makes data on a host, as its component declares (components/units.ts HostData). */
  hostData: boolean;
}

/** The Docker networks each container of the last plan joins, by container name. */
function containerNetworks(): Map<string, string[]> {
  return new Map(
    mocks
      .byType("docker:index/container:Container")
      .map((c) => [c.name, (plain(c.inputs.networksAdvanced) as { name: string }[] | undefined)?.map((n) => n.name) ?? []]),
  );
}

async function planTenant(slug: string, tenant: unknown): Promise<Planned[]> {
  fs.writeFileSync(path.join(dir, `${slug}.yaml`), stringify(tenant));
  const ref = platformReference(config);
  mocks.installMocks({
    stack: `prod.${slug}`,
    state: (type) =>
      type === "pulumi:pulumi:StackReference" ? { outputs: { platform: ref.platform, platformSecrets: ref.platformSecrets } } : undefined,
  });
  const seen: Planned[] = [];
  const madeBy = new Set<string>();
  await pulumi.runtime.runInPulumiStack(async () => {
    // Sees every resource with its options, as the engine would (a stack transformation).
    pulumi.runtime.registerStackTransformation((args) => {
      const hostData = args.props?.hostData as { madeBy?: string } | undefined;
      if (hostData?.madeBy) madeBy.add(hostData.madeBy);
      seen.push({
        name: args.name,
        type: args.type,
        protect: args.opts.protect === true,
        retainOnDelete: (args.opts as pulumi.CustomResourceOptions).retainOnDelete === true,
        hostData: false,
      });
      return undefined;
    });
    return program.buildStack(`prod.${slug}`);
  });
  for (let i = 0; i < 20; i++) await mocks.settle();
  return seen.map((r) => ({ ...r, hostData: madeBy.has(r.name) }));
}

const isData = (r: Planned) => DATA_RESOURCES.has(r.type) || r.hostData;

const examples = fs
  .readdirSync(path.join(ROOT, "tenants"))
  .filter((f) => f.endsWith(".yaml"))
  .map((f) => {
    const file = path.join(ROOT, "tenants", f);
    return { slug: f.replace(/\.yaml$/, ""), file, tenant: parse(fs.readFileSync(file, "utf8")) };
  });

/** The built offers with data of each example: its field in the tenant file and the resource-name start of its component. */
const cases = examples.flatMap(({ slug, tenant, file }) =>
  expandTenant(loadTenantText(file, fs.readFileSync(file)).tenant!.tenant, { catalog, sharedMailDomains: config.sharedMailDomains })
    .offers.filter((o) => isBuilt(o.kind))
    .map((o) => ({ slug, tenant, field: o.field, kind: o.kind })),
);

describe("removing an offer from a tenant file", () => {
  it("has built offers in the examples to take away", () => {
    expect(cases.map((c) => c.kind)).toEqual(expect.arrayContaining(["nextcloud"]));
  });

  it.each(cases)(
    "$slug: its $kind's data is protected and retained, and comes back under the same names",
    async ({ slug, tenant, field }) => {
      const withOffer = await planTenant(slug, tenant);
      const prefix = `${slug}-${field}`;
      const offerData = withOffer.filter((r) => r.name.startsWith(prefix) && isData(r));
      expect(offerData.length, "the offer keeps data").toBeGreaterThan(0);
      for (const r of offerData)
        expect({ name: r.name, protect: r.protect, retainOnDelete: r.retainOnDelete }).toEqual({
          name: r.name,
          protect: true,
          retainOnDelete: true,
        });

      const without = structuredClone(tenant);
      delete without.services[field];
      const removed = await planTenant(slug, without);
      const left = new Set(removed.map((r) => r.name));
      // The plan without it no longer holds its data: a plain `up` would try to delete exactly these,
      // which protection refuses and retain-on-delete keeps on the host.
      expect(offerData.filter((r) => left.has(r.name))).toEqual([]);

      const back = await planTenant(slug, tenant);
      expect(
        back
          .filter((r) => r.name.startsWith(prefix) && isData(r))
          .map((r) => `${r.type} ${r.name}`)
          .sort(),
      ).toEqual(offerData.map((r) => `${r.type} ${r.name}`).sort());
    },
  );
});

describe("a tenant's containers", () => {
  it.each(examples.filter((e) => e.tenant.services && Object.keys(e.tenant.services).length))(
    "$slug: join its own network and the proxy's only, its database servers its own network only",
    async ({ slug, tenant }) => {
      await planTenant(slug, tenant);
      const own = `${slug}-network`;
      const proxy = platformReference(config).platform.proxy.network;
      const networks = containerNetworks();
      for (const [container, joined] of networks) {
        for (const n of joined) expect([own, proxy], `${container} joins ${n}`).toContain(n);
        if (/-(postgres|mariadb)-server-container$/.test(container)) expect(joined, container).toEqual([own]);
      }
      for (const db of mocks.byType("alacarte:block:Database")) {
        expect(db.name.startsWith(`${slug}-`), db.name).toBe(true);
      }
    },
  );
});
