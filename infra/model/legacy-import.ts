/**
 * The mapping of the 2019 application's export onto tenant files, Keycloak accounts and the mail
 * server's app-password store (docs/migration.md, each rule there by name). Pure and deterministic:
 * the same export and options give the same result, every input row ends with an outcome
 * (imported, merged, rejected, not imported) and every anomaly and every rule applied is listed
 * with its file and line. Nothing is guessed: a row that cannot be carried without a choice the
 * rules do not make is rejected with the reason, for ops to fix in the export and run again.
 */
import { domainToASCII } from "node:url";
import { displayNameProblem, emailProblem, hostedAddressProblem, hostnameProblem, SLUG_MAX, usernameProblem } from "../contract/names";
import type { ExistingAccount } from "./accounts";
import type { LegacyExport, LegacyFile, LegacyRow } from "./legacy-export";
import { type CarriedHash, classifyLegacyHash, type KeycloakPasswordCredential, type LegacyHashScheme } from "./legacy-hashes";

export interface ImportOptions {
  /** YYYY-MM-DD: a membership paid until before it is reported expired. */
  today: string;
  /** The platform's shared mail domains (platform config `alacarte:sharedMailDomains`). */
  sharedMailDomains: readonly string[];
  /** The catalog's `mail.maxMailboxGb`. */
  maxMailboxGb: number;
  /** Keycloak users that already exist (people who registered by themselves). @default [] */
  existingAccounts?: readonly ExistingAccount[];
}

export type AnomalyKind =
  | "unreadable-row"
  | "duplicate-id"
  | "bad-kind"
  | "username-rule"
  | "case-or-space-variant"
  | "duplicate-username"
  | "duplicate-email"
  | "invalid-address"
  | "invalid-domain"
  | "domain-claimed-twice"
  | "unknown-member"
  | "outside-domains"
  | "redirection-loop"
  | "address-is-mailbox"
  | "duplicate-address"
  | "unknown-hash"
  | "empty-hash"
  | "expired-membership"
  | "invalid-date"
  | "over-maximum-quota"
  | "invalid-quota"
  | "non-ascii-name"
  | "invalid-name"
  | "unknown-service"
  | "unknown-organisation"
  | "ambiguous-organisation"
  | "collective-without-person"
  | "already-registered"
  | "conflict-username"
  | "conflict-email";

/** The documented rules of docs/migration.md, by the name it gives them. */
export type RuleName =
  | "normalise"
  | "slug"
  | "collective-persons"
  | "collective-admin"
  | "collective-contact"
  | "collective-account"
  | "individual-tenant"
  | "quota-rounded-up"
  | "shared-mailbox"
  | "merge"
  | "punycode"
  | "name-split"
  | "hash-carried"
  | "reset-mail"
  | "mailbox-reset";

export interface Anomaly {
  kind: AnomalyKind;
  file: LegacyFile;
  line: number;
  detail: string;
}

export interface RuleApplied {
  rule: RuleName;
  file: LegacyFile;
  line: number;
  detail: string;
}

/** Where a row is: its file and the line it starts on. */
export interface Where {
  file: LegacyFile;
  line: number;
}

export type Outcome = "imported" | "merged" | "rejected" | "not-imported";

/** What became of one input row. */
export interface RowReport {
  file: LegacyFile;
  line: number;
  /** The row's own key: a member's id, a domain, an address, a redirection's source. */
  key: string;
  outcome: Outcome;
  /** What it became (imported), or which row it joined (merged). */
  as?: string;
  /** Why, for rejected and not imported rows. */
  reason?: string;
}

/** A tenant file's content, keys in the contract's order (docs/contract.md). */
export interface ImportedTenant {
  slug: string;
  name: string;
  type: "collective" | "individual";
  contact: string;
  membership?: { paidUntil: string };
  members: { username: string; email: string; name?: string; admin?: true; access?: ("git" | "nextcloud")[] }[];
  mail?: {
    domains: {
      domain: string;
      mailboxes: { address: string; owner?: string; quotaGb: number; sharedWith?: string[] }[];
      redirections: { from: string; to: string[] }[];
    }[];
  };
}

/** A user of Keycloak's partial import (UserRepresentation's fields the import sets). */
export interface ImportedUser {
  username: string;
  email: string;
  emailVerified: true;
  enabled: true;
  firstName?: string;
  lastName?: string;
  credentials?: KeycloakPasswordCredential[];
  requiredActions?: ["UPDATE_PASSWORD"];
}

export interface ResetAccount {
  username: string;
  tenants: string[];
  scheme: LegacyHashScheme;
  line: number;
}

export interface MailboxNotice {
  address: string;
  tenant: string;
  line: number;
  owner?: string;
  sharedWith?: string[];
  scheme: LegacyHashScheme;
}

export interface ExistingMatch {
  username: string;
  status: "already-registered" | "conflict-username" | "conflict-email";
  tenants: string[];
  line: number;
}

export interface ImportResult {
  tenants: ImportedTenant[];
  users: ImportedUser[];
  /** App-password store entries: `<username>/<mailbox>` and the Dovecot hash. */
  mailPasswords: { username: string; mailbox: string; hash: string }[];
  rows: RowReport[];
  anomalies: Anomaly[];
  rules: RuleApplied[];
  /** Accounts whose password Keycloak cannot verify: they get Keycloak's reset mail. */
  resetAccounts: ResetAccount[];
  /** Owned mailboxes whose hash Dovecot cannot verify: the owner signs in with their Keycloak password. */
  mailboxResets: MailboxNotice[];
  /** Mailboxes without an owner: no password kept, opened by sharedWith. */
  sharedMailboxes: MailboxNotice[];
  /** People of the export who already have a Keycloak account (or whose username or email is taken). */
  existing: ExistingMatch[];
  /** Mailboxes whose data is copied (mail-copy.sh), by address. */
  mailboxes: { address: string; tenant: string }[];
  /** People with Git or shared-Nextcloud access, by username, for the runbook's linking steps. */
  serviceUsers: { git: string[]; nextcloud: string[] };
}

const SERVICES = ["mail", "git", "nextcloud"] as const;
type Service = (typeof SERVICES)[number];

interface Person {
  row: LegacyRow<"members.csv">;
  id: string;
  kind: "individual" | "collective";
  username: string;
  email: string;
  /** Display name as written, only trimmed; undefined when empty or not a name. */
  name?: string;
  organisation: string;
  services: Set<Service>;
  hash: string;
  paidUntil?: string;
  rejected?: string;
  mergedInto?: Person;
  /** The collective a person belongs to. */
  collective?: Person;
  /** A collective's persons, in file order. */
  persons: Person[];
  /** A collective with no person: its own row is its account. */
  isAccount: boolean;
  /** Slug of the person's own tenant (an individual's, a collective's). */
  tenant?: string;
  usernameProblem?: string;
  emailProblem?: string;
}

type ImportedMailbox = NonNullable<ImportedTenant["mail"]>["domains"][number]["mailboxes"][number];

interface TenantBuild {
  slug: string;
  owner: Person;
  /** People listed, in order; the first is the admin. */
  people: Person[];
  domains: Map<string, { mailboxes: ImportedMailbox[]; redirections: { from: string; to: string[]; line: number }[] }>;
}

/** Transliterations NFKD does not make (letters that are not a base letter and a mark). */
const LETTERS: Record<string, string> = { œ: "oe", æ: "ae", ß: "ss", ø: "o", ł: "l", đ: "d", ð: "d", þ: "th", ı: "i" };

/**
 * A slug from a name (docs/migration.md "Slugs"): accents dropped (Unicode NFKD, marks removed,
 * a few letters spelled out), lowercase, every run of other characters one hyphen, at most 40.
 */
export function slugFrom(name: string): string {
  const lower = name.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase();
  const spelled = [...lower].map((c) => LETTERS[c] ?? c).join("");
  const slug = spelled.replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
  return slug.length > SLUG_MAX ? slug.slice(0, SLUG_MAX).replace(/-+$/, "") : slug;
}

/** The first free slug of `base`, `base-2`, `base-3`…, each at most 40 characters. */
function uniqueSlug(base: string, taken: Set<string>): string {
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) {
    const suffix = `-${n}`;
    const candidate = `${base.slice(0, SLUG_MAX - suffix.length).replace(/-+$/, "")}${suffix}`;
    if (!taken.has(candidate)) return candidate;
  }
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Whether a date YYYY-MM-DD is real. */
function isDate(s: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(s) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s);
}

export function importLegacy(data: LegacyExport, options: ImportOptions): ImportResult {
  const rows: RowReport[] = [];
  const anomalies: Anomaly[] = [];
  const rules: RuleApplied[] = [];
  const shared = new Set(options.sharedMailDomains.map((d) => d.toLowerCase()));
  const anomaly = (kind: AnomalyKind, row: { file: LegacyFile; line: number }, detail: string) =>
    anomalies.push({ kind, file: row.file, line: row.line, detail });
  const rule = (name: RuleName, row: { file: LegacyFile; line: number }, detail: string) =>
    rules.push({ rule: name, file: row.file, line: row.line, detail });

  for (const p of data.problems) {
    anomaly("unreadable-row", p, p.message);
    rows.push({ file: p.file, line: p.line, key: "", outcome: "rejected", reason: p.message });
  }

  /** A field trimmed; the change is a reported variant. */
  const trimmed = (row: Where, field: string, value: string): string => {
    const t = value.trim();
    if (t !== value) anomaly("case-or-space-variant", row, `${field} "${value}" has spaces around it: read as "${t}"`);
    return t;
  };
  /** An address whose domain is written in Unicode, in punycode (the contract's spelling, docs/contract.md "Name rules"). */
  const asciiAddress = (row: Where, address: string): string => {
    const at = address.lastIndexOf("@");
    const domain = address.slice(at + 1);
    if (at < 0 || !/[\u0080-\uffff]/.test(domain)) return address;
    const ascii = domainToASCII(domain);
    if (!ascii) return address;
    rule("punycode", row, `${domain} → ${ascii}`);
    return `${address.slice(0, at + 1)}${ascii}`;
  };
  /** An identifier (username, email, domain, address) trimmed and in lowercase, as Keycloak and the contract store them. */
  const normalised = (row: Where, field: string, value: string): string => {
    const t = trimmed(row, field, value);
    const lower = t.toLowerCase();
    if (lower !== t) anomaly("case-or-space-variant", row, `${field} "${t}" is read in lowercase: "${lower}"`);
    if (lower !== value) rule("normalise", row, `${field} "${value}" → "${lower}"`);
    return lower;
  };

  // ---- members -----------------------------------------------------------------------------
  const people: Person[] = [];
  const byId = new Map<string, Person>();
  for (const row of data.members) {
    const f = row.fields;
    const id = f.id.trim();
    const kind = f.kind.trim().toLowerCase();
    const person: Person = {
      row,
      id,
      kind: kind === "collective" ? "collective" : "individual",
      username: normalised(row, "username", f.username),
      email: asciiAddress(row, normalised(row, "email", f.email)),
      organisation: f.organisation.trim(),
      services: new Set(),
      hash: f.password_hash,
      persons: [],
      isAccount: false,
    };
    people.push(person);
    const name = trimmed(row, "display_name", f.display_name);
    if (name !== "") {
      const problem = displayNameProblem(name);
      if (problem) anomaly("invalid-name", row, `display_name ${problem}: left out`);
      else person.name = name;
      if (/[\u0080-\uffff]/.test(name)) anomaly("non-ascii-name", row, `display_name "${name}" kept as written`);
    }
    for (const s of f.services.split(";")) {
      const service = s.trim().toLowerCase();
      if (service === "") continue;
      if ((SERVICES as readonly string[]).includes(service)) person.services.add(service as Service);
      else anomaly("unknown-service", row, `service "${s.trim()}" is none of ${SERVICES.join(", ")}: not carried`);
    }
    const paid = f.paid_until.trim();
    if (paid !== "") {
      if (!isDate(paid)) anomaly("invalid-date", row, `paid_until "${paid}" is not a date YYYY-MM-DD: left out`);
      else {
        person.paidUntil = paid;
        if (paid < options.today)
          anomaly("expired-membership", row, `paid until ${paid}, before ${options.today}: imported, flagged by validate`);
      }
    }
    if (id === "") person.rejected = "has no id";
    else if (byId.has(id)) {
      person.rejected = `id ${id} is also the member at line ${byId.get(id)!.row.line}`;
      anomaly("duplicate-id", row, person.rejected);
    } else byId.set(id, person);
    if (!person.rejected && kind !== "individual" && kind !== "collective") {
      person.rejected = `kind "${f.kind}" is neither individual nor collective`;
      anomaly("bad-kind", row, person.rejected);
    }
    person.usernameProblem = usernameProblem(person.username);
    person.emailProblem = emailProblem(person.email);
  }

  // An individual is a person, so an account: its username and email must follow the contract.
  const individuals = people.filter((p) => !p.rejected && p.kind === "individual");
  for (const p of individuals) {
    if (p.usernameProblem) {
      p.rejected = `username "${p.username}" ${p.usernameProblem}`;
      anomaly("username-rule", p.row, p.rejected);
    } else if (p.emailProblem) {
      p.rejected = `email ${p.emailProblem}`;
      anomaly("invalid-address", p.row, p.rejected);
    }
  }
  dedupeAccounts(
    individuals.filter((p) => !p.rejected),
    anomaly,
    rule,
  );

  // ---- collectives and their persons --------------------------------------------------------
  const collectives = people.filter((p) => !p.rejected && p.kind === "collective");
  const byOrganisation = new Map<string, Person[]>();
  for (const c of collectives) {
    const key = (c.organisation || c.name || "").normalize("NFC").toLowerCase();
    if (key !== "") byOrganisation.set(key, [...(byOrganisation.get(key) ?? []), c]);
  }
  for (const p of individuals) {
    if (p.rejected || p.mergedInto || p.organisation === "") continue;
    const found = byOrganisation.get(p.organisation.normalize("NFC").toLowerCase()) ?? [];
    if (found.length === 1) {
      p.collective = found[0]!;
      found[0]!.persons.push(p);
      rule("collective-persons", p.row, `organisation "${p.organisation}": a person of the collective at line ${found[0]!.row.line}`);
    } else if (found.length > 1) {
      anomaly(
        "ambiguous-organisation",
        p.row,
        `organisation "${p.organisation}" names the collectives at lines ${found.map((c) => c.row.line).join(", ")}: attached to none`,
      );
    } else anomaly("unknown-organisation", p.row, `organisation "${p.organisation}" is no collective of the export: attached to none`);
  }
  for (const c of collectives) {
    if (c.persons.length > 0) continue;
    // Accounts are people (docs/architecture.md): a collective's own row is its account only when no person of it is imported.
    if (c.usernameProblem) c.rejected = `has no person, and its own username "${c.username}" ${c.usernameProblem}`;
    else if (c.emailProblem) c.rejected = `has no person, and its own email ${c.emailProblem}`;
    else {
      const clash =
        individuals.find((p) => !p.rejected && !p.mergedInto && (p.username === c.username || p.email === c.email)) ??
        // Another collective that would be an account too: both are rejected, as two persons would be.
        collectives.find(
          (o) =>
            o !== c &&
            o.persons.length === 0 &&
            !o.usernameProblem &&
            !o.emailProblem &&
            (o.username === c.username || o.email === c.email),
        );
      if (clash) c.rejected = `has no person, and its own login is also the member at line ${clash.row.line}'s username or email`;
    }
    if (c.rejected) anomaly("collective-without-person", c.row, c.rejected);
    else {
      c.isAccount = true;
      anomaly("collective-without-person", c.row, `no person names it: its own row is its account (${c.username})`);
      rule("collective-account", c.row, `${c.username} is the collective's account and admin`);
    }
  }

  // Addresses of shared domains name their member: such a member has something on the platform.
  const sharedUsers = new Set<string>();
  for (const r of data.mailboxes) if (shared.has(domainOf(r.fields.address))) sharedUsers.add(r.fields.member_id.trim());
  for (const r of data.redirections) if (shared.has(domainOf(r.fields.source))) sharedUsers.add(r.fields.member_id.trim());
  const domainOwners = new Set(data.domains.map((d) => d.fields.member_id.trim()));
  const resolve = (id: string): Person | undefined => {
    let p = byId.get(id);
    while (p?.mergedInto) p = p.mergedInto;
    return p;
  };
  const ownsSomething = (p: Person) =>
    [p, ...people.filter((q) => q.mergedInto === p)].some((q) => domainOwners.has(q.id) || sharedUsers.has(q.id));

  // ---- tenants and slugs --------------------------------------------------------------------
  const taken = new Set<string>();
  const tenants = new Map<string, TenantBuild>();
  const newTenant = (owner: Person, name: string, fallback: string) => {
    const base = slugFrom(name) || slugFrom(fallback) || `member-${slugFrom(owner.id) || "x"}`;
    const slug = uniqueSlug(base, taken);
    taken.add(slug);
    owner.tenant = slug;
    rule("slug", owner.row, `"${name}" → ${slug}${slug !== base ? ` (${base} is taken)` : ""}`);
    const build: TenantBuild = { slug, owner, people: [], domains: new Map() };
    tenants.set(slug, build);
    return build;
  };
  for (const c of collectives) {
    if (c.rejected) continue;
    const t = newTenant(c, [c.organisation, c.name ?? ""].find((n) => n !== "" && !displayNameProblem(n)) ?? c.username, c.username);
    t.people = c.isAccount ? [c] : c.persons;
    rule("collective-admin", t.people[0]!.row, `${t.people[0]!.username} is the first listed person of ${t.slug}: its admin`);
    if (c.emailProblem) {
      anomaly("invalid-address", c.row, `email ${c.emailProblem}: the contact is the admin's email`);
      rule("collective-contact", c.row, `${t.slug}'s contact is its admin's email (its own is not an address)`);
    } else rule("collective-contact", c.row, `${t.slug}'s contact is the collective row's email`);
  }
  for (const p of individuals) {
    if (p.rejected || p.mergedInto) continue;
    const platformUse = p.collective
      ? people.some((q) => resolve(q.id) === p && domainOwners.has(q.id))
      : p.services.size > 0 || ownsSomething(p);
    if (!platformUse) continue;
    const t = newTenant(p, p.name ?? p.username, p.username);
    t.people = [p];
    rule(
      "individual-tenant",
      p.row,
      `${p.username} has ${p.collective ? "a domain of their own" : "something on the platform"}: tenant ${t.slug}`,
    );
  }
  /** The tenant an address of a shared domain goes to: its member's own, else their collective's. */
  const homeOf = (p: Person): TenantBuild | undefined =>
    p.tenant ? tenants.get(p.tenant) : p.collective?.tenant ? tenants.get(p.collective.tenant) : undefined;
  const inTenant = (p: Person, t: TenantBuild) => t.owner === p || t.people.includes(p);

  // ---- domains ------------------------------------------------------------------------------
  const domainTenant = new Map<string, TenantBuild>();
  const domainRejected = new Map<string, string>();
  const claims = new Map<string, { row: LegacyRow<"domains.csv">; tenant?: TenantBuild }[]>();
  for (const row of data.domains) {
    let domain = normalised(row, "domain", row.fields.domain);
    if (/[\u0080-\uffff]/.test(domain)) {
      const ascii = domainToASCII(domain);
      if (ascii) {
        rule("punycode", row, `${domain} → ${ascii}`);
        domain = ascii;
      }
    }
    const problem = hostnameProblem(domain);
    const member = resolve(row.fields.member_id.trim());
    let reason: string | undefined;
    if (problem) {
      reason = `domain "${domain}" ${problem}`;
      anomaly("invalid-domain", row, reason);
    } else if (shared.has(domain)) {
      rows.push({
        file: row.file,
        line: row.line,
        key: domain,
        outcome: "not-imported",
        reason: "a shared mail domain of the platform: it claims only the addresses listed, in each member's tenant",
      });
      continue;
    } else if (!member) {
      reason = `member ${row.fields.member_id.trim() || "(none)"} is no member of the export`;
      anomaly("unknown-member", row, reason);
    } else if (member.rejected) reason = `its member (line ${member.row.line}) is rejected: ${member.rejected}`;
    const tenant = member && !reason ? tenants.get(member.tenant ?? "") : undefined;
    if (!reason && !tenant) reason = `its member (line ${member!.row.line}) has no tenant`;
    if (reason) {
      rows.push({ file: row.file, line: row.line, key: domain, outcome: "rejected", reason });
      domainRejected.set(domain, reason);
      continue;
    }
    claims.set(domain, [...(claims.get(domain) ?? []), { row, tenant }]);
  }
  for (const [domain, list] of claims) {
    const owners = new Set(list.map((c) => c.tenant!.slug));
    if (owners.size > 1) {
      const reason = `domain ${domain} is claimed by ${[...owners].join(" and ")} (lines ${list.map((c) => c.row.line).join(", ")})`;
      for (const c of list) {
        anomaly("domain-claimed-twice", c.row, reason);
        rows.push({ file: c.row.file, line: c.row.line, key: domain, outcome: "rejected", reason });
      }
      domainRejected.set(domain, reason);
      continue;
    }
    const [first, ...rest] = list;
    const t = first!.tenant!;
    domainTenant.set(domain, t);
    t.domains.set(domain, { mailboxes: [], redirections: [] });
    rows.push({ file: first!.row.file, line: first!.row.line, key: domain, outcome: "imported", as: `mail domain of ${t.slug}` });
    for (const r of rest) {
      rule("merge", r.row, `${domain} again: merged with line ${first!.row.line}`);
      rows.push({ file: r.row.file, line: r.row.line, key: domain, outcome: "merged", as: `domains.csv line ${first!.row.line}` });
    }
  }

  /** The tenant a hosted address belongs to, and its member, or why it cannot be carried. */
  const placeAddress = (
    address: string,
    memberId: string,
  ): { tenant: TenantBuild; member?: Person } | { reason: string; kind?: AnomalyKind } => {
    const domain = domainOf(address);
    const member = memberId === "" ? undefined : resolve(memberId);
    if (memberId !== "" && !member) return { reason: `member ${memberId} is no member of the export`, kind: "unknown-member" };
    if (member?.rejected) return { reason: `its member (line ${member.row.line}) is rejected: ${member.rejected}` };
    if (shared.has(domain)) {
      if (!member) return { reason: `${domain} is a shared mail domain and the row names no member`, kind: "outside-domains" };
      const t = homeOf(member);
      return t ? { tenant: t, member } : { reason: `its member (line ${member.row.line}) has no tenant` };
    }
    const t = domainTenant.get(domain);
    if (!t) {
      const rejected = domainRejected.get(domain);
      if (rejected) return { reason: `its domain is rejected: ${rejected}` };
      return {
        reason: `${domain} is no domain of ${member ? `the member at line ${member.row.line}` : "any member"}`,
        kind: "outside-domains",
      };
    }
    if (member && !inTenant(member, t)) {
      return {
        reason: `${domain} belongs to ${t.slug}, of which the member at line ${member.row.line} is not part`,
        kind: "outside-domains",
      };
    }
    return { tenant: t, ...(member ? { member } : {}) };
  };
  const domainEntry = (t: TenantBuild, domain: string) => {
    let d = t.domains.get(domain);
    if (!d) t.domains.set(domain, (d = { mailboxes: [], redirections: [] }));
    return d;
  };

  // ---- mailboxes ----------------------------------------------------------------------------
  const mailPasswords: ImportResult["mailPasswords"] = [];
  const mailboxResets: MailboxNotice[] = [];
  const sharedMailboxes: MailboxNotice[] = [];
  const mailboxes: ImportResult["mailboxes"] = [];
  const hostedAt = new Map<string, { line: number; tenant: string }>();
  for (const row of data.mailboxes) {
    const address = asciiAddress(row, normalised(row, "address", row.fields.address));
    const reject = (reason: string, kind?: AnomalyKind) => {
      if (kind) anomaly(kind, row, reason);
      rows.push({ file: row.file, line: row.line, key: address, outcome: "rejected", reason });
    };
    const problem = hostedAddressProblem(address);
    if (problem) {
      reject(`address "${address}" ${problem}`, "invalid-address");
      continue;
    }
    const place = placeAddress(address, row.fields.member_id.trim());
    if ("reason" in place) {
      reject(place.reason, place.kind);
      continue;
    }
    const mb = row.fields.quota_mb.trim();
    if (!/^\d+$/.test(mb)) {
      reject(`quota_mb "${mb}" is not a whole number of MB`, "invalid-quota");
      continue;
    }
    const quotaGb = Math.max(1, Math.ceil(Number(mb) / 1024));
    if (quotaGb > options.maxMailboxGb) {
      reject(
        `${mb} MB is ${quotaGb} GB, above the catalog's ${options.maxMailboxGb} GB per mailbox: not cut, not imported`,
        "over-maximum-quota",
      );
      continue;
    }
    const earlier = hostedAt.get(address);
    if (earlier) {
      if (earlier.tenant === place.tenant.slug) {
        rule("merge", row, `${address} again: merged with line ${earlier.line}, whose quota and password are kept`);
        anomaly("duplicate-address", row, `${address} is also the mailbox at line ${earlier.line}`);
        rows.push({ file: row.file, line: row.line, key: address, outcome: "merged", as: `mailboxes.csv line ${earlier.line}` });
      } else reject(`${address} is also the mailbox at line ${earlier.line}, in ${earlier.tenant}`, "duplicate-address");
      continue;
    }
    if (quotaGb * 1024 !== Number(mb)) rule("quota-rounded-up", row, `${mb} MB → ${quotaGb} GB`);
    hostedAt.set(address, { line: row.line, tenant: place.tenant.slug });
    const t = place.tenant;
    const owner = place.member && (place.member.kind === "individual" || place.member.isAccount) ? place.member : undefined;
    const hash = classifyLegacyHash(row.fields.password_hash);
    noteHash(hash, row, "mailbox", anomaly);
    // Keys in the contract's order (docs/contract.md `mail.domains[]`).
    const entry: ImportedMailbox = owner ? { address, owner: owner.username, quotaGb } : { address, quotaGb };
    if (owner) {
      if (hash.dovecot) {
        mailPasswords.push({ username: owner.username, mailbox: address, hash: hash.dovecot });
        rule("hash-carried", row, `${hash.scheme}: the owner's app password for ${address}`);
      } else {
        mailboxResets.push({ address, tenant: t.slug, line: row.line, owner: owner.username, scheme: hash.scheme });
        rule("mailbox-reset", row, `${hash.scheme}: Dovecot cannot verify it; ${owner.username} signs in with their Keycloak password`);
      }
    } else {
      const admin = t.people[0]!.username;
      entry.sharedWith = [admin];
      sharedMailboxes.push({ address, tenant: t.slug, line: row.line, sharedWith: [admin], scheme: hash.scheme });
      rule("shared-mailbox", row, `${address} has no owner: no password kept, shared with ${admin}`);
    }
    domainEntry(t, domainOf(address)).mailboxes.push(entry);
    mailboxes.push({ address, tenant: t.slug });
    rows.push({ file: row.file, line: row.line, key: address, outcome: "imported", as: `mailbox of ${t.slug}` });
  }

  // ---- redirections -------------------------------------------------------------------------
  interface Redirection {
    row: LegacyRow<"redirections.csv">;
    source: string;
    to: string[];
    tenant: TenantBuild;
    merged: LegacyRow<"redirections.csv">[];
  }
  const redirections = new Map<string, Redirection>();
  for (const row of data.redirections) {
    const source = asciiAddress(row, normalised(row, "source", row.fields.source));
    const reject = (reason: string, kind?: AnomalyKind) => {
      if (kind) anomaly(kind, row, reason);
      rows.push({ file: row.file, line: row.line, key: source, outcome: "rejected", reason });
    };
    const problem = hostedAddressProblem(source);
    if (problem) {
      reject(`source "${source}" ${problem}`, "invalid-address");
      continue;
    }
    const raw = row.fields.destinations.trim();
    const to: string[] = [];
    let bad: string | undefined;
    for (const d of raw === "" ? [] : raw.split(/\s+/)) {
      const lower = asciiAddress(row, d.toLowerCase());
      if (lower !== d) rule("normalise", row, `destination "${d}" → "${lower}"`);
      const p = emailProblem(lower);
      if (p) bad ??= `destination "${d}" ${p}`;
      else if (!to.includes(lower)) to.push(lower);
      else rule("merge", row, `destination ${lower} twice: once`);
    }
    if (bad) {
      reject(bad, "invalid-address");
      continue;
    }
    if (to.length === 0) {
      reject("has no destination", "invalid-address");
      continue;
    }
    if (to.includes(source)) {
      reject(`${source} redirects to itself`, "redirection-loop");
      continue;
    }
    const place = placeAddress(source, row.fields.member_id.trim());
    if ("reason" in place) {
      reject(place.reason, place.kind);
      continue;
    }
    const mailbox = hostedAt.get(source);
    if (mailbox) {
      reject(`${source} is also the mailbox at line ${mailbox.line}: an address is a mailbox or a redirection`, "address-is-mailbox");
      continue;
    }
    const earlier = redirections.get(source);
    if (earlier) {
      if (earlier.tenant === place.tenant) {
        const added = to.filter((d) => !earlier.to.includes(d));
        earlier.to.push(...added);
        earlier.merged.push(row);
        rule("merge", row, `${source} again: its destinations join line ${earlier.row.line}'s`);
        anomaly("duplicate-address", row, `${source} is also the redirection at line ${earlier.row.line}`);
      } else reject(`${source} is also the redirection at line ${earlier.row.line}, in ${earlier.tenant.slug}`, "duplicate-address");
      continue;
    }
    redirections.set(source, { row, source, to, tenant: place.tenant, merged: [] });
  }
  // A redirection loop (contract's cross-file rule): every redirection on a cycle is rejected.
  const onCycle = redirectionCycles(new Map([...redirections].map(([s, r]) => [s, r.to])));
  for (const [source, cycle] of onCycle) {
    const r = redirections.get(source)!;
    const reason = `redirection loop: ${cycle.join(" → ")}`;
    for (const row of [r.row, ...r.merged]) {
      anomaly("redirection-loop", row, reason);
      rows.push({ file: row.file, line: row.line, key: source, outcome: "rejected", reason });
    }
    redirections.delete(source);
  }
  for (const r of redirections.values()) {
    domainEntry(r.tenant, domainOf(r.source)).redirections.push({ from: r.source, to: r.to, line: r.row.line });
    rows.push({ file: r.row.file, line: r.row.line, key: r.source, outcome: "imported", as: `redirection of ${r.tenant.slug}` });
    for (const m of r.merged)
      rows.push({ file: m.file, line: m.line, key: r.source, outcome: "merged", as: `redirections.csv line ${r.row.line}` });
  }

  // ---- tenant files -------------------------------------------------------------------------
  const personTenants = new Map<Person, string[]>();
  const out: ImportedTenant[] = [];
  for (const t of [...tenants.values()].sort((a, b) => compare(a.slug, b.slug))) {
    const o = t.owner;
    const admin = t.people[0]!;
    const tenant: ImportedTenant = {
      slug: t.slug,
      // The first of these that is a name people read (docs/migration.md "Names").
      name: [...(o.kind === "collective" ? [o.organisation] : []), o.name ?? "", o.username].find(
        (n) => n !== "" && !displayNameProblem(n),
      )!,
      type: o.kind,
      contact: o.kind === "collective" && !o.emailProblem ? o.email : admin.email,
      ...(o.paidUntil ? { membership: { paidUntil: o.paidUntil } } : {}),
      members: t.people.map((p, k) => {
        personTenants.set(p, [...(personTenants.get(p) ?? []), t.slug]);
        const access = SERVICES.filter((s): s is "git" | "nextcloud" => s !== "mail" && servicesOf(p, people).has(s));
        return {
          username: p.username,
          email: p.email,
          ...(p.name ? { name: p.name } : {}),
          ...(k === 0 ? { admin: true as const } : {}),
          ...(access.length > 0 ? { access } : {}),
        };
      }),
    };
    if (t.domains.size > 0) {
      tenant.mail = {
        domains: [...t.domains].map(([domain, d]) => ({
          domain,
          mailboxes: d.mailboxes,
          redirections: d.redirections.map(({ from, to }) => ({ from, to })),
        })),
      };
    }
    out.push(tenant);
  }

  // ---- accounts -----------------------------------------------------------------------------
  const existingByUsername = new Map<string, ExistingAccount>();
  const existingByEmail = new Map<string, ExistingAccount>();
  for (const a of options.existingAccounts ?? []) {
    if (a.username) existingByUsername.set(a.username.toLowerCase(), a);
    if (a.email) existingByEmail.set(a.email.toLowerCase(), a);
  }
  const users: ImportedUser[] = [];
  const resetAccounts: ResetAccount[] = [];
  const existing: ExistingMatch[] = [];
  const listed = [...personTenants.keys()].sort((a, b) => compare(a.username, b.username));
  for (const p of listed) {
    const slugs = personTenants.get(p)!.sort(compare);
    const holder = existingByUsername.get(p.username);
    const emailHolder = existingByEmail.get(p.email);
    const match: ExistingMatch["status"] | undefined = holder
      ? holder.email?.toLowerCase() === p.email
        ? "already-registered"
        : "conflict-username"
      : emailHolder
        ? "conflict-email"
        : undefined;
    if (match) {
      existing.push({ username: p.username, status: match, tenants: slugs, line: p.row.line });
      anomaly(
        match,
        p.row,
        match === "already-registered"
          ? `${p.username} already has a Keycloak account with this email: not created again, their own password stays`
          : match === "conflict-username"
            ? `the Keycloak username ${p.username} belongs to an account with another email: not created; npm run accounts reports the conflict`
            : `the email belongs to the Keycloak account ${emailHolder!.username}: not created; npm run accounts reports the conflict`,
      );
      continue;
    }
    const hash = classifyLegacyHash(p.hash);
    noteHash(hash, p.row, "member", anomaly);
    const user: ImportedUser = { username: p.username, email: p.email, emailVerified: true, enabled: true };
    if (p.name) {
      // Keycloak's user profile has firstName and lastName: split at the first space (docs/migration.md "Names").
      const space = p.name.indexOf(" ");
      user.firstName = space < 0 ? p.name : p.name.slice(0, space);
      if (space >= 0) user.lastName = p.name.slice(space + 1);
      rule("name-split", p.row, `"${p.name}" → first "${user.firstName}"${user.lastName ? `, last "${user.lastName}"` : ""}`);
    }
    if (hash.keycloak) {
      user.credentials = [hash.keycloak];
      rule("hash-carried", p.row, `${hash.scheme}: ${p.username}'s password carried to Keycloak`);
    } else {
      user.requiredActions = ["UPDATE_PASSWORD"];
      resetAccounts.push({ username: p.username, tenants: slugs, scheme: hash.scheme, line: p.row.line });
      rule("reset-mail", p.row, `${hash.scheme}: Keycloak cannot verify it; ${p.username} gets the reset mail`);
    }
    users.push(user);
  }

  // ---- members' rows ------------------------------------------------------------------------
  for (const p of people) {
    const base = { file: p.row.file, line: p.row.line, key: p.id };
    if (p.rejected) rows.push({ ...base, outcome: "rejected", reason: p.rejected });
    else if (p.mergedInto)
      rows.push({ ...base, outcome: "merged", as: `members.csv line ${p.mergedInto.row.line} (${p.mergedInto.username})` });
    else {
      const listedIn = personTenants.get(p);
      const what: string[] = [];
      if (p.tenant) what.push(`tenant ${p.tenant}`);
      if (listedIn) what.push(`account ${p.username}, member of ${[...listedIn].sort(compare).join(", ")}`);
      if (p.kind === "collective" && !p.isAccount && p.tenant) {
        what.push("no account (a collective is no person; its persons sign in as themselves)");
        const hash = classifyLegacyHash(p.hash);
        if (hash.scheme !== "empty")
          rule("collective-account", p.row, "the collective's shared login and its password end with the import");
      }
      if (what.length > 0) rows.push({ ...base, outcome: "imported", as: what.join("; ") });
      else
        rows.push({
          ...base,
          outcome: "not-imported",
          reason: "nothing on the platform (no service, domain or address): no tenant, no account",
        });
    }
  }

  const order = (a: { file: string; line: number }, b: { file: string; line: number }) => compare(a.file, b.file) || a.line - b.line;
  const withAccess = (s: "git" | "nextcloud") =>
    [...new Set(listed.filter((p) => servicesOf(p, people).has(s)).map((p) => p.username))].sort(compare);
  return {
    tenants: out,
    users,
    mailPasswords: mailPasswords.sort((a, b) => compare(a.username, b.username) || compare(a.mailbox, b.mailbox)),
    rows: rows.sort(order),
    anomalies: anomalies.sort((a, b) => order(a, b) || compare(a.kind, b.kind) || compare(a.detail, b.detail)),
    rules: rules.sort((a, b) => order(a, b) || compare(a.rule, b.rule) || compare(a.detail, b.detail)),
    resetAccounts,
    mailboxResets: mailboxResets.sort((a, b) => compare(a.address, b.address)),
    sharedMailboxes: sharedMailboxes.sort((a, b) => compare(a.address, b.address)),
    existing,
    mailboxes: mailboxes.sort((a, b) => compare(a.address, b.address)),
    serviceUsers: { git: withAccess("git"), nextcloud: withAccess("nextcloud") },
  };
}

/** A person's services, those of the rows merged into theirs included. */
function servicesOf(p: Person, people: readonly Person[]): Set<Service> {
  const all = new Set(p.services);
  for (const q of people) if (q.mergedInto === p) for (const s of q.services) all.add(s);
  return all;
}

function domainOf(address: string): string {
  const t = address.trim().toLowerCase();
  return t.slice(t.lastIndexOf("@") + 1);
}

function noteHash(
  hash: CarriedHash,
  row: Where,
  what: "member" | "mailbox",
  anomaly: (kind: AnomalyKind, row: Where, detail: string) => void,
): void {
  if (hash.scheme === "empty") anomaly("empty-hash", row, `the ${what}'s password_hash is empty`);
  else if (hash.scheme === "unknown")
    anomaly("unknown-hash", row, `the ${what}'s password_hash is of no known scheme${hash.note ? ` (${hash.note})` : ""}`);
}

/**
 * Persons sharing a username or an email (Keycloak compares both in lowercase, docs/accounts.md
 * "How Keycloak matches"): the same username with the same email is one person, merged into the
 * first row; otherwise every row involved is rejected, since which one holds the account is ops' call.
 */
function dedupeAccounts(
  persons: Person[],
  anomaly: (kind: AnomalyKind, row: Where, detail: string) => void,
  rule: (name: RuleName, row: Where, detail: string) => void,
): void {
  const byUsername = new Map<string, Person[]>();
  for (const p of persons) byUsername.set(p.username, [...(byUsername.get(p.username) ?? []), p]);
  for (const [username, group] of byUsername) {
    if (group.length < 2) continue;
    const lines = group.map((p) => p.row.line).join(", ");
    if (new Set(group.map((p) => p.email)).size === 1) {
      const [first, ...rest] = group;
      for (const p of rest) {
        p.mergedInto = first!;
        anomaly("duplicate-username", p.row, `${username} with the same email as line ${first!.row.line}: merged into it`);
        rule(
          "merge",
          p.row,
          `the same person as line ${first!.row.line}: services joined, line ${first!.row.line}'s password and name kept`,
        );
      }
    } else {
      for (const p of group) {
        p.rejected = `username ${username} is carried by lines ${lines} with different emails`;
        anomaly("duplicate-username", p.row, p.rejected);
      }
    }
  }
  const byEmail = new Map<string, Person[]>();
  for (const p of persons) if (!p.rejected && !p.mergedInto) byEmail.set(p.email, [...(byEmail.get(p.email) ?? []), p]);
  for (const [, group] of byEmail) {
    if (group.length < 2) continue;
    const lines = group.map((p) => p.row.line).join(", ");
    for (const p of group) {
      p.rejected = `its email is carried by lines ${lines} with different usernames (${group.map((q) => q.username).join(", ")})`;
      anomaly("duplicate-email", p.row, p.rejected);
    }
  }
}

/**
 * Every redirection source on a cycle, with the cycle from it: following destinations that are
 * themselves redirected comes back to it (docs/contract.md, cross-file rules).
 */
export function redirectionCycles(graph: ReadonlyMap<string, readonly string[]>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const state = new Map<string, 1 | 2>(); // 1: on the path, 2: done
  const path: string[] = [];
  const visit = (node: string) => {
    state.set(node, 1);
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      const s = state.get(next);
      if (s === 1) {
        const cycle = path.slice(path.indexOf(next));
        for (const member of cycle) {
          if (out.has(member)) continue;
          const from = cycle.indexOf(member);
          out.set(member, [...cycle.slice(from), ...cycle.slice(0, from), member]);
        }
      } else if (s === undefined) visit(next);
    }
    path.pop();
    state.set(node, 2);
  };
  for (const node of [...graph.keys()].sort(compare)) if (!state.has(node)) visit(node);
  return out;
}
