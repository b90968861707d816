import { z } from "zod";
import {
  CHANNEL_PATTERN, HOSTNAME_PATTERN, MEMBER_ACCESS, NEXTCLOUD_APPS, SLUG_MAX, SLUG_PATTERN, TENANT_DEFAULTS,
  USERNAME_PATTERN,
} from "./defaults";

/**
 * The shape of a tenant file (contract v1, DESIGN.md). Rules that need the catalog, the other
 * fields or the other files live in rules.ts.
 */
const hostname = z.string().regex(HOSTNAME_PATTERN, "must be a lowercase hostname such as www.example.org");
const email = z.string()
  // Local parts stay within what every mail map reads literally (a leading "#" would be a comment to Postfix).
  .regex(/^[a-z0-9_%+-]+(\.[a-z0-9_%+-]+)*@[a-z0-9-]+(\.[a-z0-9-]+)+$/i, "must be an email address such as alice@example.org (letters, digits and . _ % + - before the @)")
  .refine((s) => s === s.toLowerCase(), "must be written in lowercase");
const username = z.string().regex(USERNAME_PATTERN, "must start with a lowercase letter, then 1 to 31 of a-z 0-9 . _ -");
const gb = z.number().positive("must be a number of GB above 0");
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date written YYYY-MM-DD")
  .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s),
    "is not a real calendar date");

const member = z.strictObject({
  username,
  email,
  name: z.string().min(1).optional(),
  admin: z.boolean().default(TENANT_DEFAULTS.admin),
  access: z.array(z.enum(MEMBER_ACCESS)).default([]),
});

const mailbox = z.strictObject({
  address: email,
  owner: username.optional(),
  quotaGb: gb,
  sharedWith: z.array(username).default([]),
});

const redirection = z.strictObject({
  from: email,
  to: z.array(email).min(1, "needs at least one address"),
});

const mailDomain = z.strictObject({
  domain: hostname,
  mailboxes: z.array(mailbox).default([]),
  redirections: z.array(redirection).default([]),
});

const website = z.strictObject({
  engine: z.enum(["wordpress", "static"]),
  domains: z.array(hostname).min(1, "needs at least one domain"),
  storageGb: gb,
});

const nextcloud = z.strictObject({
  domain: hostname,
  storageGb: gb,
  apps: z.array(z.enum(NEXTCLOUD_APPS)).default([]),
});

const accounting = z.strictObject({ domain: hostname });

const newsletter = z.strictObject({
  engine: z.enum(["listmonk", "paheko"]),
  domain: hostname.optional(),
  subscribers: z.number().int("must be a whole number").positive(),
  tracking: z.boolean().default(TENANT_DEFAULTS.tracking),
});

const video = z.strictObject({
  channel: z.string().regex(CHANNEL_PATTERN, "must be 1 to 50 of a-z 0-9 _ ."),
  owner: username.optional(),
  storageGb: gb,
  live: z.boolean().default(TENANT_DEFAULTS.live),
});

export const tenantSchema = z.strictObject({
  version: z.literal(1, "must be 1, the only contract version").default(TENANT_DEFAULTS.version),
  slug: z.string().max(SLUG_MAX, `must be at most ${SLUG_MAX} characters`)
    .regex(SLUG_PATTERN, "must be lowercase words of a-z 0-9 joined by single hyphens"),
  name: z.string().min(1, "must not be empty"),
  type: z.enum(["collective", "individual"]),
  rate: z.enum(["standard", "solidarity"]).default(TENANT_DEFAULTS.rate),
  solidarityPercent: z.number().gt(0, "must be above 0").max(100, "must be at most 100").optional(),
  contact: email,
  membership: z.strictObject({ paidUntil: isoDate.optional() }).optional(),
  members: z.array(member).min(1, "needs at least one member"),
  mail: z.strictObject({ domains: z.array(mailDomain).default([]) }).optional(),
  services: z.strictObject({
    website: website.optional(),
    nextcloud: nextcloud.optional(),
    accounting: accounting.optional(),
    newsletter: newsletter.optional(),
    video: video.optional(),
  }).default({}),
});

export type Tenant = z.infer<typeof tenantSchema>;
export type Member = Tenant["members"][number];
export type MailDomainEntry = NonNullable<Tenant["mail"]>["domains"][number];
export type Services = Tenant["services"];
/** The keys of `services`: the à-la-carte offers. */
export type OfferKind = keyof Services;
export const OFFER_KINDS = ["website", "nextcloud", "accounting", "newsletter", "video"] as const satisfies readonly OfferKind[];
