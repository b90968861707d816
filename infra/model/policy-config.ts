import type { Catalog } from "../catalog/catalog";
import type { TenantPlan } from "./expand";
import { stackLoads } from "./host-load";
import { OFFERS, type StorageOffer } from "./offers";
import type { PlatformConfig } from "./platform-config";

/**
 * The policy pack's config of an environment, pure: what a tenant stack's own resources do not say
 * (the tiers paid for, the mail allowance, the paid-until date, every other stack's host load).
 * `npm run policy-config` writes it for `pulumi preview --policy-pack-config`; the offline plan
 * computes the same. No Pulumi import: the pack's own modules load under ts-node.
 */

/** What the policy pack needs to know about a tenant that its stack's resources do not say. */
export interface TenantPolicyFacts {
  /** Storage tier paid for, in GB, by catalog offer (`website`, `nextcloud`, `video`, `accounting`). */
  paidStorageGb: Partial<Record<StorageOffer, number>>;
  /** Mail GB included in the membership; null while the catalog leaves it undecided. */
  mailIncludedGb: number | null;
  /** YYYY-MM-DD, when the tenant file says. */
  paidUntil?: string;
}

/** Pure: the facts of one tenant, from its file (already expanded) and the catalog. */
export function tenantPolicyFacts(
  tenant: { type: "collective" | "individual"; membership?: { paidUntil?: string } | undefined },
  plan: TenantPlan,
  catalog: Catalog,
): TenantPolicyFacts {
  const paid: TenantPolicyFacts["paidStorageGb"] = {};
  for (const offer of plan.offers) {
    const storage: StorageOffer | null = OFFERS[offer.kind].storage;
    if (storage && "storageGb" in offer) paid[storage] = offer.storageGb;
  }
  const included = catalog.mail.includedGbPerTenant[tenant.type];
  return {
    paidStorageGb: paid,
    mailIncludedGb: typeof included === "number" ? included : null,
    ...(tenant.membership?.paidUntil ? { paidUntil: tenant.membership.paidUntil } : {}),
  };
}

/** The JSON given to `pulumi preview --policy-pack-config` (policy name → settings). */
export type PolicyPackConfig = Record<string, Record<string, unknown>>;

/**
 * Pure: the policy pack's config of an environment: hosts with capacity and every stack's load
 * (host capacity), each tenant's paid tiers (quotas within tier), mail allowance and paid-until,
 * CI writes it with `npm run policy-config`;
 * the offline plan computes the same.
 */
export function policyConfig(input: {
  env: string;
  config: PlatformConfig;
  catalog: Catalog;
  tenants: readonly {
    tenant: { slug: string; type: "collective" | "individual"; membership?: { paidUntil?: string } | undefined };
    plan: TenantPlan;
  }[];
}): PolicyPackConfig {
  const facts = Object.fromEntries(input.tenants.map((t) => [t.tenant.slug, tenantPolicyFacts(t.tenant, t.plan, input.catalog)]));
  const hosts = Object.fromEntries(
    Object.entries(input.config.hosts).map(([name, h]) => [
      name,
      { address: h.address, diskGb: h.diskGb, memoryGb: h.memoryGb, cpus: h.cpus },
    ]),
  );
  return {
    "host-capacity": {
      overcommit: input.config.overcommit,
      hosts,
      stacks: stackLoads({ env: input.env, config: input.config, tenants: input.tenants.map((t) => t.plan) }),
    },
    "offer-quota-within-tier": {
      tenants: Object.fromEntries(Object.entries(facts).map(([slug, f]) => [slug, f.paidStorageGb])),
    },
    "mail-allowance": {
      tenants: Object.fromEntries(Object.entries(facts).map(([slug, f]) => [slug, { includedGb: f.mailIncludedGb }])),
    },
    "membership-paid": {
      tenants: Object.fromEntries(
        Object.entries(facts)
          .filter(([, f]) => f.paidUntil)
          .map(([slug, f]) => [slug, { paidUntil: f.paidUntil }]),
      ),
    },
  };
}
