/**
 * The contract between a tenant's MailDomain, which writes one fragment file per tenant and domain,
 * and the mail host's assemble script, which splits every fragment into docker-mailserver's files.
 * Pure constants: both sides import them, neither imports the other's Pulumi code.
 */

/** Suffix of a fragment file: `<fragmentsDir>/<slug>--<domain>.mail`. */
export const MAIL_FRAGMENT_SUFFIX = ".mail";

/**
 * Start of a section line in a fragment: `#> <kind>`, then that kind's lines up to the next marker.
 * It cannot begin a content line: every content line starts with a normalized address, whose local
 * part (the LOCAL pattern of mail-domain-config.ts) may start with `#` but never holds `>`.
 */
export const MAIL_SECTION_MARKER = "#> ";

/**
 * Sections of a fragment, in the order they are written, and the file each is assembled into in
 * docker-mailserver's config folder. `dovecot-acl.cf` is not a docker-mailserver file: it collects
 * the shared-mailbox grants for a later step that applies them with `doveadm acl` (not yet done).
 */
export const MAIL_FRAGMENT_KINDS = [
  { kind: "virtual", file: "postfix-virtual.cf" },
  { kind: "accounts", file: "postfix-accounts.cf" },
  { kind: "quotas", file: "dovecot-quotas.cf" },
  { kind: "acl", file: "dovecot-acl.cf" },
] as const;

export type MailFragmentKind = (typeof MAIL_FRAGMENT_KINDS)[number]["kind"];
