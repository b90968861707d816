import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ReadResourceResponse, RegisterResourceResponse } from "@pulumi/pulumi/proto/resource_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PlanResult, StackPlan } from "../infra/plan/offline-plan";

/**
 * Honest counting: every resource the offline plan reports went through the SDK's
 * registration, as the mock monitor saw it, and a stack planned inside the full run has the same
 * URNs as planned alone. The set is generated at ALACARTE_TEST_SCALE (default 0.1, 30 tenants, to
 * keep `npm test` short; `ALACARTE_TEST_SCALE=1 npx vitest run test/plan-counting.test.ts` runs the
 * association's size, about 30 s).
 */
const SCALE = Number(process.env.ALACARTE_TEST_SCALE ?? 0.1);
const TODAY = "2026-11-25";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "alacarte-counting-"));
// The program reads its tenant files from TENANTS_DIR, fixed when platform-config loads: set the
// folder before importing the code under test.
process.env.ALACARTE_TENANTS_DIR = path.join(dir, "tenants");

/**
 * Registrations a monitor answered, in order, across every stack, as `<stack> <type> <name>` (the
 * plan reports the engine's URNs, which differ from the mock monitor's own). Counted where every
 * answer is made, apart from the plan's recording: each answered registration gets its URN set
 * once on a RegisterResourceResponse (a read: ReadResourceResponse), whether Pulumi's MockMonitor
 * or the plan's preview answer (infra/plan/sdk-internals.ts answerAsPreview) built it.
 */
const seen: string[] = [];
for (const prototype of [RegisterResourceResponse.prototype, ReadResourceResponse.prototype] as { setUrn(urn: string): unknown }[]) {
  const setUrn = prototype.setUrn;
  prototype.setUrn = function (this: unknown, urn: string) {
    const [head, , qualified, ...name] = urn.split("::");
    seen.push(`${head!.slice("urn:pulumi:".length)} ${qualified!.split("$").pop()} ${name.join("::")}`);
    return setUrn.call(this, urn);
  };
}

let mod: typeof import("../infra/plan/offline-plan");
let full: PlanResult;
let seenInFull: string[];
let sample: string[];
const tenantsDir = process.env.ALACARTE_TENANTS_DIR;

beforeAll(async () => {
  const { writeTenantSet } = await import("../bench/generate.js");
  const { readPlatformConfig } = await import("../infra/model/platform-config.js");
  const set = writeTenantSet(dir, { scale: SCALE, seed: 11, sharedMailDomains: readPlatformConfig("prod").sharedMailDomains });
  mod = await import("../infra/plan/offline-plan.js");
  seen.length = 0;
  full = await mod.plan({ env: "prod", tenantsDir, today: TODAY });
  seenInFull = [...seen];
  // One tenant of each kind, the collective with every offer, and one more collective.
  const byKind = new Map<string, string>();
  for (const [slug, kind] of set.kinds) if (!byKind.has(kind)) byKind.set(kind, slug);
  const collectives = [...set.kinds].filter(([, k]) => k === "collective").map(([s]) => s);
  const slugs = [...set.kinds.keys()].sort();
  sample = [...new Set([set.showcase, ...byKind.values(), collectives[collectives.length - 1]!, slugs[0]!, slugs[slugs.length - 1]!])];
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const keys = (s: StackPlan) => s.resources.map((r) => `${s.name} ${r.type} ${r.name}`);

describe(`honest counting on a generated set (scale ${SCALE})`, () => {
  it("plans every stack without an error", () => {
    expect(mod.planFailed(full)).toBe(false);
    expect(full.stacks.length).toBe(fs.readdirSync(tenantsDir!).length + 1);
  });

  it("reports exactly the registrations the mocks saw, roots, providers and stack references included", () => {
    const reported = full.stacks.flatMap(keys);
    expect(reported.length).toBe(seenInFull.length);
    expect([...reported].sort()).toEqual([...seenInFull].sort());
    for (const s of full.stacks) {
      const types = s.resources.map((r) => r.type);
      expect(types.filter((t) => t === "pulumi:pulumi:Stack")).toHaveLength(1);
      if (s.tenant) {
        expect(types.filter((t) => t === "pulumi:pulumi:StackReference")).toHaveLength(1);
        expect(types).toContain("pulumi:providers:keycloak");
      }
    }
  });

  it("gives a sample of stacks the same URNs in the full run as planned alone", async () => {
    expect(sample.length).toBeGreaterThanOrEqual(5);
    for (const slug of sample) {
      seen.length = 0;
      const alone = await mod.plan({ env: "prod", tenantsDir, tenants: [slug], today: TODAY });
      expect(mod.planFailed(alone)).toBe(false);
      const mine = alone.stacks.find((s) => s.tenant === slug)!;
      const inFull = full.stacks.find((s) => s.tenant === slug)!;
      expect(mine.resources, slug).toEqual(inFull.resources);
      // Planned alone, the platform stack runs too (for its outputs) but is not reported.
      expect(seen.filter((k) => k.startsWith(`${mine.name} `))).toEqual(keys(mine));
    }
  });
});
