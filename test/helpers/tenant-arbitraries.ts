import fc from "fast-check";
import { stringify } from "yaml";

/**
 * Generators and mutations of tenant files for the loader's property tests (loader-fuzz and
 * loader-fast-path share them).
 */
// Arbitraries of the contract (DESIGN.md "The tenant file contract (v1)"): mostly valid values,
// with a few off-catalog ones so that the rules fire too.

const USERNAMES = ["alice", "bruno", "chloe", "dominique", "eve.l", "farid_b", "gaelle-p"];
const DOMAINS = ["velo.org", "velo.net", "lautre.example.org", "jardins-partages.fr"];
const HOSTS = ["velo.org", "www.velo.org", "cloud.velo.org", "compta.velo.org", "lettre.velo.org", "site.example.com"];
export const pick = <T>(values: readonly T[]) => fc.constantFrom(...values);
const sometimesWrong = <T>(good: readonly T[], bad: readonly T[]) => fc.oneof({ arbitrary: pick(good), weight: 9 }, { arbitrary: pick(bad), weight: 1 });

const email = fc.tuple(pick(["alice", "bruno", "contact", "x.y", "tresorerie"]), pick([...DOMAINS, "example.net"])).map(([l, d]) => `${l}@${d}`);
const text = fc.oneof(fc.string({ minLength: 1, maxLength: 30 }), fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }), pick(["Les Amis du Vélo", "Collectif « Jardins »", "a: b", "#1", "- x", "yes", "null", "1e3"]));
const date = fc.date({ min: new Date("2020-01-01"), max: new Date("2030-12-31"), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));

const members = fc.uniqueArray(
  fc.record({
    username: pick(USERNAMES),
    email: fc.constant(""),
    name: text,
    admin: fc.boolean(),
    access: fc.subarray(["git", "nextcloud"]),
  }, { requiredKeys: ["username", "email"] }),
  { selector: (m) => m.username, minLength: 1, maxLength: 4 },
).map((list) => list.map((m, i) => ({ ...m, email: `${m.username}@velo.net`, ...(i === 0 && m.admin === undefined ? { admin: true } : {}) })));

function mailDomain(domain: string, usernames: string[]) {
  const member = usernames.length ? pick(usernames) : fc.constant("alice");
  return fc.record({
    domain: fc.constant(domain),
    mailboxes: fc.uniqueArray(fc.record({
      address: pick(["contact", "info", "alice", "bureau", "x"]).map((l) => `${l}@${domain}`),
      owner: member,
      quotaGb: sometimesWrong([1, 2, 5, 10], [12, 0.5, 100]),
      sharedWith: fc.subarray(usernames),
    }, { requiredKeys: ["address", "quotaGb"] }), { selector: (b) => b.address, maxLength: 3 }),
    redirections: fc.uniqueArray(fc.record({
      from: pick(["liste", "bureau2", "tresor"]).map((l) => `${l}@${domain}`),
      to: fc.array(email, { minLength: 1, maxLength: 3 }),
    }), { selector: (r) => r.from, maxLength: 2 }),
  }, { requiredKeys: ["domain"] });
}

function services(usernames: string[]) {
  return fc.record({
    website: fc.record({
      engine: pick(["wordpress", "static"]),
      domains: fc.uniqueArray(pick(["velo.org", "www.velo.org", "site.example.com"]), { minLength: 1, maxLength: 2 }),
      storageGb: sometimesWrong([5, 10, 20], [7, 50]),
    }),
    nextcloud: fc.record({
      domain: fc.constant("cloud.velo.org"),
      storageGb: sometimesWrong([20, 50, 100], [30, 5]),
      apps: fc.subarray(["forms", "polls", "calendar", "contacts", "deck", "notes", "tasks", "office"]),
    }, { requiredKeys: ["domain", "storageGb"] }),
    accounting: fc.record({ domain: fc.constant("compta.velo.org") }),
    newsletter: fc.record({
      engine: pick(["listmonk", "paheko"]),
      domain: fc.constant("lettre.velo.org"),
      subscribers: sometimesWrong([100, 500, 2000], [300, 0]),
      tracking: fc.boolean(),
    }, { requiredKeys: ["engine", "subscribers"] }),
    video: fc.record({
      channel: pick(["velo", "jardins_partages", "a.b"]),
      owner: usernames.length ? pick(usernames) : fc.constant("alice"),
      storageGb: sometimesWrong([10, 50, 100], [20]),
      live: fc.boolean(),
    }, { requiredKeys: ["channel", "storageGb"] }),
  }, { requiredKeys: [] });
}

export const tenantObject = members.chain((list) => {
  const usernames = list.map((m) => m.username);
  return fc.record({
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
  }, { requiredKeys: ["slug", "name", "type", "contact", "members"] });
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
  fc.integer(), fc.double(), fc.string({ maxLength: 10 }), fc.boolean(), fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 2 }),
  fc.date({ noInvalidDate: true }),
);
export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("duplicate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("rename" as const), at: fc.nat(), name: fc.oneof(fc.string({ maxLength: 12 }), pick(["contcat", "Slug", "storage", "emial", "<<", "__proto__", "constructor", "0"])) }),
  fc.record({ kind: fc.constant("retype" as const), at: fc.nat(), value: anyValue }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("bytes" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
);

type Container = Record<string, unknown> | unknown[];
/** Every (container, key) of the data, depth first. */
function slots(data: unknown, out: [Container, string | number][] = []): [Container, string | number][] {
  if (Array.isArray(data)) data.forEach((v, i) => { out.push([data, i]); slots(v, out); });
  else if (data && typeof data === "object") for (const [k, v] of Object.entries(data)) { out.push([data as Record<string, unknown>, k]); slots(v, out); }
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
  const mutations = fc.array(fc.oneof(
    fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
    fc.record({ kind: fc.constant("bytes" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }) }),
    fc.record({ kind: fc.constant("bytes" as const), at: fc.nat(), bytes: pick(tokens).map((s) => new TextEncoder().encode(s)) }),
  ), { minLength: 1, maxLength: 4 });
  return fc.tuple(fc.nat(), mutations).map(([n, list]) => {
    const which = n % files.length;
    let bytes: Buffer = files[which]!;
    for (const m of list) bytes = mutateBytes(bytes, m);
    return { which, bytes };
  });
}
