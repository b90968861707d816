import { domainToASCII } from "node:url";
import fc from "fast-check";
import { stringify } from "yaml";

/**
 * Generators and mutations of tenant files for the property tests: the loader's (loader-fuzz and
 * loader-fast-path share them), and tenants at the edges of the name rules that must plan
 * (validate-plans).
 */
// Arbitraries of the contract (docs/contract.md, "Fields"): mostly valid values,
// with a few off-catalog ones so that the rules fire too.

const USERNAMES = ["alice", "bruno", "chloe", "dominique", "eve.l", "farid_b", "gaelle-p"];
const DOMAINS = ["velo.org", "velo.net", "lautre.example.org", "jardins-partages.fr"];
export const pick = <T>(values: readonly T[]) => fc.constantFrom(...values);
const sometimesWrong = <T>(good: readonly T[], bad: readonly T[]) =>
  fc.oneof({ arbitrary: pick(good), weight: 9 }, { arbitrary: pick(bad), weight: 1 });

const email = fc
  .tuple(pick(["alice", "bruno", "contact", "x.y", "tresorerie"]), pick([...DOMAINS, "example.net"]))
  .map(([l, d]) => `${l}@${d}`);
const text = fc.oneof(
  fc.string({ minLength: 1, maxLength: 30 }),
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }),
  pick(["Les Amis du Vélo", "Collectif « Jardins »", "a: b", "#1", "- x", "yes", "null", "1e3"]),
);
const date = fc
  .date({ min: new Date("2020-01-01"), max: new Date("2030-12-31"), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));

const members = fc
  .uniqueArray(
    fc.record(
      {
        username: pick(USERNAMES),
        email: fc.constant(""),
        name: text,
        admin: fc.boolean(),
        access: fc.subarray(["git", "nextcloud"]),
      },
      { requiredKeys: ["username", "email"] },
    ),
    { selector: (m) => m.username, minLength: 1, maxLength: 4 },
  )
  .map((list) =>
    list.map((m, i) => ({ ...m, email: `${m.username}@velo.net`, ...(i === 0 && m.admin === undefined ? { admin: true } : {}) })),
  );

function mailDomain(domain: string, usernames: string[]) {
  const member = usernames.length ? pick(usernames) : fc.constant("alice");
  return fc.record(
    {
      domain: fc.constant(domain),
      mailboxes: fc.uniqueArray(
        fc.record(
          {
            address: pick(["contact", "info", "alice", "bureau", "x"]).map((l) => `${l}@${domain}`),
            owner: member,
            quotaGb: sometimesWrong([1, 2, 5, 10], [12, 0.5, 100]),
            sharedWith: fc.subarray(usernames),
          },
          { requiredKeys: ["address", "quotaGb"] },
        ),
        { selector: (b) => b.address, maxLength: 3 },
      ),
      redirections: fc.uniqueArray(
        fc.record({
          from: pick(["liste", "bureau2", "tresor"]).map((l) => `${l}@${domain}`),
          to: fc.array(email, { minLength: 1, maxLength: 3 }),
        }),
        { selector: (r) => r.from, maxLength: 2 },
      ),
    },
    { requiredKeys: ["domain"] },
  );
}

function services(usernames: string[]) {
  return fc.record(
    {
      website: fc.record({
        engine: pick(["wordpress", "static"]),
        domains: fc.uniqueArray(pick(["velo.org", "www.velo.org", "site.example.com"]), { minLength: 1, maxLength: 2 }),
        storageGb: sometimesWrong([5, 10, 20], [7, 50]),
      }),
      nextcloud: fc.record(
        {
          domain: fc.constant("cloud.velo.org"),
          storageGb: sometimesWrong([20, 50, 100], [30, 5]),
          apps: fc.subarray(["forms", "polls", "calendar", "contacts", "deck", "notes", "tasks", "office"]),
        },
        { requiredKeys: ["domain", "storageGb"] },
      ),
      accounting: fc.record({ domain: fc.constant("compta.velo.org") }),
      newsletter: fc.record(
        {
          engine: pick(["listmonk", "paheko"]),
          domain: fc.constant("lettre.velo.org"),
          subscribers: sometimesWrong([100, 500, 2000], [300, 0]),
          tracking: fc.boolean(),
        },
        { requiredKeys: ["engine", "subscribers"] },
      ),
      video: fc.record(
        {
          channel: pick(["velo", "jardins_partages", "a.b"]),
          owner: usernames.length ? pick(usernames) : fc.constant("alice"),
          storageGb: sometimesWrong([10, 50, 100], [20]),
          live: fc.boolean(),
        },
        { requiredKeys: ["channel", "storageGb"] },
      ),
    },
    { requiredKeys: [] },
  );
}

export const tenantObject = members.chain((list) => {
  const usernames = list.map((m) => m.username);
  return fc.record(
    {
      version: fc.constant(1),
      slug: pick(["velo", "velo", "jardins-partages", "autre"]),
      name: text,
      type: pick(["collective", "individual"]),
      rate: pick(["standard", "solidarity"]),
      solidarityPercent: sometimesWrong([10, 25, 50, 100], [0, 150]),
      contact: email,
      membership: fc.record({ paidUntil: date }),
      members: fc.constant(list),
      mail: fc.record({
        domains: fc.uniqueArray(pick(DOMAINS), { maxLength: 2 }).chain((ds) => fc.tuple(...ds.map((d) => mailDomain(d, usernames)))),
      }),
      services: services(usernames),
    },
    { requiredKeys: ["slug", "name", "type", "contact", "members"] },
  );
});

// ---------------------------------------------------------------------------------------------
// Mutations: of the data before it is written, then of the text.

export type Mutation =
  | { kind: "delete" | "duplicate"; at: number }
  | { kind: "rename"; at: number; name: string }
  | { kind: "retype"; at: number; value: unknown }
  | { kind: "truncate"; at: number }
  | { kind: "bytes"; at: number; bytes: Uint8Array };

const anyValue = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 10 }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 2 }),
  fc.date({ noInvalidDate: true }),
);
export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("duplicate" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("rename" as const),
    at: fc.nat(),
    name: fc.oneof(fc.string({ maxLength: 12 }), pick(["contcat", "Slug", "storage", "emial", "<<", "__proto__", "constructor", "0"])),
  }),
  fc.record({ kind: fc.constant("retype" as const), at: fc.nat(), value: anyValue }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("bytes" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
);

type Container = Record<string, unknown> | unknown[];
/** Every (container, key) of the data, depth first. */
function slots(data: unknown, out: [Container, string | number][] = []): [Container, string | number][] {
  if (Array.isArray(data))
    data.forEach((v, i) => {
      out.push([data, i]);
      slots(v, out);
    });
  else if (data && typeof data === "object")
    for (const [k, v] of Object.entries(data)) {
      out.push([data as Record<string, unknown>, k]);
      slots(v, out);
    }
  return out;
}

export function mutateData(data: Record<string, unknown>, m: Mutation): void {
  const all = slots(data);
  if (!all.length) return;
  const [container, key] = all[m.at % all.length]!;
  if (m.kind === "delete") {
    if (Array.isArray(container)) container.splice(key as number, 1);
    else delete container[key as string];
  } else if (m.kind === "rename" && !Array.isArray(container)) {
    const value = container[key as string];
    delete container[key as string];
    Object.defineProperty(container, m.name, { value, enumerable: true, configurable: true, writable: true });
  } else if (m.kind === "retype") {
    (container as Record<string | number, unknown>)[key] = m.value;
  } else if (m.kind === "duplicate") {
    const lists = all.filter(([, k]) => typeof k === "number");
    if (!lists.length) return;
    const [list, index] = lists[m.at % lists.length]! as [unknown[], number];
    // The same object twice: yaml writes an anchor and an alias.
    list.splice(index, 0, list[index]);
  }
}

export function mutateBytes(bytes: Buffer, m: Mutation): Buffer {
  if (m.kind === "truncate") return bytes.subarray(0, m.at % (bytes.length + 1));
  if (m.kind === "bytes") {
    const at = m.at % (bytes.length + 1);
    return Buffer.concat([bytes.subarray(0, at), Buffer.from(m.bytes), bytes.subarray(at)]);
  }
  return bytes;
}

/** A generated tenant mutated in its data, written as YAML, then mutated in its bytes. */
export const mutatedTenantFile: fc.Arbitrary<{ file: string; bytes: Buffer }> = fc
  .tuple(tenantObject, fc.array(mutation, { minLength: 1, maxLength: 3 }))
  .map(([data, mutations]) => {
    const copy = structuredClone(data) as Record<string, unknown>;
    for (const m of mutations) mutateData(copy, m);
    let bytes: Buffer = Buffer.from(stringify(copy, { aliasDuplicateObjects: true }));
    for (const m of mutations) bytes = mutateBytes(bytes, m);
    return { file: `tenants/${String(data.slug)}.yaml`, bytes };
  });

/** One of `files` (its index) after truncations and insertions of random bytes or of the given YAML tokens. */
export function mutatedFile(files: readonly Buffer[], tokens: readonly string[]): fc.Arbitrary<{ which: number; bytes: Buffer }> {
  const mutations = fc.array(
    fc.oneof(
      fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
      fc.record({ kind: fc.constant("bytes" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }) }),
      fc.record({ kind: fc.constant("bytes" as const), at: fc.nat(), bytes: pick(tokens).map((s) => new TextEncoder().encode(s)) }),
    ),
    { minLength: 1, maxLength: 4 },
  );
  return fc.tuple(fc.nat(), mutations).map(([n, list]) => {
    const which = n % files.length;
    let bytes: Buffer = files[which]!;
    for (const m of list) bytes = mutateBytes(bytes, m);
    return { which, bytes };
  });
}

// ---------------------------------------------------------------------------------------------
// Tenant files validate accepts, out to the edges of every name rule (infra/contract/names.ts),
// and near misses just past those edges: what validate-plans.test.ts plans.

const LETTERS = "abcdefghijklmnopqrstuvwxyz";
const ALNUM = `${LETTERS}0123456789`;
const chars = (alphabet: string) => fc.constantFrom(...alphabet);
const textOf = (alphabet: string, min: number, max: number) => fc.string({ unit: chars(alphabet), minLength: min, maxLength: max });

/** No hyphen first, last, or after another: the slug and label rules' hyphens. */
function innerHyphens(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) out += s[i] === "-" && (i === 0 || i === s.length - 1 || out.endsWith("-")) ? "a" : s[i];
  return out;
}

/** A slug of `min` to `max` characters (the rule allows 1 to 40). */
export const slugOf = (min: number, max: number) => textOf(`${ALNUM}--`, min, max).map(innerHyphens);
/** A username of `min` to `max` characters (the rule allows 2 to 32). */
export const usernameOf = (min: number, max: number) =>
  fc.tuple(chars(LETTERS), textOf(`${ALNUM}._-`, min - 1, max - 1)).map(([a, b]) => a + b);
/** An LDH label of `min` to `max` characters (the rule allows 1 to 63). */
export const labelOf = (min: number, max: number) => textOf(`${ALNUM}-`, min, max).map(innerHyphens);

/** Letters of several scripts; a label holding one becomes a punycode A-label (`xn--…`). */
const UNICODE = "éèçàôüößñåøрфжиюяблгδλπ日本語中文한국";
/** A punycode label, the A-label of a Unicode word (RFC 3492), found by Node as a browser would (UTS #46). */
export const punycodeLabel = fc
  .tuple(textOf(UNICODE, 1, 3), textOf(`${LETTERS}${UNICODE}`, 0, 10))
  .map(([u, rest]) => domainToASCII(u + rest))
  .filter((a) => a.startsWith("xn--") && a.length <= 63 && !a.includes("."));

const tld = fc.oneof(
  { arbitrary: pick(["org", "fr", "net", "coop", "museum"]), weight: 4 },
  { arbitrary: pick(["xn--p1ai", "xn--90ais", "xn--qxam", "xn--3e0b707e"]), weight: 2 }, // .рф .бел .ελ .한국
  { arbitrary: punycodeLabel, weight: 1 },
  { arbitrary: textOf(LETTERS, 63, 63), weight: 1 },
);
const label = fc.oneof(
  { arbitrary: pick(["www", "cloud", "velo", "jardins", "lettre", "compta", "x1", "asso-2", "3d"]), weight: 3 },
  { arbitrary: labelOf(1, 20), weight: 3 },
  { arbitrary: labelOf(63, 63), weight: 1 },
  { arbitrary: punycodeLabel, weight: 2 },
);

/** A name of exactly `length` characters ending in `top`, from labels of at most 63. */
function nameOfLength(length: number, top: string, filler: string): string {
  const labels: string[] = [];
  let left = length - top.length - 1;
  while (left > 0) {
    // Leave at least one character after a dot.
    const n = left <= 63 ? left : Math.min(63, left - 2);
    labels.push(filler.slice(0, n));
    left -= n + 1;
  }
  return [...labels, top].join(".");
}

/** A hostname: a few labels of every kind, or one of exactly 253 characters. */
export const hostname = fc.oneof(
  {
    arbitrary: fc
      .tuple(fc.array(label, { minLength: 1, maxLength: 3 }), tld)
      .map(([ls, t]) => [...ls, t].join("."))
      .filter((h) => h.length <= 253),
    weight: 6,
  },
  { arbitrary: fc.tuple(tld, textOf(ALNUM, 63, 63)).map(([t, filler]) => nameOfLength(253, t, filler)), weight: 1 },
);

/** An email local part of the given characters: dot-separated words. */
const localPartOf = (chars: string) =>
  fc.oneof(
    { arbitrary: pick(["contact", "info", "bureau", "tresorerie", "x"]), weight: 2 },
    { arbitrary: fc.array(textOf(chars, 1, 12), { minLength: 1, maxLength: 3 }).map((w) => w.join(".")), weight: 3 },
  );
/** Any address's local part: a-z 0-9 _ % + - (names.ts EMAIL_LOCAL_PATTERN). */
const localPart = localPartOf(`${ALNUM}_%+-`);
/** The local part of an address the platform hosts: no % (names.ts hostedAddressProblem). */
const hostedLocalPart = localPartOf(`${ALNUM}_+-`);
const channel = fc.oneof(textOf(`${ALNUM}_.`, 1, 20), textOf(`${ALNUM}_.`, 50, 50));

/** Values just past a rule, each refused by validate at the field it is written in. */
export const NEAR_MISSES = {
  hostname: [
    `${"a".repeat(64)}.org`,
    nameOfLength(254, "org", "b".repeat(63)),
    "jardins.рф",
    "café.example.org",
    "WWW.Example.org",
    "xn--zz.org",
    "example.a1",
    "10.0.0.1",
    "velo.org.",
    "a_b.org",
    "-a.org",
    "org",
  ],
  email: ["#info@velo.org", "a@-x.org", "a@café.org", "a@x.a1", "Alice@velo.org", "a..b@velo.org", "a@b", `a@${"c".repeat(64)}.org`],
  username: ["a".repeat(33), "a", "1abc", "Alice", "al ice"],
  slug: ["a".repeat(41), "a--b", "-a", "Velo", "vélo"],
  quotaGb: [0.5, 0, -1, 2.5, 11],
  storageGb: [2.5, 0, 7],
  channel: ["c".repeat(51), "Velo", "a-b"],
  // Not versions of the catalog (a floating tag, a bare major, a number YAML reads for 34.0), or a pin where the offer has none.
  version: ["latest", "34", 34, "v6.2.0", "99.0.0"],
} as const;
export type NearMissKind = keyof typeof NEAR_MISSES;

/** What a generated tenant needs of the catalog and the platform. */
export interface PlannableLimits {
  tiers: Record<"website" | "nextcloud" | "video", readonly number[]>;
  brackets: readonly number[];
  /** The catalog's versions of each offer that runs an app: a tenant sometimes pins one. */
  versions: Record<"website" | "nextcloud" | "accounting" | "newsletter", readonly string[]>;
  maxMailboxGb: number;
  sharedMailDomains: readonly string[];
}

type Data = Record<string, any>;

/**
 * A tenant file validate accepts: every offer, engine and tier, members at the username's edges,
 * hostnames of every kind (punycode labels and TLDs, 63-character labels, 253-character names),
 * mailboxes with and without owner and sharers, redirections (chains, never loops), shared mail
 * domains. Names are drawn at random, so two such tenants rarely claim the same thing.
 */
export function plannableTenant(limits: PlannableLimits): fc.Arbitrary<Data> {
  const members = fc.uniqueArray(
    fc.record({
      username: fc.oneof(
        { arbitrary: usernameOf(2, 12), weight: 4 },
        { arbitrary: usernameOf(32, 32), weight: 1 },
        { arbitrary: usernameOf(2, 2), weight: 1 },
      ),
      admin: fc.boolean(),
      access: fc.subarray(["git", "nextcloud"]),
    }),
    { selector: (m) => m.username, minLength: 1, maxLength: 4 },
  );
  const tier = (offer: keyof PlannableLimits["tiers"]) => pick(limits.tiers[offer]);
  return fc
    .record({
      slug: fc.oneof({ arbitrary: slugOf(1, 20), weight: 3 }, { arbitrary: slugOf(40, 40), weight: 1 }),
      type: pick(["collective", "individual"]),
      solidarity: fc.option(fc.integer({ min: 1, max: 100 })),
      members,
      // The tenant's hostnames: three for the website, one per other service, two mail domains.
      hosts: fc.uniqueArray(hostname, { minLength: 8, maxLength: 8 }),
      memberDomain: hostname,
      mailOnWebsiteDomain: fc.boolean(),
      shared: fc.subarray([...limits.sharedMailDomains]),
      custom: fc.integer({ min: 0, max: 2 }),
      locals: fc.array(fc.uniqueArray(hostedLocalPart, { maxLength: 5 }), { minLength: 4, maxLength: 4 }),
      mailboxCount: fc.array(fc.nat(5), { minLength: 4, maxLength: 4 }),
      externals: fc.array(
        fc.tuple(localPart, hostname).map(([l, h]) => `${l}@${h}`),
        { minLength: 1, maxLength: 3 },
      ),
      picks: fc.array(fc.nat(), { minLength: 64, maxLength: 64 }),
      offers: fc.record({
        website: fc.option(
          fc.record({ engine: pick(["wordpress", "static"]), count: fc.integer({ min: 1, max: 3 }), storageGb: tier("website") }),
        ),
        nextcloud: fc.option(
          fc.record({
            storageGb: tier("nextcloud"),
            apps: fc.subarray(["forms", "polls", "calendar", "contacts", "deck", "notes", "tasks", "office"]),
          }),
        ),
        accounting: fc.boolean(),
        newsletter: fc.option(
          fc.record({
            engine: pick(["listmonk", "paheko"]),
            subscribers: pick(limits.brackets),
            tracking: fc.boolean(),
            ownDomain: fc.boolean(),
          }),
        ),
        video: fc.option(fc.record({ channel, withOwner: fc.boolean(), storageGb: tier("video"), live: fc.boolean() })),
      }),
      // A pin of each offer's app, sometimes; never on a static site or a Paheko newsletter, which have none.
      pins: fc.record({
        website: fc.option(pick(limits.versions.website)),
        nextcloud: fc.option(pick(limits.versions.nextcloud)),
        accounting: fc.option(pick(limits.versions.accounting)),
        newsletter: fc.option(pick(limits.versions.newsletter)),
      }),
    })
    .map((g) => {
      let p = 0;
      /** The next of the generated choices, below n. */
      const choose = (n: number) => g.picks[p++ % g.picks.length]! % n;
      const usernames = g.members.map((m) => m.username);
      const people = g.members.map((m, i) => ({
        username: m.username,
        // Usernames may hold dots a local part may not (a trailing one, two in a row).
        email: `${m.username.replace(/\./g, "_")}+${i}@${g.memberDomain}`,
        ...(i === 0 || m.admin ? { admin: true } : {}),
        ...(m.access.length ? { access: m.access } : {}),
      }));
      const [w1, w2, w3, nc, acc, nl, m1, m2] = g.hosts as [string, string, string, string, string, string, string, string];
      const custom = [g.mailOnWebsiteDomain && g.offers.website ? w1 : m1, m2].slice(0, g.custom);
      const mailDomains = [...custom, ...g.shared];
      const addresses: string[] = [];
      const domains = mailDomains.map((domain, di) => {
        const locals = g.locals[di]!;
        const split = Math.min(locals.length, g.mailboxCount[di]!);
        const mailboxes = locals.slice(0, split).map((l) => {
          const address = `${l}@${domain}`;
          addresses.push(address);
          const owner = choose(3) ? { owner: usernames[choose(usernames.length)]! } : {};
          const sharedWith = usernames.filter(() => choose(3) === 0);
          return {
            address,
            quotaGb: choose(4) ? 1 + choose(limits.maxMailboxGb) : limits.maxMailboxGb,
            ...owner,
            ...(sharedWith.length ? { sharedWith } : {}),
          };
        });
        const redirections = locals.slice(split).map((l) => {
          const from = `${l}@${domain}`;
          // Earlier addresses only (mailboxes, earlier redirections): chains, never a loop.
          const targets = [...new Set([...addresses, ...people.map((m) => m.email), ...g.externals])];
          const to = [...new Set(Array.from({ length: 1 + choose(3) }, () => targets[choose(targets.length)]!))];
          addresses.push(from);
          return { from, to };
        });
        return { domain, ...(mailboxes.length ? { mailboxes } : {}), ...(redirections.length ? { redirections } : {}) };
      });
      const services: Data = {};
      const o = g.offers;
      if (o.website)
        services.website = {
          engine: o.website.engine,
          domains: [w1, w2, w3].slice(0, o.website.count),
          storageGb: o.website.storageGb,
          ...(o.website.engine === "wordpress" && g.pins.website ? { version: g.pins.website } : {}),
        };
      if (o.nextcloud)
        services.nextcloud = {
          domain: nc,
          storageGb: o.nextcloud.storageGb,
          ...(o.nextcloud.apps.length ? { apps: o.nextcloud.apps } : {}),
          ...(g.pins.nextcloud ? { version: g.pins.nextcloud } : {}),
        };
      if (o.accounting) services.accounting = { domain: acc, ...(g.pins.accounting ? { version: g.pins.accounting } : {}) };
      if (o.newsletter) {
        const n = o.newsletter;
        const listmonk = n.engine === "listmonk";
        // Paheko runs on the accounting instance when there is one: no domain, or the same.
        const domain = listmonk || !o.accounting ? nl : n.ownDomain ? acc : undefined;
        services.newsletter = {
          engine: n.engine,
          ...(domain ? { domain } : {}),
          subscribers: n.subscribers,
          ...(listmonk ? { tracking: n.tracking } : {}),
          ...(listmonk && g.pins.newsletter ? { version: g.pins.newsletter } : {}),
        };
      }
      if (o.video) {
        services.video = {
          channel: o.video.channel,
          ...(o.video.withOwner ? { owner: usernames[choose(usernames.length)] } : {}),
          storageGb: o.video.storageGb,
          live: o.video.live,
        };
      }
      const contacts = [...people.map((m) => m.email), ...addresses, ...g.externals];
      return {
        slug: g.slug,
        name: `Tenant ${g.slug}`,
        type: g.type,
        ...(g.solidarity !== null ? { rate: "solidarity", solidarityPercent: g.solidarity } : {}),
        contact: contacts[choose(contacts.length)],
        members: people,
        ...(domains.length ? { mail: { domains } } : {}),
        ...(Object.keys(services).length ? { services } : {}),
      };
    });
}

/** Every place of a tenant where a value of `kind` is written, as a field path. */
export function fieldsOf(data: Data, kind: NearMissKind): (string | number)[][] {
  const out: (string | number)[][] = [];
  if (kind === "slug") out.push(["slug"]);
  data.members.forEach((_m: Data, i: number) => {
    if (kind === "username") out.push(["members", i, "username"]);
    if (kind === "email") out.push(["members", i, "email"]);
  });
  if (kind === "email") out.push(["contact"]);
  (data.mail?.domains ?? []).forEach((d: Data, di: number) => {
    const base = ["mail", "domains", di];
    if (kind === "hostname") out.push([...base, "domain"]);
    (d.mailboxes ?? []).forEach((b: Data, bi: number) => {
      if (kind === "email") out.push([...base, "mailboxes", bi, "address"]);
      if (kind === "quotaGb") out.push([...base, "mailboxes", bi, "quotaGb"]);
      if (kind === "username" && b.owner) out.push([...base, "mailboxes", bi, "owner"]);
    });
    (d.redirections ?? []).forEach((_r: Data, ri: number) => {
      if (kind === "email") out.push([...base, "redirections", ri, "from"], [...base, "redirections", ri, "to", 0]);
    });
  });
  const s = data.services ?? {};
  if (kind === "hostname") {
    (s.website?.domains ?? []).forEach((_: string, i: number) => out.push(["services", "website", "domains", i]));
    for (const k of ["nextcloud", "accounting", "newsletter"]) if (s[k]?.domain) out.push(["services", k, "domain"]);
  }
  if (kind === "storageGb") for (const k of ["website", "nextcloud", "video"]) if (s[k]) out.push(["services", k, "storageGb"]);
  if (kind === "channel" && s.video) out.push(["services", "video", "channel"]);
  if (kind === "version")
    for (const k of ["website", "nextcloud", "accounting", "newsletter"]) if (s[k]) out.push(["services", k, "version"]);
  return out;
}

/** One near miss: a kind, which of its values, and which of its fields (modulo what the tenant has). */
export const nearMiss = fc.record({
  kind: pick(Object.keys(NEAR_MISSES) as NearMissKind[]),
  value: fc.nat(),
  at: fc.nat(),
});

/** The tenant with one near miss written at one of its fields, and that field; undefined when it has none of that kind. */
export function withNearMiss(
  data: Data,
  miss: { kind: NearMissKind; value: number; at: number },
): { data: Data; path: (string | number)[]; value: unknown } | undefined {
  const fields = fieldsOf(data, miss.kind);
  if (!fields.length) return undefined;
  const path = fields[miss.at % fields.length]!;
  const values = NEAR_MISSES[miss.kind];
  const value = values[miss.value % values.length]!;
  const copy = structuredClone(data);
  let at: Data = copy;
  for (const key of path.slice(0, -1)) at = at[key as string];
  at[path.at(-1) as string] = value;
  return { data: copy, path, value };
}
