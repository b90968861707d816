/**
 * A generated export of the 2019 member space at the association's scale (about 50 domains, 360
 * mailboxes, 1,600 redirections; docs/architecture.md), deterministic from a seed, with one or more
 * planted anomalies of every kind the import reports (docs/migration.md "Anomalies"). Each planted
 * row is returned with its file and line, so a test can check that the report finds it there.
 * Password hashes have the real schemes' formats (PHC strings for Argon2, Django's PBKDF2, crypt(3)
 * for bcrypt and SHA-512) without being hashes of any known password.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { LegacyFile } from "../../infra/model/legacy-export";
import type { AnomalyKind } from "../../infra/model/legacy-import";

export interface PlantedAnomaly {
  kind: AnomalyKind;
  file: LegacyFile;
  line: number;
  what: string;
}

export interface LegacyFixture {
  texts: Record<LegacyFile, string>;
  planted: PlantedAnomaly[];
  /** Rows per file, the header excluded. */
  rowCounts: Record<LegacyFile, number>;
  /** Keycloak users that exist already (people who registered by themselves). */
  existingAccounts: { id: string; username: string; email: string; enabled: boolean; emailVerified: boolean }[];
}

/** mulberry32: a small seeded generator, so the fixture is the same at every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const CRYPT64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

class Csv {
  private readonly lines: string[] = [];
  private line = 1;
  rows = 0;
  constructor(header: readonly string[]) {
    this.lines.push(header.join(","));
  }
  /** Adds a record; returns the line it starts on. */
  add(fields: readonly string[]): number {
    const at = this.line + 1;
    const text = fields.map((f) => (/[",\n\r]|^\s|\s$/.test(f) ? `"${f.replaceAll('"', '""')}"` : f)).join(",");
    this.lines.push(text);
    this.line += 1 + (text.match(/\n/g)?.length ?? 0);
    this.rows++;
    return at;
  }
  text(crlf: boolean): string {
    return `${this.lines.join(crlf ? "\r\n" : "\n")}${crlf ? "\r\n" : "\n"}`;
  }
}

const FIRST = [
  "Alice",
  "Bruno",
  "Chloé",
  "Dominique",
  "Émile",
  "Farid",
  "Gaëlle",
  "Hugo",
  "Inès",
  "Jules",
  "Kenza",
  "Léa",
  "Mathis",
  "Noémie",
  "Oscar",
  "Perrine",
  "Quentin",
  "Rose",
  "Sacha",
  "Théo",
];
const LAST = [
  "Martin",
  "Bernard",
  "Dubois",
  "Thomas",
  "Robert",
  "Richard",
  "Petit",
  "Durand",
  "Leroy",
  "Moreau",
  "Simon",
  "Laurent",
  "Lefèvre",
  "Michel",
  "Garcia",
  "Fournier",
];
const ORGS = [
  "Les Amis du Vélo",
  "Jardins Partagés",
  "Cinéma Solidaire",
  "Atelier Bois",
  "Chorale des Quais",
  "Épicerie Coopérative",
  "Repair Café",
  "Ludothèque",
  "Radio Libre",
  "Théâtre de l'Œuf",
];

export function legacyExportFixture(seed = 2019): LegacyFixture {
  const rand = random(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)]!;
  const chars = (alphabet: string, n: number) => Array.from({ length: n }, () => alphabet[Math.floor(rand() * alphabet.length)]).join("");
  // Canonical base64 of random bytes, as the PHC strings (unpadded) and Django (padded) write them:
  // a random string of the right length is not, and the classifier rightly refuses it.
  const bytesBase64 = (n: number, padded: boolean) => {
    const text = Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256))).toString("base64");
    return padded ? text : text.replace(/=+$/, "");
  };
  const hashes = {
    argon2id: () => `$argon2id$v=19$m=65536,t=3,p=4$${bytesBase64(16, false)}$${bytesBase64(32, false)}`,
    argon2i: () => `$argon2i$v=19$m=4096,t=3,p=1$${bytesBase64(16, false)}$${bytesBase64(32, false)}`,
    pbkdf2: () => `pbkdf2_sha256$600000$${chars(B64.slice(0, 62), 22)}$${bytesBase64(32, true)}`,
    bcrypt: () => `$2b$12$${chars(CRYPT64, 53)}`,
    sha512: () => `$6$${chars(CRYPT64, 16)}$${chars(CRYPT64, 86)}`,
  };
  const anyHash = () => pick([hashes.argon2id, hashes.argon2id, hashes.pbkdf2, hashes.bcrypt, hashes.sha512, hashes.argon2i])();
  // Mailbox passwords: what the mail server of 2019 kept (mostly crypt(3) and Argon2).
  const mailboxHash = () => pick([hashes.argon2id, hashes.bcrypt, hashes.sha512, hashes.sha512])();

  const members = new Csv([
    "id",
    "username",
    "email",
    "display_name",
    "kind",
    "organisation",
    "password_hash",
    "created_at",
    "paid_until",
    "services",
  ]);
  const domains = new Csv(["domain", "member_id"]);
  const mailboxes = new Csv(["address", "member_id", "quota_mb", "password_hash"]);
  const redirections = new Csv(["source", "destinations", "member_id"]);
  const planted: PlantedAnomaly[] = [];
  const plant = (kind: AnomalyKind, file: LegacyFile, line: number, what: string) => planted.push({ kind, file, line, what });

  let nextId = 1;
  let userSerial = 0;
  const paid = () => `20${27 + Math.floor(rand() * 2)}-${String(1 + Math.floor(rand() * 12)).padStart(2, "0")}-28`;
  const person = (org: string, domain: string, services: string) => {
    const first = pick(FIRST);
    const last = pick(LAST);
    const username = `${first.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase()}.${++userSerial}`;
    const id = String(nextId++);
    const email = `${username}@${domain}`;
    const line = members.add([id, username, email, `${first} ${last}`, "individual", org, anyHash(), "2019-05-01", paid(), services]);
    return { id, username, email, line };
  };

  // Collectives: each with a domain, 3 to 6 persons, their mailboxes, shared ones, redirections.
  const collectives: { id: string; domain: string; persons: { id: string; username: string; email: string }[]; mailboxes: string[] }[] = [];
  for (let k = 0; k < 44; k++) {
    const org = `${ORGS[k % ORGS.length]} ${Math.floor(k / ORGS.length) + 1}`;
    const domain = `collectif-${k + 1}.example.org`;
    const id = String(nextId++);
    members.add([id, `collectif${k + 1}`, `contact@${domain}`, org, "collective", org, anyHash(), "2019-03-01", paid(), "mail"]);
    domains.add([domain, id]);
    const persons = Array.from({ length: 3 + (k % 4) }, () =>
      person(org, `perso-${k}.example.net`, pick(["mail", "mail;git", "mail;nextcloud", "git;nextcloud", ""])),
    );
    collectives.push({ id, domain, persons, mailboxes: [] });
  }
  // Individuals with a domain of their own.
  const individuals: { id: string; username: string; domain: string; mailboxes: string[] }[] = [];
  for (let k = 0; k < 6; k++) {
    const domain = `famille-${k + 1}.example.fr`;
    const p = person("", "example.com", "mail");
    domains.add([domain, p.id]);
    individuals.push({ id: p.id, username: p.username, domain, mailboxes: [] });
  }
  // Members with Git or the shared Nextcloud only, and members with nothing on the platform.
  for (let k = 0; k < 30; k++) person("", "example.com", pick(["git", "nextcloud", "git;nextcloud"]));
  for (let k = 0; k < 15; k++) person("", "example.com", "");

  // Mailboxes: each person of a collective one in its domain (most), the collective two shared ones.
  for (const c of collectives) {
    for (const p of c.persons) {
      if (rand() < 0.15) continue;
      const address = `${p.username.split(".")[0]}${p.username.split(".")[1]}@${c.domain}`;
      mailboxes.add([address, p.id, String(pick([512, 1024, 2048, 3000, 5120])), mailboxHash()]);
      c.mailboxes.push(address);
    }
    for (const local of ["contact", "bureau"]) {
      const address = `${local}@${c.domain}`;
      mailboxes.add([address, c.id, "2048", mailboxHash()]);
      c.mailboxes.push(address);
    }
  }
  for (const i of individuals) {
    for (const local of ["moi", "famille"]) {
      const address = `${local}@${i.domain}`;
      mailboxes.add([address, i.id, "1500", mailboxHash()]);
      i.mailboxes.push(address);
    }
  }
  // Addresses of the platform's shared mail domain (stacks/Pulumi.prod.yaml alacarte:sharedMailDomains).
  for (const i of individuals.slice(0, 3)) {
    mailboxes.add([`${i.username.replace(".", "-")}@alacarte.example.org`, i.id, "1024", hashes.argon2id()]);
  }
  while (mailboxes.rows < 350) {
    const c = pick(collectives);
    const address = `boite${mailboxes.rows}@${c.domain}`;
    mailboxes.add([address, c.id, "1024", mailboxHash()]);
    c.mailboxes.push(address);
  }

  // Redirections: aliases to the domain's mailboxes and to outside addresses.
  const holders = [...collectives.map((c) => ({ id: c.id, domain: c.domain, mailboxes: c.mailboxes })), ...individuals];
  for (let k = 0; redirections.rows < 1585; k++) {
    const h = holders[k % holders.length]!;
    const n = 1 + Math.floor(rand() * 3);
    const to = new Set<string>();
    while (to.size < n) to.add(rand() < 0.7 && h.mailboxes.length > 0 ? pick(h.mailboxes) : `ext${Math.floor(rand() * 500)}@example.net`);
    redirections.add([`alias${k}@${h.domain}`, [...to].join(" "), h.id]);
  }

  // ---- planted anomalies --------------------------------------------------------------------
  const c0 = collectives[0]!;
  const c1 = collectives[1]!;
  // The same username with two emails: both rejected.
  let line = members.add([
    String(nextId++),
    "marc",
    "marc@example.com",
    "Marc Blanc",
    "individual",
    "",
    hashes.argon2id(),
    "2020-01-01",
    "2027-01-01",
    "git",
  ]);
  plant("duplicate-username", "members.csv", line, "marc with a first email");
  line = members.add([
    String(nextId++),
    "marc",
    "marc.blanc@example.org",
    "Marc Blanc",
    "individual",
    "",
    hashes.argon2id(),
    "2021-01-01",
    "2027-01-01",
    "git",
  ]);
  plant("duplicate-username", "members.csv", line, "marc with a second email");
  // The same person twice, in case and space variants: merged.
  line = members.add([
    String(nextId++),
    "sophie.l",
    "sophie@example.com",
    "Sophie Lambert",
    "individual",
    "",
    hashes.argon2id(),
    "2019-06-01",
    "2027-06-30",
    "git",
  ]);
  line = members.add([
    String(nextId++),
    "Sophie.L ",
    " Sophie@Example.com",
    "Sophie Lambert",
    "individual",
    "",
    hashes.bcrypt(),
    "2022-06-01",
    "2027-06-30",
    "nextcloud",
  ]);
  plant("duplicate-username", "members.csv", line, "Sophie.L is sophie.l again");
  plant("case-or-space-variant", "members.csv", line, "Sophie.L with a trailing space");
  // One email, two usernames: both rejected.
  line = members.add([
    String(nextId++),
    "paul",
    "paul@example.com",
    "Paul Roux",
    "individual",
    "",
    hashes.argon2id(),
    "2019-01-01",
    "2027-01-01",
    "git",
  ]);
  plant("duplicate-email", "members.csv", line, "paul@example.com as paul");
  line = members.add([
    String(nextId++),
    "paulo",
    "paul@example.com",
    "Paul Roux",
    "individual",
    "",
    hashes.argon2id(),
    "2019-01-01",
    "2027-01-01",
    "git",
  ]);
  plant("duplicate-email", "members.csv", line, "paul@example.com as paulo");
  // A username the contract refuses.
  line = members.add([
    String(nextId++),
    "9lives",
    "neuf@example.com",
    "Neuf Vies",
    "individual",
    "",
    hashes.argon2id(),
    "2019-01-01",
    "2027-01-01",
    "git",
  ]);
  plant("username-rule", "members.csv", line, "9lives starts with a digit");
  line = members.add([
    String(nextId++),
    "jean dupont",
    "jean.dupont@example.com",
    "Jean Dupont",
    "individual",
    "",
    hashes.argon2id(),
    "2019-01-01",
    "2027-01-01",
    "git",
  ]);
  plant("username-rule", "members.csv", line, "a space in the username");
  // An invalid email.
  line = members.add([
    String(nextId++),
    "zoe",
    "zoe(at)example.com",
    "Zoë Fontaine",
    "individual",
    "",
    hashes.argon2id(),
    "2019-01-01",
    "2027-01-01",
    "git",
  ]);
  plant("invalid-address", "members.csv", line, "no @ in the email");
  // Unknown and empty hashes, an expired membership, non-ASCII names, a quoted name on two lines.
  line = members.add([
    String(nextId++),
    "olga",
    "olga@example.com",
    "Ольга Петрова",
    "individual",
    "",
    "md5$1f3870be274f6c49b3e31a0c6728957f",
    "2019-01-01",
    "2026-01-31",
    "git",
  ]);
  plant("unknown-hash", "members.csv", line, "an MD5 hash");
  plant("non-ascii-name", "members.csv", line, "a Cyrillic name");
  plant("expired-membership", "members.csv", line, "paid until 2026-01-31");
  line = members.add([
    String(nextId++),
    "lukasz",
    "lukasz@example.com",
    "Łukasz Żółć",
    "individual",
    "",
    "",
    "2019-01-01",
    "2025-12-31",
    "nextcloud",
  ]);
  plant("empty-hash", "members.csv", line, "no hash");
  plant("expired-membership", "members.csv", line, "paid until 2025-12-31");
  plant("non-ascii-name", "members.csv", line, "a Polish name");
  line = members.add([
    String(nextId++),
    "nadia",
    "nadia@example.com",
    "Nadia\nBenali, trésorière",
    "individual",
    "",
    hashes.argon2id(),
    "2019-01-01",
    "2027-01-01",
    "git",
  ]);
  plant("invalid-name", "members.csv", line, "a display name on two lines (quoted)");
  members.add([
    String(nextId++),
    "yann",
    "yann@example.com",
    "Yann Le Gall",
    "individual",
    "",
    hashes.pbkdf2(),
    "2019-01-01",
    "2027-01-01",
    "git",
  ]);
  // Two collectives whose names make the same slug, one name longer than a slug may be.
  const cafeA = String(nextId++);
  members.add([
    cafeA,
    "cafe1",
    "contact@cafe-a.example.org",
    "Café Associatif",
    "collective",
    "Café Associatif",
    hashes.argon2id(),
    "2019-01-01",
    "2027-01-01",
    "mail",
  ]);
  members.add([
    String(nextId++),
    "irene.cafe",
    "irene@example.net",
    "Irène Caron",
    "individual",
    "Café Associatif",
    hashes.argon2id(),
    "2019-01-01",
    "2027-01-01",
    "mail",
  ]);
  domains.add(["cafe-a.example.org", cafeA]);
  const cafeB = String(nextId++);
  members.add([
    cafeB,
    "cafe2",
    "contact@cafe-b.example.org",
    "Cafe associatif",
    "collective",
    "Cafe associatif",
    hashes.argon2id(),
    "2019-01-01",
    "2027-01-01",
    "mail",
  ]);
  members.add([
    String(nextId++),
    "odile.cafe",
    "odile@example.net",
    "Odile Caron",
    "individual",
    "Cafe associatif",
    hashes.argon2id(),
    "2019-01-01",
    "2027-01-01",
    "mail",
  ]);
  domains.add(["cafe-b.example.org", cafeB]);
  const longId = String(nextId++);
  members.add([
    longId,
    "federation",
    "contact@federation.example.org",
    "Fédération Régionale des Associations d'Éducation Populaire",
    "collective",
    "Fédération Régionale des Associations d'Éducation Populaire",
    "",
    "2019-01-01",
    "2027-01-01",
    "mail",
  ]);
  // A collective nobody names as organisation: its own row is its account.
  line = members.add([
    String(nextId++),
    "asso-seule",
    "bureau@seule.example.org",
    "Association Seule",
    "collective",
    "Association Seule",
    hashes.argon2id(),
    "2019-01-01",
    "2027-01-01",
    "mail",
  ]);
  plant("collective-without-person", "members.csv", line, "no person names it");
  line = members.add([String(nextId++), "x", "x@example.com", "X", "individual", "", hashes.argon2id(), "2019-01-01", "2027-01-01", "git"]);
  plant("username-rule", "members.csv", line, "username x is too short");
  line = members.add([
    String(nextId++),
    "vera",
    "vera@example.com",
    "Véra Costa",
    "individual",
    "Collectif Inconnu",
    hashes.argon2id(),
    "2019-01-01",
    "2027-01-01",
    "git",
  ]);
  plant("unknown-organisation", "members.csv", line, "no such collective");
  line = members.add([
    String(nextId++),
    "wassim",
    "wassim@example.com",
    "Wassim Haddad",
    "individual",
    "",
    hashes.argon2id(),
    "2019-01-01",
    "2027-01-01",
    "git;wiki",
  ]);
  plant("unknown-service", "members.csv", line, "wiki is no service");
  line = members.add([
    String(nextId++),
    "societe",
    "societe@example.com",
    "Société Anonyme",
    "company",
    "",
    hashes.argon2id(),
    "2019-01-01",
    "2027-01-01",
    "git",
  ]);
  plant("bad-kind", "members.csv", line, "company is no kind");
  line = members.add([
    String(nextId - 1),
    "doublon",
    "doublon@example.com",
    "Doublon",
    "individual",
    "",
    hashes.argon2id(),
    "2019-01-01",
    "2027-01-01",
    "git",
  ]);
  plant("duplicate-id", "members.csv", line, "the id of the row before");
  line = members.add([
    String(nextId++),
    "quentin.r",
    "quentin.r@example.com",
    "Quentin Roy",
    "individual",
    "",
    hashes.argon2id(),
    "2019-01-01",
    "bientôt",
    "git",
  ]);
  plant("invalid-date", "members.csv", line, "paid_until is no date");
  const registeredElsewhere = person("", "example.com", "git");
  plant("conflict-email", "members.csv", registeredElsewhere.line, "the email belongs to another username");
  // Self-registered already (same username and email), and a username held by someone else.
  const early = person("", "example.com", "git");
  const taken = person("", "example.com", "nextcloud");
  plant("already-registered", "members.csv", early.line, "registered by themselves");
  plant("conflict-username", "members.csv", taken.line, "username held by another email");

  // A domain claimed by two members.
  const i0 = individuals[0]!;
  const i1 = individuals[1]!;
  line = domains.add(["disputee.example.org", i0.id]);
  plant("domain-claimed-twice", "domains.csv", line, "disputee.example.org by the first");
  line = domains.add(["disputee.example.org", i1.id]);
  plant("domain-claimed-twice", "domains.csv", line, "disputee.example.org by the second");
  // A domain written with capitals and a trailing space (one domain, case variant), merged with itself.
  line = domains.add(["Collectif-1.Example.org ", c0.id]);
  plant("case-or-space-variant", "domains.csv", line, "capitals and a space");
  line = domains.add(["not a domain", c0.id]);
  plant("invalid-domain", "domains.csv", line, "spaces in a domain");
  line = domains.add(["orphan.example.org", "99999"]);
  plant("unknown-member", "domains.csv", line, "member 99999 does not exist");

  // Mailboxes: outside the member's domains, invalid, over the maximum, a Django hash.
  line = mailboxes.add([`intrus@${c1.domain}`, c0.persons[0]!.id, "1024", mailboxHash()]);
  plant("outside-domains", "mailboxes.csv", line, "a person of collective 1 in collective 2's domain");
  line = mailboxes.add(["perdu@nowhere.example.org", c0.id, "1024", mailboxHash()]);
  plant("outside-domains", "mailboxes.csv", line, "a domain no member claims");
  line = mailboxes.add([`bad address@${c0.domain}`, c0.id, "1024", mailboxHash()]);
  plant("invalid-address", "mailboxes.csv", line, "a space in the address");
  line = mailboxes.add([`archives@${c0.domain}`, c0.id, "20480", mailboxHash()]);
  plant("over-maximum-quota", "mailboxes.csv", line, "20 GB");
  line = mailboxes.add([`Tresorier@${c0.domain}`, c0.persons[1]!.id, "700", hashes.pbkdf2()]);
  plant("case-or-space-variant", "mailboxes.csv", line, "a capital in the address");
  line = mailboxes.add([`moi@${i0.domain}`, i0.id, "1024", mailboxHash()]);
  plant("duplicate-address", "mailboxes.csv", line, "moi@ again");
  line = mailboxes.add([`nohash@${c0.domain}`, c0.persons[2]!.id, "1024", "crypt:xyz"]);
  plant("unknown-hash", "mailboxes.csv", line, "an unknown mailbox hash");
  line = mailboxes.add([`quota@${c0.domain}`, c0.id, "beaucoup", mailboxHash()]);
  plant("invalid-quota", "mailboxes.csv", line, "quota_mb is no number");
  line = domains.add(["a", "b", "c"]);
  plant("unreadable-row", "domains.csv", line, "three fields");
  line = mailboxes.add([`tiers@${c0.domain}`, "", "1024", ""]);
  plant("empty-hash", "mailboxes.csv", line, "a shared mailbox without a hash");
  mailboxes.add([`litige@disputee.example.org`, i0.id, "1024", mailboxHash()]);
  while (mailboxes.rows < 360) mailboxes.add([`extra${mailboxes.rows}@${c1.domain}`, c1.id, "512", mailboxHash()]);

  // Redirections: a loop, to itself, outside, invalid destinations, a mailbox's own address.
  line = redirections.add([`boucle-a@${c0.domain}`, `boucle-b@${c0.domain}`, c0.id]);
  plant("redirection-loop", "redirections.csv", line, "a → b");
  line = redirections.add([`boucle-b@${c0.domain}`, `boucle-a@${c0.domain}`, c0.id]);
  plant("redirection-loop", "redirections.csv", line, "b → a");
  line = redirections.add([`soi@${c0.domain}`, `soi@${c0.domain}`, c0.id]);
  plant("redirection-loop", "redirections.csv", line, "to itself");
  line = redirections.add([`ailleurs@${c1.domain}`, "x@example.net", c0.id]);
  plant("outside-domains", "redirections.csv", line, "collective 1 redirects in collective 2's domain");
  line = redirections.add([`alias-bad@${c0.domain}`, "not-an-email x@example.net", c0.id]);
  plant("invalid-address", "redirections.csv", line, "a destination without @");
  line = redirections.add([`contact@${c0.domain}`, "x@example.net", c0.id]);
  plant("address-is-mailbox", "redirections.csv", line, "contact@ is a mailbox");
  line = redirections.add([`alias0@${holders[0]!.domain}`, "second@example.net", holders[0]!.id]);
  plant("duplicate-address", "redirections.csv", line, "alias0 again: merged");
  while (redirections.rows < 1600) {
    const h = pick(holders);
    redirections.add([`more${redirections.rows}@${h.domain}`, `ext${redirections.rows}@example.net`, h.id]);
  }

  const texts = {
    "members.csv": members.text(true),
    "domains.csv": domains.text(false),
    "mailboxes.csv": mailboxes.text(false),
    "redirections.csv": redirections.text(true),
  };
  return {
    texts,
    planted,
    rowCounts: {
      "members.csv": members.rows,
      "domains.csv": domains.rows,
      "mailboxes.csv": mailboxes.rows,
      "redirections.csv": redirections.rows,
    },
    existingAccounts: [
      { id: "kc-1", username: early.username, email: early.email, enabled: true, emailVerified: true },
      { id: "kc-2", username: taken.username, email: "someone.else@example.org", enabled: true, emailVerified: false },
      { id: "kc-3", username: "another.name", email: registeredElsewhere.email, enabled: true, emailVerified: true },
      // Unrelated accounts of the free services.
      ...Array.from({ length: 5 }, (_, k) => ({
        id: `kc-free-${k}`,
        username: `libre${k}`,
        email: `libre${k}@example.org`,
        enabled: true,
        emailVerified: true,
      })),
    ],
  };
}

/** Writes the fixture's files into a new folder. */
export function writeLegacyExport(dir: string, fixture: LegacyFixture): string {
  fs.mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(fixture.texts)) fs.writeFileSync(path.join(dir, file), text);
  return dir;
}
