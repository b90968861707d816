import { UNDECIDED, type Catalog, type Price } from "./catalog";
import type { Tenant } from "../contract/tenant";

export interface QuoteLine {
  /** What is paid for, in words. @example "Website, 5 GB" */
  label: string;
  yearlyEur: Price;
}

export interface Quote {
  slug: string;
  lines: QuoteLine[];
  /** Reduction of the solidarity rate, or null at the standard rate. */
  solidarity: null | { percent: number | typeof UNDECIDED; reductionEur: number | typeof UNDECIDED };
  /** Sum of the decided lines, less the decided reduction, in euros. */
  totalEur: number;
  /** Labels of the lines (and reduction) whose price is not decided yet. */
  undecided: string[];
}

const cents = (eur: number) => Math.round(eur * 100) / 100;

function tierPrice(tiers: readonly { storageGb: number; yearlyEur: Price }[], storageGb: number): Price {
  // The loader only lets catalog tiers through; a missing tier is a bug, not a price of zero.
  const tier = tiers.find((t) => t.storageGb === storageGb);
  if (!tier) throw new Error(`no catalog tier of ${storageGb} GB`);
  return tier.yearlyEur;
}

/** A tenant's yearly lines from the catalog: pure, no I/O. */
export function quoteLines(tenant: Tenant, catalog: Catalog): QuoteLine[] {
  const { offers } = catalog;
  const s = tenant.services;
  const lines: QuoteLine[] = [
    { label: `Membership (${tenant.type}), mail included`, yearlyEur: catalog.membership[tenant.type].yearlyEur },
  ];
  if (s.website) {
    const engine = s.website.engine === "wordpress" ? "WordPress" : "static";
    lines.push({
      label: `Website (${engine}), ${s.website.storageGb} GB`,
      yearlyEur: tierPrice(offers.website.tiers, s.website.storageGb),
    });
  }
  if (s.nextcloud) {
    lines.push({
      label: `Nextcloud suite, ${s.nextcloud.storageGb} GB`,
      yearlyEur: tierPrice(offers.nextcloud.tiers, s.nextcloud.storageGb),
    });
  }
  if (s.accounting) lines.push({ label: "Paheko accounting", yearlyEur: offers.accounting.yearlyEur });
  if (s.newsletter) {
    const bracket = offers.newsletter.brackets.find((b) => b.subscribers === s.newsletter!.subscribers);
    if (!bracket) throw new Error(`no catalog bracket of ${s.newsletter.subscribers} subscribers`);
    lines.push({
      label: `Newsletter (${s.newsletter.engine}), up to ${s.newsletter.subscribers} subscribers`,
      yearlyEur: bracket.yearlyEur,
    });
  }
  if (s.video) {
    lines.push({ label: `Video channel, ${s.video.storageGb} GB`, yearlyEur: tierPrice(offers.video.tiers, s.video.storageGb) });
    if (s.video.live) lines.push({ label: "Live streaming", yearlyEur: offers.video.live.yearlyEur });
  }
  return lines;
}

/** The yearly quote of one tenant: decided lines count, undecided ones are listed. */
export function quoteTenant(tenant: Tenant, catalog: Catalog): Quote {
  const lines = quoteLines(tenant, catalog);
  const undecided = lines.filter((l) => l.yearlyEur === UNDECIDED).map((l) => l.label);
  const decided = cents(lines.reduce((sum, l) => sum + (l.yearlyEur === UNDECIDED ? 0 : l.yearlyEur), 0));
  if (tenant.rate !== "solidarity") return { slug: tenant.slug, lines, solidarity: null, totalEur: decided, undecided };

  const percent = tenant.solidarityPercent ?? catalog.solidarity.defaultPercent;
  if (percent === UNDECIDED) {
    undecided.push("Solidarity reduction (default percentage)");
    return { slug: tenant.slug, lines, solidarity: { percent, reductionEur: UNDECIDED }, totalEur: decided, undecided };
  }
  const reductionEur = cents((decided * percent) / 100);
  return { slug: tenant.slug, lines, solidarity: { percent, reductionEur }, totalEur: cents(decided - reductionEur), undecided };
}

export interface QuoteSummary {
  tenants: number;
  /** Yearly revenue of the decided lines, after reductions. */
  revenueEur: number;
  /** What the solidarity rate gives up: what donations must cover. */
  solidarityEur: number;
  /** Number of lines priced "to be decided", across tenants. */
  undecidedLines: number;
}

export function summarize(quotes: readonly Quote[]): QuoteSummary {
  return {
    tenants: quotes.length,
    revenueEur: cents(quotes.reduce((s, q) => s + q.totalEur, 0)),
    solidarityEur: cents(quotes.reduce((s, q) => s + (typeof q.solidarity?.reductionEur === "number" ? q.solidarity.reductionEur : 0), 0)),
    undecidedLines: quotes.reduce((s, q) => s + q.undecided.length, 0),
  };
}

export function formatEur(price: Price): string {
  return price === UNDECIDED ? "to be decided" : `${price.toFixed(2)} €`;
}
