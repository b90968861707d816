import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { PROJECT_ROOT } from "../contract/paths";
import { subscriberBrackets, tierSizes, type TieredOffer } from "../contract/rules";

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
    website: z.strictObject({ label: z.string(), tiers }),
    nextcloud: z.strictObject({ label: z.string(), tiers }),
    accounting: z.strictObject({ label: z.string(), storageGb: z.number().positive(), yearlyEur: price }),
    newsletter: z.strictObject({
      label: z.string(),
      brackets: z.array(z.strictObject({ subscribers: z.number().int().positive(), yearlyEur: price })).min(1),
    }),
    video: z.strictObject({ label: z.string(), tiers, live: z.strictObject({ yearlyEur: price }) }),
  }),
});

export type Catalog = z.infer<typeof catalogSchema>;
export type { TieredOffer };

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

// The contract checks tiers and brackets; the catalog is what it checks them against.
export { subscriberBrackets, tierSizes };
