/**
 * The review summary from the engine's events (infra/plan/engine-summary.ts): steps counted once
 * per URN (a replacement's three steps are one replace), data deleted or replaced shown loudly,
 * policy results counted, lists cut under the limit with the counts exact — and the secrets and
 * emails planted in the events' state, messages and diagnostics never in it.
 */
import type { EngineEvent } from "@pulumi/pulumi/automation/events";
import { describe, expect, it } from "vitest";
import { changesOf, hasChanges, reduceEvents, renderEngineSummary } from "../infra/plan/engine-summary";
import type { SummaryPlan } from "../infra/plan/plan-summary";

const SECRETS = ["hunter2-db-password", "GK31c2f218a2e44f485b94239e", "-----BEGIN PRIVATE KEY-----"];
const EMAILS = ["alice@amis.example", "bob@jardins.example"];

let seq = 0;
function step(stack: string, op: string, type: string, name: string): EngineEvent {
  const state = {
    type,
    urn: `urn:pulumi:${stack}::alacarte::${type}::${name}`,
    id: "id",
    parent: "",
    provider: "",
    inputs: { password: SECRETS[0], env: [`SMTP_USER=${EMAILS[0]}`], key: SECRETS[2] },
    outputs: { accessKeyId: SECRETS[1], members: EMAILS },
  };
  return {
    sequence: seq++,
    timestamp: 0,
    resourcePreEvent: {
      metadata: {
        op: op as never,
        urn: state.urn,
        type,
        provider: "",
        old: state,
        new: state,
        keys: ["password"],
        diffs: ["password"],
        detailedDiff: { password: { diffKind: "update" as never, inputDiff: true } },
      },
    },
  };
}

const planOf = (prices: Record<string, number | null>): SummaryPlan => ({
  stacks: Object.entries(prices).map(([name, yearlyPriceEur]) => ({
    name,
    tenant: name.includes(".") ? name.split(".")[1]! : null,
    yearlyPriceEur,
    policies: [],
    resources: [],
  })),
});

const amis: EngineEvent[] = [
  step("prod.amis", "create", "command:remote:Command", "amis-notices-write"),
  step("prod.amis", "update", "command:remote:Command", "amis-mail-fragment"),
  step("prod.amis", "replace", "docker:index/volume:Volume", "amis-wordpress-data"),
  step("prod.amis", "create-replacement", "docker:index/volume:Volume", "amis-wordpress-data"),
  step("prod.amis", "delete-replaced", "docker:index/volume:Volume", "amis-wordpress-data"),
  step("prod.amis", "delete", "alacarte:block:Database", "amis-wordpress-db"),
  step("prod.amis", "same", "alacarte:tenant:Identity", "amis-identity"),
  step("prod.amis", "refresh", "alacarte:tenant:Identity", "amis-identity"),
  {
    sequence: seq++,
    timestamp: 0,
    policyEvent: {
      message: `${EMAILS[1]} holds ${SECRETS[0]}`,
      color: "never",
      policyName: "no-plaintext-secrets",
      policyPackName: "alacarte",
      policyPackVersion: "0.1.0",
      policyPackVersionTag: "0.1.0",
      enforcementLevel: "mandatory",
    },
  },
  {
    sequence: seq++,
    timestamp: 0,
    diagnosticEvent: { message: `login ${EMAILS[0]} / ${SECRETS[1]} refused`, color: "never", severity: "error" },
  },
  { sequence: seq++, timestamp: 0, stdoutEvent: { message: `echo ${SECRETS[0]}`, color: "never" } },
];

describe("the summary from the engine's events", () => {
  it("keeps operation, URN and type only, a replacement as one replace, and counts policy results and errors", () => {
    const reduced = reduceEvents(amis);
    expect(JSON.stringify(reduced)).not.toMatch(/hunter2|GK31|PRIVATE KEY|@/);
    const c = changesOf(reduced);
    expect([c.create.length, c.update.length, c.replace.length, c.delete.length]).toEqual([1, 1, 1, 1]);
    expect(reduced.policies).toEqual([{ policy: "no-plaintext-secrets", level: "mandatory" }]);
    expect(reduced.errors).toBe(1);
    expect(hasChanges(reduced)).toBe(true);
    expect(hasChanges(reduceEvents([step("prod", "same", "x:y:Z", "a"), step("prod", "refresh", "x:y:Z", "a")]))).toBe(false);
  });

  it("warns loudly of data replaced or deleted, gives prices and revenue, and prints no secret nor email", () => {
    const text = renderEngineSummary(planOf({ prod: null, "prod.amis": 90 }), planOf({ prod: null, "prod.amis": 120 }), [
      { stack: "prod.amis", tenant: "amis", status: "changed", events: reduceEvents(amis) },
      { stack: "prod.gone", tenant: "gone", status: "changed", events: reduceEvents([]), failure: "error: the Docker host did not answer" },
    ]);
    expect(text).toContain("2 stack(s) touched: 1 to create, 1 to update, 1 to replace, 1 to delete.");
    expect(text).toContain("**⚠ prod.amis would replace data** (1): `docker:index/volume:Volume` `amis-wordpress-data`");
    expect(text).toContain("**⚠ prod.amis would delete data** (1): `alacarte:block:Database` `amis-wordpress-db`");
    expect(text).toContain("**⚠ prod.gone failed**: error: the Docker host did not answer");
    expect(text).toContain("| stack | status | create | update | replace | delete | yearly price before | after |");
    expect(text).toContain("| prod.amis | changed | 1 | 1 | 1 | 1 | 90.00 € | 120.00 € |");
    expect(text).toContain("Yearly revenue of the decided lines: 90.00 € → 120.00 € (+30.00 €).");
    expect(text).toContain("- prod.amis: no-plaintext-secrets (mandatory) × 1");
    for (const s of [...SECRETS, ...EMAILS]) expect(text).not.toContain(s);
    expect(text).not.toMatch(/@/);
  });

  it("cuts long lists under the limit and keeps the counts exact", () => {
    const many = Array.from({ length: 3000 }, (_, i) =>
      step("prod.big", "update", "command:remote:Command", `big-file-${String(i).padStart(4, "0")}`),
    );
    const text = renderEngineSummary(planOf({ "prod.big": 30 }), planOf({ "prod.big": 30 }), [
      { stack: "prod.big", tenant: "big", status: "changed", events: reduceEvents(many) },
    ]);
    expect(text.length).toBeLessThanOrEqual(65_536);
    expect(text).toContain("1 stack(s) touched: 0 to create, 3000 to update, 0 to replace, 0 to delete.");
    expect(text).toContain("<details><summary>prod.big (3000)</summary>");
    expect(text).toMatch(/- … and \d+ more/);
  });
});
