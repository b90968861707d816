import { describe, expect, it } from "vitest";
import { garageSiteScript, parseUploadKey, staticSitePlan } from "../../components/tenant/static-site-config";

describe("staticSitePlan", () => {
  it("derives names from the slug and the quota in 2^30-byte GB", () => {
    expect(staticSitePlan("amis-du-velo", ["www.AmisDuVelo.org", "amisduvelo.org", "amisduvelo.org"], 5)).toEqual({
      bucketName: "site-amis-du-velo",
      quotaBytes: 5 * 1024 ** 3,
      keyName: "site-amis-du-velo",
      domains: ["amisduvelo.org", "www.amisduvelo.org"],
      routeName: "amis-du-velo-website",
      urls: ["https://amisduvelo.org/", "https://www.amisduvelo.org/"],
    });
  });

  it("keeps the bucket name when the domains or the tier change", () => {
    expect(staticSitePlan("acme", ["a.org"], 5).bucketName).toBe(staticSitePlan("acme", ["b.org"], 20).bucketName);
  });

  it.each([
    ["Acme", ["a.org"], 5, /invalid tenant slug/],
    ["acme", [], 5, /at least one domain/],
    ["acme", ["not a domain"], 5, /invalid domain/],
    ["acme", ["a.org'; rm -rf /"], 5, /invalid domain/],
    ["acme", ["a.org"], 0, /positive whole number/],
    ["acme", ["a.org"], 2.5, /positive whole number/],
  ])("rejects %s %j %d", (slug, domains, gb, error) => {
    expect(() => staticSitePlan(slug as string, domains as string[], gb as number)).toThrow(error as RegExp);
  });
});

describe("parseUploadKey", () => {
  it("reads the script output and tolerates unknown output", () => {
    expect(parseUploadKey('{"accessKeyId":"GK1","secretAccessKey":"s"}')).toEqual({ accessKeyId: "GK1", secretAccessKey: "s" });
    expect(parseUploadKey("{}")).toEqual({ accessKeyId: "", secretAccessKey: "" });
    expect(parseUploadKey(undefined)).toEqual({ accessKeyId: "", secretAccessKey: "" });
  });
});

describe("garageSiteScript", () => {
  const plan = staticSitePlan("acme", ["www.acme.org", "acme.org"], 5);

  it("holds no secret: the admin token comes on stdin and goes to curl through a mode-0600 header file", () => {
    const script = garageSiteScript(plan);
    expect(script).toMatch(/^set -eu\nIFS= read -r TOKEN\numask 077\n/);
    expect(script).toContain('-H @"$HDR"');
    expect(script).not.toMatch(/Bearer [A-Za-z0-9]/);
  });

  it("makes the bucket through the admin API when its global alias is missing, and never deletes one", () => {
    const script = garageSiteScript(plan);
    expect(script).toContain('404) BUCKET_ID=$(api -X POST "$API/v2/CreateBucket"');
    expect(script).not.toMatch(/DeleteBucket|DeleteKey|DenyBucketKey/);
  });
});
