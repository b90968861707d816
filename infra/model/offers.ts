import type { ServiceField } from "../contract/tenant";
import type { OfferPlan } from "./expand";

/**
 * The offer table: one entry per kind of offer a tenant stack builds, read by expansion (the sign-in
 * gate), host load, the policy pack's config and the policies, and the program's builder map
 * (infra/program/offer-builders.ts), so that adding an offer is one entry here, one builder there,
 * the component and its test (docs/architecture.md, "Adding an offer"). No Pulumi here: the policy
 * pack loads it under ts-node.
 */

/** What an offer places on the host it runs on: its containers' limits and its volumes' quotas. */
export interface OfferSizing {
  /** Memory limit of its containers, in MB (2^20 bytes). */
  memoryMb: number;
  /** CPU limit of its containers. */
  cpus: number;
  /** Disk of its Docker volumes, in GB (2^30 bytes), from the offer's plan (its tier). */
  diskGb: (offer: OfferPlan) => number;
}

/** The catalog offers whose storage tier the policy pack checks (components/units.ts StorageQuota). */
export type StorageOffer = "website" | "nextcloud" | "video" | "accounting";

export interface OfferEntry {
  /** The fields of the tenant file's `services` the offer stands for (one Paheko may serve two). */
  fields: readonly ServiceField[];
  /** Its key under `offers` in infra/catalog/catalog.yaml. */
  catalogKey: "website" | "nextcloud" | "accounting" | "newsletter" | "video";
  /** Its apps sign in through Keycloak, so the tenant needs its sign-in gate (docs/architecture.md). */
  signIn: boolean;
  /**
   * What it places on its host once built (host load and the host-capacity policy). Offers not
   * built yet carry their expected figures, counted only once `built` is true.
   */
  sizing: OfferSizing;
  /** The storage its component declares as its quota, checked against the tier paid for; null when none. */
  storage: StorageOffer | null;
  /** The engine of the database it keeps on the tenant's database server (one server per tenant and engine); null when none. */
  database: "postgres" | "mariadb" | null;
  /** Its component exists and the builder map builds it; the plan lists the others as not built yet. */
  built: boolean;
}

const noDisk = () => 0;
const tierDisk = (offer: OfferPlan) => ("storageGb" in offer ? offer.storageGb : 0);

/**
 * One entry per offer kind. `satisfies` keeps the literal `built` flags, from which the builder map's
 * keys are typed: a built offer without a builder, or a builder for an offer not marked built, does
 * not compile.
 */
export const OFFERS = {
  // The bucket lives in the object store's data volume, which the platform stack counts.
  "static-site": {
    fields: ["website"],
    catalogKey: "website",
    signIn: false,
    sizing: { memoryMb: 0, cpus: 0, diskGb: noDisk },
    storage: "website",
    database: null,
    built: true,
  },
  // Its web and wp-cli containers (components/tenant/wordpress-site-config.ts WORDPRESS_LIMITS,
  // whose sum a test keeps equal to this); its database counts in the tenant's MariaDB server.
  wordpress: {
    fields: ["website"],
    catalogKey: "website",
    signIn: true,
    sizing: { memoryMb: 512, cpus: 0.5, diskGb: tierDisk },
    storage: "website",
    database: "mariadb",
    built: true,
  },
  nextcloud: {
    fields: ["nextcloud"],
    catalogKey: "nextcloud",
    signIn: true,
    sizing: { memoryMb: 1024, cpus: 1, diskGb: tierDisk },
    storage: "nextcloud",
    database: "postgres",
    built: true,
  },
  paheko: {
    fields: ["accounting", "newsletter"],
    catalogKey: "accounting",
    signIn: true,
    sizing: { memoryMb: 256, cpus: 0.5, diskGb: tierDisk },
    storage: "accounting",
    database: null,
    built: false,
  },
  listmonk: {
    fields: ["newsletter"],
    catalogKey: "newsletter",
    signIn: true,
    sizing: { memoryMb: 256, cpus: 0.5, diskGb: noDisk },
    storage: null,
    database: "postgres",
    built: false,
  },
  // Paheko keeps its data in SQLite, in its own volume (docs/services/paheko.md).
  // A channel on the platform's PeerTube: its videos count in PeerTube's own storage.
  video: {
    fields: ["video"],
    catalogKey: "video",
    signIn: false,
    sizing: { memoryMb: 0, cpus: 0, diskGb: noDisk },
    storage: "video",
    database: null,
    built: false,
  },
} as const satisfies Record<OfferPlan["kind"], OfferEntry>;

export type OfferKind = keyof typeof OFFERS;

/** The table's shape, for code that takes another table (tests of a table with more offers built). */
export type OfferTable = Readonly<Record<OfferKind, OfferEntry>>;

/** Offer kinds whose component exists. */
export type BuiltOfferKind = { [K in OfferKind]: (typeof OFFERS)[K]["built"] extends true ? K : never }[OfferKind];

export function isBuilt(kind: OfferKind): boolean {
  return OFFERS[kind].built;
}

/** The storage offers the policy pack knows, from the table. */
export const STORAGE_OFFERS: readonly StorageOffer[] = [
  ...new Set(Object.values(OFFERS).flatMap((o: OfferEntry) => (o.storage ? [o.storage] : []))),
];
