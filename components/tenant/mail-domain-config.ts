import { MAIL_FRAGMENT_KINDS, MAIL_FRAGMENT_SUFFIX, MAIL_SECTION_MARKER, type MailFragmentKind } from "../platform/mail-fragments";
import { emailProblem, hostnameProblem, mailboxQuotaProblem, usernameProblem } from "../../infra/contract/names";
import { gbToSizeString } from "../units";

/** A mailbox of a mail domain, as the tenant file lists it. */
export interface MailboxSpec {
  /** Full address, in the domain. @example "alice@amisduvelo.org" */
  address: string;
  /** Mailbox quota in GB (2^30 bytes). @example 5 */
  quotaGb: number;
  /** Username of the member who opens it (webmail, clients). */
  owner?: string;
  /** Usernames of other members who may open it too. @default [] */
  sharedWith?: string[];
}

/** A redirection (alias) of a mail domain. */
export interface RedirectionSpec {
  /** Address in the domain. @example "bureau@amisduvelo.org" */
  from: string;
  /** Targets: addresses in any domain, at least one. */
  to: string[];
}

export interface MailFragmentsInput {
  /** The mail domain. @example "amisduvelo.org" */
  domain: string;
  mailboxes: readonly MailboxSpec[];
  redirections: readonly RedirectionSpec[];
}

/** Per-domain fragments in docker-mailserver's file formats; each ends with a newline unless empty. */
export interface MailFragments {
  /** postfix-virtual.cf lines: `<from> <target1>,<target2>` (a Postfix `virtual_alias_maps` table). */
  virtual: string;
  /**
   * postfix-accounts.cf lines: `<address>|{SHA512-CRYPT}!`. Mail accounts authenticate through
   * Keycloak (Dovecot's oauth2 passdb with the password grant, ENABLE_OAUTH2), so the file only
   * declares the mailboxes; their password-file hash is a locked one (`!` is no valid crypt
   * string: no password ever matches it).
   */
  accounts: string;
  /** dovecot-quotas.cf lines: `<address>:<n>G` (G = 2^30 bytes, like the contract's GB). */
  quotas: string;
  /**
   * Shared mailboxes, one line per grant: `<mailbox address> user=<username> <rights>` in the
   * shape of a Dovecot ACL entry (identifier and IMAP ACL rights). docker-mailserver has no
   * file for this: the mail server platform applies it (e.g. `doveadm acl set`).
   */
  acl: string;
}

/** Locked password-file hash: the mailbox exists but its password is checked by Keycloak only. */
export const LOCKED_HASH = "{SHA512-CRYPT}!";

/** IMAP ACL rights granted to members a mailbox is shared with (all but admin `a`). */
export const SHARED_MAILBOX_RIGHTS = "lrwstipekx";

/**
 * Lower-cases and validates an address by the contract's rule (infra/contract/names.ts), the
 * schema's own, so that no address validate accepts is refused here: no whitespace, comma, line
 * break or leading `#` can reach a map.
 */
export function normalizeAddress(address: string, where: string): string {
  const a = address.trim().toLowerCase();
  const bad = emailProblem(a);
  if (bad) throw new Error(`${where}: invalid email address "${address}": ${bad}`);
  return a;
}

/** Lower-cases and validates a domain by the contract's hostname rule (infra/contract/names.ts). */
export function normalizeDomain(domain: string): string {
  const d = domain.trim().toLowerCase();
  const bad = hostnameProblem(d);
  if (bad) throw new Error(`invalid mail domain "${domain}": ${bad}`);
  return d;
}

function inDomain(address: string, domain: string, where: string): string {
  const a = normalizeAddress(address, where);
  if (!a.endsWith(`@${domain}`)) throw new Error(`${where}: ${address} is not in the domain ${domain}`);
  return a;
}

function lines(entries: string[]): string {
  return entries.length === 0 ? "" : `${[...entries].sort().join("\n")}\n`;
}

/**
 * Pure: the docker-mailserver fragments of one mail domain, sorted and deterministic.
 * @throws Error on an address outside the domain, an invalid address, a duplicate mailbox or
 * redirection, a redirection that shadows a mailbox, a non-positive quota or a redirection
 * without target.
 */
export function renderMailFragments(input: MailFragmentsInput): MailFragments {
  const domain = normalizeDomain(input.domain);
  const mailboxes = new Map<string, MailboxSpec>();
  for (const [i, m] of input.mailboxes.entries()) {
    const where = `mailboxes[${i}]`;
    const address = inDomain(m.address, domain, where);
    if (mailboxes.has(address)) throw new Error(`${where}: duplicate mailbox ${address}`);
    // Written as `<n>G` below: the contract's quotas are whole GB (infra/contract/names.ts).
    const badQuota = mailboxQuotaProblem(m.quotaGb);
    if (badQuota) throw new Error(`${where}: quotaGb ${badQuota}`);
    for (const u of [...(m.owner ? [m.owner] : []), ...(m.sharedWith ?? [])]) {
      const bad = usernameProblem(u);
      if (bad) throw new Error(`${where}: invalid username "${u}": ${bad}`);
    }
    mailboxes.set(address, m);
  }

  const virtual: string[] = [];
  const seen = new Set<string>();
  for (const [i, r] of input.redirections.entries()) {
    const where = `redirections[${i}]`;
    const from = inDomain(r.from, domain, where);
    if (seen.has(from)) throw new Error(`${where}: duplicate redirection ${from}`);
    if (mailboxes.has(from)) throw new Error(`${where}: ${from} is also a mailbox`);
    seen.add(from);
    const targets = [...new Set(r.to.map((t, j) => normalizeAddress(t, `${where}.to[${j}]`)))].sort();
    if (targets.length === 0) throw new Error(`${where}: a redirection needs at least one target`);
    virtual.push(`${from} ${targets.join(",")}`);
  }

  const accounts: string[] = [];
  const quotas: string[] = [];
  const acl: string[] = [];
  for (const [address, m] of mailboxes) {
    accounts.push(`${address}|${LOCKED_HASH}`);
    quotas.push(`${address}:${gbToSizeString(m.quotaGb)}`);
    for (const user of new Set(m.sharedWith ?? [])) acl.push(`${address} user=${user} ${SHARED_MAILBOX_RIGHTS}`);
  }
  return { virtual: lines(virtual), accounts: lines(accounts), quotas: lines(quotas), acl: lines(acl) };
}

/** A DNS record a custom mail domain needs (the tenant or ops publish it). */
export interface DnsRecord {
  /** Fully qualified owner name. @example "_dmarc.amisduvelo.org" */
  name: string;
  type: "MX" | "TXT";
  value: string;
  /** MX preference. */
  priority?: number;
}

/**
 * Pure: MX, SPF and DMARC records of a custom domain. DKIM is not here: docker-mailserver
 * generates the domain's key on the host (`setup config dkim`), and its TXT record is read there.
 */
export function mailDnsRecords(domain: string, mailHostname: string): DnsRecord[] {
  const d = normalizeDomain(domain);
  const mx = normalizeDomain(mailHostname);
  return [
    { name: d, type: "MX", value: `${mx}.`, priority: 10 },
    { name: d, type: "TXT", value: "v=spf1 mx -all" },
    { name: `_dmarc.${d}`, type: "TXT", value: "v=DMARC1; p=quarantine; adkim=s; aspf=s" },
  ];
}

/** Sections of a domain's fragment file, in the order they are written. */
export const MAIL_DOMAIN_FRAGMENT_KINDS: readonly MailFragmentKind[] = MAIL_FRAGMENT_KINDS.map(({ kind }) => kind);
export type { MailFragmentKind };

/**
 * Pure: the one fragment file of a mail domain, every kind as a section: a `#> <kind>` line, then
 * that kind's lines (see {@link renderMailFragments}), all four kinds always, in
 * {@link MAIL_DOMAIN_FRAGMENT_KINDS} order. The marker cannot begin a content line: each starts
 * with a validated address, and `>` is no character of an address.
 * @throws Error like {@link renderMailFragments}.
 */
export function renderMailFragmentFile(input: MailFragmentsInput): string {
  const fragments = renderMailFragments(input);
  return MAIL_DOMAIN_FRAGMENT_KINDS.map((kind) => `${MAIL_SECTION_MARKER}${kind}\n${fragments[kind]}`).join("");
}

/** Pure: `<fragmentsDir>/<slug>--<domain>.mail`, the one fragment file of a tenant's mail domain. */
export function mailFragmentPath(fragmentsDir: string, slug: string, domain: string): string {
  return `${fragmentsDir.replace(/\/+$/, "")}/${slug}--${normalizeDomain(domain)}${MAIL_FRAGMENT_SUFFIX}`;
}
