/**
 * The static site's provisioning script (garageSiteScript, components/tenant/static-site-config.ts)
 * run with dash, curl and jq against the Garage fake (test/helpers/garage-fake.ts), which follows
 * Garage's own rules: a fresh Garage holds no bucket, aliases are refused the way Garage refuses
 * them, and the state can be compared before and after a run.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { staticSitePlan } from "../../components/tenant/static-site-config";
import { needTools } from "../helpers/debian-tools";
import { provisionSite, runScript } from "../helpers/garage-clients";
import { type GarageFake, type GarageState, snapshotState, startGarageFake } from "../helpers/garage-fake";

const TOKEN = "site-test-admin-token";

/** The script's standard output: one JSON line with the upload key (and possibly more, e.g. the bucket id). */
function parseOutput(stdout: string): { accessKeyId: string; secretAccessKey: string; bucketId?: string } {
  const lines = stdout.split("\n").filter((l) => l !== "");
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!);
}

const bucketByAlias = (state: GarageState, alias: string) => [...state.buckets.values()].find((b) => b.globalAliases.includes(alias));

/** The script of a site, run once against the fake. */
function provision(fake: GarageFake, slug: string, domains: string[], gb: number, token = TOKEN) {
  return provisionSite(fake, token, slug, domains, gb);
}

describe("garageSiteScript against the Garage fake", () => {
  needTools("dash", "curl", "jq");
  let fake: GarageFake;
  beforeEach(async () => {
    fake = await startGarageFake({ adminToken: TOKEN });
  });
  afterEach(() => fake.stop());

  it("on a fresh Garage makes the bucket, its website settings, quota, one global alias per domain and the upload key", async () => {
    const result = await provision(fake, "acme", ["www.acme.org", "acme.org"], 5);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const out = parseOutput(result.stdout);
    expect(out.accessKeyId).toMatch(/^GK[0-9a-f]{24}$/);
    expect(out.secretAccessKey).toMatch(/^[0-9a-f]{64}$/);

    expect(fake.state.buckets.size).toBe(1);
    const bucket = bucketByAlias(fake.state, "site-acme")!;
    if (out.bucketId !== undefined) expect(out.bucketId).toBe(bucket.id);
    expect(bucket.globalAliases).toEqual(["acme.org", "site-acme", "www.acme.org"]);
    expect(bucket.localAliases).toEqual([]);
    expect(bucket.website).toEqual({ indexDocument: "index.html", errorDocument: "404.html" });
    expect(bucket.quotas).toEqual({ maxSize: 5 * 2 ** 30, maxObjects: null });
    // The upload key: one, named after the site, read + write (not owner) on this bucket only.
    expect([...fake.state.keys.values()].map((k) => k.name)).toEqual(["site-acme"]);
    expect(Object.fromEntries(bucket.authorizedKeys)).toEqual({ [out.accessKeyId]: { read: true, write: true, owner: false } });
    expect(fake.state.keys.get(out.accessKeyId)!.secret).toBe(out.secretAccessKey);
    expect(fake.state.keys.get(out.accessKeyId)!.allowCreateBucket).toBe(false);
  });

  it("a second run changes nothing and prints the same key", async () => {
    const first = await provision(fake, "acme", ["www.acme.org", "acme.org"], 5);
    expect(first.code).toBe(0);
    const before = snapshotState(fake.state);
    const second = await provision(fake, "acme", ["acme.org", "www.acme.org"], 5);
    expect(second.stderr).toBe("");
    expect(second.code).toBe(0);
    expect(parseOutput(second.stdout)).toEqual(parseOutput(first.stdout));
    expect(snapshotState(fake.state)).toEqual(before);
  });

  it("follows a change of domains and tier: aliases and quota change, the bucket, its key and its files stay", async () => {
    const first = parseOutput((await provision(fake, "acme", ["www.acme.org", "acme.org"], 5)).stdout);
    const bucket = bucketByAlias(fake.state, "site-acme")!;
    const bucketId = bucket.id;
    bucket.objects.set("index.html", { body: Buffer.from("<h1>acme</h1>"), etag: "e", headers: {}, lastModified: new Date() });

    const changed = await provision(fake, "acme", ["www.acme.org", "acme.fr"], 20);
    expect(changed.stderr).toBe("");
    expect(changed.code).toBe(0);
    expect(parseOutput(changed.stdout)).toEqual(first);
    expect([...fake.state.buckets.keys()]).toEqual([bucketId]);
    const after = fake.state.buckets.get(bucketId)!;
    expect(after.globalAliases).toEqual(["acme.fr", "site-acme", "www.acme.org"]);
    expect(after.quotas).toEqual({ maxSize: 20 * 2 ** 30, maxObjects: null });
    expect(after.website).toEqual({ indexDocument: "index.html", errorDocument: "404.html" });
    expect([...after.objects.keys()]).toEqual(["index.html"]);
    expect([...fake.state.keys.keys()]).toEqual([first.accessKeyId]);
  });

  it("keeps two tenants apart: each key has rights on its own bucket only", async () => {
    const acme = parseOutput((await provision(fake, "acme", ["acme.org"], 5)).stdout);
    const other = parseOutput((await provision(fake, "other", ["other.org"], 1)).stdout);
    expect(acme.accessKeyId).not.toBe(other.accessKeyId);
    const acmeBucket = bucketByAlias(fake.state, "site-acme")!;
    const otherBucket = bucketByAlias(fake.state, "site-other")!;
    expect([...acmeBucket.authorizedKeys.keys()]).toEqual([acme.accessKeyId]);
    expect([...otherBucket.authorizedKeys.keys()]).toEqual([other.accessKeyId]);
  });

  it("fails, printing no key, when a domain is already the alias of another bucket (Garage: 400)", async () => {
    expect((await provision(fake, "other", ["shared.org"], 1)).code).toBe(0);
    const result = await provision(fake, "acme", ["acme.org", "shared.org"], 5);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/Garage admin API: [\s\S]*already exists and points to different bucket/);
    expect(bucketByAlias(fake.state, "shared.org")!.globalAliases).toContain("site-other");
  });

  it("gives an internationalised (xn--) domain its alias only where allow_punycode is set, as the platform's garage.toml does", async () => {
    const refused = await provision(fake, "velo", ["xn--vlo-bpa.example", "velo.example"], 1);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout).toBe("");
    const puny = await startGarageFake({ adminToken: TOKEN, allowPunycode: true });
    try {
      const ok = await provision(puny, "velo", ["xn--vlo-bpa.example", "velo.example"], 1);
      expect(ok.stderr).toBe("");
      expect(ok.code).toBe(0);
      expect(bucketByAlias(puny.state, "site-velo")!.globalAliases).toEqual(["site-velo", "velo.example", "xn--vlo-bpa.example"]);
    } finally {
      await puny.stop();
    }
  });

  it("fails without printing a key when the token is wrong (Garage: 403)", async () => {
    const result = await provision(fake, "acme", ["acme.org"], 5, "wrong-token");
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe("");
    expect(fake.state.buckets.size).toBe(0);
    expect(fake.state.keys.size).toBe(0);
  });

  it("tells the script on main before the admin-API rewrite from a working one: its first lookup fails on a fresh Garage", async () => {
    // The opening of garageSiteScript at 1ad8ce7, where the bucket was expected to exist already
    // (made through S3, which gives it only a local alias): GetBucketInfo?globalAlias= answers 404
    // NoSuchBucket on a fresh Garage, curl --fail-with-body fails and set -e stops the script.
    const plan = staticSitePlan("acme", ["acme.org"], 5);
    const opening = `set -eu
IFS= read -r TOKEN
umask 077
HDR=$(mktemp)
trap 'rm -f "$HDR"' EXIT
printf 'Authorization: Bearer %s\\nContent-Type: application/json\\n' "$TOKEN" > "$HDR"
unset TOKEN
api() { curl -sS --fail-with-body -H @"$HDR" "$@"; }
API='${fake.adminUrl}'
BUCKET='${plan.bucketName}'
BUCKET_ID=$(api "$API/v2/GetBucketInfo?globalAlias=$BUCKET" | jq -er '.id')
echo "found $BUCKET_ID"
`;
    const result = await runScript(opening, `${TOKEN}\n`);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/404/);
    expect(fake.state.adminCalls).toEqual([`GET /v2/GetBucketInfo?globalAlias=${plan.bucketName}`]);
  });
});
