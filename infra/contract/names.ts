import { domainToASCII } from "node:url";

/**
 * The name and size rules of the tenant file contract (v1), in one place. The schema (tenant.ts)
 * and every component that takes a name from a tenant file check through these functions, so
 * that what `validate` accepts plans, and what a component would refuse, `validate` refuses
 * first, naming the field (docs/contract.md, "Name rules").
 *
 * Each rule has a pattern (the syntax, for whoever needs a RegExp) and a checker returning the
 * reason a value breaks the rule, written to follow the field name in a message, or undefined
 * when the value is fine. The checkers take the value exactly as written: components that
 * normalise (trim, lower-case) do so before checking.
 */

// ---------------------------------------------------------------------------------------------
// Slug

/** A tenant slug: lowercase words of a-z 0-9 joined by single hyphens. It names stacks (`<env>.<slug>`), groups, buckets. */
export const SLUG_PATTERN = /^[a-z0-9]+(-[a-z0-9]+)*$/;
/** At most this many characters, so that the names made from it (`site-<slug>`) stay within an S3 bucket name's 63. */
export const SLUG_MAX = 40;

/** Why `slug` is not a tenant slug, or undefined. */
export function slugProblem(slug: string): string | undefined {
  if (slug.length > SLUG_MAX) return `must be at most ${SLUG_MAX} characters, not ${slug.length}`;
  if (!SLUG_PATTERN.test(slug)) return "must be lowercase words of a-z 0-9 joined by single hyphens";
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Username

/** A member's username, the uid in every app: a lowercase letter, then 1 to 31 of a-z 0-9 . _ - (2 to 32 characters). */
export const USERNAME_PATTERN = /^[a-z][a-z0-9._-]{1,31}$/;

/** Why `username` is not a username, or undefined. */
export function usernameProblem(username: string): string | undefined {
  return USERNAME_PATTERN.test(username) ? undefined : "must start with a lowercase letter, then 1 to 31 of a-z 0-9 . _ -";
}

// ---------------------------------------------------------------------------------------------
// Hostname

/** Characters of a hostname: RFC 1035 §2.3.4's 255 octets on the wire are 253 written without the final dot. */
export const HOSTNAME_MAX = 253;
/** Characters of a label (RFC 1035 §2.3.4). */
export const LABEL_MAX = 63;

const LABEL = "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?";
const TLD = "([a-z]{2,63}|xn--[a-z0-9-]{0,58}[a-z0-9])";

/**
 * One label: a-z 0-9 and inner hyphens, 1 to 63 characters (RFC 1035 §2.3.1, with RFC 1123 §2.1
 * allowing a leading digit). Punycode A-labels (`xn--…`, RFC 5890 §2.3.2.1) are such labels.
 */
export const LABEL_PATTERN = new RegExp(`^${LABEL}$`);

/**
 * The last label (the TLD): letters only, or a punycode A-label such as `xn--p1ai` (.рф). Every
 * top-level domain of the root zone has one of these two forms (IANA's list: ASCII TLDs are
 * alphabetic, internationalised ones are A-labels), and RFC 1123 §2.1 and RFC 3696 §2 exclude
 * an all-numeric one, which would read as an IPv4 address. So `example.org` and
 * `jardins.xn--p1ai` are hostnames, `host.a1` and `10.0.0.1` are not.
 */
export const TLD_PATTERN = new RegExp(`^${TLD}$`);

/**
 * A hostname: lowercase labels joined by dots, at least two, the last a TLD ({@link TLD_PATTERN}),
 * at most 253 characters. The syntax only: {@link hostnameProblem} also checks that each
 * punycode label decodes (RFC 3492), which no pattern can.
 */
export const HOSTNAME_PATTERN = new RegExp(`^(?=.{1,${HOSTNAME_MAX}}$)(${LABEL}\\.)+${TLD}$`);

const HOSTNAME_EXAMPLE = "must be a lowercase hostname such as www.example.org";
const PUNYCODE_PREFIX = "xn--";

/** A label shortened for a message. */
function shown(label: string): string {
  return label.length > 24 ? `${label.slice(0, 21)}...` : label;
}

/** What is wrong with a name that breaks {@link HOSTNAME_PATTERN}, found label by label. */
function hostnameSyntaxProblem(name: string): string | undefined {
  if (name.length > HOSTNAME_MAX) return `${HOSTNAME_EXAMPLE}; it has ${name.length} characters, at most ${HOSTNAME_MAX}`;
  const labels = name.split(".");
  if (labels.length < 2) return `${HOSTNAME_EXAMPLE}; it needs at least two labels, such as example.org`;
  for (const label of labels) {
    if (label === "") return `${HOSTNAME_EXAMPLE}; it has an empty label (a dot at an end, or two dots in a row)`;
    if (label.length > LABEL_MAX)
      return `${HOSTNAME_EXAMPLE}; the label "${shown(label)}" has ${label.length} characters, at most ${LABEL_MAX}`;
    if (/[^a-z0-9-]/.test(label)) return `${HOSTNAME_EXAMPLE}; the label "${shown(label)}" holds a character other than a-z 0-9 -`;
    if (!LABEL_PATTERN.test(label)) return `${HOSTNAME_EXAMPLE}; the label "${shown(label)}" starts or ends with a hyphen`;
  }
  if (!TLD_PATTERN.test(labels.at(-1)!)) {
    return `${HOSTNAME_EXAMPLE}; its last label "${shown(labels.at(-1)!)}" must be letters only, or punycode (xn--...)`;
  }
  return undefined;
}

/**
 * Why `name` is not a hostname of the contract, or undefined. A name written in Unicode
 * (`jardins.рф`, `café.example.org`) is refused with its punycode form (`jardins.xn--p1ai`):
 * every service and DNS zone reads names in punycode, and one spelling per name keeps the
 * claims of two tenants comparable. Node's `domainToASCII` (WHATWG URL, UTS #46 processing)
 * converts it, and returns nothing for a label that is not valid punycode.
 */
export function hostnameProblem(name: string): string | undefined {
  if (/[^\x00-\x7f]/.test(name)) {
    const ascii = domainToASCII(name);
    return ascii && !hostnameProblem(ascii)
      ? `is an internationalised name; write it in punycode: ${ascii}`
      : `${HOSTNAME_EXAMPLE}; it holds characters that form no internationalised name`;
  }
  if (!HOSTNAME_PATTERN.test(name)) {
    const lower = name.toLowerCase();
    if (lower !== name && !hostnameProblem(lower)) return `must be written in lowercase: ${lower}`;
    return hostnameSyntaxProblem(name) ?? HOSTNAME_EXAMPLE;
  }
  if (name.includes(PUNYCODE_PREFIX) && domainToASCII(name) !== name) {
    // The whole name first: the bidirectional rule (RFC 5893) holds across labels.
    const bad = name.split(".").find((l) => l.startsWith(PUNYCODE_PREFIX) && domainToASCII(l) !== l);
    return bad
      ? `${HOSTNAME_EXAMPLE}; the label "${shown(bad)}" is not valid punycode (RFC 3492, RFC 5891)`
      : `${HOSTNAME_EXAMPLE}; its punycode labels form no valid internationalised name (RFC 5891, RFC 5893)`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// A static site's domain: a global alias of the object store

/** The longest bucket name or alias Garage takes (src/model/bucket_alias_table.rs, `is_valid_bucket_name`). */
export const BUCKET_ALIAS_MAX = 63;

/**
 * Why a hostname cannot be a global alias of Garage, where a static site's domains live
 * (docs/services/garage.md): Garage takes 3 to 63 characters of a-z 0-9 . -, starting and ending
 * with a letter or digit, not an IP address, not ending in `-s3alias`, and a name starting with
 * `xn--` only with `allow_punycode`, which the platform sets. Only the length and the suffix can
 * fail for a valid hostname.
 */
export function bucketAliasProblem(hostname: string): string | undefined {
  if (hostname.length > BUCKET_ALIAS_MAX) {
    return `is ${hostname.length} characters: a static site's domain becomes an alias of the object store (Garage), which takes at most ${BUCKET_ALIAS_MAX}`;
  }
  if (hostname.endsWith("-s3alias")) return "ends in -s3alias, which the object store (Garage) keeps for itself";
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Email address

/**
 * The local part of an address: dot-separated words of a-z 0-9 _ % + -. Every mail map reads
 * it literally: no quoting, no comment character (a leading `#` is a comment to Postfix's
 * tables, postconf(5) and postmap(1)), no separator of a map (`,` `:` `|` or white space).
 */
export const EMAIL_LOCAL_PATTERN = /^[a-z0-9_%+-]+(\.[a-z0-9_%+-]+)*$/;

const EMAIL_EXAMPLE = "must be an email address such as alice@example.org (letters, digits and . _ % + - before the @)";

/**
 * Why `address` cannot be an address the platform hosts (a mailbox, a redirection's `from`), or
 * undefined: an email address whose local part has no `%`. Postfix reads `%` in a local part as
 * sender-specified routing and refuses such a recipient as relaying, even for a domain it hosts
 * (postconf(5) reject_unauth_destination); a redirection may still send to one elsewhere.
 */
export function hostedAddressProblem(address: string): string | undefined {
  const problem = emailProblem(address);
  if (problem) return problem;
  const local = address.slice(0, address.lastIndexOf("@"));
  return local.includes("%") ? "cannot hold % before the @: the mail server reads it as routing and refuses the address" : undefined;
}

/** Why `address` is not an email address of the contract (a local part, `@`, a hostname), or undefined. */
export function emailProblem(address: string): string | undefined {
  const at = address.lastIndexOf("@");
  const local = at < 0 ? "" : address.slice(0, at);
  const domain = address.slice(at + 1);
  if (at < 0 || !EMAIL_LOCAL_PATTERN.test(local.toLowerCase())) return EMAIL_EXAMPLE;
  const domainProblem = hostnameProblem(domain.toLowerCase());
  if (domainProblem) {
    const ascii = /[^\x00-\x7f]/.test(domain) ? domainToASCII(domain) : "";
    return ascii && !hostnameProblem(ascii)
      ? `has an internationalised domain; write it in punycode: ${local.toLowerCase()}@${ascii}`
      : `must be an email address such as alice@example.org; after the @: ${domainProblem.replace(`${HOSTNAME_EXAMPLE}; `, "")}`;
  }
  return address === address.toLowerCase() ? undefined : `must be written in lowercase: ${address.toLowerCase()}`;
}

// ---------------------------------------------------------------------------------------------
// Video channel

/** A PeerTube channel name (actor name): 1 to 50 of lowercase letters, digits, dot and underscore. */
export const CHANNEL_PATTERN = /^[a-z0-9_.]{1,50}$/;

/** Why `channel` is not a video channel name, or undefined. */
export function channelProblem(channel: string): string | undefined {
  return CHANNEL_PATTERN.test(channel) ? undefined : "must be 1 to 50 of a-z 0-9 _ .";
}

// ---------------------------------------------------------------------------------------------
// Sizes

/**
 * Why `gb` is not a mailbox quota, or undefined: a whole number of GB (2^30 bytes) above 0, and
 * at most `maxGb` (the catalog's `mail.maxMailboxGb`) when given. Whole, because the catalog's
 * limits and the contract's examples are whole numbers (the mail server takes the quota in bytes,
 * docs/services/mail.md "Maps"). A fraction is refused by validate, at its field,
 * rather than rounded or written in another unit.
 */
export function mailboxQuotaProblem(gb: number, maxGb?: number): string | undefined {
  if (!Number.isInteger(gb) || gb <= 0) {
    return `must be a positive whole number of GB (the mail server counts quotas in whole GB), not ${gb}`;
  }
  if (maxGb !== undefined && gb > maxGb) return `${gb} GB is above the ${maxGb} GB a mailbox may hold`;
  return undefined;
}

/**
 * Why `gb` is not a storage size of an offer, or undefined: a whole number of GB (2^30 bytes)
 * above 0, as every tier of the catalog is (docs/quotas.md). Which sizes an offer sells is the
 * catalog's tiers, checked in rules.ts.
 */
export function storageSizeProblem(gb: number): string | undefined {
  return Number.isInteger(gb) && gb > 0 ? undefined : `must be a positive whole number of GB, one of the catalog's tiers, not ${gb}`;
}

// ---------------------------------------------------------------------------------------------
// App version

/** An upstream version as the catalog and tenant files write it: numbers joined by dots. */
export const VERSION_PATTERN = /^[0-9]+(\.[0-9]+)*$/;

/** Orders versions of VERSION_PATTERN number by number: 7.10 after 7.9. */
export function compareVersions(a: string, b: string): number {
  const x = a.split(".").map(Number);
  const y = b.split(".").map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Names people read

/** RFC 5322 §2.1.1: a line is at most 998 octets; a word longer than this cannot be wrapped into one mail header line. */
export const MAX_NAME_WORD_OCTETS = 900;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Whether text holds a control character or a line separator (C0, DEL, C1, U+2028, U+2029). */
export function hasControlCharacter(text: string): boolean {
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029) return true;
  }
  return false;
}

/**
 * Why `name` is not a name people read (a tenant's), or undefined: it goes into mail headers and
 * bodies (the notices) and the portal, so it is one line of well-formed text, not only spaces.
 */
export function displayNameProblem(name: string): string | undefined {
  if (name.trim() === "") return "must not be empty";
  if (hasControlCharacter(name)) return "must be one line, without control characters";
  if (LONE_SURROGATE.test(name)) return "is not well-formed Unicode";
  for (const word of name.split(" ")) {
    if (Buffer.byteLength(word, "utf8") > MAX_NAME_WORD_OCTETS) return `holds a word longer than ${MAX_NAME_WORD_OCTETS} bytes`;
  }
  return undefined;
}
