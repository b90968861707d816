/**
 * The name and size rules of the contract (infra/contract/names.ts): their edges, their messages,
 * and that the schema and every component checking a name decide alike on any input, so that a
 * component can be neither stricter nor looser than validate.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  channelProblem,
  emailProblem,
  hostedAddressProblem,
  HOSTNAME_PATTERN,
  hostnameProblem,
  mailboxQuotaProblem,
  slugProblem,
  storageSizeProblem,
  usernameProblem,
} from "../infra/contract/names";
import { loadCatalog } from "../infra/catalog/catalog";
import { tenantRules } from "../infra/contract/rules";
import { tenantSchema } from "../infra/contract/tenant";
import { hostRule } from "../components/blocks/container-service";
import { identityPlan } from "../components/tenant/identity";
import { normalizeAddress, normalizeDomain, renderMailFragments } from "../components/tenant/mail-domain-config";
import { staticSitePlan } from "../components/tenant/static-site-config";
import { hostname as generatedHostname, NEAR_MISSES, pick, slugOf, usernameOf } from "./helpers/tenant-arbitraries";

const ok = (problem: string | undefined) => problem === undefined;

describe("slug", () => {
  it.each([
    ["a", true],
    ["amis-du-velo", true],
    ["a".repeat(40), true],
    ["a".repeat(41), false],
    ["a--b", false],
    ["-a", false],
    ["a-", false],
    ["Velo", false],
    ["", false],
  ])("%j → %s", (slug, accepted) => expect(ok(slugProblem(slug))).toBe(accepted));

  it("says which limit", () => {
    expect(slugProblem("a".repeat(41))).toBe("must be at most 40 characters, not 41");
    expect(slugProblem("a--b")).toBe("must be lowercase words of a-z 0-9 joined by single hyphens");
  });
});

describe("username", () => {
  it.each([
    ["al", true],
    ["a".repeat(32), true],
    ["eve.l", true],
    ["farid_b-2", true],
    ["a", false],
    ["a".repeat(33), false],
    ["1abc", false],
    ["Alice", false],
    ["al ice", false],
  ])("%j → %s", (username, accepted) => expect(ok(usernameProblem(username))).toBe(accepted));
});

describe("hostname", () => {
  const l63 = "a".repeat(63);
  const n253 = `${l63}.${l63}.${l63}.${"b".repeat(57)}.org`;

  it.each([
    ["example.org", true],
    ["www.jardins.xn--p1ai", true],
    ["xn--caf-dma.example.org", true],
    ["3d.example.org", true],
    [`${l63}.org`, true],
    [`x.${"c".repeat(63)}`, true],
    ["ab--cd.org", true],
    [`${"a".repeat(64)}.org`, false],
    [`x.${"c".repeat(64)}`, false],
    ["org", false],
    ["example.a1", false],
    ["10.0.0.1", false],
    ["example.o", false],
    ["-a.org", false],
    ["a-.org", false],
    ["a_b.org", false],
    ["velo.org.", false],
    ["a..org", false],
    ["xn--zz.org", false],
    ["example.xn--zz", false],
    ["WWW.example.org", false],
    ["jardins.рф", false],
    ["", false],
  ])("%j → %s", (name, accepted) => expect(ok(hostnameProblem(name))).toBe(accepted));

  it("holds 253 characters, not 254", () => {
    expect(n253).toHaveLength(253);
    expect(hostnameProblem(n253)).toBeUndefined();
    expect(hostnameProblem(`b${n253}`)).toMatch(/it has 254 characters, at most 253$/);
  });

  it("gives the punycode form of a name written in Unicode", () => {
    expect(hostnameProblem("jardins.рф")).toBe("is an internationalised name; write it in punycode: jardins.xn--p1ai");
    expect(hostnameProblem("café.example.org")).toBe("is an internationalised name; write it in punycode: xn--caf-dma.example.org");
    expect(hostnameProblem("Café.Example.org")).toBe("is an internationalised name; write it in punycode: xn--caf-dma.example.org");
    expect(hostnameProblem("a b.рф")).toMatch(
      /^must be a lowercase hostname such as www.example.org; it holds characters that form no internationalised name$/,
    );
  });

  it("names the label at fault", () => {
    expect(hostnameProblem("WWW.Example.org")).toBe("must be written in lowercase: www.example.org");
    expect(hostnameProblem("xn--zz.org")).toBe(
      'must be a lowercase hostname such as www.example.org; the label "xn--zz" is not valid punycode (RFC 3492, RFC 5891)',
    );
    expect(hostnameProblem("example.a1")).toBe(
      'must be a lowercase hostname such as www.example.org; its last label "a1" must be letters only, or punycode (xn--...)',
    );
    expect(hostnameProblem(`${"a".repeat(64)}.org`)).toBe(
      'must be a lowercase hostname such as www.example.org; the label "aaaaaaaaaaaaaaaaaaaaa..." has 64 characters, at most 63',
    );
  });

  it("the pattern is the checker's syntax: they agree on every name without punycode", () => {
    const name = fc.oneof(generatedHostname, fc.string({ unit: pick([..."abz09-.A_"]), maxLength: 70 }));
    fc.assert(
      fc.property(name, (h) => {
        fc.pre(!h.includes("xn--"));
        expect(HOSTNAME_PATTERN.test(h)).toBe(ok(hostnameProblem(h)));
      }),
      { numRuns: 2000 },
    );
  });
});

describe("email", () => {
  it.each([
    ["alice@example.org", true],
    ["a.b+c_d%e-f@x.xn--p1ai", true],
    ["x@3d.example.org", true],
    ["#info@velo.org", false],
    [".a@velo.org", false],
    ["a..b@velo.org", false],
    ["a b@velo.org", false],
    ["a,b@velo.org", false],
    ["a@-x.org", false],
    ["a@x.a1", false],
    ["a@b", false],
    ["Alice@velo.org", false],
    ["alice@", false],
    ["alice", false],
  ])("%j → %s", (address, accepted) => expect(ok(emailProblem(address))).toBe(accepted));

  it("keeps % out of an address the platform hosts, not out of an address elsewhere", () => {
    expect(emailProblem("a%b@velo.org")).toBeUndefined();
    expect(hostedAddressProblem("a%b@velo.org")).toBe(
      "cannot hold % before the @: the mail server reads it as routing and refuses the address",
    );
    expect(hostedAddressProblem("a+b@velo.org")).toBeUndefined();
    expect(hostedAddressProblem("Alice@velo.org")).toBe(emailProblem("Alice@velo.org"));
  });

  it("keeps the schema's messages and gives the punycode form of an internationalised domain", () => {
    expect(emailProblem("#info@velo.org")).toBe(
      "must be an email address such as alice@example.org (letters, digits and . _ % + - before the @)",
    );
    expect(emailProblem("Alice@velo.org")).toBe("must be written in lowercase: alice@velo.org");
    expect(emailProblem("alice@jardins.рф")).toBe("has an internationalised domain; write it in punycode: alice@jardins.xn--p1ai");
    expect(emailProblem("a@x.a1")).toBe(
      'must be an email address such as alice@example.org; after the @: its last label "a1" must be letters only, or punycode (xn--...)',
    );
  });
});

describe("channel and sizes", () => {
  it("channel: 1 to 50 of a-z 0-9 _ .", () => {
    expect(channelProblem("c".repeat(50))).toBeUndefined();
    expect(channelProblem("c".repeat(51))).toBe("must be 1 to 50 of a-z 0-9 _ .");
  });

  it("mailbox quota: a whole number of GB above 0, within the catalog's maximum", () => {
    expect(mailboxQuotaProblem(1, 10)).toBeUndefined();
    expect(mailboxQuotaProblem(10, 10)).toBeUndefined();
    expect(mailboxQuotaProblem(11, 10)).toBe("11 GB is above the 10 GB a mailbox may hold");
    expect(mailboxQuotaProblem(0.5)).toBe("must be a positive whole number of GB (the mail server counts quotas in whole GB), not 0.5");
    expect(mailboxQuotaProblem(0)).toMatch(/positive whole number/);
  });

  it("storage size: a whole number of GB above 0", () => {
    expect(storageSizeProblem(5)).toBeUndefined();
    expect(storageSizeProblem(2.5)).toBe("must be a positive whole number of GB, one of the catalog's tiers, not 2.5");
  });
});

// ---------------------------------------------------------------------------------------------
// The schema and the components decide alike.

const BASE = {
  slug: "acme",
  name: "Acme",
  type: "collective",
  contact: "contact@acme.org",
  members: [{ username: "alice", email: "alice@acme.org", admin: true }],
};

/** Whether the schema accepts `value` at `path` of an otherwise valid tenant (the issues at that field only). */
function schemaAccepts(path: (string | number)[], value: unknown, extra: Record<string, unknown> = {}): boolean {
  const data: any = structuredClone({ ...BASE, ...extra });
  let at = data;
  for (const key of path.slice(0, -1)) at = at[key];
  at[path.at(-1)!] = value;
  const parsed = tenantSchema.safeParse(data);
  if (parsed.success) return true;
  const field = path.join(".");
  const issues = parsed.error.issues.filter((i) => i.path.join(".") === field);
  expect(issues.length, `issues elsewhere than ${field}: ${JSON.stringify(parsed.error.issues)}`).toBe(parsed.error.issues.length);
  return false;
}

/** What validate says of the field: the schema, then the single-file rules (rules.ts) on what it parsed. */
function validateAccepts(path: (string | number)[], value: unknown, extra: Record<string, unknown> = {}): boolean {
  if (!schemaAccepts(path, value, extra)) return false;
  const data: any = structuredClone({ ...BASE, ...extra });
  let at = data;
  for (const key of path.slice(0, -1)) at = at[key];
  at[path.at(-1)!] = value;
  const tenant = tenantSchema.parse(data);
  const field = path.join(".");
  const rules = tenantRules(tenant, { catalog: loadCatalog(), fileStem: tenant.slug, sharedMailDomains: [], today: "2026-12-01" });
  return !rules.some((i) => i.severity === "error" && i.path.join(".") === field);
}

const accepts = (work: () => unknown): boolean => {
  try {
    work();
    return true;
  } catch {
    return false;
  }
};

/** Strings around a rule: generated names, the near misses, and random text from an alphabet that reaches both sides. */
const around = (valid: fc.Arbitrary<string>, misses: readonly string[], alphabet: string) =>
  fc.oneof(
    valid,
    pick(misses),
    fc.string({ unit: pick([...alphabet]), maxLength: 45 }),
    fc.tuple(valid, fc.nat(), pick([...alphabet])).map(([s, i, c]) => s.slice(0, i % (s.length + 1)) + c + s.slice(i % (s.length + 1))),
  );

const RUNS = { numRuns: 400 };

describe("components accept exactly what the schema accepts", () => {
  const website = (domains: unknown) => ({ services: { website: { engine: "static", domains, storageGb: 5 } } });

  it("hostnames: static site, mail domain, proxy routes", () => {
    const names = around(generatedHostname, NEAR_MISSES.hostname, "ab0-._Aé\u0440 ");
    fc.assert(
      fc.property(names, (h) => {
        // The components lower-case and trim before they check; the schema takes the file as written.
        const canonical = h.trim().toLowerCase();
        const schema = schemaAccepts(["services", "website", "domains", 0], canonical, website([canonical]));
        // A static site's domain also meets the object store's alias rule, which validate adds (rules.ts).
        expect(
          accepts(() => staticSitePlan("acme", [h], 5)),
          h,
        ).toBe(validateAccepts(["services", "website", "domains", 0], canonical, website([canonical])));
        expect(
          accepts(() => normalizeDomain(h)),
          h,
        ).toBe(schema);
        expect(
          accepts(() => hostRule([canonical])),
          h,
        ).toBe(schema);
        expect(schemaAccepts(["mail", "domains", 0, "domain"], canonical, { mail: { domains: [{ domain: canonical }] } }), h).toBe(schema);
      }),
      RUNS,
    );
  });

  it("email addresses: every address of a mail map", () => {
    const local = fc.string({ unit: pick([..."ab0_%+-.#A"]), minLength: 1, maxLength: 12 });
    const addresses = around(
      fc.tuple(local, generatedHostname).map(([l, h]) => `${l}@${h}`),
      NEAR_MISSES.email,
      "a0.@-_#Aé ",
    );
    fc.assert(
      fc.property(addresses, (a) => {
        const canonical = a.trim().toLowerCase();
        const schema = schemaAccepts(["contact"], canonical);
        expect(
          accepts(() => normalizeAddress(a, "test")),
          a,
        ).toBe(schema);
      }),
      RUNS,
    );
  });

  it("usernames: identity and mailbox owners and sharers", () => {
    const names = around(fc.oneof(usernameOf(2, 32), usernameOf(32, 32)), NEAR_MISSES.username, "a0._-A ");
    fc.assert(
      fc.property(names, (u) => {
        const schema = schemaAccepts(["members", 0, "username"], u);
        expect(
          accepts(() => identityPlan("acme", [{ username: u, admin: true, access: [] }])),
          u,
        ).toBe(schema);
        const mailbox = { address: "a@example.org", quotaGb: 1, owner: u, sharedWith: [u] };
        expect(
          accepts(() => renderMailFragments({ domain: "example.org", mailboxes: [mailbox], redirections: [] })),
          u,
        ).toBe(schema);
      }),
      RUNS,
    );
  });

  it("slugs: identity and static site", () => {
    const slugs = around(fc.oneof(slugOf(1, 40), slugOf(40, 41)), NEAR_MISSES.slug, "a0-A");
    fc.assert(
      fc.property(slugs, (s) => {
        const schema = schemaAccepts(["slug"], s);
        expect(
          accepts(() => identityPlan(s, [])),
          s,
        ).toBe(schema);
        expect(
          accepts(() => staticSitePlan(s, ["a.org"], 5)),
          s,
        ).toBe(schema);
      }),
      RUNS,
    );
  });

  it("mailbox quotas and storage sizes", () => {
    const sizes = fc.oneof(fc.integer({ min: -3, max: 30 }), fc.double({ min: -1, max: 30, noNaN: true }), pick(NEAR_MISSES.quotaGb));
    fc.assert(
      fc.property(sizes, (n) => {
        const mail = (quotaGb: number) => ({
          mail: { domains: [{ domain: "acme.org", mailboxes: [{ address: "a@acme.org", quotaGb }] }] },
        });
        const quota = schemaAccepts(["mail", "domains", 0, "mailboxes", 0, "quotaGb"], n, mail(n));
        expect(
          accepts(() => renderMailFragments({ domain: "acme.org", mailboxes: [{ address: "a@acme.org", quotaGb: n }], redirections: [] })),
          String(n),
        ).toBe(quota);
        const storage = schemaAccepts(["services", "website", "storageGb"], n, website(["a.org"]));
        expect(
          accepts(() => staticSitePlan("acme", ["a.org"], n)),
          String(n),
        ).toBe(storage);
      }),
      RUNS,
    );
  });
});
