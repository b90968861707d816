/**
 * The contract between a tenant's MailDomain, which writes one fragment file per tenant and domain,
 * and the mail host's assemble script, which splits every fragment into the mail server's maps.
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
 * the mail server's maps folder (images/mail, docs/services/mail.md "Maps"). The assemble script
 * renames the files into place in this order: every mailbox exists before a redirection can point
 * at it.
 */
export const MAIL_FRAGMENT_KINDS = [
  /** `<domain> OK`: a custom domain whose mail the server takes (Postfix `virtual_mailbox_domains`). */
  { kind: "domains", file: "domains" },
  /** `<address> OK`: a mailbox (Postfix `virtual_mailbox_maps`). */
  { kind: "mailboxes", file: "mailboxes" },
  /** `<address>:::::::userdb_quota_rule=*:bytes=<n>`: the mailbox's Dovecot user, with its own quota. */
  { kind: "users", file: "users" },
  /** `<address> <address>`: the login that may send as the mailbox (Postfix `smtpd_sender_login_maps`). */
  { kind: "senders", file: "senders" },
  /** `<address> owner|shared <username>`: who opens the mailbox, for its app passwords. */
  { kind: "logins", file: "logins" },
  /** `<from> <target>,<target>`: a redirection (Postfix `virtual_alias_maps`). */
  { kind: "redirections", file: "redirections" },
] as const;

export type MailFragmentKind = (typeof MAIL_FRAGMENT_KINDS)[number]["kind"];
