/**
 * npm run deploy on a real git history made here, as test/touched.test.ts makes one: started as CI
 * starts it (node infra/cli/launch.cjs deploy preview <base> <head>), with npm run touched's
 * selection from the offline plans of both commits. A renamed tenant file and a removed offer
 * holding data are refused with exit 2 before any Pulumi call, naming the stack and its data and
 * pointing to npm run decommission, the summary still written with the loud warning; a tenant's
 * edit is previewed, its stack alone, through the stub pulumi (test/helpers/pulumi-stub).
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { needTools, requireTool } from "./helpers/debian-tools";
import { runProcess } from "./helpers/run-process";

const ROOT = resolve(__dirname, "..");

describe("npm run deploy on commits made in a clone", () => {
  needTools("git");
  let dir = "";
  let repo = "";
  let cache = "";
  let stubDir = "";
  const git = (...args: string[]) =>
    execFileSync(requireTool("git"), args, { cwd: repo, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
  const commit = (message: string) => {
    git("add", "-A", "tenants");
    git("-c", "user.name=ops", "-c", "user.email=ops@example.org", "commit", "-q", "-m", message);
    return git("rev-parse", "HEAD");
  };
  const edit = (file: string, from: string, to: string) => {
    const text = readFileSync(join(repo, file), "utf8");
    if (!text.includes(from)) throw new Error(`${file} does not hold ${from}`);
    writeFileSync(join(repo, file), text.replace(from, to));
  };
  const deploy = async (base: string, head: string, ...extra: string[]) => {
    git("checkout", "-q", "--detach", head);
    const summary = join(dir, `summary-${head.slice(0, 8)}.md`);
    const run = await runProcess(
      process.execPath,
      [join(repo, "infra/cli/launch.cjs"), "deploy", "preview", base, head, "--cache", cache, "--summary", summary, ...extra],
      {
        cwd: repo,
        env: {
          ...process.env,
          ALACARTE_PULUMI_ROOT: join(ROOT, "test", "helpers", "pulumi-stub"),
          ALACARTE_STUB_DIR: stubDir,
          PULUMI_CONFIG_PASSPHRASE: "only-for-the-stub",
        },
      },
    );
    return { ...run, summary: existsSync(summary) ? readFileSync(summary, "utf8") : "" };
  };
  const calls = () =>
    existsSync(join(stubDir, "calls.jsonl"))
      ? readFileSync(join(stubDir, "calls.jsonl"), "utf8")
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l) as { argv: string[] })
      : [];
  const commits: Record<string, string> = {};

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "alacarte-deploy-refusal-"));
    repo = join(dir, "repo");
    cache = join(dir, "cache");
    stubDir = join(dir, "stub");
    execFileSync(requireTool("git"), ["clone", "-q", "--no-hardlinks", ROOT, repo]);
    for (const path of ["infra", "components", "policies", "tenants", "stacks", "images", "package.json", "Pulumi.yaml", "tsconfig.json"]) {
      rmSync(join(repo, path), { recursive: true, force: true });
      cpSync(join(ROOT, path), join(repo, path), { recursive: true, filter: (source) => !source.includes(`${ROOT}/build`) });
    }
    symlinkSync(join(ROOT, "node_modules"), join(repo, "node_modules"), "dir");
    git("add", "-A", "infra", "components", "policies", "tenants", "stacks", "images", "package.json", "Pulumi.yaml", "tsconfig.json");
    git("-c", "user.name=ops", "-c", "user.email=ops@example.org", "commit", "-q", "--allow-empty", "-m", "base");
    commits.base = git("rev-parse", "HEAD");
    edit("tenants/jardins-partages.yaml", "quotaGb: 2", "quotaGb: 3");
    commits.tenantEdit = commit("a tenant's mailbox quota");
    git("mv", "tenants/dominique-moreau.yaml", "tenants/dominique-durand.yaml");
    edit("tenants/dominique-durand.yaml", "slug: dominique-moreau", "slug: dominique-durand");
    commits.rename = commit("a tenant file renamed");
    edit(
      "tenants/jardins-partages.yaml",
      "  website:\n    engine: static\n    domains: [jardins-partages.fr, www.jardins-partages.fr]\n    storageGb: 5\n",
      "",
    );
    commits.offerRemoved = commit("a static site removed from a tenant");
  }, 120_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("refuses a renamed tenant file: the old stack would be destroyed; nothing reaches Pulumi", async () => {
    const run = await deploy(commits.tenantEdit!, commits.rename!);
    expect(run.code, run.stderr).toBe(2);
    const lines = run.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^refused: prod\.dominique-moreau would be destroyed \(its tenant file is gone or renamed(, data: [^)]+)?\); run npm run decommission -- dominique-moreau instead$/,
    );
    expect(run.summary).toContain("**⚠ prod.dominique-moreau would be destroyed**");
    expect(run.summary).not.toMatch(/@/);
    expect(calls()).toEqual([]);
  }, 240_000);

  it("refuses an offer's removal that deletes data, naming the stack and the data resources", async () => {
    const run = await deploy(commits.rename!, commits.offerRemoved!);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr.trim()).toMatch(
      /^refused: prod\.jardins-partages would delete data \([^)]*jardins-partages-website[^)]*\); run npm run decommission -- jardins-partages --offer <offer> instead$/,
    );
    expect(run.summary).toContain("**⚠ prod.jardins-partages would delete data**");
    expect(calls()).toEqual([]);
  }, 240_000);

  it("previews a tenant's edit through the Automation API: that tenant's stack alone, made the first time", async () => {
    const run = await deploy(commits.base!, commits.tenantEdit!);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("prod.jardins-partages: previewed: 0 to create, 0 to update, 0 to replace, 0 to delete");
    expect(run.stdout).toContain("1 stack(s): 1 previewed, 0 failed");
    const previews = calls().filter((c) => c.argv[0] === "preview");
    expect(previews.map((c) => c.argv[c.argv.indexOf("--stack") + 1])).toEqual(["prod.jardins-partages"]);
    expect(calls().some((c) => c.argv[0] === "stack" && c.argv[1] === "init" && c.argv[2] === "prod.jardins-partages")).toBe(true);
    expect(run.summary).toContain("| prod.jardins-partages | changed | 0 | 0 | 0 | 0 |");
  }, 240_000);

  it("refuses a head that is not the checked-out commit", async () => {
    git("checkout", "-q", "--detach", commits.rename!);
    const run = await runProcess(
      process.execPath,
      [join(repo, "infra/cli/launch.cjs"), "deploy", "preview", commits.base!, commits.tenantEdit!],
      {
        cwd: repo,
      },
    );
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(
      `${commits.tenantEdit} is not the checked-out commit: the CLI runs the checkout's program, so check ${commits.tenantEdit} out first`,
    );
  }, 60_000);
});
