/**
 * The notices a tenant's contact receives by mail (docs/services/notices.md): one when a volume of
 * the tenant passes 90 % of its quota, one 30 days before its membership's `paidUntil`, each once,
 * French first then English.
 *
 * Each tenant stack writes one file, `/srv/alacarte/notices/<slug>.notice`, on the monitoring host
 * (a per-tenant fragment: no platform list of tenants); `images/backup/notices.sh` reads every
 * such file daily, decides what is due and sends it.
 *
 * Why the messages are rendered here, at plan time, and carried in the fragment rather than kept
 * as fixed templates in the script: the wording lives in one place, in TypeScript, where it is
 * tested without a shell; the tenant's name (free text, often non-ASCII) and the Subject's RFC 2047
 * encoding are handled here, never by the shell; the script only fills placeholders with values
 * it has checked itself (digits, a volume name of a-z 0-9 -, a date it formats). The cost: a change
 * of wording rewrites every tenant's fragment at its stack's next update.
 *
 * Pure: no Pulumi, no I/O.
 */
import { displayNameProblem, emailProblem, slugProblem } from "../contract/names";
import type { PlatformConfig } from "./platform-config";

/** The folder of the fragments on the monitoring host. */
export const NOTICES_DIR = "/srv/alacarte/notices";

/** The version of the fragment's format, its `format=` line: the script refuses another. */
export const NOTICE_FORMAT = 1;

/** What the script puts in a message before sending it: `{{NAME}}` in the text. */
export const PLACEHOLDERS = {
  /** RFC 5322 §3.3 date-time of sending, from `date -u -R`. */
  date: "{{DATE}}",
  /** Left part of the Message-ID (RFC 5322 §3.6.4): a-z 0-9 . - only. */
  messageId: "{{MESSAGE_ID}}",
  /** The volume's name, the metric's `volume` label: a-z 0-9 - only. */
  volume: "{{VOLUME}}",
  /** The used share of the quota, in whole percent: digits only. */
  percent: "{{PERCENT}}",
} as const;

/** What a tenant file gives a notice (the contract's `slug`, `name`, `contact`, `membership.paidUntil`). */
export interface NoticeTenant {
  slug: string;
  /** The tenant's name as people read it; kept intact (UTF-8 in the body, RFC 2047 in headers). */
  name: string;
  /** Where the association writes to the tenant. */
  contact: string;
  /** YYYY-MM-DD; without it no membership notice is sent. */
  paidUntil?: string;
}

/** Who sends the notices: the platform's mail settings (`alacarte:smtp`). */
export interface NoticeSender {
  /** The display name of From, e.g. the association's name. */
  name: string;
  /** From's address, also the envelope sender (the SMTP account's, `alacarte:smtp.from`). */
  address: string;
  /** Where the tenant writes back (Reply-To, and named in the text): renewals, larger tiers. */
  contact: string;
}

// ---------------------------------------------------------------------------------------------
// Checks

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function checkEmail(field: string, value: string): void {
  const problem = emailProblem(value);
  if (problem) throw new Error(`notice: ${field} "${value}" ${problem}`);
}

function checkDate(field: string, value: string): { year: number; month: number; day: number } {
  const m = ISO_DATE.exec(value);
  const d = m ? new Date(`${value}T00:00:00Z`) : undefined;
  if (!m || !d || Number.isNaN(d.getTime()) || !d.toISOString().startsWith(value)) {
    throw new Error(`notice: ${field} "${value}" must be a real date written YYYY-MM-DD`);
  }
  return { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
}

function checkText(field: string, value: string): void {
  // The contract's own rule for a name (infra/contract/names.ts): what validate accepts, a notice renders.
  const problem = displayNameProblem(value);
  if (problem) throw new Error(`notice: ${field} ${problem}`);
}

function checkTenant(tenant: NoticeTenant): void {
  const slug = slugProblem(tenant.slug);
  if (slug) throw new Error(`notice: slug "${tenant.slug}" ${slug}`);
  checkText("name", tenant.name);
  checkEmail("contact", tenant.contact);
  if (tenant.paidUntil !== undefined) checkDate("paidUntil", tenant.paidUntil);
}

function checkSender(sender: NoticeSender): void {
  checkText("sender name", sender.name);
  checkEmail("sender address", sender.address);
  checkEmail("sender contact", sender.contact);
}

// ---------------------------------------------------------------------------------------------
// Headers (RFC 5322, RFC 2047)

const CRLF = "\r\n";
/**
 * Octets per encoded-word: 42 make 56 of base64, 68 characters with "=?UTF-8?B?" and "?=", within
 * RFC 2047 §2's 75, and "Subject: " and the first word within RFC 5322 §2.1.1's 78 a line.
 */
const WORD_OCTETS = 42;

/**
 * RFC 2047 §4.1 "B" encoded-words of `text`, each at most 68 characters and each holding whole
 * characters (§5: an encoded-word must not split a multi-octet character).
 */
export function encodedWords(text: string): string[] {
  const words: string[] = [];
  let chunk = "";
  for (const char of text) {
    if (Buffer.byteLength(chunk + char, "utf8") > WORD_OCTETS) {
      words.push(chunk);
      chunk = "";
    }
    chunk += char;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, "utf8").toString("base64")}?=`);
}

/** A header of encoded-words, folded one word a line (RFC 5322 §2.2.3); white space between them is not text (RFC 2047 §6.2). */
function encodedHeader(field: string, text: string, asciiTail = ""): string {
  return `${field}: ${[...encodedWords(text), ...(asciiTail ? [asciiTail] : [])].join(`${CRLF} `)}`;
}

/** A display name and address (RFC 5322 §3.4): encoded-words when not ASCII, else a quoted-string. */
function mailbox(name: string, address: string): string {
  const phrase = /^[\x20-\x7e]*$/.test(name) ? `"${name.replace(/[\\"]/g, "\\$&")}"` : encodedWords(name).join(" ");
  return `${phrase} <${address}>`;
}

// ---------------------------------------------------------------------------------------------
// Body

const WIDTH = 72;
const FR_MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"];
const EN_MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

/** "31 décembre 2026", "1er janvier 2027". */
export function frenchDate(iso: string): string {
  const { year, month, day } = checkDate("date", iso);
  return `${day === 1 ? "1er" : day} ${FR_MONTHS[month - 1]} ${year}`;
}

/** "31 December 2026". */
export function englishDate(iso: string): string {
  const { year, month, day } = checkDate("date", iso);
  return `${day} ${EN_MONTHS[month - 1]} ${year}`;
}

/** A paragraph wrapped at 72 characters on spaces; a longer word stays whole on its own line. */
function wrap(paragraph: string): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of paragraph.split(/ +/)) {
    if (line && [...`${line} ${word}`].length > WIDTH) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

const SEPARATOR = "-".repeat(WIDTH);
/**
 * A no-break space (U+00A0): French typography puts one inside « » and before : ; %, and the
 * wrapping never breaks a line there.
 */
const NBSP = "\u00a0";
const guillemets = (text: string) => `«${NBSP}${text}${NBSP}»`;

/** The body: French paragraphs, a rule, English paragraphs; paragraphs wrapped, lines ended by CRLF. */
function body(fr: string[], en: string[]): string {
  const part = (paragraphs: string[]) => paragraphs.map((p) => wrap(p).join(CRLF)).join(CRLF + CRLF);
  return ["(English below)", part(fr), SEPARATOR, part(en)].join(CRLF + CRLF) + CRLF;
}

/** The headers every notice has, then the blank line and the body (RFC 5322 §3.6, RFC 2045 §§4-6). */
function message(tenant: NoticeTenant, sender: NoticeSender, subject: string, text: string): string {
  const domain = sender.address.slice(sender.address.lastIndexOf("@") + 1);
  const headers = [
    `From: ${mailbox(sender.name, sender.address)}`,
    `Reply-To: ${sender.contact}`,
    `To: ${mailbox(tenant.name, tenant.contact)}`,
    subject,
    `Date: ${PLACEHOLDERS.date}`,
    `Message-ID: <${PLACEHOLDERS.messageId}@${domain}>`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=UTF-8",
    "Content-Transfer-Encoding: 8bit",
    // RFC 3282: the languages of the text; RFC 3834 §5: an automatic message, which vacation replies skip.
    "Content-Language: fr, en",
    "Auto-Submitted: auto-generated",
  ];
  return headers.join(CRLF) + CRLF + CRLF + text;
}

/**
 * The membership notice, complete RFC 5322 text with CRLF line ends; `{{DATE}}` and
 * `{{MESSAGE_ID}}` are left for the script. @throws Error on a bad value or without `paidUntil`.
 */
export function membershipMessage(tenant: NoticeTenant, sender: NoticeSender): string {
  checkTenant(tenant);
  checkSender(sender);
  if (tenant.paidUntil === undefined) throw new Error(`notice: ${tenant.slug} has no paidUntil, so no membership notice`);
  const fr = frenchDate(tenant.paidUntil);
  const en = englishDate(tenant.paidUntil);
  const subject = encodedHeader(
    "Subject",
    `Adhésion de « ${tenant.name} » : échéance le ${fr} / Membership of "${tenant.name}": due on ${en}`,
  );
  const text = body(
    [
      "Bonjour,",
      `L'adhésion de ${guillemets(tenant.name)} à ${sender.name} est réglée jusqu'au ${fr}. Pour la renouveler, ou pour toute question, écrivez à ${sender.contact} (ou répondez simplement à ce message).`,
      `Si elle n'est pas renouvelée à cette date, rien n'est supprimé${NBSP}: vos services, vos données et vos adresses restent en place. Votre compte est seulement signalé à l'équipe de l'association, qui prendra contact avec vous.`,
      "Ce message n'est envoyé qu'une fois pour cette échéance.",
      `L'équipe de ${sender.name}`,
    ],
    [
      "Hello,",
      `The membership of "${tenant.name}" in ${sender.name} is paid until ${en}. To renew it, or for any question, write to ${sender.contact} (or simply reply to this message).`,
      "If it is not renewed by that date, nothing is deleted: your services, data and addresses stay in place. Your account is only flagged to the association's team, who will get in touch with you.",
      "This message is sent only once for this date.",
      `The ${sender.name} team`,
    ],
  );
  return message(tenant, sender, subject, text);
}

/**
 * The quota notice, complete RFC 5322 text with CRLF line ends; `{{DATE}}`, `{{MESSAGE_ID}}`,
 * `{{VOLUME}}` and `{{PERCENT}}` are left for the script (the last two also in the Subject, as
 * ASCII after the encoded-words). @throws Error on a bad value.
 */
export function quotaMessage(tenant: NoticeTenant, sender: NoticeSender): string {
  checkTenant(tenant);
  checkSender(sender);
  const { volume, percent } = PLACEHOLDERS;
  const subject = encodedHeader(
    "Subject",
    `Espace presque plein pour « ${tenant.name} » / Storage nearly full for "${tenant.name}"`,
    `(${volume}, ${percent} %)`,
  );
  const text = body(
    [
      "Bonjour,",
      `Le volume ${guillemets(volume)} de ${guillemets(tenant.name)} occupe ${percent}${NBSP}% de l'espace prévu par votre offre.`,
      `Quand il sera plein, le service concerné ne pourra plus enregistrer de nouvelles données. Pour obtenir plus d'espace (un palier supérieur), écrivez à ${sender.contact} (ou répondez simplement à ce message)${NBSP}; vous pouvez aussi faire de la place en supprimant ce qui ne sert plus.`,
      `Ce message n'est envoyé qu'une fois, tant que l'espace occupé ne repasse pas sous 80${NBSP}%.`,
      `L'équipe de ${sender.name}`,
    ],
    [
      "Hello,",
      `The volume "${volume}" of "${tenant.name}" uses ${percent}${NBSP}% of the space your offer provides.`,
      `Once it is full, the service can store no new data. For more space (a larger tier), write to ${sender.contact} (or simply reply to this message); you can also make room by deleting what is no longer needed.`,
      `This message is sent only once, until the space used falls back below 80${NBSP}%.`,
      `The ${sender.name} team`,
    ],
  );
  return message(tenant, sender, subject, text);
}

/** Who sends the notices, from the platform config: its SMTP sender, and the association's contact address. */
export function noticeSender(config: Pick<PlatformConfig, "smtp" | "contactEmail">): NoticeSender {
  if (!config.smtp) throw new Error("notice: the platform config has no smtp, which the notices leave through");
  return { name: config.smtp.fromDisplayName, address: config.smtp.from, contact: config.contactEmail ?? config.smtp.from };
}

/** Where the tenant's fragment lives on the monitoring host. @throws Error on a bad slug. */
export function noticePath(slug: string): string {
  const problem = slugProblem(slug);
  if (problem) throw new Error(`notice: slug "${slug}" ${problem}`);
  return `${NOTICES_DIR}/${slug}.notice`;
}

/**
 * The text of the tenant's fragment: `key=value` lines, each value checked here and again by the
 * script, which reads them with `read` and never evaluates them (no `.`, no `eval`). The messages
 * are base64 (RFC 4648 §4) on one line each: their CRLF and UTF-8 cannot break the line format.
 *
 * ```
 * format=1
 * slug=amis-du-velo
 * contact=tresorerie@amisduvelo.org
 * from=noreply@alacarte.example.org
 * paid_until=2026-12-31
 * membership_message=<base64>
 * quota_message=<base64>
 * ```
 * `paid_until` and `membership_message` are present only with `paidUntil`.
 * @throws Error on a bad slug, contact, date, name or sender.
 */
export function noticeFragment(tenant: NoticeTenant, sender: NoticeSender): string {
  checkTenant(tenant);
  checkSender(sender);
  const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
  const lines = [
    "# Notices of one tenant, read by images/backup/notices.sh (docs/services/notices.md).",
    `format=${NOTICE_FORMAT}`,
    `slug=${tenant.slug}`,
    `contact=${tenant.contact}`,
    `from=${sender.address}`,
    ...(tenant.paidUntil !== undefined
      ? [`paid_until=${tenant.paidUntil}`, `membership_message=${b64(membershipMessage(tenant, sender))}`]
      : []),
    `quota_message=${b64(quotaMessage(tenant, sender))}`,
  ];
  return `${lines.join("\n")}\n`;
}

/** The fields of a fragment, as the script reads them (for tests and tools). @throws Error on a line that is not `key=value`. */
export function parseNoticeFragment(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.indexOf("=");
    if (at <= 0) throw new Error(`notice fragment: not a key=value line: ${line.slice(0, 40)}`);
    out[line.slice(0, at)] = line.slice(at + 1);
  }
  return out;
}

/** Fills a message's placeholders as the script does (for tests): each value must already be what the script allows. */
export function fillMessage(template: string, values: Partial<Record<keyof typeof PLACEHOLDERS, string>>): string {
  let text = template;
  for (const [key, value] of Object.entries(values)) text = text.split(PLACEHOLDERS[key as keyof typeof PLACEHOLDERS]).join(value);
  return text;
}
