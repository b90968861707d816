import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeTenantSet } from "../bench/generate";
import { readPlatformConfig } from "../infra/model/platform-config";
import { formatProblem } from "../infra/contract/load";
import { validateTenants } from "../infra/contract/validate";
import { loadCatalog } from "../infra/catalog/catalog";

/**
 * The commands run from a JavaScript build (infra/cli/launch.cjs). These tests run the launcher in
 * a copy of the project (node_modules linked), so building and rebuilding touch only the copy.
 */
const root = path.resolve(__dirname, "..");
let copy: string;

function launch(...args: string[]) {
  return spawnSync(process.execPath, [path.join(copy, "infra", "cli", "launch.cjs"), ...args], {
    cwd: copy,
    encoding: "utf8",
    env: { ...process.env, ALACARTE_TENANTS_DIR: "" },
  });
}

beforeAll(() => {
  copy = fs.mkdtempSync(path.join(os.tmpdir(), "alacarte-launch-"));
  for (const entry of [
    "Pulumi.yaml",
    "package.json",
    "package-lock.json",
    "tsconfig.json",
    "infra",
    "components",
    "policies",
    "stacks",
    "tenants",
  ]) {
    fs.cpSync(path.join(root, entry), path.join(copy, entry), { recursive: true });
  }
  fs.symlinkSync(path.join(root, "node_modules"), path.join(copy, "node_modules"), "dir");
});

afterAll(() => {
  fs.rmSync(copy, { recursive: true, force: true });
  fs.rmSync(`${copy}-set`, { recursive: true, force: true });
});

describe("commands from the build", () => {
  it("builds on first use and runs the command", () => {
    const run = launch("validate");
    expect(run.stderr).toBe("");
    expect(run.stdout).toMatch(/^3 tenant files valid/m);
    expect(run.status).toBe(0);
    expect(fs.readdirSync(path.join(copy, "build")).sort()).toEqual(
      expect.arrayContaining(["plan-worker.js", "plan.js", "sources.sha1", "validate.js"]),
    );
  });

  it("keeps a fresh build and rebuilds one older than its sources", () => {
    expect(launch("--build").status).toBe(0);
    const built = fs.statSync(path.join(copy, "build", "validate.js")).mtimeMs;
    expect(launch("--build").status).toBe(0);
    expect(fs.statSync(path.join(copy, "build", "validate.js")).mtimeMs).toBe(built);

    const source = path.join(copy, "infra", "cli", "validate.ts");
    const original = fs.readFileSync(source, "utf8");
    fs.writeFileSync(source, original.replace("tenant file${", "checked tenant file${"));
    const run = launch("validate");
    expect(run.stdout).toMatch(/^3 checked tenant files valid/m);
    expect(run.status).toBe(0);
    fs.writeFileSync(source, original);
    expect(launch("validate").stdout).toMatch(/^3 tenant files valid/m);
  });

  it("plans with both processes from the build", () => {
    const run = launch("plan", "--workers", "2", "--json");
    expect(run.status).toBe(0);
    const result = JSON.parse(run.stdout) as { stacks: { name: string; resources: unknown[] }[] };
    expect(result.stacks.map((s) => s.name)).toEqual(["prod", "prod.amis-du-velo", "prod.dominique-moreau", "prod.jardins-partages"]);
    expect(result.stacks.every((s) => s.resources.length > 0)).toBe(true);
  });

  it("checks the tenant files in another thread with the messages of a check in this one", () => {
    const sharedMailDomains = readPlatformConfig("prod").sharedMailDomains;
    // Outside the project and its copy: both name the files by their absolute paths.
    const set = writeTenantSet(path.join(copy, "..", `${path.basename(copy)}-set`), { scale: 3, seed: 5, sharedMailDomains });
    const files = [...set.files.keys()];
    // A late file claims an early one's domains and addresses (cross-file problems located in both),
    // another breaks the contract (a problem found by the thread's positioned path).
    const early = set.showcase;
    const copyName = "zz-copy.yaml";
    fs.writeFileSync(path.join(set.tenantsDir, copyName), set.files.get(`${early}.yaml`)!.replace(`slug: ${early}`, "slug: zz-copy"));
    const late = files[files.length - 2]!;
    fs.appendFileSync(path.join(set.tenantsDir, late), "colour: blue\n");

    const reference = validateTenants({ tenantsDir: set.tenantsDir, sharedMailDomains, catalog: loadCatalog() });
    expect(reference.problems.filter((p) => p.file.endsWith(copyName)).length).toBeGreaterThan(0);
    expect(reference.problems.filter((p) => p.file.endsWith(`${early}.yaml`)).length).toBeGreaterThan(0);
    expect(reference.problems.some((p) => p.file.endsWith(late) && p.field === "colour")).toBe(true);

    // The plan always checks its files in another thread (while it loads Pulumi), and stops at them.
    const run = spawnSync(process.execPath, [path.join(copy, "infra", "cli", "launch.cjs"), "plan", "--workers", "1"], {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, ALACARTE_TENANTS_DIR: set.tenantsDir },
    });
    expect(run.status).toBe(1);
    const lines = run.stdout.trim().split("\n");
    const errors = reference.problems.filter((p) => p.severity === "error").length;
    expect(lines.slice(0, reference.problems.length)).toEqual(reference.problems.map((p) => `${p.severity}: ${formatProblem(p)}`));
    expect(lines.at(-2)).toMatch(/^environment prod: 0 stack\(s\), 0 resources/);
    expect(errors).toBeGreaterThan(2);
  });

  it("runs a large plan, and its worker processes, with a larger young generation: same output, same exit status", () => {
    // Every process of the run (not its threads) appends its V8 flags here (a preload, as the bench's).
    const probe = path.join(copy, "probe.cjs");
    const seen = path.join(copy, "flags.txt");
    fs.writeFileSync(
      probe,
      `process.on("exit", () => require("node:worker_threads").isMainThread && require("node:fs").appendFileSync(${JSON.stringify(seen)}, JSON.stringify(process.execArgv) + "\\n"));\n`,
    );
    const plan = (large: boolean, tenantsDir = "", args = ["--workers", "2"]) => {
      fs.rmSync(seen, { force: true });
      const run = spawnSync(process.execPath, [path.join(copy, "infra", "cli", "launch.cjs"), "plan", ...args], {
        cwd: copy,
        encoding: "utf8",
        env: {
          ...process.env,
          ALACARTE_TENANTS_DIR: tenantsDir,
          NODE_OPTIONS: `--require ${probe}`,
          ALACARTE_LARGE_PLAN_FILES: large ? "3" : "",
        },
      });
      const flags = fs
        .readFileSync(seen, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as string[]);
      return { ...run, flagged: flags.filter((f) => f.includes("--max-semi-space-size=64")).length, processes: flags.length };
    };
    const small = plan(false);
    const large = plan(true);
    expect(small.status).toBe(0);
    expect(large.stdout).toBe(small.stdout);
    expect(large.status).toBe(0);
    expect(small.flagged).toBe(0);
    // The launcher, the plan it starts with the flag, and the plan's worker process.
    expect([large.processes, large.flagged]).toEqual([3, 2]);

    // A plan of one named tenant stays in the launcher's process, as small plans do.
    const one = plan(true, "", ["--tenant", "amis-du-velo"]);
    expect([one.status, one.processes, one.flagged]).toEqual([0, 1, 0]);

    const broken = path.join(copy, "broken-tenants");
    fs.cpSync(path.join(copy, "tenants"), broken, { recursive: true });
    fs.appendFileSync(path.join(broken, "amis-du-velo.yaml"), "colour: blue\n");
    const failing = plan(true, broken);
    expect(failing.status).toBe(1);
    expect(failing.stdout).toBe(plan(false, broken).stdout);
  });

  it("answers an unknown command with its usage", () => {
    const run = launch("no-such-command");
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(
      /^usage: node infra\/cli\/launch\.cjs <validate\|quote\|plan\|policy-config\|accounts\|mail-passwords\|restore\|decommission\|import-legacy\|touched\|summary\|deploy\|post-summary>/,
    );
  });
});
