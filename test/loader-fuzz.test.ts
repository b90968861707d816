/**
 * Property-based tests of the tenant-file loader: generated tenants (valid-ish, built from the
 * contract), serialized and mutated, never make the loader, the rules, the expansion or the quote
 * throw, and every problem is located; hostile YAML is refused quickly, naming the file.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { stringify } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { mutatedFile, mutatedTenantFile, tenantObject } from "./helpers/tenant-arbitraries";
import { hostileYaml } from "./helpers/hostile-yaml";
import { loadCatalog } from "../infra/catalog/catalog";
import { expandTenant } from "../infra/model/expand";
import { quoteTenant } from "../infra/catalog/pricing";
import { crossFileRules } from "../infra/contract/cross-rules";
import {
  fileStem,
  formatProblem,
  loadTenantText,
  locateIssues,
  MAX_FILE_BYTES,
  type LoadedTenant,
  type Problem,
} from "../infra/contract/load";
import { tenantRules } from "../infra/contract/rules";
import { hasErrors } from "../infra/contract/validate";

const catalog = loadCatalog();
const SHARED = ["lautre.example.org"];
const TODAY = "2026-06-01";
const TENANTS = path.resolve(__dirname, "../tenants");

/** The example tenants, loaded once: the cross-file rules run against them too. */
const examples: LoadedTenant[] = fs
  .readdirSync(TENANTS)
  .filter((f) => f.endsWith(".yaml"))
  .sort()
  .map((f) => {
    const result = loadTenantText(`tenants/${f}`, fs.readFileSync(path.join(TENANTS, f)));
    if (!result.tenant) throw new Error(`example tenant ${f} does not load: ${result.problems.map(formatProblem).join("; ")}`);
    return result.tenant;
  });

// ---------------------------------------------------------------------------------------------

const stats = { inputs: 0, rejected: 0, invalid: 0, valid: 0 };

function expectLocated(problems: readonly Problem[], file: string) {
  for (const p of problems) {
    const where = formatProblem(p);
    expect(p.file, where).toBe(file);
    expect(Number.isInteger(p.line) && p.line >= 1, where).toBe(true);
    expect(Number.isInteger(p.col) && p.col >= 1, where).toBe(true);
    expect(typeof p.field === "string" && p.field.length > 0, where).toBe(true);
    expect(p.message.length, where).toBeGreaterThan(0);
    expect(["error", "warning"]).toContain(p.severity);
  }
}

/** The whole path of a file through validate and the plan; returns how far it went. */
function pipeline(file: string, bytes: Uint8Array | string): "rejected" | "invalid" | "valid" {
  stats.inputs++;
  const result = loadTenantText(file, bytes);
  expectLocated(result.problems, file);
  if (!result.tenant) {
    expect(result.problems.length).toBeGreaterThan(0);
    stats.rejected++;
    return "rejected";
  }
  expect(result.problems).toEqual([]);
  const tenant = result.tenant.tenant;
  const problems = locateIssues(
    result.tenant,
    tenantRules(tenant, { catalog, fileStem: fileStem(file), sharedMailDomains: SHARED, today: TODAY }),
  );
  expectLocated(problems, file);
  const cross = crossFileRules([...examples, result.tenant], SHARED).filter((p) => p.file === file);
  expectLocated(cross, file);
  if (hasErrors(problems)) {
    stats.invalid++;
    return "invalid";
  }
  const plan = expandTenant(tenant, { catalog, sharedMailDomains: SHARED, tenantHostSuffix: "staging.example.org" });
  expect(plan.slug).toBe(tenant.slug);
  const quote = quoteTenant(tenant, catalog);
  expect(Number.isFinite(quote.totalEur) && quote.totalEur >= 0).toBe(true);
  stats.valid++;
  return "valid";
}

afterAll(() => {
  console.log(
    `loader-fuzz: ${stats.inputs} inputs tried (${stats.valid} valid, ${stats.invalid} loaded with rule errors, ${stats.rejected} rejected by the loader)`,
  );
});

describe("generated tenant files", () => {
  it("unmutated generated tenants load, and the valid ones expand and quote", () => {
    const outcomes = { rejected: 0, invalid: 0, valid: 0 };
    fc.assert(
      fc.property(tenantObject, (data) => {
        outcomes[pipeline(`tenants/${data.slug}.yaml`, stringify(data))]++;
      }),
      { numRuns: 1200 },
    );
    // The generator must reach the expansion often, or this property proves little.
    expect(outcomes.valid).toBeGreaterThan(120);
  });

  it("mutated tenants never make the loader, rules, expansion or quote throw", () => {
    fc.assert(
      fc.property(mutatedTenantFile, ({ file, bytes }) => {
        pipeline(file, bytes);
      }),
      { numRuns: 3000 },
    );
  });

  it("mutated example files never make the pipeline throw", () => {
    const files = fs
      .readdirSync(TENANTS)
      .filter((f) => f.endsWith(".yaml"))
      .map((f) => fs.readFileSync(path.join(TENANTS, f)));
    fc.assert(
      fc.property(mutatedFile(files, [": ", "\n- ", "[", "{", "&a ", "*a", "!!str ", "\t", "  ", "'", '"', "#"]), ({ bytes }) => {
        pipeline("tenants/amis-du-velo.yaml", bytes);
      }),
      { numRuns: 1500 },
    );
  });
});

describe("hostile YAML", () => {
  const valid = fs.readFileSync(path.join(TENANTS, "amis-du-velo.yaml"), "utf8");
  const hostile = hostileYaml(valid);

  const cases: { name: string; input: () => Uint8Array | string; message: RegExp }[] = [
    { name: "an alias bomb (billion laughs)", input: hostile.aliasBomb, message: /alias/ },
    { name: "an alias bomb inside a valid tenant", input: hostile.aliasBombInsideValid, message: /alias/ },
    { name: "10,000 nested [", input: hostile.nestedFlowLists, message: /nesting deeper than/ },
    { name: "10,000 unclosed [", input: () => "[".repeat(10_000), message: /nesting deeper than/ },
    { name: "10,000 nested flow mappings", input: () => `${"{a: ".repeat(10_000)}1${"}".repeat(10_000)}`, message: /nesting deeper than/ },
    { name: "10,000 nested block sequences on one line", input: hostile.nestedBlockSequencesOnOneLine, message: /nesting deeper than/ },
    { name: "10,000 nested explicit keys", input: () => `${"? ".repeat(10_000)}x\n`, message: /nesting deeper than/ },
    {
      name: "nested block mappings as deep as 1 MiB allows",
      input: () => hostile.nestedBlockMappings(1400),
      message: /nesting deeper than/,
    },
    { name: "10,000 nested block mappings (beyond 1 MiB)", input: () => hostile.nestedBlockMappings(10_000), message: /at most \d+ bytes/ },
    { name: "deep nesting under a valid tenant's field", input: hostile.deepUnderField, message: /nesting deeper than/ },
    { name: "a huge file (> 1 MiB)", input: hostile.hugeFile, message: /at most 1048576 bytes/ },
    { name: "a huge file of one long line", input: () => `name: ${"x".repeat(MAX_FILE_BYTES + 1)}\n`, message: /at most 1048576 bytes/ },
    { name: "duplicate keys", input: hostile.duplicateKeys, message: /appears twice/ },
    {
      name: "a custom tag !!js/function",
      input: () => valid.replace("name: Les Amis du Vélo", "name: !!js/function 'function () { return 1 }'"),
      message: /tags? .*not allowed|not allowed/,
    },
    { name: "a custom tag !foo", input: hostile.customTag, message: /not allowed/ },
    {
      name: "a custom tag on a mapping",
      input: () => valid.replace("membership:", "membership: !<tag:example.com,2000:x>"),
      message: /not allowed/,
    },
    {
      name: "non-UTF-8 bytes",
      input: () => Buffer.concat([Buffer.from(valid.slice(0, 50)), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from(valid.slice(50))]),
      message: /not valid UTF-8/,
    },
    { name: "Latin-1 text", input: () => Buffer.from(valid, "latin1"), message: /not valid UTF-8/ },
    {
      name: "a list instead of a mapping",
      input: () => "- slug: amis-du-velo\n- name: x\n",
      message: /must be a mapping of fields .*not a list/,
    },
    { name: "a scalar document", input: () => "amis-du-velo\n", message: /must be a mapping of fields .*not the text "amis-du-velo"/ },
    { name: "a number document", input: () => "42\n", message: /must be a mapping of fields .*not number 42/ },
    { name: "an empty file", input: () => "", message: /is empty/ },
    { name: "a file of whitespace", input: () => "\n\n   \n", message: /is empty/ },
    { name: "a file of only comments", input: () => "# tenant to come\n# slug: amis-du-velo\n", message: /is empty/ },
    { name: "two documents", input: hostile.twoDocuments, message: /several YAML documents/ },
    { name: "a valid tenant followed by a second document", input: () => `${valid}---\nslug: other\n`, message: /several YAML documents/ },
    { name: "a document end marker followed by text", input: () => `${valid}...\nslug: other\n`, message: /./ },
    { name: "a NUL byte", input: () => valid.replace("name: Les", "name: Le\u0000s"), message: /control character U\+0000/ },
    {
      name: "an escape sequence byte",
      input: () => valid.replace("name: Les", "name: \u001b[31mLes"),
      message: /control character U\+001B/,
    },
    { name: "a merge key pulling another tenant in", input: () => `base: &b {slug: x}\n<<: *b\n${valid}`, message: /unknown field/ },
  ];

  // The deep ones run twice: a first deep file used to leave the next one to abort the process.
  for (const round of [1, 2]) {
    for (const c of cases) {
      it(`${c.name}${round === 2 ? " (again)" : ""}`, () => {
        const input = c.input();
        const file = "tenants/amis-du-velo.yaml";
        const result = loadTenantText(file, input);
        expect(result.tenant, result.problems.map(formatProblem).join("\n")).toBeUndefined();
        expect(result.problems.length).toBeGreaterThan(0);
        expectLocated(result.problems, file);
        for (const p of result.problems) expect(formatProblem(p).startsWith(`${file}:`)).toBe(true);
        expect(result.problems.map((p) => p.message).join("\n")).toMatch(c.message);
        expect(pipeline(file, input)).toBe("rejected");
        // A parser that expands hostile input runs far past this and fails; speed is the bench's.
      }, 10_000);
    }
  }

  it("a valid file of almost 1 MiB still loads (the size limit leaves room for real files)", () => {
    const redirections = Array.from(
      { length: 10_500 },
      (_, i) => `        - from: r${i}@amisduvelo.org\n          to: ["x${i}@example.net", 'y${i}@example.net']\n`,
    ).join("");
    const big = valid.replace("        - from: bureau@amisduvelo.org\n", `${redirections}        - from: bureau@amisduvelo.org\n`);
    expect(big.length).toBeGreaterThan(900_000);
    expect(big.length).toBeLessThan(MAX_FILE_BYTES);
    // About 0.8 s on an idle machine; a parse that blows up hits the test's timeout. Speed is the bench's.
    expect(loadTenantText("tenants/amis-du-velo.yaml", big).tenant).toBeDefined();
    expect(pipeline("tenants/amis-du-velo.yaml", big)).toBe("valid");
  });

  it("nesting a hand-written file may use (flow lists in block lists) still loads", () => {
    expect(pipeline("tenants/amis-du-velo.yaml", valid)).toBe("valid");
    const flowy = valid
      .replace(
        "apps: [forms, polls, calendar, office]",
        "apps: [forms, polls, calendar, office] # [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n",
      )
      .replace("name: Les Amis du Vélo", "name: 'Les [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[ Amis'");
    expect(pipeline("tenants/amis-du-velo.yaml", flowy)).toBe("valid");
  });
});
