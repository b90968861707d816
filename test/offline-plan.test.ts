import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ComponentResource } from "@pulumi/pulumi";
import { plan, planFailed, planProgram, type PlanResult, type StackPlan } from "../infra/plan/offline-plan";
import { debuggingAids } from "../infra/plan/sdk-internals";

const root = path.resolve(__dirname, "..");
const tsx = path.join(root, "node_modules", ".bin", "tsx");

function stack(result: PlanResult, name: string): StackPlan {
  const found = result.stacks.find((s) => s.name === name);
  if (!found) throw new Error(`no stack ${name} in ${result.stacks.map((s) => s.name).join(", ")}`);
  return found;
}

function types(s: StackPlan): string[] {
  return s.resources.map((r) => r.type);
}

describe("offline plan of the examples", () => {
  let result: PlanResult;
  beforeAll(async () => {
    result = await plan({ env: "prod", today: "2026-11-25" });
  });

  it("plans the platform and one stack per tenant file", () => {
    const tenants = fs
      .readdirSync(path.join(root, "tenants"))
      .filter((f) => f.endsWith(".yaml"))
      .map((f) => f.replace(/\.yaml$/, ""))
      .sort();
    expect(result.stacks.map((s) => s.name)).toEqual(["prod", ...tenants.map((t) => `prod.${t}`)]);
    expect(result.stacks.map((s) => s.tenant)).toEqual([null, ...tenants]);
    expect(result.problems).toEqual([]);
  });

  it("gives every resource but the stack root a parent registered in the same stack", () => {
    for (const s of result.stacks) {
      const urns = new Set(s.resources.map((r) => r.urn));
      expect(urns.size).toBe(s.resources.length);
      const roots = s.resources.filter((r) => r.parent === null);
      expect(roots.map((r) => r.type)).toEqual(["pulumi:pulumi:Stack"]);
      for (const r of s.resources) {
        if (r.parent !== null) expect(urns.has(r.parent), `${r.urn} has parent ${r.parent}`).toBe(true);
        expect(r.urn).toContain(`urn:pulumi:${s.name}::alacarte::`);
      }
    }
  });

  it("builds the minimal platform: proxy, Keycloak realm, object storage, mail server", () => {
    const platform = types(stack(result, "prod"));
    for (const t of [
      "alacarte:platform:ReverseProxy",
      "alacarte:platform:Keycloak",
      "alacarte:platform:ObjectStorage",
      "alacarte:platform:MailServer",
      "keycloak:index/realm:Realm",
    ]) {
      expect(platform).toContain(t);
    }
  });

  it("reads the platform through a stack reference and builds identity and mail domains in each tenant stack", () => {
    for (const s of result.stacks.filter((x) => x.tenant)) {
      const t = types(s);
      expect(t.filter((x) => x === "pulumi:pulumi:StackReference")).toHaveLength(1);
      expect(t.filter((x) => x === "alacarte:tenant:Identity")).toHaveLength(1);
      expect(t).toContain("alacarte:tenant:MailDomain");
    }
  });

  it("builds the static site with the command that makes its bucket under the site component, and no S3 resource", () => {
    const s = stack(result, "prod.jardins-partages");
    const site = s.resources.find((r) => r.type === "alacarte:tenant:StaticSite")!;
    expect(site.name).toBe("jardins-partages-website");
    const garage = s.resources.find((r) => r.name === "jardins-partages-website-garage")!;
    expect(garage.type).toBe("command:remote:Command");
    expect(garage.parent).toBe(site.urn);
    expect(s.resources.filter((r) => r.type.startsWith("aws:") || r.type === "pulumi:providers:aws")).toEqual([]);
  });

  it("lists offers not built yet as warnings of their stack, one per tenant and offer", () => {
    const lines = (name: string) => stack(result, name).problems.map((p) => `${p.severity} ${p.message}`);
    expect(lines("prod.amis-du-velo")).toEqual([]);
    expect(lines("prod.jardins-partages")).toEqual(
      expect.arrayContaining([
        "warning services.accounting: the paheko offer is not built yet; nothing is created for it",
        "warning services.newsletter: the paheko offer is not built yet; nothing is created for it",
        "warning services.video: the video offer is not built yet; nothing is created for it",
      ]),
    );
  });

  it("prices each tenant stack from the catalog", () => {
    expect(stack(result, "prod.amis-du-velo").yearlyPriceEur).toBe(210);
    expect(stack(result, "prod.jardins-partages").yearlyPriceEur).toBe(45);
    expect(stack(result, "prod.jardins-partages").undecided).toContain("Paheko accounting");
    expect(stack(result, "prod").yearlyPriceEur).toBeNull();
  });

  it("plans one tenant alone with the same resources as in the full plan", async () => {
    const alone = await plan({ env: "prod", tenants: ["amis-du-velo"], today: "2026-11-25" });
    expect(alone.stacks.map((s) => s.name)).toEqual(["prod.amis-du-velo"]);
    expect(alone.stacks[0]!.resources).toEqual(stack(result, "prod.amis-du-velo").resources);
  });

  it("gives the same plan when two processes take the tenant stacks in chunks", async () => {
    const chunked = await plan({ env: "prod", today: "2026-11-25", workers: 2 });
    expect(chunked).toEqual(result);
  });

  it("gives the SDK its debugging aids back after each stack, and still reports a program's failure", async () => {
    const before = [...debuggingAids(), Error.stackTraceLimit, process.sourceMapsEnabled];
    const failed = await planProgram("prod.failing", () => {
      new ComponentResource("test:index:Before", "before");
      throw new Error("the program failed here");
    });
    expect(failed.problems).toEqual([{ stack: "prod.failing", severity: "error", message: "the program failed here" }]);
    expect(failed.resources.map((r) => r.type)).toEqual(["pulumi:pulumi:Stack", "test:index:Before"]);
    expect([...debuggingAids(), Error.stackTraceLimit, process.sourceMapsEnabled]).toEqual(before);
  });

  it("stops at invalid tenant files with the validate messages", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "alacarte-plan-"));
    fs.writeFileSync(path.join(dir, "broken.yaml"), "slug: broken\nname: B\ntype: collective\ncontact: a@b.org\nmembers: []\n");
    const bad = await plan({ env: "prod", tenantsDir: dir });
    expect(planFailed(bad)).toBe(true);
    expect(bad.stacks).toEqual([]);
    expect(bad.problems.map((p) => p.message)).toContain(`${path.join(dir, "broken.yaml")}:5:10 members: needs at least one member`);
  });
});

describe("npm run plan", () => {
  it("prints one JSON document with stacks, resources, prices and problems", () => {
    const out = execFileSync(tsx, ["infra/cli/plan.ts", "--json"], { cwd: root, encoding: "utf8" });
    const doc = JSON.parse(out) as PlanResult;
    expect(doc.stacks.length).toBeGreaterThan(1);
    for (const s of doc.stacks) {
      expect(Object.keys(s).sort()).toEqual([
        "dnsRecords",
        "name",
        "policies",
        "problems",
        "resources",
        "tenant",
        "undecided",
        "yearlyPriceEur",
      ]);
      for (const r of s.resources) expect(Object.keys(r).sort()).toEqual(["name", "parent", "type", "urn"]);
      for (const d of s.dnsRecords) expect(["A", "CNAME", "PTR", "MX", "TXT", "SRV"]).toContain(d.type);
      for (const v of s.policies) expect(Object.keys(v).sort()).toEqual(["level", "message", "policy", "urn"]);
    }
    // The platform's mail host and a custom domain's MX are in it.
    expect(doc.stacks.find((s) => s.tenant === null)!.dnsRecords).toContainEqual({
      name: "mail.alacarte.example.org",
      type: "A",
      value: "192.0.2.11",
    });
    expect(doc.stacks.find((s) => s.tenant === "amis-du-velo")!.dnsRecords).toContainEqual({
      name: "amisduvelo.org",
      type: "MX",
      priority: 10,
      value: "mail.alacarte.example.org.",
    });
    // Nothing secret reaches the plan: the mock runtime's placeholder secrets never appear.
    expect(out).not.toMatch(/mock-(password|secret)/);
  });

  it("plans one tenant with --tenant and refuses an unknown one", () => {
    const one = spawnSync(tsx, ["infra/cli/plan.ts", "--tenant", "dominique-moreau"], { cwd: root, encoding: "utf8" });
    expect(one.status).toBe(0);
    expect(one.stdout).toMatch(/^prod\.dominique-moreau: \d+ resources/m);
    expect(one.stdout).not.toMatch(/^prod: /m);
    const unknown = spawnSync(tsx, ["infra/cli/plan.ts", "--tenant", "nobody"], { cwd: root, encoding: "utf8" });
    expect(unknown.status).toBe(1);
    expect(unknown.stdout).toContain('no tenant "nobody" under tenants/');
  });

  it("answers a bad flag with one line, not a stack trace", () => {
    const r = spawnSync(tsx, ["infra/cli/plan.ts", "--frobnicate"], { cwd: root, encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });
});
