import * as pulumi from "@pulumi/pulumi";
import { NextcloudSuite } from "../../components/tenant/nextcloud-suite";
import { StaticSite } from "../../components/tenant/static-site";
import { WordpressSite } from "../../components/tenant/wordpress-site";
import type { OfferPlan } from "../model/expand";
import { tenantResourceName } from "../model/naming";
import type { BuiltOfferKind } from "../model/offers";
import type { TenantContext } from "./tenant-context";

/** The plan of one kind of offer. */
export type OfferPlanOf<K extends OfferPlan["kind"]> = Extract<OfferPlan, { kind: K }>;

/**
 * Builds one offer's component in a tenant stack from what every offer stands on (the context)
 * and the offer's plan; returns the stack outputs of the offer, exported under its field.
 */
export type OfferBuilder<K extends OfferPlan["kind"]> = (
  ctx: TenantContext,
  offer: OfferPlanOf<K>,
) => Record<string, pulumi.Input<unknown>>;

/**
 * The builder of every built offer of the offer table (infra/model/offers.ts). Its type has one key
 * per offer marked built there: a built offer without a builder, or a builder for an offer not
 * marked built, does not compile.
 */
export const OFFER_BUILDERS: { readonly [K in BuiltOfferKind]: OfferBuilder<K> } = {
  "static-site": (ctx, offer) => {
    const site = new StaticSite(tenantResourceName(ctx.slug, "website"), {
      slug: ctx.slug,
      domains: offer.hostnames,
      storageGb: offer.storageGb,
      storage: {
        host: ctx.host("storage"),
        webUpstream: ctx.platform.objectStorage.webUpstream,
        adminToken: ctx.secrets.objectStorageAdminToken,
      },
      proxy: ctx.proxy,
      protect: ctx.protect,
    });
    // What the tenant's upload tool needs (docs/operations.md "Uploading a static site").
    return {
      bucket: site.bucketName,
      s3Endpoint: ctx.platform.objectStorage.endpoint,
      s3Region: ctx.platform.objectStorage.region,
      urls: site.urls,
      uploadAccessKeyId: site.uploadAccessKeyId,
      uploadSecretAccessKey: site.uploadSecretAccessKey,
    };
  },
  nextcloud: (ctx, offer) => {
    const suite = new NextcloudSuite(
      tenantResourceName(ctx.slug, "nextcloud"),
      {
        slug: ctx.slug,
        hostname: offer.hostname,
        storageGb: offer.storageGb,
        apps: offer.apps,
        version: offer.version,
        members: ctx.plan.members,
        host: ctx.appsHost,
        tenantNetwork: ctx.network(),
        proxyNetwork: ctx.proxyNetwork,
        proxy: ctx.proxy,
        database: (parent) => ctx.database("nextcloud", "postgres", parent),
        keycloak: {
          realmId: ctx.platform.keycloak.realm,
          issuerUrl: ctx.issuerUrl,
          ...(ctx.identity.gate ? { gate: ctx.identity.gate } : {}),
        },
        mail: ctx.mail,
        office: ctx.office,
        protect: ctx.protect,
      },
      { provider: ctx.docker() },
    );
    return { url: suite.url };
  },
  wordpress: (ctx, offer) => {
    const gate = ctx.identity.gate;
    if (!gate)
      throw new pulumi.RunError(`stack ${ctx.env}.${ctx.slug}: WordPress signs in through Keycloak, but the tenant has no sign-in gate`);
    const offerName = tenantResourceName(ctx.slug, "website");
    const site = new WordpressSite(
      offerName,
      {
        slug: ctx.slug,
        title: ctx.slug,
        domains: offer.hostnames,
        storageGb: offer.storageGb,
        version: offer.version,
        members: ctx.plan.members,
        host: ctx.appsHost,
        networks: { tenant: ctx.network(), proxy: ctx.proxyNetwork },
        database: (parent) => ctx.database("website", "mariadb", parent),
        identity: { realmId: ctx.platform.keycloak.realm, issuerUrl: ctx.issuerUrl, gate },
        mail: ctx.mail,
        proxy: ctx.proxy,
        protect: ctx.protect,
      },
      { providers: { docker: ctx.docker(), keycloak: ctx.keycloak } },
    );
    // Where the tenant finds the site; nothing secret (docs/services/wordpress.md).
    return { urls: site.urls, adminUrl: site.adminUrl };
  },
};

/**
 * Builds an offer through its kind's builder; undefined while its component is not built (the
 * offer table says so, and the stack warns).
 */
export function buildOffer(ctx: TenantContext, offer: OfferPlan): Record<string, pulumi.Input<unknown>> | undefined {
  // Indexed by the offer's own kind, the builder receives the plan of that kind.
  const builders = OFFER_BUILDERS as unknown as Partial<
    Record<OfferPlan["kind"], (ctx: TenantContext, offer: OfferPlan) => Record<string, pulumi.Input<unknown>>>
  >;
  return builders[offer.kind]?.(ctx, offer);
}
