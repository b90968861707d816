import { z } from "zod";
import { MEMBER_ACCESS, NEXTCLOUD_APPS, TENANT_DEFAULTS } from "./defaults";
import {
  channelProblem,
  displayNameProblem,
  emailProblem,
  hostedAddressProblem,
  hostnameProblem,
  mailboxQuotaProblem,
  slugProblem,
  storageSizeProblem,
  usernameProblem,
  VERSION_PATTERN,
} from "./names";

/**
 * The shape of a tenant file (contract v1, docs/contract.md field by field). Rules that need the catalog, the other
 * fields or the other files live in rules.ts; the name and size rules in names.ts, which the
 * components check through too.
 */
type Rule<T> = (value: T) => string | undefined;
const issueOf =
  <T>(rule: Rule<T>) =>
  (value: T, ctx: z.RefinementCtx) => {
    const message = rule(value);
    if (message) ctx.addIssue({ code: "custom", message });
  };
/** A text field held to a rule of names.ts. */
const text = (rule: Rule<string>) => z.string().superRefine(issueOf(rule));
/** A number field held to a rule of names.ts. */
const number = (rule: Rule<number>) => z.number().superRefine(issueOf(rule));

const hostname = text(hostnameProblem);
const email = text(emailProblem);
/** An address of a domain the platform hosts (names.ts hostedAddressProblem). */
const hostedAddress = text(hostedAddressProblem);
const username = text(usernameProblem);
/** A storage size of an offer; which sizes are tiers is the catalog's (rules.ts). */
const gb = number(storageSizeProblem);
/** A mailbox quota; the catalog's maximum is checked in rules.ts, through the same rule. */
const quotaGb = number((n) => mailboxQuotaProblem(n));
/**
 * An app's version pin: which versions exist is the catalog's (rules.ts). Text, so quoted in the
 * file: YAML reads an unquoted 7.1 as a number, and 7.10 as 7.1.
 */
const appVersion = z.string().regex(VERSION_PATTERN, 'must be a version such as "34.0.2": numbers joined by dots');
const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date written YYYY-MM-DD")
  .refine(
    (s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s),
    "is not a real calendar date",
  );

const member = z.strictObject({
  /** Becomes the uid in every app and the Keycloak username. @example "alice" */
  username,
  /** The person's address: their Keycloak account's, and where invitations go. One email per username across all files. */
  email,
  /** Display name. @default none */
  name: z.string().min(1).optional(),
  /** Administers this tenant's apps (Nextcloud, WordPress, Paheko, Listmonk, the video channel). @default false */
  admin: z.boolean().default(TENANT_DEFAULTS.admin),
  /** Historic member services this person may use: the members' Git and shared Nextcloud. @default [] */
  access: z.array(z.enum(MEMBER_ACCESS)).default([]),
});

const mailbox = z.strictObject({
  /** The mailbox's address, in a domain this tenant declares; no `%` before the @. @example "contact@amisduvelo.org" */
  address: hostedAddress,
  /** The member who opens it (webmail, mail clients). @default none */
  owner: username.optional(),
  /** Quota in whole GB (2^30 bytes), at most the catalog's maximum per mailbox. @example 5 */
  quotaGb,
  /** Members who may open it too. @default [] */
  sharedWith: z.array(username).default([]),
});

const redirection = z.strictObject({
  /** The address redirected, in a domain this tenant declares; no `%` before the @. */
  from: hostedAddress,
  /** Where its mail goes: at least one address, anywhere. */
  to: z.array(email).min(1, "needs at least one address"),
});

const mailDomain = z.strictObject({
  /** The mail domain (custom domain included in the membership), or one of the platform's shared mail domains, which then claims only the addresses listed. */
  domain: hostname,
  /** @default [] */
  mailboxes: z.array(mailbox).default([]),
  /** @default [] */
  redirections: z.array(redirection).default([]),
});

const website = z.strictObject({
  /** `wordpress`, or `static`: raw files uploaded to a bucket of the object store. */
  engine: z.enum(["wordpress", "static"]),
  /** The hostnames serving the site, each with TLS once its DNS points at the platform. At least one. */
  domains: z.array(hostname).min(1, "needs at least one domain"),
  /** Storage in GB (2^30 bytes): a website tier of the catalog. @example 5 */
  storageGb: gb,
  /**
   * The WordPress version this site runs, in quotes: one of the catalog's `offers.website.versions`;
   * only with engine: wordpress. A pin other than the default is a warning. @default the catalog's default @example "7.0.4"
   */
  version: appVersion.optional(),
});

const nextcloud = z.strictObject({
  /** The suite's hostname. @example "cloud.amisduvelo.org" */
  domain: hostname,
  /** Storage in GB (2^30 bytes) for the whole suite: a Nextcloud tier of the catalog. @example 20 */
  storageGb: gb,
  /** Apps enabled besides files: forms polls calendar contacts deck notes tasks office. @default [] */
  apps: z.array(z.enum(NEXTCLOUD_APPS)).default([]),
  /**
   * The Nextcloud version this suite runs, in quotes: one of the catalog's `offers.nextcloud.versions`,
   * moved one major at a time. A pin other than the default is a warning. @default the catalog's default @example "33.0.7"
   */
  version: appVersion.optional(),
});

const accounting = z.strictObject({
  /** Paheko's hostname; a Paheko newsletter runs on this same instance. @example "compta.amisduvelo.org" */
  domain: hostname,
  /**
   * The Paheko version of the tenant's one Paheko (a Paheko newsletter included), in quotes: one of
   * the catalog's `offers.accounting.versions`. A pin other than the default is a warning. @default the catalog's default @example "1.3.22"
   */
  version: appVersion.optional(),
});

const newsletter = z.strictObject({
  /** `listmonk`, or `paheko`: the tenant's one Paheko (the accounting one when present). */
  engine: z.enum(["listmonk", "paheko"]),
  /** Required for listmonk, and for paheko without `accounting`; with `accounting`, omitted or equal to its domain. */
  domain: hostname.optional(),
  /** A subscriber bracket of the catalog. @example 500 */
  subscribers: z.number().int("must be a whole number").positive(),
  /** Engagement tracking (opens, clicks), opt-in; listmonk only. @default false */
  tracking: z.boolean().default(TENANT_DEFAULTS.tracking),
  /**
   * The Listmonk version, in quotes: one of the catalog's `offers.newsletter.versions`; listmonk only
   * (a Paheko newsletter runs at the Paheko's version). A pin other than the default is a warning. @default the catalog's default @example "6.1.0"
   */
  version: appVersion.optional(),
});

const video = z.strictObject({
  /** The channel's name on the shared PeerTube, unique across tenants. @example "amisduvelo" */
  channel: text(channelProblem),
  /** The member who owns the channel. @default the first admin */
  owner: username.optional(),
  /** Video storage in GB (2^30 bytes): a video tier of the catalog. @example 10 */
  storageGb: gb,
  /** Live streaming. @default false */
  live: z.boolean().default(TENANT_DEFAULTS.live),
});

export const tenantSchema = z.strictObject({
  /** The contract version. @default 1 */
  version: z.literal(1, "must be 1, the only contract version").default(TENANT_DEFAULTS.version),
  /** Equals the file name; names every resource of the tenant. At most 40 of a-z 0-9 in words joined by single hyphens. */
  slug: text(slugProblem),
  /** The tenant's name, as people read it. @example "Les Amis du Vélo" */
  name: text(displayNameProblem),
  /** `collective` (an organisation) or `individual` (a member): decides the membership fee. */
  type: z.enum(["collective", "individual"]),
  /** `standard`, or `solidarity`: a reduction on everything the tenant pays. @default "standard" */
  rate: z.enum(["standard", "solidarity"]).default(TENANT_DEFAULTS.rate),
  /** The solidarity reduction in %, only with `rate: solidarity`. @default the catalog's */
  solidarityPercent: z.number().gt(0, "must be above 0").max(100, "must be at most 100").optional(),
  /** Where the association writes to the tenant (bills, notices). */
  contact: email,
  /** `paidUntil` (YYYY-MM-DD): past it the tenant is flagged; nothing is deleted. */
  membership: z.strictObject({ paidUntil: isoDate.optional() }).optional(),
  /** The people of the tenant: at least one, at least one admin. A person may belong to several tenants. */
  members: z.array(member).min(1, "needs at least one member"),
  /** Mail V2, included in the membership. */
  mail: z.strictObject({ domains: z.array(mailDomain).default([]) }).optional(),
  /** The à-la-carte offers, each optional. @default {} */
  services: z
    .strictObject({
      /** A WordPress or static website. */
      website: website.optional(),
      /** A dedicated Nextcloud suite, one account per member. */
      nextcloud: nextcloud.optional(),
      /** Paheko accounting. */
      accounting: accounting.optional(),
      /** A newsletter (Listmonk, or Paheko). */
      newsletter: newsletter.optional(),
      /** A channel on the shared PeerTube. */
      video: video.optional(),
    })
    .default({}),
});

export type Tenant = z.infer<typeof tenantSchema>;
export type Member = Tenant["members"][number];
export type Services = Tenant["services"];
/** The keys of `services`: the à-la-carte offers. */
export type ServiceField = keyof Services;
