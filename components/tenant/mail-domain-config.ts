import type { DnsRecord } from "../platform/outputs";
import { MAIL_FRAGMENT_KINDS, MAIL_FRAGMENT_SUFFIX, MAIL_SECTION_MARKER, type MailFragmentKind } from "../platform/mail-fragments";
import { emailProblem, hostedAddressProblem, hostnameProblem, mailboxQuotaProblem, usernameProblem } from "../../infra/contract/names";
import { gbToBytes } from "../units";
import { mtaStsPolicy, mtaStsPolicyId } from "../platform/mail-well-known-config";

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

/** Per-domain fragments in the mail server's map formats (components/platform/mail-fragments.ts); each ends with a newline unless empty. */
export type MailFragments = Record<MailFragmentKind, string>;

/** The role of a login line: the mailbox's owner, or a member it is shared with. */
export type MailLoginRole = "owner" | "shared";

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
  const hosted = hostedAddressProblem(a);
  if (hosted) throw new Error(`${where}: invalid email address "${address}": ${hosted}`);
  if (!a.endsWith(`@${domain}`)) throw new Error(`${where}: ${address} is not in the domain ${domain}`);
  return a;
}

function lines(entries: string[]): string {
  return entries.length === 0 ? "" : `${[...entries].sort().join("\n")}\n`;
}

/**
 * Pure: the fragments of one mail domain, sorted and deterministic. A redirection is never a
 * mailbox, a user or a login: it is only a line of `redirections`.
 * @param shared a shared domain of the platform: the platform declares the domain, the tenant only its addresses
 * @throws Error on an address outside the domain, an invalid address, a duplicate mailbox or
 * redirection, a redirection that shadows a mailbox, a non-positive quota or a redirection
 * without target.
 */
export function renderMailFragments(input: MailFragmentsInput & { shared?: boolean }): MailFragments {
  const domain = normalizeDomain(input.domain);
  const mailboxes = new Map<string, MailboxSpec>();
  for (const [i, m] of input.mailboxes.entries()) {
    const where = `mailboxes[${i}]`;
    const address = inDomain(m.address, domain, where);
    if (mailboxes.has(address)) throw new Error(`${where}: duplicate mailbox ${address}`);
    // Whole GB (infra/contract/names.ts), written in bytes of 2^30.
    const badQuota = mailboxQuotaProblem(m.quotaGb);
    if (badQuota) throw new Error(`${where}: quotaGb ${badQuota}`);
    for (const u of [...(m.owner ? [m.owner] : []), ...(m.sharedWith ?? [])]) {
      const bad = usernameProblem(u);
      if (bad) throw new Error(`${where}: invalid username "${u}": ${bad}`);
    }
    mailboxes.set(address, m);
  }

  const redirections: string[] = [];
  const seen = new Set<string>();
  for (const [i, r] of input.redirections.entries()) {
    const where = `redirections[${i}]`;
    const from = inDomain(r.from, domain, where);
    if (seen.has(from)) throw new Error(`${where}: duplicate redirection ${from}`);
    if (mailboxes.has(from)) throw new Error(`${where}: ${from} is also a mailbox`);
    seen.add(from);
    const targets = [...new Set(r.to.map((t, j) => normalizeAddress(t, `${where}.to[${j}]`)))].sort();
    if (targets.length === 0) throw new Error(`${where}: a redirection needs at least one target`);
    redirections.push(`${from} ${targets.join(",")}`);
  }

  const boxes: string[] = [];
  const users: string[] = [];
  const senders: string[] = [];
  const logins: string[] = [];
  for (const [address, m] of mailboxes) {
    boxes.push(`${address} OK`);
    users.push(`${address}:::::::userdb_quota_rule=*:bytes=${gbToBytes(m.quotaGb)}`);
    const sharers = [...new Set(m.sharedWith ?? [])].filter((user) => user !== m.owner);
    // Who may send as the mailbox: its own login, and the people who open it as themselves
    // (the webmail's login is the person's username, docs/services/mail.md "Webmail").
    senders.push(`${address} ${[address, ...(m.owner ? [m.owner] : []), ...[...sharers].sort()].join(",")}`);
    if (m.owner) logins.push(`${address} owner ${m.owner}`);
    for (const user of sharers) logins.push(`${address} shared ${user}`);
  }
  return {
    domains: input.shared ? "" : lines([`${domain} OK`]),
    mailboxes: lines(boxes),
    users: lines(users),
    senders: lines(senders),
    logins: lines(logins),
    redirections: lines(redirections),
  };
}

export type { DnsRecord };

/** What a mail domain's records point at: the platform's side of them. */
export interface MailDnsTargets {
  /** Public name of the mail server: the MX, the SRV targets, the MTA-STS policy's `mx`. @example "mail.example.org" */
  mailHostname: string;
  /** Public IPv4 of the reverse proxy, which serves the domain's well-known names. @example "203.0.113.10" */
  proxyIp: string;
  /** Mailbox of the TLS reports (RFC 8460). @example "postmaster@example.org" */
  tlsReportAddress: string;
}

/**
 * Pure: the targets of the platform whose base domain is `baseDomain`: the mail server
 * `mail.<baseDomain>`, the proxy's address, and TLS reports to `postmaster@<baseDomain>`, read by
 * the platform's operators, who run the server the reports are about (a tenant's domain need
 * have no postmaster mailbox).
 */
export function mailDnsTargets(baseDomain: string, proxyIp: string): MailDnsTargets {
  const base = normalizeDomain(baseDomain);
  return { mailHostname: `mail.${base}`, proxyIp, tlsReportAddress: `postmaster@${base}` };
}

/**
 * Pure: the records of a mail domain (docs/services/mail.md "DNS"): MX to the platform's mail
 * server, SPF (only the MX sends), DMARC (quarantine, strict alignment), the SRV records mail
 * clients use to find the servers (RFC 6186, and RFC 8314 for submission over TLS); then MTA-STS
 * (RFC 8461: the policy host and the `_mta-sts` TXT whose id changes with the policy), TLS
 * reporting (RFC 8460 §3), and the names Thunderbird's autoconfig and Outlook's autodiscover look
 * up. The three web names reach the reverse proxy: `mta-sts.<domain>` by an A record, which the
 * route promoter checks (docs/services/traefik.md), the two others as CNAMEs of it. DKIM comes
 * from the mail host (MailDomain).
 */
export function mailDnsRecords(domain: string, targets: MailDnsTargets): DnsRecord[] {
  const d = normalizeDomain(domain);
  const mx = normalizeDomain(targets.mailHostname);
  const report = normalizeAddress(targets.tlsReportAddress, "tlsReportAddress");
  if (!/^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(targets.proxyIp)) {
    throw new Error(`mail DNS: the proxy's address must be an IPv4 address, got "${targets.proxyIp}"`);
  }
  const srv = (service: string, port: number): DnsRecord => ({
    name: `_${service}._tcp.${d}`,
    type: "SRV",
    priority: 0,
    value: `1 ${port} ${mx}.`,
  });
  const policyHost = `mta-sts.${d}`;
  return [
    { name: d, type: "MX", value: `${mx}.`, priority: 10 },
    { name: d, type: "TXT", value: "v=spf1 mx -all" },
    { name: `_dmarc.${d}`, type: "TXT", value: "v=DMARC1; p=quarantine; adkim=s; aspf=s" },
    srv("imaps", 993),
    srv("submissions", 465),
    srv("submission", 587),
    // RFC 6186 §4: "." as the target says the service is not offered (plain IMAP without TLS).
    { name: `_imap._tcp.${d}`, type: "SRV", priority: 0, value: "0 0 ." },
    { name: policyHost, type: "A", value: targets.proxyIp },
    { name: `_mta-sts.${d}`, type: "TXT", value: `v=STSv1; id=${mtaStsPolicyId(mtaStsPolicy(mx))}` },
    { name: `_smtp._tls.${d}`, type: "TXT", value: `v=TLSRPTv1; rua=mailto:${report}` },
    { name: `autoconfig.${d}`, type: "CNAME", value: `${policyHost}.` },
    { name: `autodiscover.${d}`, type: "CNAME", value: `${policyHost}.` },
    // Outlook's last lookup, after the HTTPS URLs of the domain and of autodiscover.<domain> ([MS-OXDSCLI] §3.1.5).
    { name: `_autodiscover._tcp.${d}`, type: "SRV", priority: 0, value: `0 443 autodiscover.${d}.` },
  ];
}

/** Pure: records as zone file lines (`<name>. 3600 IN <type> …`), TXT data quoted. */
export function zoneLines(records: readonly DnsRecord[], ttl = 3600): string[] {
  return records.map((r) => {
    const data = r.type === "TXT" ? `"${r.value.replace(/(["\\])/g, "\\$1")}"` : r.value;
    return `${r.name}. ${ttl} IN ${r.type} ${r.priority !== undefined ? `${r.priority} ` : ""}${data}`;
  });
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
export function renderMailFragmentFile(input: MailFragmentsInput & { shared?: boolean }): string {
  const fragments = renderMailFragments(input);
  return MAIL_DOMAIN_FRAGMENT_KINDS.map((kind) => `${MAIL_SECTION_MARKER}${kind}\n${fragments[kind]}`).join("");
}

/** Pure: `<fragmentsDir>/<slug>--<domain>.mail`, the one fragment file of a tenant's mail domain. */
export function mailFragmentPath(fragmentsDir: string, slug: string, domain: string): string {
  return `${fragmentsDir.replace(/\/+$/, "")}/${slug}--${normalizeDomain(domain)}${MAIL_FRAGMENT_SUFFIX}`;
}
