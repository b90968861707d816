/**
 * The layers of infra/ (docs/architecture.md): each folder imports only the folders above it in
 * this list, and the first three import no Pulumi package, so the contract, the catalog and the
 * model load anywhere (the policy pack's ts-node, worker threads) and are tested without mocks.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "..");
const LAYERS = ["contract", "catalog", "model", "program", "plan", "cli"] as const;
const PULUMI_FREE = new Set<string>(["contract", "catalog", "model"]);

/** Every module a source names: static and type imports, re-exports, import() and require(). */
export function importedModules(source: string): string[] {
  const specs: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']/gm,
    /^\s*import\s*["']([^"']+)["']/gm,
    /\bimport\(\s*["']([^"']+)["']\s*\)/g,
    /\brequire(?:\.resolve)?\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const pattern of patterns) for (const m of source.matchAll(pattern)) specs.push(m[1]!);
  return specs;
}

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? sources(full) : /\.(ts|cjs)$/.test(e.name) ? [full] : [];
  });
}

/** The layer (or top-level folder) a relative import from `file` lands in. */
function targetOf(file: string, spec: string): string {
  const target = path.relative(ROOT, path.resolve(path.dirname(file), spec)).split(path.sep);
  return target[0] === "infra" ? target[1]! : target[0]!;
}

function violations(layer: (typeof LAYERS)[number]): string[] {
  const allowed = new Set(LAYERS.slice(0, LAYERS.indexOf(layer) + 1));
  const out: string[] = [];
  for (const file of sources(path.join(ROOT, "infra", layer))) {
    for (const spec of importedModules(fs.readFileSync(file, "utf8"))) {
      const where = path.relative(ROOT, file);
      if (PULUMI_FREE.has(layer) && /^@pulumi\//.test(spec)) out.push(`${where} imports ${spec}`);
      if (!spec.startsWith(".")) continue;
      const target = targetOf(file, spec);
      const isLayer = (LAYERS as readonly string[]).includes(target);
      if (isLayer && !allowed.has(target as (typeof LAYERS)[number]))
        out.push(`${where} imports ${spec} (layer ${target} is below ${layer})`);
      // The Pulumi-free layers use no component either: components are Pulumi.
      if (!isLayer && PULUMI_FREE.has(layer)) out.push(`${where} imports ${spec} (outside infra's Pulumi-free layers)`);
    }
  }
  return out;
}

describe("infra layers", () => {
  it.each(LAYERS)("%s imports only the layers above it", (layer) => {
    expect(fs.existsSync(path.join(ROOT, "infra", layer))).toBe(true);
    expect(violations(layer)).toEqual([]);
  });

  it("infra holds nothing beside its layers", () => {
    expect(fs.readdirSync(path.join(ROOT, "infra")).sort()).toEqual([...LAYERS].sort());
  });

  it("sees every kind of import, so a planted one would fail", () => {
    const planted = [
      'import * as pulumi from "@pulumi/pulumi";',
      'import type { X } from "../program/program";',
      'export { y } from "../plan/offline-plan";',
      'const z = require("@pulumi/pulumi/runtime");',
      'await import("../cli/run");',
    ].join("\n");
    expect(importedModules(planted)).toEqual([
      "@pulumi/pulumi",
      "../program/program",
      "../plan/offline-plan",
      "../cli/run",
      "@pulumi/pulumi/runtime",
    ]);
  });
});
