import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { PROJECT_ROOT } from "../contract/paths";
import { compareVersions, VERSION_PATTERN } from "../contract/names";
import { subscriberBrackets, tierSizes, type TieredOffer, type VersionedOffer } from "../contract/rules";

/**
 * The catalog is a data file read at run time, so the program (ESM or CJS through tsx) and the
 * policy pack (CJS through ts-node) load the same figures the same way.
 */
export const CATALOG_FILE = path.join(PROJECT_ROOT, "infra", "catalog", "catalog.yaml");

export const UNDECIDED = "undecided" as const;
const price = z.union([z.number().nonnegative(), z.literal(UNDECIDED)]);
/** A yearly price in euros, or not decided yet. */
export type Price = z.infer<typeof price>;

const storageTier = z.strictObject({ storageGb: z.number().positive(), yearlyEur: price });
const tiers = z.array(storageTier).min(1);

/** Quoted in the file: YAML reads an unquoted 7.1 as a number, and 7.10 as 7.1. */
const version = z
  .string({
    error: (issue) => (issue.input === undefined ? "is required" : `must be a version in quotes ("7.1.0"), not ${String(issue.input)}`),
  })
  .regex(VERSION_PATTERN, 'must be a version such as "34.0.2": numbers joined by dots');

/**
 * The versions an offer's component may run for a tenant, and the one it runs without a pin
 * (docs/operations.md "Updates"). The default must be one of the list, each listed once.
 */
const versions = z
  .strictObject(
    { available: z.array(version).min(1, "lists no version"), default: version },
    {
      error: (issue) =>
        issue.input === undefined
          ? "is required for an offer that runs an app: available: (the versions it may run) and default:"
          : "must be a mapping of available: and default:",
    },
  )
  .superRefine((v, ctx) => {
    v.available.forEach((a, i) => {
      if (v.available.indexOf(a) !== i) ctx.addIssue({ code: "custom", path: ["available", i], message: `"${a}" is listed twice` });
    });
    if (v.available.length && !v.available.includes(v.default)) {
      ctx.addIssue({
        code: "custom",
        path: ["default"],
        message: `"${v.default}" is not among the available versions (${v.available.join(", ")}); the default must be one of them`,
      });
    }
  })
  // Ordered oldest first, whatever the file's order, so messages and docs read the same.
  .transform((v) => ({ available: [...v.available].sort(compareVersions), default: v.default }));

export const catalogSchema = z.strictObject({
  version: z.literal(1),
  currency: z.literal("EUR"),
  membership: z.strictObject({
    collective: z.strictObject({ yearlyEur: price }),
    individual: z.strictObject({ yearlyEur: price }),
  }),
  solidarity: z.strictObject({
    defaultPercent: z.union([z.number().gt(0).max(100), z.literal(UNDECIDED)]),
  }),
  mail: z.strictObject({
    maxMailboxGb: z.number().positive(),
    includedGbPerTenant: z.strictObject({
      collective: z.union([z.number().nonnegative(), z.literal(UNDECIDED)]),
      individual: z.union([z.number().nonnegative(), z.literal(UNDECIDED)]),
    }),
  }),
  offers: z.strictObject({
    website: z.strictObject({ label: z.string(), tiers, versions }),
    nextcloud: z.strictObject({ label: z.string(), tiers, versions }),
    accounting: z.strictObject({ label: z.string(), storageGb: z.number().positive(), yearlyEur: price, versions }),
    newsletter: z.strictObject({
      label: z.string(),
      brackets: z.array(z.strictObject({ subscribers: z.number().int().positive(), yearlyEur: price })).min(1),
      versions,
    }),
    video: z.strictObject({ label: z.string(), tiers, live: z.strictObject({ yearlyEur: price }) }),
  }),
});

export type Catalog = z.infer<typeof catalogSchema>;
export type { TieredOffer, VersionedOffer };

/** Parses catalog text; a broken catalog is a maintainer's bug, so it throws with every issue listed. */
export function parseCatalog(text: string, source = CATALOG_FILE): Catalog {
  const result = catalogSchema.safeParse(parse(text));
  if (!result.success) {
    const issues = result.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n");
    throw new Error(`${source}: invalid catalog\n${issues}`);
  }
  return result.data;
}

let cached: Catalog | undefined;

/** The catalog of this checkout, read once per process. */
export function loadCatalog(): Catalog {
  cached ??= parseCatalog(fs.readFileSync(CATALOG_FILE, "utf8"));
  return cached;
}

// The contract checks tiers, brackets and versions; the catalog is what it checks them against.
export { subscriberBrackets, tierSizes };

/** The version an offer runs for a tenant: its pin, else the catalog's default. */
export function offerVersion(catalog: Catalog, offer: VersionedOffer, pin: string | undefined): string {
  return pin ?? catalog.offers[offer].versions.default;
}
