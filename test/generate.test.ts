import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { distribute, generateTenantSet, prng, writeTenantSet } from "../bench/generate";
import { readPlatformConfig } from "../infra/model/platform-config";
import { validateTenants } from "../infra/contract/validate";
import { loadCatalog } from "../infra/catalog/catalog";

const root = path.resolve(__dirname, "..");
const sharedMailDomains = readPlatformConfig("prod").sharedMailDomains;
const dirs: string[] = [];
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "alacarte-generate-"));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe("the seeded generator", () => {
  it("is deterministic: the same seed gives the same bytes, another seed other bytes", () => {
    const a = generateTenantSet({ seed: 42, sharedMailDomains });
    const b = generateTenantSet({ seed: 42, sharedMailDomains });
    const c = generateTenantSet({ seed: 43, sharedMailDomains });
    expect([...a.files]).toEqual([...b.files]);
    expect([...a.files]).not.toEqual([...c.files]);
    expect(prng(1)()).toBe(prng(1)());
    expect(prng(1)()).not.toBe(prng(2)());
  });

  it("distributes an exact total in proportion to weights", () => {
    expect(distribute(10, [1, 1, 2])).toEqual([3, 2, 5]);
    expect(distribute(7, [0.3, 5, 1, 1]).reduce((x, y) => x + y, 0)).toBe(7);
    expect(distribute(0, [1, 2])).toEqual([0, 0]);
  });

  it("matches the association today at scale 1: 300 files, 40 collectives, 50 mail domains, 360 mailboxes, 1,600 redirections, every offer", () => {
    const { summary, kinds } = generateTenantSet({ seed: 1, sharedMailDomains });
    expect(summary).toMatchObject({ tenants: 300, collectives: 40, individuals: 260, mailDomains: 50, mailboxes: 360, redirections: 1600 });
    expect(Object.keys(summary.offers).sort()).toEqual([
      "accounting",
      "newsletter:listmonk",
      "newsletter:paheko",
      "nextcloud",
      "video",
      "website:static",
      "website:wordpress",
    ]);
    expect(new Set(kinds.values()).size).toBe(4);
  });
});

describe.each([1, 10])("a generated set at scale %d", (scale) => {
  it("passes validate with no error, the cross-file rules included", () => {
    const seed = 1000 + scale;
    const set = writeTenantSet(tempDir(), { scale, seed, sharedMailDomains });
    expect(set.summary.tenants).toBe(300 * scale);
    expect(set.summary.redirections).toBe(1600 * scale);
    expect(set.summary.mailboxes).toBe(360 * scale);
    const result = validateTenants({ tenantsDir: set.tenantsDir, sharedMailDomains, catalog: loadCatalog(), today: "2026-11-25" });
    expect(result.files).toHaveLength(300 * scale);
    expect(result.problems.filter((p) => p.severity === "error")).toEqual([]);
  });
});

describe("ALACARTE_TENANTS_DIR", () => {
  it("points the validate command at another folder of tenant files", () => {
    const set = writeTenantSet(tempDir(), { scale: 0.1, seed: 5, sharedMailDomains });
    const out = execFileSync(path.join(root, "node_modules", ".bin", "tsx"), [path.join(root, "infra", "cli", "validate.ts")], {
      cwd: root,
      env: { ...process.env, ALACARTE_TENANTS_DIR: set.tenantsDir },
      encoding: "utf8",
    });
    expect(out).toMatch(new RegExp(`^${set.summary.tenants} tenant files valid`, "m"));
  });
});
