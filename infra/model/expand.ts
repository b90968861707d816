import { offerVersion, type Catalog } from "../catalog/catalog";
import { BUCKET_ALIAS_MAX } from "../contract/names";
import { environmentHostname } from "./naming";
import { OFFERS } from "./offers";
import type { ServiceField, Tenant } from "../contract/tenant";

/** What a tenant stack builds, as plain data: the expansion of a tenant file. */
export interface TenantPlan {
  slug: string;
  members: { username: string; admin: boolean; access: ("git" | "nextcloud")[] }[];
  mailDomains: MailDomainPlan[];
  offers: OfferPlan[];
}

export interface MailDomainPlan {
  domain: string;
  /** A shared domain of the platform: only the listed addresses are the tenant's. */
  shared: boolean;
  mailboxes: { address: string; quotaGb: number; owner?: string; sharedWith: string[] }[];
  redirections: { from: string; to: string[] }[];
}

/**
 * One offer to build. `field` is where it comes from in the tenant file. `version` is the upstream
 * version of the app an offer runs (the tenant's pin, else the catalog's default), which its
 * component turns into an image tag.
 */
export type OfferPlan =
  | { kind: "static-site"; field: ServiceField; hostnames: string[]; storageGb: number }
  | { kind: "wordpress"; field: ServiceField; hostnames: string[]; storageGb: number; version: string }
  | { kind: "nextcloud"; field: ServiceField; hostname: string; storageGb: number; apps: string[]; version: string }
  | {
      kind: "paheko";
      field: ServiceField;
      hostname: string;
      storageGb: number;
      accounting: boolean;
      newsletter: boolean;
      subscribers?: number;
      version: string;
    }
  | { kind: "listmonk"; field: ServiceField; hostname: string; subscribers: number; tracking: boolean; version: string }
  | { kind: "video"; field: ServiceField; channel: string; owner: string; storageGb: number; live: boolean };

export interface ExpandContext {
  catalog: Catalog;
  sharedMailDomains: readonly string[];
  /** Staging serves every tenant hostname under this suffix. */
  tenantHostSuffix?: string;
}

/** Expands a validated tenant into the offers and mail domains its stack builds. Pure. */
export function expandTenant(tenant: Tenant, ctx: ExpandContext): TenantPlan {
  const host = (h: string) => environmentHostname(h, ctx.tenantHostSuffix);
  const s = tenant.services;
  const offers: OfferPlan[] = [];
  if (s.website) {
    const statik = s.website.engine === "static";
    // A static site's domains are aliases of the object store, shorter than hostnames (names.ts).
    const served = (h: string) => (statik ? environmentHostname(h, ctx.tenantHostSuffix, BUCKET_ALIAS_MAX) : host(h));
    const base = { field: "website" as const, hostnames: s.website.domains.map(served), storageGb: s.website.storageGb };
    offers.push(
      statik
        ? { kind: "static-site", ...base }
        : { kind: "wordpress", ...base, version: offerVersion(ctx.catalog, "website", s.website.version) },
    );
  }
  if (s.nextcloud) {
    offers.push({
      kind: "nextcloud",
      field: "nextcloud",
      hostname: host(s.nextcloud.domain),
      storageGb: s.nextcloud.storageGb,
      apps: [...s.nextcloud.apps].sort(),
      version: offerVersion(ctx.catalog, "nextcloud", s.nextcloud.version),
    });
  }
  // A tenant has at most one Paheko: accounting, the Paheko newsletter, or both on one instance.
  const pahekoNewsletter = s.newsletter?.engine === "paheko" ? s.newsletter : undefined;
  const pahekoDomain = s.accounting?.domain ?? pahekoNewsletter?.domain;
  if (pahekoDomain) {
    offers.push({
      kind: "paheko",
      field: s.accounting ? "accounting" : "newsletter",
      hostname: host(pahekoDomain),
      storageGb: ctx.catalog.offers.accounting.storageGb,
      accounting: !!s.accounting,
      newsletter: !!pahekoNewsletter,
      ...(pahekoNewsletter ? { subscribers: pahekoNewsletter.subscribers } : {}),
      // The one Paheko runs accounting's version; a Paheko newsletter has none of its own (rules.ts).
      version: offerVersion(ctx.catalog, "accounting", s.accounting?.version),
    });
  }
  if (s.newsletter?.engine === "listmonk" && s.newsletter.domain) {
    offers.push({
      kind: "listmonk",
      field: "newsletter",
      hostname: host(s.newsletter.domain),
      subscribers: s.newsletter.subscribers,
      tracking: s.newsletter.tracking,
      version: offerVersion(ctx.catalog, "newsletter", s.newsletter.version),
    });
  }
  if (s.video) {
    const owner = s.video.owner ?? tenant.members.find((m) => m.admin)!.username;
    offers.push({ kind: "video", field: "video", channel: s.video.channel, owner, storageGb: s.video.storageGb, live: s.video.live });
  }
  const shared = new Set(ctx.sharedMailDomains);
  return {
    slug: tenant.slug,
    members: tenant.members
      .map((m) => ({ username: m.username, admin: m.admin, access: [...m.access].sort() }))
      .sort((a, b) => a.username.localeCompare(b.username)),
    mailDomains: (tenant.mail?.domains ?? []).map((d) => ({
      domain: d.domain,
      shared: shared.has(d.domain),
      mailboxes: d.mailboxes.map((b) => ({
        address: b.address,
        quotaGb: b.quotaGb,
        sharedWith: [...b.sharedWith].sort(),
        ...(b.owner ? { owner: b.owner } : {}),
      })),
      redirections: d.redirections.map((r) => ({ from: r.from, to: [...r.to] })),
    })),
    offers,
  };
}

/** The fields of the tenant file an offer stands for (one Paheko may serve two). */
export function offerFields(offer: OfferPlan): ServiceField[] {
  if (offer.kind === "paheko") {
    return [...(offer.accounting ? ["accounting" as const] : []), ...(offer.newsletter ? ["newsletter" as const] : [])];
  }
  return [offer.field];
}

/** The tenant needs its sign-in gate when one of its offers runs apps that sign in through Keycloak (the offer table). */
export function needsSignInGate(plan: TenantPlan): boolean {
  return plan.offers.some((o) => OFFERS[o.kind].signIn);
}
