/**
 * Rules that come from where a tenant is deployed rather than from the contract alone: a service
 * hostname must stay a hostname under every environment's suffix (staging serves
 * `<hostname>.<tenantHostSuffix>`), and a mail domain's fragment file name must fit a file name.
 */
import { describe, expect, it } from "vitest";
import { loadCatalog } from "../infra/catalog/catalog";
import { tenantRules } from "../infra/contract/rules";
import { tenantSchema } from "../infra/contract/tenant";
import { environmentHostSuffixes } from "../infra/model/platform-config";

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
    slug: "t", name: "T", type: "collective", contact: "a@t.example.org",
    members: [{ username: "alice", email: "a@t.example.org", admin: true }],
    ...extra,
  });
}

describe("rules of the environments", () => {
  it("reads staging's suffix from its settings file", () => {
    expect(environmentHostSuffixes()).toEqual(["staging.alacarte.example.org"]);
  });

  it("refuses a service hostname that staging could not serve, and accepts one that fits", () => {
    const suffix = "staging.alacarte.example.org";
    const fits = hostname(253 - suffix.length - 1);
    const over = hostname(253 - suffix.length);
    expect(fits.length).toBe(224);
    const rules = (h: string) => tenantRules(tenant({ services: { website: { engine: "static", domains: [h], storageGb: 5 } } }), {
      catalog, fileStem: "t", sharedMailDomains: [], today: "2026-12-01", hostSuffixes: [suffix],
    }).filter((i) => i.severity === "error");
    expect(rules(fits)).toEqual([]);
    expect(rules(over)).toEqual([{
      path: ["services", "website", "domains", 0], severity: "error",
      message: `is too long to be served under ${suffix} (staging serves ${over}.${suffix}, 254 characters, above the 253 a hostname may have)`,
    }]);
    // Without the environments, the rule has nothing to check.
    expect(tenantRules(tenant({ services: { website: { engine: "static", domains: [over], storageGb: 5 } } }), {
      catalog, fileStem: "t", sharedMailDomains: [], today: "2026-12-01",
    }).filter((i) => i.severity === "error")).toEqual([]);
  });

  it("refuses a mail domain whose fragment file name would pass 255 bytes", () => {
    const issues = (domain: string) => tenantRules(tenant({ mail: { domains: [{ domain }] } }), {
      catalog, fileStem: "t", sharedMailDomains: [], today: "2026-12-01",
    }).filter((i) => i.severity === "error");
    // "t--" + domain + ".mail": 8 bytes around the domain.
    expect(issues(hostname(247))).toEqual([]);
    expect(issues(hostname(248))).toEqual([{
      path: ["mail", "domains", 0, "domain"], severity: "error",
      message: "is too long: its fragment file on the mail host, 256 bytes with the slug, would exceed the 255 a file name may have",
    }]);
  });
});
