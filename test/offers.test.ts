/**
 * The offer table (infra/model/offers.ts) against what reads it: the catalog, the contract's
 * services, expansion, host load and the policy pack's config. Pure, no mocks.
 */
import { describe, expect, it } from "vitest";
import { loadCatalog } from "../infra/catalog/catalog";
import { tenantSchema } from "../infra/contract/tenant";
import { expandTenant, needsSignInGate, type OfferPlan, type TenantPlan } from "../infra/model/expand";
import { databaseEngines, offerLoad, stackLoads, TENANT_DATABASE_SERVER } from "../infra/model/host-load";
import { OFFERS, STORAGE_OFFERS, type OfferEntry } from "../infra/model/offers";
import { readPlatformConfig } from "../infra/model/platform-config";

const catalog = loadCatalog();
const entries = Object.entries(OFFERS) as [OfferPlan["kind"], OfferEntry][];

const plans: Record<OfferPlan["kind"], OfferPlan> = {
  "static-site": { kind: "static-site", field: "website", hostnames: ["a.example.org"], storageGb: 5 },
  wordpress: { kind: "wordpress", field: "website", hostnames: ["a.example.org"], storageGb: 10, version: "7.1.0" },
  nextcloud: { kind: "nextcloud", field: "nextcloud", hostname: "c.example.org", storageGb: 20, apps: [], version: "34.0.2" },
  paheko: {
    kind: "paheko",
    field: "accounting",
    hostname: "p.example.org",
    storageGb: 1,
    accounting: true,
    newsletter: false,
    version: "1.3.22.1",
  },
  listmonk: { kind: "listmonk", field: "newsletter", hostname: "l.example.org", subscribers: 500, tracking: false, version: "6.2.0" },
  video: { kind: "video", field: "video", channel: "c", owner: "alice", storageGb: 10, live: false },
};

const tenantWith = (...offers: OfferPlan[]): TenantPlan => ({ slug: "t", members: [], mailDomains: [], offers });

describe("the offer table", () => {
  it("names a catalog offer and contract fields that exist", () => {
    const services = Object.keys(tenantSchema.shape.services.unwrap().shape);
    for (const [kind, entry] of entries) {
      expect(Object.keys(catalog.offers), kind).toContain(entry.catalogKey);
      for (const field of entry.fields) expect(services, kind).toContain(field);
    }
    // Every field of services is some offer's.
    expect([...new Set(entries.flatMap(([, e]) => e.fields))].sort()).toEqual([...services].sort());
  });

  it("gives the sign-in gate exactly to the offers whose apps sign in through Keycloak", () => {
    for (const [kind, entry] of entries) expect(needsSignInGate(tenantWith(plans[kind])), kind).toBe(entry.signIn);
    expect(needsSignInGate(tenantWith())).toBe(false);
  });

  it("counts an offer's sizing on its host only once it is built", () => {
    for (const [kind, entry] of entries) {
      const load = offerLoad(plans[kind]);
      if (!entry.built) expect(load, kind).toEqual({ diskGb: 0, memoryGb: 0, cpus: 0 });
      else
        expect(load, kind).toEqual({
          diskGb: entry.sizing.diskGb(plans[kind]),
          memoryGb: entry.sizing.memoryMb / 1024,
          cpus: entry.sizing.cpus,
        });
    }
  });

  it("adds one database server per engine that a tenant's built offers use, never one per offer", () => {
    // The table as it will be once WordPress (MariaDB), Nextcloud and Listmonk (PostgreSQL) are built.
    const table = {
      ...OFFERS,
      wordpress: { ...OFFERS.wordpress, built: true },
      nextcloud: { ...OFFERS.nextcloud, built: true },
      listmonk: { ...OFFERS.listmonk, built: true },
    };
    const tenant = tenantWith(plans.wordpress, plans.nextcloud, plans.listmonk, plans["static-site"]);
    expect(databaseEngines(tenant, table)).toEqual(["mariadb", "postgres"]);
    expect(databaseEngines(tenantWith(plans.nextcloud, plans.listmonk), table)).toEqual(["postgres"]);
    const config = readPlatformConfig("prod");
    const own = stackLoads({ env: "prod", config, tenants: [tenant], offers: table })["prod.t"]!;
    const offers = tenant.offers.map((o) => offerLoad(o, table).memoryGb).reduce((a, b) => a + b, 0);
    expect(own[config.placement.apps]!.memoryGb).toBeCloseTo(offers + (2 * TENANT_DATABASE_SERVER.memoryMb) / 1024);
    expect(own[config.placement.apps]!.diskGb).toBe(10 + 20 + 2 * TENANT_DATABASE_SERVER.diskGb);
    // With today's table: an offer not built keeps no database yet, whatever its entry says.
    expect(databaseEngines(tenantWith(...entries.filter(([, e]) => !e.built).map(([k]) => plans[k])))).toEqual([]);
  });

  it("lists the storage offers the policy pack checks, and expansion fills each tier from the table", () => {
    expect([...STORAGE_OFFERS].sort()).toEqual(["accounting", "nextcloud", "video", "website"]);
    const tenant = tenantSchema.parse({
      slug: "t",
      name: "T",
      type: "collective",
      contact: "a@t.example.org",
      members: [{ username: "alice", email: "a@t.example.org", admin: true }],
      services: { website: { engine: "static", domains: ["t.example.org"], storageGb: 5 } },
    });
    const plan = expandTenant(tenant, { catalog, sharedMailDomains: [] });
    expect(plan.offers.map((o) => [o.kind, OFFERS[o.kind].storage])).toEqual([["static-site", "website"]]);
  });
});
