/**
 * What a tenant file must satisfy where it is deployed: staging serves every hostname production
 * accepts (under its suffix), and a mail domain's fragment file name fits a file name.
 */
import { describe, expect, it } from "vitest";
import { loadCatalog } from "../infra/catalog/catalog";
import { tenantRules } from "../infra/contract/rules";
import { tenantSchema } from "../infra/contract/tenant";
import { hostnameProblem } from "../infra/contract/names";
import { expandTenant } from "../infra/model/expand";
import { environmentHostname } from "../infra/model/naming";
import { readPlatformConfig } from "../infra/model/platform-config";
import { staticSitePlan } from "../components/tenant/static-site-config";

const catalog = loadCatalog();
const label = (n: number, c = "a") => c.repeat(n);
/** A hostname of exactly `length` characters, in labels of at most 63. */
function hostname(length: number): string {
  const labels: string[] = [];
  let left = length - 4; // ".org"
  while (left > 0) {
    const n = Math.min(63, left - (labels.length ? 1 : 0));
    labels.push(label(n, "b"));
    left -= n + (labels.length > 1 ? 1 : 0);
  }
  return `${labels.join(".")}.org`;
}

function tenant(extra: Record<string, unknown>) {
  return tenantSchema.parse({
    slug: "t",
    name: "T",
    type: "collective",
    contact: "a@t.example.org",
    members: [{ username: "alice", email: "a@t.example.org", admin: true }],
    ...extra,
  });
}

describe("where a tenant is deployed", () => {
  it("serves every hostname production accepts under staging's suffix, a too long one under its digest", () => {
    const suffix = readPlatformConfig("staging").tenantHostSuffix!;
    const fits = hostname(253 - suffix.length - 1);
    const over = hostname(253);
    expect(environmentHostname(fits, suffix)).toBe(`${fits}.${suffix}`);
    const served = environmentHostname(over, suffix);
    expect(served).toMatch(new RegExp(`^h-[0-9a-f]{16}\\.${suffix.replace(/\./g, "\\.")}$`));
    expect(hostnameProblem(served)).toBeUndefined();
    expect(environmentHostname(hostname(252), suffix)).not.toBe(served);
    expect(environmentHostname(over, undefined)).toBe(over);
  });

  it("refuses a mail domain whose fragment file name would pass 255 bytes", () => {
    const issues = (domain: string) =>
      tenantRules(tenant({ mail: { domains: [{ domain }] } }), {
        catalog,
        fileStem: "t",
        sharedMailDomains: [],
        today: "2026-12-01",
      }).filter((i) => i.severity === "error");
    // "t--" + domain + ".mail": 8 bytes around the domain.
    expect(issues(hostname(247))).toEqual([]);
    expect(issues(hostname(248))).toEqual([
      {
        path: ["mail", "domains", 0, "domain"],
        severity: "error",
        message: "is too long: its fragment file on the mail host, 256 bytes with the slug, would exceed the 255 a file name may have",
      },
    ]);
  });

  it("refuses a static site's domain longer than the object store's aliases, and the component agrees", () => {
    const site = (engine: "static" | "wordpress", domain: string) =>
      tenantRules(tenant({ services: { website: { engine, domains: [domain], storageGb: 5 } } }), {
        catalog,
        fileStem: "t",
        sharedMailDomains: [],
        today: "2026-12-01",
      }).filter((i) => i.severity === "error");
    const longest = hostname(63);
    const over = hostname(64);
    expect(site("static", longest)).toEqual([]);
    expect(() => staticSitePlan("t", [longest], 5)).not.toThrow();
    expect(site("static", over)).toEqual([
      {
        path: ["services", "website", "domains", 0],
        severity: "error",
        message: "is 64 characters: a static site's domain becomes an alias of the object store (Garage), which takes at most 63",
      },
    ]);
    expect(() => staticSitePlan("t", [over], 5)).toThrow(/is 64 characters/);
    // WordPress serves its domains itself: no alias, no limit but a hostname's.
    expect(site("wordpress", over)).toEqual([]);
  });

  it("serves a static site's domains under staging's suffix within the object store's alias limit", () => {
    const suffix = readPlatformConfig("staging").tenantHostSuffix!;
    const fits = hostname(63 - suffix.length - 1);
    const domains = [fits, hostname(63), "www.jardins.xn--p1ai"];
    const plan = expandTenant(tenant({ services: { website: { engine: "static", domains, storageGb: 5 } } }), {
      catalog,
      sharedMailDomains: [],
      tenantHostSuffix: suffix,
    });
    const served = plan.offers[0]!.kind === "static-site" ? plan.offers[0]!.hostnames : [];
    expect(served[0]).toBe(`${fits}.${suffix}`);
    expect(served[1]).toMatch(/^h-[0-9a-f]{16}\./);
    expect(served.every((h) => h.length <= 63)).toBe(true);
    expect(() => staticSitePlan("t", served, 5)).not.toThrow();
    // A WordPress site keeps the hostname rule's 253.
    expect(environmentHostname(hostname(63), suffix)).toBe(`${hostname(63)}.${suffix}`);
    expect(() => environmentHostname(hostname(20), `${"x".repeat(50)}.org`, 63)).toThrow(
      /leaves no room for a name of at most 63 characters/,
    );
  });
});
