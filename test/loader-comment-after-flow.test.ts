/**
 * A `#` with no white space before it, right after a flow collection or a quoted scalar: YAML 1.2
 * wants white space before a comment, and the positioned parser refuses the file, while js-yaml
 * reads a comment. The fast path must leave such a file to the positioned path, so that both
 * paths agree (found by the fast path's property test on mutated example files).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { loadTenantFast, loadTenantText } from "../infra/contract/load";

const example = fs.readFileSync(path.join(__dirname, "..", "tenants", "amis-du-velo.yaml"), "utf8");

describe("a comment glued to a closing bracket, brace or quote", () => {
  for (const [what, from, to] of [
    ["bracket", "domains: [amisduvelo.org, www.amisduvelo.org]", "domains: [amisduvelo.org, www.amisduvelo.org]#"],
    ["quote", "name: Les Amis du Vélo", 'name: "Les Amis du Vélo"#'],
  ] as const) {
    it(`after a ${what}: the fast path steps aside, the positioned path refuses it at the #`, () => {
      const text = example.replace(from, to);
      expect(text).not.toBe(example);
      expect(loadTenantFast("tenants/amis-du-velo.yaml", text)).toBeUndefined();
      const loaded = loadTenantText("tenants/amis-du-velo.yaml", text);
      expect(loaded.tenant).toBeUndefined();
      expect(loaded.problems.map((p) => `${p.field}: ${p.message}`)).toEqual([
        "(yaml): YAML syntax: Comments must be separated from other tokens by white space characters",
      ]);
    });
  }

  it("still takes the fast path for a clean file", () => {
    expect(loadTenantFast("tenants/amis-du-velo.yaml", example)).toBeDefined();
  });
});
