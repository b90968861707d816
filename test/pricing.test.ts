/**
 * The quote: figures from the catalog (docs/contract.md "The catalog"), undecided prices listed and never
 * counted, the solidarity reduction, and the summary across tenants.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { CATALOG_FILE, loadCatalog, parseCatalog, UNDECIDED, type Catalog } from "../infra/catalog/catalog";
import { formatEur, quoteTenant, summarize } from "../infra/catalog/pricing";
import { formatProblem, loadTenantText } from "../infra/contract/load";
import type { Tenant } from "../infra/contract/tenant";

const catalog = loadCatalog();
const catalogText = fs.readFileSync(CATALOG_FILE, "utf8");

/** The project's catalog with one exact piece of text replaced. */
function catalogWith(from: string, to: string): Catalog {
  expect(catalogText.split(from)).toHaveLength(2);
  return parseCatalog(catalogText.replace(from, to), "test catalog");
}

function tenant(yaml: string): Tenant {
  const result = loadTenantText("test.yaml", yaml);
  if (!result.tenant) throw new Error(result.problems.map(formatProblem).join("\n"));
  return result.tenant.tenant;
}

const head = (slug: string, extra = "") => `slug: ${slug}
name: ${slug}
type: collective
contact: contact@${slug}.org
${extra}members:
  - username: alice
    email: alice@${slug}.org
    admin: true
`;
const SITE_AND_CLOUD = `services:
  website:
    engine: wordpress
    domains: [velo.org]
    storageGb: 5
  nextcloud:
    domain: cloud.velo.org
    storageGb: 20
`;

describe("the catalog's known figures", () => {
  it("match the decided prices of docs/contract.md", () => {
    expect(catalog.membership.collective.yearlyEur).toBe(30);
    expect(catalog.offers.website.tiers.find((t) => t.storageGb === 5)?.yearlyEur).toBe(60);
    expect(catalog.offers.nextcloud.tiers.find((t) => t.storageGb === 20)?.yearlyEur).toBe(120);
    expect(catalog.mail.maxMailboxGb).toBe(10);
    // Not decided yet: written undecided, never invented.
    expect(catalog.membership.individual.yearlyEur).toBe(UNDECIDED);
    expect(catalog.solidarity.defaultPercent).toBe(UNDECIDED);
  });

  it("offers at least the tiers of docs/contract.md", () => {
    const sizes = (tiers: { storageGb: number }[]) => tiers.map((t) => t.storageGb);
    expect(sizes(catalog.offers.website.tiers)).toEqual(expect.arrayContaining([5, 10, 20]));
    expect(sizes(catalog.offers.nextcloud.tiers)).toEqual(expect.arrayContaining([20, 50, 100]));
    expect(sizes(catalog.offers.video.tiers)).toEqual(expect.arrayContaining([10, 50, 100]));
    expect(catalog.offers.newsletter.brackets.map((b) => b.subscribers)).toEqual(expect.arrayContaining([100, 500, 2000]));
  });
});

describe("quoteTenant", () => {
  it("a collective at the standard rate with a 5 GB website and a 20 GB Nextcloud costs 210 €/year", () => {
    const quote = quoteTenant(tenant(head("velo") + SITE_AND_CLOUD), catalog);
    expect(quote).toEqual({
      slug: "velo",
      lines: [
        { label: "Membership (collective), mail included", yearlyEur: 30 },
        { label: "Website (WordPress), 5 GB", yearlyEur: 60 },
        { label: "Nextcloud suite, 20 GB", yearlyEur: 120 },
      ],
      solidarity: null,
      totalEur: 210,
      undecided: [],
    });
  });

  it("the example amis-du-velo costs 210 €/year", () => {
    const file = path.resolve(__dirname, "../tenants/amis-du-velo.yaml");
    expect(quoteTenant(tenant(fs.readFileSync(file, "utf8")), catalog).totalEur).toBe(210);
  });

  it("lists undecided lines and does not count them", () => {
    const yaml = `${head("velo") + SITE_AND_CLOUD}  accounting:
    domain: compta.velo.org
  newsletter:
    engine: paheko
    subscribers: 100
  video:
    channel: velo
    storageGb: 10
    live: true
`;
    const quote = quoteTenant(tenant(yaml), catalog);
    expect(quote.totalEur).toBe(210);
    expect(quote.undecided).toEqual([
      "Paheko accounting",
      "Newsletter (paheko), up to 100 subscribers",
      "Video channel, 10 GB",
      "Live streaming",
    ]);
    expect(quote.lines.filter((l) => l.yearlyEur === UNDECIDED).map((l) => l.label)).toEqual(quote.undecided);
    expect(quote.lines.map((l) => formatEur(l.yearlyEur))).toEqual([
      "30.00 €",
      "60.00 €",
      "120.00 €",
      "to be decided",
      "to be decided",
      "to be decided",
      "to be decided",
    ]);
  });

  it("an individual's membership is undecided: nothing is counted, the line is listed", () => {
    const quote = quoteTenant(tenant(head("dom").replace("type: collective", "type: individual")), catalog);
    expect(quote.totalEur).toBe(0);
    expect(quote.undecided).toEqual(["Membership (individual), mail included"]);
  });

  it("a tier whose price is undecided is listed, the decided tiers still count", () => {
    const custom = catalogWith("      - storageGb: 20\n        yearlyEur: 120", "      - storageGb: 20\n        yearlyEur: undecided");
    const quote = quoteTenant(tenant(head("velo") + SITE_AND_CLOUD), custom);
    expect(quote.totalEur).toBe(90);
    expect(quote.undecided).toEqual(["Nextcloud suite, 20 GB"]);
  });

  it("prices scale by tier: each tier has its own price", () => {
    const custom = catalogWith(
      "        yearlyEur: 120\n      - storageGb: 50\n        yearlyEur: undecided",
      "        yearlyEur: 120\n      - storageGb: 50\n        yearlyEur: 250",
    );
    const yaml = (head("velo") + SITE_AND_CLOUD).replace("storageGb: 20", "storageGb: 50");
    expect(quoteTenant(tenant(yaml), custom).totalEur).toBe(30 + 60 + 250);
  });

  describe("solidarity rate", () => {
    const solidarity = (percent?: number) =>
      tenant(head("velo", `rate: solidarity\n${percent === undefined ? "" : `solidarityPercent: ${percent}\n`}`) + SITE_AND_CLOUD);

    it("applies an explicit percent to everything the tenant pays", () => {
      const quote = quoteTenant(solidarity(50), catalog);
      expect(quote.solidarity).toEqual({ percent: 50, reductionEur: 105 });
      expect(quote.totalEur).toBe(105);
      expect(quote.undecided).toEqual([]);
    });

    it("rounds to the cent", () => {
      const quote = quoteTenant(solidarity(33), catalog);
      expect(quote.solidarity).toEqual({ percent: 33, reductionEur: 69.3 });
      expect(quote.totalEur).toBe(140.7);
      const third = quoteTenant(tenant(head("velo", "rate: solidarity\nsolidarityPercent: 33.333\n")), catalog);
      expect(third.solidarity?.reductionEur).toBe(10);
      expect(third.totalEur).toBe(20);
    });

    it("with the catalog's default undecided, the reduction is listed as to be decided and the total is not reduced", () => {
      const quote = quoteTenant(solidarity(), catalog);
      expect(quote.solidarity).toEqual({ percent: UNDECIDED, reductionEur: UNDECIDED });
      expect(quote.totalEur).toBe(210);
      expect(quote.undecided).toEqual(["Solidarity reduction (default percentage)"]);
    });

    it("with a decided default in the catalog, the default applies; an explicit percent still wins", () => {
      const custom = catalogWith("defaultPercent: undecided", "defaultPercent: 20");
      expect(custom.solidarity.defaultPercent).toBe(20);
      const quote = quoteTenant(solidarity(), custom);
      expect(quote.solidarity).toEqual({ percent: 20, reductionEur: 42 });
      expect(quote.totalEur).toBe(168);
      expect(quoteTenant(solidarity(50), custom).totalEur).toBe(105);
    });

    it("reduces only the decided lines", () => {
      const quote = quoteTenant(
        tenant(`${head("velo", "rate: solidarity\nsolidarityPercent: 50\n") + SITE_AND_CLOUD}  accounting:\n    domain: compta.velo.org\n`),
        catalog,
      );
      expect(quote.solidarity).toEqual({ percent: 50, reductionEur: 105 });
      expect(quote.totalEur).toBe(105);
      expect(quote.undecided).toEqual(["Paheko accounting"]);
    });

    it("the example jardins-partages: 90 € decided, half of it given up", () => {
      const file = path.resolve(__dirname, "../tenants/jardins-partages.yaml");
      const quote = quoteTenant(tenant(fs.readFileSync(file, "utf8")), catalog);
      expect(quote.solidarity).toEqual({ percent: 50, reductionEur: 45 });
      expect(quote.totalEur).toBe(45);
      expect(quote.undecided).toHaveLength(4);
    });
  });

  it("a storage that is no tier is a bug the loader prevents: the quote throws, it never prices it at 0", () => {
    const yaml = (head("velo") + SITE_AND_CLOUD).replace("storageGb: 5", "storageGb: 7");
    expect(() => quoteTenant(tenant(yaml), catalog)).toThrow(/no catalog tier of 7 GB/);
  });
});

describe("summarize", () => {
  it("adds revenue and solidarity across tenants and counts undecided lines", () => {
    const custom = catalogWith("defaultPercent: undecided", "defaultPercent: 25");
    const quotes = [
      quoteTenant(tenant(head("a") + SITE_AND_CLOUD), custom), // 210
      quoteTenant(tenant(head("b", "rate: solidarity\nsolidarityPercent: 50\n") + SITE_AND_CLOUD), custom), // 105, gives 105
      quoteTenant(tenant(head("c", "rate: solidarity\n")), custom), // 30 - 7.5 = 22.5, gives 7.5
      quoteTenant(tenant(head("d").replace("type: collective", "type: individual")), custom), // 0, one undecided
    ];
    expect(quotes.map((q) => q.totalEur)).toEqual([210, 105, 22.5, 0]);
    expect(summarize(quotes)).toEqual({ tenants: 4, revenueEur: 337.5, solidarityEur: 112.5, undecidedLines: 1 });
  });

  it("an undecided reduction adds nothing to the solidarity sum but counts as undecided", () => {
    const quotes = [
      quoteTenant(tenant(head("c", "rate: solidarity\n")), catalog),
      quoteTenant(tenant(head("a") + SITE_AND_CLOUD), catalog),
    ];
    expect(summarize(quotes)).toEqual({ tenants: 2, revenueEur: 240, solidarityEur: 0, undecidedLines: 1 });
  });

  it("of nothing is zero", () => {
    expect(summarize([])).toEqual({ tenants: 0, revenueEur: 0, solidarityEur: 0, undecidedLines: 0 });
  });
});
