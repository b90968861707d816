import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import { readPlatformConfig } from "../infra/model/platform-config";

/**
 * Realistic synthetic tenant sets, deterministic from a seed. Scale 1 is the association
 * today: 300 tenant files (260 individual members, 40 collectives with à-la-carte offers of every
 * kind), 50 mail domains (the platform's shared ones included), 360 mailboxes, 1,600 redirections.
 * Scale 10 and 100 multiply every count. Every set passes `validateTenants` with no error.
 *
 * CLI: `tsx bench/generate.ts --out <dir> [--scale 1] [--seed 1]` writes `<dir>/tenants/<slug>.yaml`.
 * The platform config is not copied: the tenant stacks read stacks/Pulumi.<env>.yaml of the project,
 * whose shared mail domains the generator uses.
 */

/** The association today, at scale 1. */
export const BASE = {
  collectives: 40,
  individuals: 260,
  /** Collectives with a second custom mail domain. */
  secondDomains: 5,
  /** Individual members with a custom mail domain of their own (and a static site). */
  individualDomains: 3,
  /** Individual members with no mailbox: Git or Nextcloud access only. */
  individualsWithoutMail: 27,
  mailboxes: 360,
  redirections: 1600,
  /** Share of all redirections that belong to individual members (aliases of their mailbox). */
  individualRedirectionShare: 0.25,
} as const;

export interface GenerateOptions {
  /** Multiplies every count of BASE. @default 1 */
  scale?: number;
  /** @default 1 */
  seed?: number;
  /** The platform's shared mail domains (stacks/Pulumi.prod.yaml). */
  sharedMailDomains: readonly string[];
}

export interface TenantSetSummary {
  seed: number;
  scale: number;
  tenants: number;
  collectives: number;
  individuals: number;
  /** Distinct mail domains, the shared ones included. */
  mailDomains: number;
  mailboxes: number;
  redirections: number;
  offers: Record<string, number>;
  bytes: number;
}

/** What a tenant is, for the benchmark's resource counts by kind of tenant. */
export type TenantKind =
  | "individual, shared-domain mailbox"
  | "individual, no mail"
  | "individual, own domain + static site"
  | "collective";

export interface TenantSet {
  /** File name (`<slug>.yaml`) → YAML text, sorted by name. */
  files: Map<string, string>;
  /** Slug → kind of tenant. */
  kinds: Map<string, TenantKind>;
  /** A collective with every offer (wordpress, nextcloud, accounting, listmonk, video): the "one changed tenant". */
  showcase: string;
  summary: TenantSetSummary;
}

/** sfc32 seeded through splitmix32: small, fast, and good enough for test data. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  const split = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split(),
    b = split(),
    c = split(),
    d = split();
  return () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
}

class Rng {
  constructor(readonly next: () => number) {}
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  /** `n` distinct items, in the order drawn. */
  sample<T>(items: readonly T[], n: number): T[] {
    const copy = [...items];
    const out: T[] = [];
    while (out.length < n && copy.length) out.push(copy.splice(Math.floor(this.next() * copy.length), 1)[0]!);
    return out;
  }
  /** A heavy-tailed weight (a few large collectives, many small ones). */
  pareto(alpha = 1.3, cap = 40): number {
    return Math.min(cap, (1 - this.next()) ** (-1 / alpha));
  }
}

/** Integer counts proportional to `weights` summing exactly to `total` (largest remainder). */
export function distribute(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (!weights.length || total <= 0 || sum <= 0) return weights.map(() => 0);
  const raw = weights.map((w) => (w / sum) * total);
  const out = raw.map(Math.floor);
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = raw.map((r, i) => [r - Math.floor(r), i] as const).sort((x, y) => y[0] - x[0] || x[1] - y[1]);
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) out[order[k]![1]]! += 1;
  return out;
}

const FIRST = [
  "alice",
  "bruno",
  "camille",
  "chloe",
  "david",
  "emma",
  "farid",
  "gaelle",
  "hugo",
  "ines",
  "jules",
  "karim",
  "lea",
  "louis",
  "manon",
  "nadia",
  "oscar",
  "pauline",
  "quentin",
  "rose",
  "samir",
  "theo",
  "ursule",
  "victor",
  "yasmine",
  "zoe",
  "amina",
  "baptiste",
  "claire",
  "dominique",
  "elise",
  "fatou",
  "gabriel",
  "helene",
  "ismael",
  "josephine",
  "lucas",
  "margaux",
  "nicolas",
  "odile",
  "pierre",
  "romain",
  "sophie",
  "tristan",
  "valentin",
  "wassim",
  "xavier",
  "yann",
];
const LAST = [
  "martin",
  "bernard",
  "dubois",
  "thomas",
  "robert",
  "richard",
  "petit",
  "durand",
  "leroy",
  "moreau",
  "simon",
  "laurent",
  "lefevre",
  "michel",
  "garcia",
  "david",
  "bertrand",
  "roux",
  "vincent",
  "fournier",
  "morel",
  "girard",
  "andre",
  "mercier",
  "dupont",
  "lambert",
  "bonnet",
  "francois",
  "martinez",
  "legrand",
  "garnier",
  "faure",
  "rousseau",
  "blanc",
  "guerin",
  "muller",
  "henry",
  "roussel",
  "nicolas",
  "perrin",
  "morin",
  "mathieu",
  "clement",
  "gauthier",
  "dumont",
  "benali",
];
const PROVIDERS = ["example.net", "example.com", "example.org", "mail.example.net", "courriel.example.org"];
const KINDS = [
  "amis-du",
  "collectif",
  "atelier",
  "association",
  "jardins-de",
  "cafe",
  "ressourcerie",
  "chorale",
  "cine-club",
  "amap",
  "repair-cafe",
  "ludotheque",
  "theatre",
  "radio",
  "fablab",
  "compagnie",
  "maison-de",
];
const PLACES = [
  "velo",
  "quartier",
  "riviere",
  "montagne",
  "lavoir",
  "marche",
  "foret",
  "canal",
  "plateau",
  "vallon",
  "faubourg",
  "port",
  "colline",
  "verger",
  "moulin",
  "bocage",
  "source",
  "prairie",
  "halle",
  "gare",
];
const TLDS = ["org", "fr", "net", "eu", "coop"];
const FUNCTIONS = [
  "contact",
  "bureau",
  "secretariat",
  "tresorerie",
  "accueil",
  "communication",
  "benevoles",
  "presidence",
  "adhesions",
  "partenaires",
  "presse",
  "ateliers",
  "evenements",
  "info",
  "technique",
  "formation",
  "boutique",
  "jeunesse",
];
const ALIASES = ["perso", "pro", "asso", "web", "listes", "achats", "famille", "voyages", "banque", "inscriptions"];
const APPS = ["forms", "polls", "calendar", "contacts", "deck", "notes", "tasks", "office"] as const;
const DATES_OK = ["2026-12-31", "2027-01-31", "2027-03-31", "2027-06-30", "2027-09-30", "2027-12-31", "2028-06-30"];
const DATE_LATE = "2025-12-31";

interface Person {
  username: string;
  email: string;
  name: string;
}

interface Mailbox {
  address: string;
  owner?: string;
  quotaGb: number;
  sharedWith?: string[];
}
interface Redirection {
  from: string;
  to: string[];
}
interface Domain {
  domain: string;
  mailboxes: Mailbox[];
  redirections: Redirection[];
}
interface Member {
  username: string;
  email: string;
  name?: string;
  admin?: boolean;
  access?: string[];
}
interface TenantDoc {
  version: 1;
  slug: string;
  name: string;
  type: "collective" | "individual";
  rate?: "standard" | "solidarity";
  solidarityPercent?: number;
  contact: string;
  membership: { paidUntil: string };
  members: Member[];
  mail?: { domains: Domain[] };
  services?: Record<string, unknown>;
}

const cap = (s: string) =>
  s
    .split(/([ -])/)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join("");

/** Generates a tenant set in memory. */
export function generateTenantSet(options: GenerateOptions): TenantSet {
  const scale = options.scale ?? 1;
  const seed = options.seed ?? 1;
  const shared = options.sharedMailDomains;
  if (!shared.length) throw new Error("the platform has no shared mail domain to give individual members a mailbox on");
  const rng = new Rng(prng(seed));
  const n = (base: number) => Math.max(1, Math.round(base * scale));

  const usedUsernames = new Set<string>();
  const usedSlugs = new Set<string>();
  const people: Person[] = [];
  const newPerson = (domain?: string): Person => {
    const first = rng.pick(FIRST),
      last = rng.pick(LAST);
    let username = `${first}.${last}`;
    for (let i = 2; usedUsernames.has(username); i++) username = `${first}.${last}${i}`;
    usedUsernames.add(username);
    const person = { username, email: `${username}@${domain ?? rng.pick(PROVIDERS)}`, name: `${cap(first)} ${cap(last)}` };
    people.push(person);
    return person;
  };
  const uniqueSlug = (base: string) => {
    let slug = base.slice(0, 34).replace(/-+$/, "");
    const stem = slug;
    for (let i = 2; usedSlugs.has(slug); i++) slug = `${stem}-${i}`;
    usedSlugs.add(slug);
    return slug;
  };
  const paidUntil = () => (rng.chance(0.02) ? DATE_LATE : rng.pick(DATES_OK));
  const quota = () => rng.pick([1, 2, 2, 2, 5, 5, 10]);

  // Counts at this scale.
  const nCollectives = n(BASE.collectives);
  const nIndividuals = n(BASE.individuals);
  const nSecond = Math.min(nCollectives, Math.round(BASE.secondDomains * scale));
  const nOwnDomain = Math.min(nIndividuals, Math.round(BASE.individualDomains * scale));
  const nNoMail = Math.min(nIndividuals - nOwnDomain, Math.round(BASE.individualsWithoutMail * scale));
  const nSharedBox = nIndividuals - nOwnDomain - nNoMail;
  const totalMailboxes = Math.max(Math.round(BASE.mailboxes * scale), nSharedBox + nOwnDomain + nCollectives);
  const totalRedirections = Math.round(BASE.redirections * scale);
  const individualRedirections = Math.round(totalRedirections * BASE.individualRedirectionShare);

  const docs: TenantDoc[] = [];
  const kinds = new Map<string, TenantKind>();

  // Individual members: one person each; a mailbox on a shared domain (most), a domain of their own
  // (a few), or no mail at all (Git or Nextcloud only).
  const individualBoxes: { doc: TenantDoc; domain: Domain; person: Person }[] = [];
  for (let i = 0; i < nIndividuals; i++) {
    const person = newPerson();
    const slug = uniqueSlug(person.username.replace(/[._]/g, "-"));
    const kind = i < nOwnDomain ? "own" : i < nOwnDomain + nNoMail ? "none" : "shared";
    kinds.set(
      slug,
      kind === "own"
        ? "individual, own domain + static site"
        : kind === "none"
          ? "individual, no mail"
          : "individual, shared-domain mailbox",
    );
    const access =
      kind === "none"
        ? rng.pick([["git"], ["nextcloud"], ["git", "nextcloud"]])
        : rng.pick([[], ["git"], ["git"], ["nextcloud"], ["git", "nextcloud"]]);
    const doc: TenantDoc = {
      version: 1,
      slug,
      name: person.name,
      type: "individual",
      ...(rng.chance(0.1) ? { rate: "solidarity" as const } : {}),
      contact: person.email,
      membership: { paidUntil: paidUntil() },
      members: [{ username: person.username, email: person.email, admin: true, ...(access.length ? { access } : {}) }],
    };
    if (kind === "shared") {
      const domainName = shared[i % shared.length]!;
      const domain: Domain = {
        domain: domainName,
        mailboxes: [{ address: `${person.username}@${domainName}`, owner: person.username, quotaGb: quota() }],
        redirections: [],
      };
      doc.mail = { domains: [domain] };
      individualBoxes.push({ doc, domain, person });
    } else if (kind === "own") {
      const domainName = `${slug}.net`;
      const domain: Domain = {
        domain: domainName,
        mailboxes: [{ address: `contact@${domainName}`, owner: person.username, quotaGb: quota() }],
        redirections: [],
      };
      doc.mail = { domains: [domain] };
      doc.services = { website: { engine: "static", domains: [domainName, `www.${domainName}`], storageGb: 5 } };
      individualBoxes.push({ doc, domain, person });
    }
    docs.push(doc);
  }

  // Aliases of individual members: a few each, the more active members having more.
  const aliasCounts = distribute(
    individualRedirections,
    individualBoxes.map(() => rng.pareto(1.5, 12)),
  );
  individualBoxes.forEach(({ domain, person }, k) => {
    const box = domain.mailboxes[0]!.address;
    const local = box.slice(0, box.indexOf("@"));
    for (let j = 0; j < aliasCounts[k]!; j++) {
      const word = ALIASES[j % ALIASES.length]!;
      const from = `${local}-${word}${j >= ALIASES.length ? Math.floor(j / ALIASES.length) + 1 : ""}@${domain.domain}`;
      domain.redirections.push({ from, to: rng.chance(0.2) ? [box, person.email] : [box] });
    }
  });

  // Collectives: a custom domain each (some two), members, functional mailboxes, many redirections, offers.
  const collectives: { doc: TenantDoc; domains: Domain[]; members: Person[]; admins: Person[]; weight: number }[] = [];
  for (let c = 0; c < nCollectives; c++) {
    const base = `${rng.pick(KINDS)}-${rng.pick(PLACES)}`;
    const slug = uniqueSlug(base);
    kinds.set(slug, "collective");
    const primary = `${slug}.${rng.pick(TLDS)}`;
    const weight = rng.pareto();
    const size = Math.min(60, 2 + Math.round(weight * rng.int(2, 5)));
    const members: Person[] = [];
    const known = new Set<string>();
    for (let m = 0; m < size; m++) {
      // Some members are individual members too, or members of another collective: one account everywhere.
      const reuse = people.length > 10 && rng.chance(0.15);
      const person = reuse ? rng.pick(people) : newPerson(rng.chance(0.5) ? primary : undefined);
      if (known.has(person.username)) continue;
      known.add(person.username);
      members.push(person);
    }
    const admins = members.slice(0, Math.min(members.length, rng.int(1, 3)));
    const domains: Domain[] = [{ domain: primary, mailboxes: [], redirections: [] }];
    if (c < nSecond) domains.push({ domain: `${slug}-asso.${rng.pick(TLDS)}`, mailboxes: [], redirections: [] });
    const solidarity = rng.chance(0.3);
    const doc: TenantDoc = {
      version: 1,
      slug,
      name: cap(slug.replace(/-\d+$/, "")).replace(/-/g, " "),
      type: "collective",
      ...(solidarity ? { rate: "solidarity" as const, ...(rng.chance(0.5) ? { solidarityPercent: rng.pick([25, 50, 75]) } : {}) } : {}),
      contact: `contact@${primary}`,
      membership: { paidUntil: paidUntil() },
      members: members.map((p) => {
        const admin = admins.includes(p);
        const access = rng.chance(0.1) ? [rng.pick(["git", "nextcloud"])] : [];
        return {
          username: p.username,
          email: p.email,
          ...(rng.chance(0.7) ? { name: p.name } : {}),
          ...(admin ? { admin: true } : {}),
          ...(access.length ? { access } : {}),
        };
      }),
      mail: { domains },
      services: collectiveServices(rng, c, slug, primary, admins),
    };
    docs.push(doc);
    collectives.push({ doc, domains, members, admins, weight });
  }

  // Collectives' mailboxes: contact@ on each primary domain, the rest in proportion to their size.
  const collectiveBoxes = totalMailboxes - nSharedBox - nOwnDomain;
  const extraBoxes = distribute(
    collectiveBoxes - nCollectives,
    collectives.map((c) => c.weight),
  );
  const localsByDomain = new Map<string, Set<string>>();
  const locals = (d: Domain) => {
    let set = localsByDomain.get(d.domain);
    if (!set) localsByDomain.set(d.domain, (set = new Set()));
    return set;
  };
  collectives.forEach((col, k) => {
    const [primary] = col.domains;
    primary!.mailboxes.push({ address: `contact@${primary!.domain}`, quotaGb: 5, sharedWith: col.admins.map((a) => a.username) });
    locals(primary!).add("contact");
    for (let b = 0; b < extraBoxes[k]!; b++) {
      const d = rng.pick(col.domains);
      const owner = b < col.members.length ? col.members[b]! : undefined;
      let local = owner ? owner.username : FUNCTIONS[b % FUNCTIONS.length]!;
      for (let i = 2; locals(d).has(local); i++) local = `${owner ? owner.username : FUNCTIONS[b % FUNCTIONS.length]}${i}`;
      locals(d).add(local);
      const sharers = owner ? [] : rng.sample(col.members, rng.int(0, Math.min(3, col.members.length)));
      d.mailboxes.push({
        address: `${local}@${d.domain}`,
        ...(owner ? { owner: owner.username } : {}),
        quotaGb: quota(),
        ...(sharers.length ? { sharedWith: sharers.map((s) => s.username) } : {}),
      });
    }
  });

  // Collectives' redirections: lists of members, functional addresses; some chain to an earlier one
  // of the same domain (never back: no loop).
  const collectiveRedirections = totalRedirections - individualRedirections;
  const redirCounts = distribute(
    collectiveRedirections,
    collectives.map((c) => c.weight * c.weight),
  );
  collectives.forEach((col, k) => {
    for (let r = 0; r < redirCounts[k]!; r++) {
      const d = col.domains[r % col.domains.length]!;
      const word = FUNCTIONS[r % FUNCTIONS.length]!;
      let local = `${word}-${rng.pick(PLACES)}`;
      for (let i = 2; locals(d).has(local); i++) local = `${word}-${rng.pick(PLACES)}${i}`;
      locals(d).add(local);
      const from = `${local}@${d.domain}`;
      const candidates = [
        ...col.members.map((m) => m.email),
        ...d.mailboxes.map((b) => b.address),
        ...(d.redirections.length && rng.chance(0.2) ? [rng.pick(d.redirections).from] : []),
      ];
      const to = rng.sample(
        [...new Set(candidates)].filter((a) => a !== from),
        rng.int(1, Math.min(4, candidates.length)),
      );
      d.redirections.push({ from, to });
    }
  });

  docs.sort((a, b) => a.slug.localeCompare(b.slug));
  const files = new Map<string, string>();
  let bytes = 0;
  const offers: Record<string, number> = {};
  const domainNames = new Set<string>();
  let mailboxes = 0,
    redirections = 0;
  for (const doc of docs) {
    for (const d of doc.mail?.domains ?? []) {
      domainNames.add(d.domain);
      mailboxes += d.mailboxes.length;
      redirections += d.redirections.length;
      if (!d.mailboxes.length) delete (d as Partial<Domain>).mailboxes;
      if (!d.redirections.length) delete (d as Partial<Domain>).redirections;
    }
    for (const [kind, offer] of Object.entries(doc.services ?? {})) {
      const engine = (offer as { engine?: string }).engine;
      const key = engine ? `${kind}:${engine}` : kind;
      offers[key] = (offers[key] ?? 0) + 1;
    }
    const text = `# Synthetic ${doc.type} (bench/generate.ts, seed ${seed}, scale ${scale}).\n${stringify(doc, { lineWidth: 0 })}`;
    bytes += Buffer.byteLength(text);
    files.set(`${doc.slug}.yaml`, text);
  }
  return {
    files,
    kinds,
    showcase: collectives[Math.min(5, collectives.length - 1)]!.doc.slug,
    summary: {
      seed,
      scale,
      tenants: docs.length,
      collectives: nCollectives,
      individuals: nIndividuals,
      mailDomains: domainNames.size,
      mailboxes,
      redirections,
      offers,
      bytes,
    },
  };
}

/** À-la-carte offers of a collective; the first six cover every kind and engine, whatever the seed. */
function collectiveServices(rng: Rng, index: number, slug: string, domain: string, admins: Person[]): Record<string, unknown> {
  const forced: Record<number, string[]> = {
    0: ["wordpress", "nextcloud"],
    1: ["static", "accounting", "newsletter:paheko", "video"],
    2: ["wordpress", "newsletter:listmonk"],
    3: ["newsletter:paheko"],
    4: ["video", "nextcloud"],
    5: ["wordpress", "nextcloud", "accounting", "newsletter:listmonk", "video"],
  };
  const picks = forced[index] ?? [
    ...(rng.chance(0.6) ? [rng.chance(0.7) ? "wordpress" : "static"] : []),
    ...(rng.chance(0.35) ? ["nextcloud"] : []),
    ...(rng.chance(0.3) ? ["accounting"] : []),
    ...(rng.chance(0.3) ? [rng.chance(0.5) ? "newsletter:listmonk" : "newsletter:paheko"] : []),
    ...(rng.chance(0.2) ? ["video"] : []),
  ];
  const s: Record<string, unknown> = {};
  for (const p of picks) {
    if (p === "wordpress" || p === "static") {
      s.website = {
        engine: p,
        domains: rng.chance(0.8) ? [domain, `www.${domain}`] : [`site.${domain}`],
        storageGb: rng.pick([5, 5, 10, 20]),
      };
    } else if (p === "nextcloud") {
      s.nextcloud = { domain: `cloud.${domain}`, storageGb: rng.pick([20, 20, 50, 100]), apps: rng.sample(APPS, rng.int(1, APPS.length)) };
    } else if (p === "accounting") {
      s.accounting = { domain: `compta.${domain}` };
    } else if (p === "video") {
      s.video = {
        channel: slug.replace(/-/g, "_"),
        ...(rng.chance(0.5) ? { owner: rng.pick(admins).username } : {}),
        storageGb: rng.pick([10, 10, 50, 100]),
        ...(rng.chance(0.4) ? { live: true } : {}),
      };
    }
  }
  // The newsletter last: a Paheko one needs its own domain only when there is no accounting.
  const letter = picks.find((p) => p.startsWith("newsletter:"));
  if (letter) {
    const engine = letter.slice("newsletter:".length);
    s.newsletter = {
      engine,
      ...(engine === "listmonk" || !s.accounting ? { domain: `lettre.${domain}` } : {}),
      subscribers: rng.pick([100, 500, 500, 2000]),
      ...(engine === "listmonk" && rng.chance(0.3) ? { tracking: true } : {}),
    };
  }
  return s;
}

/** Writes a set to `<dir>/tenants/*.yaml` (the folder is emptied of YAML files first). */
export function writeTenantSet(dir: string, options: GenerateOptions): TenantSet & { tenantsDir: string } {
  const set = generateTenantSet(options);
  const tenantsDir = path.join(dir, "tenants");
  fs.mkdirSync(tenantsDir, { recursive: true });
  for (const f of fs.readdirSync(tenantsDir)) if (/\.ya?ml$/.test(f)) fs.rmSync(path.join(tenantsDir, f));
  for (const [name, text] of set.files) fs.writeFileSync(path.join(tenantsDir, name), text);
  return { ...set, tenantsDir };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: "string" },
      scale: { type: "string", default: "1" },
      seed: { type: "string", default: "1" },
      env: { type: "string", default: "prod" },
    },
  });
  if (!values.out) {
    console.error("usage: tsx bench/generate.ts --out <dir> [--scale 1] [--seed 1] [--env prod]");
    process.exitCode = 2;
    return;
  }
  const sharedMailDomains = readPlatformConfig(values.env!).sharedMailDomains;
  const set = writeTenantSet(values.out, { scale: Number(values.scale), seed: Number(values.seed), sharedMailDomains });
  console.log(JSON.stringify({ tenantsDir: set.tenantsDir, ...set.summary }));
}

if (require.main === module) void main();
