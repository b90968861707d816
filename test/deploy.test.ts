/**
 * npm run deploy's Automation API calls (infra/cli/deploy-run.ts, infra/cli/stack-runs.ts) against
 * a stub `pulumi` (test/helpers/pulumi-stub/bin/pulumi, found by PulumiCommand.get({ root })): the
 * exact flags of each call, a tenant stack made the first time and the platform's never, the
 * platform before the tenants, the bounds overall and per host, one stack failing while the others
 * run on, the accounts step before each tenant's up, and the drift check of a shard. The
 * selection is handed in (the refusal tests run npm run touched's on real commits:
 * test/deploy-refusal.test.ts).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { EngineEvent } from "@pulumi/pulumi/automation/events";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { deploy } from "../infra/cli/deploy-run";
import type { TouchedSelection } from "../infra/cli/touched-selection";
import type { StackDiff } from "../infra/plan/plan-diff";

const STUB_ROOT = path.resolve(__dirname, "helpers", "pulumi-stub");
const SECRET = "s3cr3t-Pa55phrase-of-the-db";
const EMAIL = "alice@amis.example";

interface Call {
  argv: string[];
  start: number;
  end?: number;
  code?: number;
  env: Record<string, string | undefined>;
}

let dir = "";
const saved = { ...process.env };
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "alacarte-deploy-test-"));
  process.env.ALACARTE_STUB_DIR = path.join(dir, "stub");
  process.env.PULUMI_CONFIG_PASSPHRASE = "only-for-the-stub";
  delete process.env.ALACARTE_STUB_FAIL;
  delete process.env.ALACARTE_STUB_DELAY_MS;
});
afterEach(() => {
  process.env = { ...saved };
  fs.rmSync(dir, { recursive: true, force: true });
});

function existingStacks(...names: string[]) {
  fs.mkdirSync(path.join(dir, "stub", "stacks"), { recursive: true });
  for (const n of names) fs.writeFileSync(path.join(dir, "stub", "stacks", n), "passphrase\n");
}

function calls(): Call[] {
  const file = path.join(dir, "stub", "calls.jsonl");
  return fs.existsSync(file)
    ? fs
        .readFileSync(file, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Call)
    : [];
}
const stackOf = (c: Call) => c.argv[c.argv.indexOf("--stack") + 1];
const ops = (verb: string) => calls().filter((c) => c.argv[0] === verb);

/** The most calls running at one time. */
function maxOverlap(list: Call[]): number {
  const edges = list.flatMap((c) => [
    [c.start, 1],
    [c.end!, -1],
  ]);
  edges.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let now = 0;
  let max = 0;
  for (const [, d] of edges) max = Math.max(max, (now += d!));
  return max;
}

const step = (stack: string, op: string, type: string, name: string): Omit<EngineEvent, "sequence" | "timestamp"> => ({
  resourcePreEvent: {
    metadata: {
      op: op as never,
      urn: `urn:pulumi:${stack}::alacarte::${type}::${name}`,
      type,
      provider: "",
      // What the engine also sends: each resource's state, secrets and emails included.
      old: { type, urn: "", id: "", parent: "", provider: "", inputs: { password: SECRET }, outputs: { email: EMAIL } },
      new: { type, urn: "", id: "", parent: "", provider: "", inputs: { password: SECRET, admin: EMAIL }, outputs: {} },
      detailedDiff: { password: { diffKind: "update" as never, inputDiff: true } },
    },
  },
});

function scriptEvents(events: Record<string, Omit<EngineEvent, "sequence" | "timestamp">[]>) {
  const file = path.join(dir, "events.json");
  fs.writeFileSync(file, JSON.stringify(events));
  process.env.ALACARTE_STUB_EVENTS = file;
}

function selection(tenants: string[], added: string[] = []): TouchedSelection {
  const stack = (name: string, tenant: string | null, price: number | null) => ({
    name,
    tenant,
    yearlyPriceEur: price,
    policies: [],
    resources: [],
  });
  const diff: StackDiff[] = [
    { stack: "prod", tenant: null, status: "changed", create: [], update: [], delete: [], dataDeletes: [] },
    ...tenants.map(
      (t): StackDiff => ({
        stack: `prod.${t}`,
        tenant: t,
        status: added.includes(t) ? "added" : "changed",
        create: [],
        update: [],
        delete: [],
        dataDeletes: [],
      }),
    ),
  ];
  return {
    base: { stacks: [stack("prod", null, null), ...tenants.filter((t) => !added.includes(t)).map((t) => stack(`prod.${t}`, t, 30))] },
    head: { stacks: [stack("prod", null, null), ...tenants.map((t) => stack(`prod.${t}`, t, 60))] },
    diff,
  };
}

async function run(
  args: string[],
  sel: TouchedSelection,
  accounts: (t: string) => Promise<{ ok: boolean; line: string }> = async () => ({ ok: true, line: "" }),
) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await deploy(args, {
    select: () => sel,
    accounts: () => accounts,
    pulumiRoot: STUB_ROOT,
    print: (l) => out.push(l),
    printError: (l) => err.push(l),
  });
  return { code, out, err };
}

describe("npm run deploy through the Automation API, against a stub pulumi", () => {
  it("previews the platform first, then every tenant with the pack, its config, --diff and the event log; one failure stops no other", async () => {
    existingStacks("prod", "prod.b", "prod.c", "prod.d", "prod.e", "prod.f");
    process.env.ALACARTE_STUB_DELAY_MS = "400";
    process.env.ALACARTE_STUB_FAIL = "prod.b";
    scriptEvents({
      prod: [step("prod", "update", "docker:index/container:Container", "platform-proxy-traefik-container")],
      "prod.a": [
        step("prod.a", "create", "command:remote:Command", "a-notices-write"),
        step("prod.a", "replace", "docker:index/volume:Volume", "a-website-data"),
        step("prod.a", "create-replacement", "docker:index/volume:Volume", "a-website-data"),
        step("prod.a", "delete-replaced", "docker:index/volume:Volume", "a-website-data"),
        step("prod.a", "same", "alacarte:tenant:Identity", "a-identity"),
        {
          policyEvent: {
            message: `tenant a: ${EMAIL} was paid until …`,
            color: "never",
            policyName: "membership-paid",
            policyPackName: "alacarte",
            policyPackVersion: "0.1.0",
            policyPackVersionTag: "0.1.0",
            enforcementLevel: "warning",
          },
        },
        { diagnosticEvent: { message: `password ${SECRET} refused`, color: "never", severity: "error" } },
      ],
    });
    const summary = path.join(dir, "summary.md");
    const events = path.join(dir, "events");
    const { code, out } = await run(
      ["preview", "base", "head", "--summary", summary, "--event-dir", events, "--parallel", "4", "--per-host", "2"],
      selection(["a", "b", "c", "d", "e", "f"], ["a"]),
    );
    expect(code).toBe(1);
    expect(out).toContain("prod: previewed: 0 to create, 1 to update, 0 to replace, 0 to delete");
    expect(out).toContain("prod.a: previewed: 1 to create, 0 to update, 1 to replace, 0 to delete; 1 policy result(s)");
    expect(out).toContainEqual(expect.stringMatching(/^prod\.b: failed: error: prod\.b: the Docker host did not answer/));
    for (const t of ["c", "d", "e", "f"])
      expect(out).toContain(`prod.${t}: previewed: 0 to create, 0 to update, 0 to replace, 0 to delete`);
    expect(out.at(-1)).toBe("7 stack(s): 6 previewed, 1 failed");

    // The exact flags of every preview.
    const previews = ops("preview");
    expect(previews.map(stackOf).sort()).toEqual(["prod", "prod.a", "prod.b", "prod.c", "prod.d", "prod.e", "prod.f"]);
    for (const c of previews) {
      const a = c.argv;
      const value = (flag: string) => a[a.indexOf(flag) + 1];
      expect(a.filter((x) => x.startsWith("--")).sort()).toEqual(
        ["--color", "--diff", "--event-log", "--exec-kind", "--non-interactive", "--policy-pack", "--policy-pack-config", "--stack"].sort(),
      );
      expect(value("--policy-pack")).toBe("policies");
      expect(value("--policy-pack-config")).toMatch(/policy-config\.json$/);
      expect(value("--event-log")).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
      expect(value("--exec-kind")).toBe("auto.local");
      expect(c.env.PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER).toBe("true");
    }
    // Only the new tenant stack is made, with the passphrase provider; the platform is only selected.
    expect(
      ops("stack")
        .filter((c) => c.argv[1] === "init")
        .map((c) => c.argv.slice(0, 5)),
    ).toEqual([["stack", "init", "prod.a", "--secrets-provider", "passphrase"]]);
    // The platform's preview ended before any tenant's began.
    const platform = previews.find((c) => stackOf(c) === "prod")!;
    const tenants = previews.filter((c) => stackOf(c) !== "prod");
    for (const c of tenants) expect(c.start).toBeGreaterThanOrEqual(platform.end!);
    // One apps host (stacks/Pulumi.prod.yaml placement.apps): two at a time, though four are allowed in all.
    expect(maxOverlap(tenants)).toBe(2);

    // The summary and the event files hold operations, URNs, types and counts: no secret, no email.
    const text = fs.readFileSync(summary, "utf8");
    expect(text).toContain("**⚠ prod.a would replace data** (1): `docker:index/volume:Volume` `a-website-data`");
    expect(text).toContain("**⚠ prod.b failed**");
    expect(text).toContain("| prod.a | added | 1 | 0 | 1 | 0 | — | 60.00 € |");
    expect(text).toContain("- prod.a: membership-paid (warning) × 1");
    for (const file of [summary, ...fs.readdirSync(events).map((f) => path.join(events, f))]) {
      const content = fs.readFileSync(file, "utf8");
      expect(content).not.toContain(SECRET);
      expect(content).not.toContain(EMAIL);
      expect(content).not.toMatch(/@/);
    }
    expect(JSON.parse(fs.readFileSync(path.join(events, "prod.a.events.json"), "utf8")).steps).toHaveLength(5);
  }, 60_000);

  it("bounds the tenant stacks by --parallel when the host would allow more", async () => {
    existingStacks("prod", "prod.a", "prod.b", "prod.c", "prod.d", "prod.e");
    process.env.ALACARTE_STUB_DELAY_MS = "400";
    scriptEvents({});
    const { code } = await run(["preview", "base", "--parallel", "3", "--per-host", "5"], selection(["a", "b", "c", "d", "e"]));
    expect(code).toBe(0);
    expect(maxOverlap(ops("preview").filter((c) => stackOf(c) !== "prod"))).toBe(3);
  }, 60_000);

  it("runs each tenant's accounts step before its up, and applies no stack whose accounts failed", async () => {
    existingStacks("prod", "prod.a", "prod.b");
    scriptEvents({ "prod.a": [step("prod.a", "update", "command:remote:Command", "a-notices-write")] });
    const accountsAt: Record<string, number> = {};
    const { code, out } = await run(["up", "base", "head"], selection(["a", "b", "c"], ["c"]), async (tenant) => {
      accountsAt[tenant] = Date.now();
      return tenant === "b"
        ? { ok: false, line: "1 listed, 0 created and invited, 0 invited again, 1 in conflict" }
        : { ok: true, line: "1 listed" };
    });
    expect(code).toBe(1);
    expect(Object.keys(accountsAt).sort()).toEqual(["a", "b", "c"]);
    expect(out).toContain("prod.b: failed: accounts: 1 listed, 0 created and invited, 0 invited again, 1 in conflict");
    expect(out).toContain("prod.a: applied: 0 to create, 1 to update, 0 to replace, 0 to delete");
    const ups = ops("up");
    expect(ups.map(stackOf).sort()).toEqual(["prod", "prod.a", "prod.c"]);
    for (const c of ups) {
      expect(c.argv.slice(0, 3)).toEqual(["up", "--yes", "--skip-preview"]);
      for (const flag of ["--diff", "--policy-pack", "--policy-pack-config", "--event-log"]) expect(c.argv).toContain(flag);
      if (stackOf(c) !== "prod") expect(c.start).toBeGreaterThanOrEqual(accountsAt[stackOf(c)!.slice("prod.".length)]!);
    }
  }, 60_000);

  it("applies no tenant when the platform's up failed", async () => {
    existingStacks("prod", "prod.a");
    process.env.ALACARTE_STUB_FAIL = "prod";
    scriptEvents({});
    const { code, out } = await run(["up", "base"], selection(["a"]));
    expect(code).toBe(1);
    expect(out).toContain("prod.a: failed: not applied: the platform stack failed");
    expect(ops("up").map(stackOf)).toEqual(["prod"]);
  }, 60_000);

  it("drift: refreshes then previews each stack of its shard expecting no change, and names the drifted ones", async () => {
    // The repository's tenant files: prod, then prod.amis-du-velo, prod.dominique-moreau, prod.jardins-partages.
    existingStacks("prod", "prod.amis-du-velo", "prod.dominique-moreau", "prod.jardins-partages");
    scriptEvents({
      "prod.jardins-partages": [step("prod.jardins-partages", "update", "command:remote:Command", "jardins-partages-notices-write")],
    });
    const first = await run(["drift", "--shard", "1/2"], selection([]));
    expect(first.code).toBe(0);
    expect(first.out).toEqual(["prod: no drift", "prod.dominique-moreau: no drift", "2 stack(s): 2 checked, 0 failed, 0 drifted"]);
    const second = await run(["drift", "--shard", "2/2"], selection([]));
    expect(second.code).toBe(1);
    expect(second.out).toContain("prod.jardins-partages: drifted: 0 to create, 1 to update, 0 to replace, 0 to delete");
    expect(second.out.at(-1)).toBe("2 stack(s): 2 checked, 0 failed, 1 drifted (prod.jardins-partages)");
    for (const c of ops("preview")) {
      expect(c.argv).toContain("--refresh");
      expect(c.argv).toContain("--expect-no-changes");
    }
    expect(ops("preview").map(stackOf).sort()).toEqual(["prod", "prod.amis-du-velo", "prod.dominique-moreau", "prod.jardins-partages"]);
    expect(ops("stack").filter((c) => c.argv[1] === "init")).toEqual([]);
  }, 60_000);

  it("refuses bad bounds, a bad shard and a summary for the drift check with one line", async () => {
    await expect(run(["preview", "base", "--parallel", "0"], selection([]))).rejects.toThrow(
      "--parallel must be a whole number of at least 1",
    );
    await expect(run(["drift", "--shard", "3/2"], selection([]))).rejects.toThrow("--shard must be i/n");
    await expect(run(["drift", "--summary", "x.md"], selection([]))).rejects.toThrow("usage: npm run deploy");
    expect(calls()).toEqual([]);
  });
});
