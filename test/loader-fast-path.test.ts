/**
 * The loader's fast path (js-yaml without positions, for clean plain files) against the positioned
 * path (yaml with a line counter, the reference for every message): over generated, mutated and
 * hostile tenant files, both give the same tenant data, the same located rule and cross-file
 * problems, and `loadTenantText` gives exactly the positioned path's problems.
 * The generators and mutations are those of loader-fuzz.test.ts (test/helpers/tenant-arbitraries.ts).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { stringify } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { mutatedFile, mutatedTenantFile, tenantObject } from "./helpers/tenant-arbitraries";
import { hostileYaml } from "./helpers/hostile-yaml";
import { loadCatalog } from "../infra/catalog/catalog";
import { crossFileRules } from "../infra/contract/cross-rules";
import {
  fileStem,
  formatProblem,
  loadTenantFast,
  loadTenantText,
  loadTenantTextPositioned,
  locateIssues,
  type LoadedTenant,
} from "../infra/contract/load";
import { tenantRules } from "../infra/contract/rules";

const catalog = loadCatalog();
const SHARED = ["lautre.example.org"];
const TODAY = "2026-06-01";
const TENANTS = path.resolve(__dirname, "../tenants");

const examples: LoadedTenant[] = fs
  .readdirSync(TENANTS)
  .filter((f) => f.endsWith(".yaml"))
  .sort()
  .map((f) => {
    const result = loadTenantTextPositioned(`tenants/${f}`, fs.readFileSync(path.join(TENANTS, f)));
    if (!result.tenant) throw new Error(`example tenant ${f} does not load: ${result.problems.map(formatProblem).join("; ")}`);
    return result.tenant;
  });

// ---------------------------------------------------------------------------------------------

const stats = { inputs: 0, fast: 0, positioned: 0 };

afterAll(() => {
  console.log(`loader-fast-path: ${stats.inputs} inputs (${stats.fast} took the fast path, ${stats.positioned} the positioned path)`);
});

/** Both paths agree on one input; returns whether the fast path took it. */
function agree(file: string, bytes: Uint8Array | string): boolean {
  stats.inputs++;
  const reference = loadTenantTextPositioned(file, bytes);
  const loaded = loadTenantText(file, bytes);
  expect(loaded.problems).toEqual(reference.problems);
  expect(loaded.tenant?.tenant).toEqual(reference.tenant?.tenant);
  const fast = loadTenantFast(file, bytes);
  if (!fast) {
    stats.positioned++;
    return false;
  }
  stats.fast++;
  // The fast path vouches only for files the positioned path loads without a problem.
  expect(reference.problems.map(formatProblem)).toEqual([]);
  expect(fast.problems).toEqual([]);
  expect(fast.tenant!.tenant).toEqual(reference.tenant!.tenant);
  // Rule problems, located through the lazy positions: the same text, file, line and column.
  const ctx = { catalog, fileStem: fileStem(file), sharedMailDomains: SHARED, today: TODAY };
  const rules = (t: LoadedTenant) => locateIssues(t, tenantRules(t.tenant, ctx));
  expect(rules(fast.tenant!)).toEqual(rules(reference.tenant!));
  const cross = (t: LoadedTenant) => crossFileRules([...examples, t], SHARED).filter((p) => p.file === file);
  expect(cross(fast.tenant!)).toEqual(cross(reference.tenant!));
  return true;
}

/** Hostile input must be refused quickly: a parser that expands it runs far past this (vitest fails it). */
const HOSTILE_TIMEOUT_MS = 10_000;

describe("the fast path agrees with the positioned path", () => {
  it("on generated tenant files", () => {
    let fast = 0;
    fc.assert(
      fc.property(tenantObject, (data) => {
        if (agree(`tenants/${data.slug}.yaml`, stringify(data))) fast++;
      }),
      { numRuns: 1000 },
    );
    // Most generated files are clean and plain: the fast path must take many, or this proves little.
    expect(fast).toBeGreaterThan(300);
  });

  it("on generated tenant files in other YAML styles (flow, quoted, folded, CRLF)", () => {
    const style = fc.record({
      flow: fc.constantFrom(0, 1, 2),
      quote: fc.constantFrom("PLAIN", "QUOTE_DOUBLE", "QUOTE_SINGLE"),
      width: fc.constantFrom(20, 40, 80),
      indent: fc.constantFrom(2, 4),
      crlf: fc.boolean(),
      lead: fc.constantFrom("", "# comment\n", "\n\n", "\ufeff"),
    });
    fc.assert(
      fc.property(tenantObject, style, (data, s) => {
        let text = stringify(data, {
          defaultStringType: s.quote as "PLAIN",
          lineWidth: s.width,
          indent: s.indent,
          collectionStyle: s.flow === 1 ? "flow" : "any",
          flowCollectionPadding: s.flow === 2,
        });
        if (s.crlf) text = text.replaceAll("\n", "\r\n");
        agree(`tenants/${data.slug}.yaml`, s.lead + text);
      }),
      { numRuns: 800 },
    );
  });

  it("on mutated tenant files", () => {
    fc.assert(
      fc.property(mutatedTenantFile, ({ file, bytes }) => {
        agree(file, bytes);
      }),
      { numRuns: 3000 },
    );
  });

  it("on mutated example files", () => {
    const files = fs
      .readdirSync(TENANTS)
      .filter((f) => f.endsWith(".yaml"))
      .map((f) => fs.readFileSync(path.join(TENANTS, f)));
    fc.assert(
      fc.property(
        mutatedFile(files, [
          ": ",
          "\n- ",
          "[",
          "{",
          "]",
          "}",
          ",",
          "&a ",
          "*a",
          "!!str ",
          "\t",
          "  ",
          "    ",
          "'",
          '"',
          "#",
          " #",
          "|\n",
          ">-\n",
          "? ",
          "\n  ",
          "\r",
          "\r\n",
          "---\n",
          "...\n",
          "%YAML 1.2\n",
          "~",
          "null",
          "0x1F",
          "0o17",
          "1e3",
          ".inf",
          "-0",
          "+5",
          "1_000",
          "yes",
          "2026-01-01",
          '"a\nb"',
          "\\",
        ]),
        ({ which, bytes }) => {
          agree(`tenants/${which}.yaml`, bytes);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("on every example tenant file, which the fast path takes", () => {
    for (const f of fs.readdirSync(TENANTS).filter((f) => f.endsWith(".yaml"))) {
      expect(agree(`tenants/${f}`, fs.readFileSync(path.join(TENANTS, f))), f).toBe(true);
    }
  });

  it("on scalars that resolve differently in YAML 1.1, js-yaml's defaults and yaml's core schema", () => {
    const valid = fs.readFileSync(path.join(TENANTS, "amis-du-velo.yaml"), "utf8");
    const values = [
      "yes",
      "no",
      "on",
      "off",
      "y",
      "~",
      "null",
      "Null",
      "NULL",
      "",
      "true",
      "True",
      "TRUE",
      "tRUE",
      "false",
      "0x1F",
      "0o17",
      "017",
      "0b11",
      "1_000",
      "+5",
      "-0",
      "1e3",
      "1E3",
      "1.",
      ".5",
      "+.5",
      "-.inf",
      ".Inf",
      ".NaN",
      ".nan",
      "nan",
      "2026-12-31",
      "2026-12-31T10:00:00Z",
      "12:30",
      "1:30:00",
      "0",
      "5",
      "5.0",
      "4.9999999999999999",
      "1e400",
      "99999999999999999999",
    ];
    for (const v of values) {
      for (const field of ["name: Les Amis du Vélo", "quotaGb: 5", "paidUntil: 2027-06-30", "admin: true", "subscribers: 500"]) {
        const key = field.slice(0, field.indexOf(":"));
        agree("tenants/amis-du-velo.yaml", valid.replace(field, `${key}: ${v}`));
      }
    }
  });
});

describe("hostile and edge-case YAML stays on the positioned path, fast", () => {
  const valid = fs.readFileSync(path.join(TENANTS, "amis-du-velo.yaml"), "utf8");
  const hostile = hostileYaml(valid);
  const cases: { name: string; input: () => string }[] = [
    { name: "an alias bomb", input: hostile.aliasBomb },
    { name: "an alias bomb inside a valid tenant", input: hostile.aliasBombInsideValid },
    {
      name: "an alias of a valid value",
      input: () => valid.replace("name: Les Amis du Vélo", "name: &n Les Amis du Vélo").replace("name: Alice Martin", "name: *n"),
    },
    { name: "10,000 nested [", input: hostile.nestedFlowLists },
    { name: "10,000 nested block sequences on one line", input: hostile.nestedBlockSequencesOnOneLine },
    { name: "nested block mappings as deep as 1 MiB allows", input: () => hostile.nestedBlockMappings(1400) },
    { name: "deep nesting under a valid tenant's field", input: hostile.deepUnderField },
    {
      name: "a deep indentation inside a multi-line quoted scalar",
      input: () =>
        `${valid.replace("name: Les Amis du Vélo", `name: "Les Amis\n  du Vélo" ${": - ".repeat(0)}`)}x: "a\n${" ".repeat(100)}b": ${"- ".repeat(40)}c\n`,
    },
    {
      name: "a line indented beyond the nesting limit",
      input: () => valid.replace("name: Les Amis du Vélo", `name:\n${" ".repeat(200)}Les Amis du Vélo`),
    },
    { name: "a huge file", input: hostile.hugeFile },
    { name: "duplicate keys", input: hostile.duplicateKeys },
    { name: "a custom tag", input: hostile.customTag },
    { name: "two documents", input: hostile.twoDocuments },
    { name: "a NUL byte", input: () => valid.replace("name: Les", "name: Le\u0000s") },
    { name: "a merge key", input: () => `base: &b {slug: x}\n<<: *b\n${valid}` },
    // Found by the properties above: js-yaml reads these, yaml refuses them.
    { name: "a lone carriage return before a comment", input: () => `\r${valid}` },
    { name: "a flow list closed on the next line, unindented", input: () => valid.replace("bruno@example.net]", "bruno@example.net\r\n]") },
    {
      name: "a double-quoted scalar with an escaped line break before an empty line",
      input: () => valid.replace("name: Les Amis du Vélo", 'name: "Les Amis\\\n\n  du Vélo"'),
    },
  ];
  for (const c of cases) {
    it(
      c.name,
      () => {
        const input = c.input();
        expect(loadTenantFast("tenants/amis-du-velo.yaml", input)).toBeUndefined();
        agree("tenants/amis-du-velo.yaml", input);
        // A parse that blows up (an alias bomb expanded) hits the test's timeout; its speed is the bench's.
      },
      HOSTILE_TIMEOUT_MS,
    );
  }
});
