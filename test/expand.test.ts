/**
 * expandTenant: a validated tenant file becomes the offers and mail domains its stack builds.
 * Pure: no I/O, no Pulumi.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { loadCatalog } from "../infra/catalog/catalog";
import { expandTenant, offerFields, type ExpandContext, type OfferPlan } from "../infra/model/expand";
import { formatProblem, loadTenantText } from "../infra/contract/load";
import type { Tenant } from "../infra/contract/tenant";

const catalog = loadCatalog();
/** The shared mail domains of stacks/Pulumi.prod.yaml. */
const SHARED = ["alacarte.example.org", "lautre.example.org"];
const prod: ExpandContext = { catalog, sharedMailDomains: SHARED };
const staging: ExpandContext = { catalog, sharedMailDomains: SHARED, tenantHostSuffix: "staging.alacarte.example.org" };
const TENANTS = path.resolve(__dirname, "../tenants");
/** The catalog's defaults: what an offer runs without a pin. */
const WORDPRESS = catalog.offers.website.versions.default;
const NEXTCLOUD = catalog.offers.nextcloud.versions.default;
const PAHEKO = catalog.offers.accounting.versions.default;
const LISTMONK = catalog.offers.newsletter.versions.default;

function tenant(yaml: string): Tenant {
  const result = loadTenantText("test.yaml", yaml);
  if (!result.tenant) throw new Error(result.problems.map(formatProblem).join("\n"));
  return result.tenant.tenant;
}

const head = `slug: velo
name: Velo
type: collective
contact: contact@velo.org
members:
  - username: chloe
    email: chloe@velo.org
    access: [nextcloud, git]
  - username: bruno
    email: bruno@velo.org
    admin: true
  - username: alice
    email: alice@velo.org
    admin: true
`;
const withServices = (services: string) => tenant(`${head}services:\n${services}`);
const kinds = (offers: OfferPlan[]) => offers.map((o) => o.kind);

describe("offers per kind", () => {
  it("a tenant without services builds no offer", () => {
    expect(expandTenant(tenant(head), prod).offers).toEqual([]);
  });

  it("a static website is a static site, a WordPress one a WordPress site", () => {
    const site = (engine: string) =>
      withServices(`  website:\n    engine: ${engine}\n    domains: [velo.org, www.velo.org]\n    storageGb: 10\n`);
    expect(expandTenant(site("static"), prod).offers).toEqual([
      { kind: "static-site", field: "website", hostnames: ["velo.org", "www.velo.org"], storageGb: 10 },
    ]);
    expect(expandTenant(site("wordpress"), prod).offers).toEqual([
      { kind: "wordpress", field: "website", hostnames: ["velo.org", "www.velo.org"], storageGb: 10, version: WORDPRESS },
    ]);
  });

  it("a Nextcloud suite keeps its storage and sorts its apps", () => {
    const plan = expandTenant(
      withServices("  nextcloud:\n    domain: cloud.velo.org\n    storageGb: 50\n    apps: [polls, calendar, forms]\n"),
      prod,
    );
    expect(plan.offers).toEqual([
      {
        kind: "nextcloud",
        field: "nextcloud",
        hostname: "cloud.velo.org",
        storageGb: 50,
        apps: ["calendar", "forms", "polls"],
        version: NEXTCLOUD,
      },
    ]);
  });

  it("accounting with a Paheko newsletter is one Paheko serving both", () => {
    const plan = expandTenant(
      withServices("  accounting:\n    domain: compta.velo.org\n  newsletter:\n    engine: paheko\n    subscribers: 500\n"),
      prod,
    );
    expect(plan.offers).toEqual([
      {
        kind: "paheko",
        field: "accounting",
        hostname: "compta.velo.org",
        storageGb: catalog.offers.accounting.storageGb,
        accounting: true,
        newsletter: true,
        subscribers: 500,
        version: PAHEKO,
      },
    ]);
    expect(offerFields(plan.offers[0]!)).toEqual(["accounting", "newsletter"]);
  });

  it("accounting alone is a Paheko without newsletter", () => {
    const plan = expandTenant(withServices("  accounting:\n    domain: compta.velo.org\n"), prod);
    expect(plan.offers).toEqual([
      {
        kind: "paheko",
        field: "accounting",
        hostname: "compta.velo.org",
        storageGb: catalog.offers.accounting.storageGb,
        accounting: true,
        newsletter: false,
        version: PAHEKO,
      },
    ]);
    expect(offerFields(plan.offers[0]!)).toEqual(["accounting"]);
  });

  it("a Paheko newsletter without accounting is a Paheko on the newsletter's domain", () => {
    const plan = expandTenant(withServices("  newsletter:\n    engine: paheko\n    domain: lettre.velo.org\n    subscribers: 100\n"), prod);
    expect(plan.offers).toEqual([
      {
        kind: "paheko",
        field: "newsletter",
        hostname: "lettre.velo.org",
        storageGb: catalog.offers.accounting.storageGb,
        accounting: false,
        newsletter: true,
        subscribers: 100,
        version: PAHEKO,
      },
    ]);
    expect(offerFields(plan.offers[0]!)).toEqual(["newsletter"]);
  });

  it("a Listmonk newsletter is a Listmonk beside the accounting Paheko, never a second Paheko", () => {
    const plan = expandTenant(
      withServices(
        "  accounting:\n    domain: compta.velo.org\n  newsletter:\n    engine: listmonk\n    domain: lettre.velo.org\n    subscribers: 2000\n    tracking: true\n",
      ),
      prod,
    );
    expect(kinds(plan.offers)).toEqual(["paheko", "listmonk"]);
    expect(plan.offers[0]).toMatchObject({ kind: "paheko", accounting: true, newsletter: false });
    expect(plan.offers[1]).toEqual({
      kind: "listmonk",
      field: "newsletter",
      hostname: "lettre.velo.org",
      subscribers: 2000,
      tracking: true,
      version: LISTMONK,
    });
  });

  it("tracking defaults to off", () => {
    const plan = expandTenant(
      withServices("  newsletter:\n    engine: listmonk\n    domain: lettre.velo.org\n    subscribers: 100\n"),
      prod,
    );
    expect(plan.offers).toEqual([
      { kind: "listmonk", field: "newsletter", hostname: "lettre.velo.org", subscribers: 100, tracking: false, version: LISTMONK },
    ]);
  });

  it("a video channel's owner defaults to the first admin in file order", () => {
    const plan = expandTenant(withServices("  video:\n    channel: velo\n    storageGb: 10\n"), prod);
    expect(plan.offers).toEqual([{ kind: "video", field: "video", channel: "velo", owner: "bruno", storageGb: 10, live: false }]);
  });

  it("an explicit video owner is kept, and live too", () => {
    const plan = expandTenant(withServices("  video:\n    channel: velo\n    owner: chloe\n    storageGb: 50\n    live: true\n"), prod);
    expect(plan.offers).toEqual([{ kind: "video", field: "video", channel: "velo", owner: "chloe", storageGb: 50, live: true }]);
  });

  it("every offer at once, in a stable order", () => {
    const plan = expandTenant(
      withServices(`  video:
    channel: velo
    storageGb: 10
  newsletter:
    engine: listmonk
    domain: lettre.velo.org
    subscribers: 500
  accounting:
    domain: compta.velo.org
  nextcloud:
    domain: cloud.velo.org
    storageGb: 20
  website:
    engine: static
    domains: [velo.org]
    storageGb: 5
`),
      prod,
    );
    expect(kinds(plan.offers)).toEqual(["static-site", "nextcloud", "paheko", "listmonk", "video"]);
    expect(plan.offers.flatMap(offerFields)).toEqual(["website", "nextcloud", "accounting", "newsletter", "video"]);
  });
});

describe("versions", () => {
  /** The catalog with other defaults, so a test sees where the version comes from. */
  const older: ExpandContext = {
    ...prod,
    catalog: {
      ...catalog,
      offers: {
        ...catalog.offers,
        website: { ...catalog.offers.website, versions: { available: ["6.0.0", WORDPRESS], default: "6.0.0" } },
        nextcloud: { ...catalog.offers.nextcloud, versions: { available: ["1.0.0", NEXTCLOUD], default: "1.0.0" } },
        accounting: { ...catalog.offers.accounting, versions: { available: ["0.9.0", PAHEKO], default: "0.9.0" } },
        newsletter: { ...catalog.offers.newsletter, versions: { available: ["0.1.0", LISTMONK], default: "0.1.0" } },
      },
    },
  };
  const versions = (plan: { offers: OfferPlan[] }) => plan.offers.map((o) => [o.kind, "version" in o ? o.version : null]);
  const services = (pins: { website?: string; nextcloud?: string; accounting?: string; newsletter?: string }) =>
    withServices(
      [
        `  website:\n    engine: wordpress\n    domains: [velo.org]\n    storageGb: 5\n`,
        pins.website ? `    version: "${pins.website}"\n` : "",
        `  nextcloud:\n    domain: cloud.velo.org\n    storageGb: 20\n`,
        pins.nextcloud ? `    version: "${pins.nextcloud}"\n` : "",
        `  accounting:\n    domain: compta.velo.org\n`,
        pins.accounting ? `    version: "${pins.accounting}"\n` : "",
        `  newsletter:\n    engine: listmonk\n    domain: lettre.velo.org\n    subscribers: 100\n`,
        pins.newsletter ? `    version: "${pins.newsletter}"\n` : "",
      ].join(""),
    );

  it("without a pin, each offer that runs an app carries the catalog's default", () => {
    expect(versions(expandTenant(services({}), prod))).toEqual([
      ["wordpress", WORDPRESS],
      ["nextcloud", NEXTCLOUD],
      ["paheko", PAHEKO],
      ["listmonk", LISTMONK],
    ]);
    expect(versions(expandTenant(services({}), older))).toEqual([
      ["wordpress", "6.0.0"],
      ["nextcloud", "1.0.0"],
      ["paheko", "0.9.0"],
      ["listmonk", "0.1.0"],
    ]);
  });

  it("a pin wins over the default, offer by offer", () => {
    const pinned = services({ website: WORDPRESS, nextcloud: NEXTCLOUD, accounting: PAHEKO, newsletter: LISTMONK });
    expect(versions(expandTenant(pinned, older))).toEqual([
      ["wordpress", WORDPRESS],
      ["nextcloud", NEXTCLOUD],
      ["paheko", PAHEKO],
      ["listmonk", LISTMONK],
    ]);
    expect(versions(expandTenant(services({ nextcloud: NEXTCLOUD }), older))).toEqual([
      ["wordpress", "6.0.0"],
      ["nextcloud", NEXTCLOUD],
      ["paheko", "0.9.0"],
      ["listmonk", "0.1.0"],
    ]);
  });

  it("a Paheko newsletter runs at accounting's pin, or the default Paheko without accounting; a static site has none", () => {
    const both = withServices(
      `  accounting:\n    domain: compta.velo.org\n    version: "${PAHEKO}"\n  newsletter:\n    engine: paheko\n    subscribers: 100\n`,
    );
    expect(versions(expandTenant(both, older))).toEqual([["paheko", PAHEKO]]);
    const alone = withServices("  newsletter:\n    engine: paheko\n    domain: lettre.velo.org\n    subscribers: 100\n");
    expect(versions(expandTenant(alone, older))).toEqual([["paheko", "0.9.0"]]);
    const site = withServices("  website:\n    engine: static\n    domains: [velo.org]\n    storageGb: 5\n");
    expect(expandTenant(site, older).offers[0]).not.toHaveProperty("version");
  });
});

describe("environments", () => {
  const all = withServices(`  website:
    engine: wordpress
    domains: [velo.org, www.velo.org]
    storageGb: 5
  nextcloud:
    domain: cloud.velo.org
    storageGb: 20
  accounting:
    domain: compta.velo.org
  newsletter:
    engine: listmonk
    domain: lettre.velo.org
    subscribers: 100
  video:
    channel: velo
    storageGb: 10
`);

  it("staging serves every tenant hostname under the staging suffix, never the real name", () => {
    const plan = expandTenant(all, staging);
    const hostnames = plan.offers.flatMap((o) => ("hostnames" in o ? o.hostnames : "hostname" in o ? [o.hostname] : []));
    expect(hostnames).toEqual([
      "velo.org.staging.alacarte.example.org",
      "www.velo.org.staging.alacarte.example.org",
      "cloud.velo.org.staging.alacarte.example.org",
      "compta.velo.org.staging.alacarte.example.org",
      "lettre.velo.org.staging.alacarte.example.org",
    ]);
    // A channel name is no hostname.
    expect(plan.offers.find((o) => o.kind === "video")).toMatchObject({ channel: "velo" });
  });

  it("production serves the real names, and the two differ only in hostnames", () => {
    const real = expandTenant(all, prod);
    const staged = expandTenant(all, staging);
    expect(real.offers[0]).toMatchObject({ hostnames: ["velo.org", "www.velo.org"] });
    const strip = (s: string) => s.replace(".staging.alacarte.example.org", "");
    expect(JSON.parse(JSON.stringify(staged), (_k, v) => (typeof v === "string" ? strip(v) : v))).toEqual(real);
  });
});

describe("mail and members", () => {
  const mail = tenant(`${head}mail:
  domains:
    - domain: velo.org
      mailboxes:
        - address: contact@velo.org
          quotaGb: 2
          sharedWith: [chloe, alice]
        - address: alice@velo.org
          owner: alice
          quotaGb: 5
      redirections:
        - from: bureau@velo.org
          to: [bruno@velo.org, alice@velo.org]
    - domain: lautre.example.org
      mailboxes:
        - address: velo@lautre.example.org
          quotaGb: 1
`);

  it("flags the platform's shared mail domains", () => {
    const plan = expandTenant(mail, prod);
    expect(plan.mailDomains.map((d) => [d.domain, d.shared])).toEqual([
      ["velo.org", false],
      ["lautre.example.org", true],
    ]);
    expect(expandTenant(mail, { catalog, sharedMailDomains: [] }).mailDomains.every((d) => !d.shared)).toBe(true);
  });

  it("keeps mailboxes and redirections, sorts sharers, leaves out an absent owner", () => {
    const [own] = expandTenant(mail, prod).mailDomains;
    expect(own!.mailboxes).toEqual([
      { address: "contact@velo.org", quotaGb: 2, sharedWith: ["alice", "chloe"] },
      { address: "alice@velo.org", quotaGb: 5, sharedWith: [], owner: "alice" },
    ]);
    expect("owner" in own!.mailboxes[0]!).toBe(false);
    expect(own!.redirections).toEqual([{ from: "bureau@velo.org", to: ["bruno@velo.org", "alice@velo.org"] }]);
  });

  it("mail domains are not renamed in staging (only hostnames are)", () => {
    expect(expandTenant(mail, staging).mailDomains.map((d) => d.domain)).toEqual(["velo.org", "lautre.example.org"]);
  });

  it("sorts members by username, with sorted access, and leaves out emails and names", () => {
    expect(expandTenant(mail, prod).members).toEqual([
      { username: "alice", admin: true, access: [] },
      { username: "bruno", admin: true, access: [] },
      { username: "chloe", admin: false, access: ["git", "nextcloud"] },
    ]);
    expect(JSON.stringify(expandTenant(mail, prod))).not.toMatch(/"email"|"name"/);
  });

  it("is pure: the tenant is not changed and the same input gives the same plan", () => {
    const before = structuredClone(mail);
    const first = expandTenant(mail, staging);
    first.members.reverse();
    first.mailDomains[0]!.mailboxes[0]!.sharedWith.push("zoe");
    expect(mail).toEqual(before);
    expect(expandTenant(mail, staging)).toEqual(expandTenant(structuredClone(mail), staging));
  });
});

describe("the example tenants", () => {
  const files = fs
    .readdirSync(TENANTS)
    .filter((f) => f.endsWith(".yaml"))
    .sort();

  it("exist", () => {
    expect(files.length).toBeGreaterThan(0);
  });

  for (const file of files) {
    it(`${file} expands as recorded`, () => {
      const t = tenant(fs.readFileSync(path.join(TENANTS, file), "utf8"));
      expect({ prod: expandTenant(t, prod), staging: expandTenant(t, staging) }).toMatchSnapshot();
    });
  }
});
