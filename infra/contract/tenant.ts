import { z } from "zod";
import { MEMBER_ACCESS, NEXTCLOUD_APPS, TENANT_DEFAULTS } from "./defaults";
import {
  channelProblem, emailProblem, hostnameProblem, mailboxQuotaProblem, slugProblem, storageSizeProblem, usernameProblem,
} from "./names";

/**
 * The shape of a tenant file (contract v1, DESIGN.md). Rules that need the catalog, the other
 * fields or the other files live in rules.ts; the name and size rules in names.ts, which the
 * components check through too.
 */
type Rule<T> = (value: T) => string | undefined;
const issueOf = <T>(rule: Rule<T>) => (value: T, ctx: z.RefinementCtx) => {
  const message = rule(value);
  if (message) ctx.addIssue({ code: "custom", message });
};
/** A text field held to a rule of names.ts. */
const text = (rule: Rule<string>) => z.string().superRefine(issueOf(rule));
/** A number field held to a rule of names.ts. */
const number = (rule: Rule<number>) => z.number().superRefine(issueOf(rule));

const hostname = text(hostnameProblem);
const email = text(emailProblem);
const username = text(usernameProblem);
/** A storage size of an offer; which sizes are tiers is the catalog's (rules.ts). */
const gb = number(storageSizeProblem);
/** A mailbox quota; the catalog's maximum is checked in rules.ts, through the same rule. */
const quotaGb = number((n) => mailboxQuotaProblem(n));
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
  quotaGb,
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
  channel: text(channelProblem),
  owner: username.optional(),
  storageGb: gb,
  live: z.boolean().default(TENANT_DEFAULTS.live),
});

export const tenantSchema = z.strictObject({
  version: z.literal(1, "must be 1, the only contract version").default(TENANT_DEFAULTS.version),
  slug: text(slugProblem),
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
export type Services = Tenant["services"];
/** The keys of `services`: the à-la-carte offers. */
export type ServiceField = keyof Services;
