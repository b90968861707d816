/**
 * npm run touched on a real git history made here: a clone of this repository, commits that edit
 * a tenant file, rename one, change the platform's settings and a shared component, each compared
 * with the commit before it through the offline plans of both (with digests, cached per commit).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StackDiff } from "../infra/plan/plan-diff";
import { needTools, requireTool } from "./helpers/debian-tools";

const ROOT = resolve(__dirname, "..");

describe("npm run touched, on commits made in a clone", () => {
  needTools("git");
  let dir = "";
  let repo = "";
  let cache = "";
  const git = (...args: string[]) =>
    execFileSync(requireTool("git"), args, { cwd: repo, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
  const commit = (message: string) => {
    git("add", "-A", "tenants", "stacks", "components");
    git("-c", "user.name=ops", "-c", "user.email=ops@example.org", "commit", "-q", "-m", message);
    return git("rev-parse", "HEAD");
  };
  const touched = (base: string, head: string) => {
    const run = spawnSync(process.execPath, [join(repo, "infra/cli/launch.cjs"), "touched", base, head, "--json", "--cache", cache], {
      cwd: repo,
      encoding: "utf8",
      maxBuffer: 1 << 28,
    });
    if (!run.stdout.trim().startsWith("[")) throw new Error(`touched gave no result (exit ${run.status}): ${run.stderr}`);
    return { code: run.status, diff: JSON.parse(run.stdout) as StackDiff[] };
  };
  const summary = (diff: StackDiff[]) => diff.map((d) => `${d.stack} ${d.status}`);
  const edit = (file: string, from: string, to: string) => {
    const text = readFileSync(join(repo, file), "utf8");
    if (!text.includes(from)) throw new Error(`${file} does not hold ${from}`);
    writeFileSync(join(repo, file), text.replace(from, to));
  };
  const commits: Record<string, string> = {};

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "alacarte-touched-test-"));
    repo = join(dir, "repo");
    cache = join(dir, "cache");
    // The working tree as it is, committed in a repository of its own (the history is made below).
    execFileSync(requireTool("git"), ["clone", "-q", "--no-hardlinks", ROOT, repo]);
    for (const path of ["infra", "components", "policies", "tenants", "stacks", "images", "package.json", "Pulumi.yaml", "tsconfig.json"]) {
      rmSync(join(repo, path), { recursive: true, force: true });
      cpSync(join(ROOT, path), join(repo, path), { recursive: true, filter: (source) => !source.includes(`${ROOT}/build`) });
    }
    symlinkSync(join(ROOT, "node_modules"), join(repo, "node_modules"), "dir");
    git("add", "-A", "infra", "components", "policies", "tenants", "stacks", "images", "package.json");
    git("-c", "user.name=ops", "-c", "user.email=ops@example.org", "commit", "-q", "--allow-empty", "-m", "base");
    commits.base = git("rev-parse", "HEAD");
    edit("tenants/jardins-partages.yaml", "quotaGb: 2", "quotaGb: 3");
    commits.tenantEdit = commit("a tenant's mailbox quota");
    git("mv", "tenants/dominique-moreau.yaml", "tenants/dominique-durand.yaml");
    edit("tenants/dominique-durand.yaml", "slug: dominique-moreau", "slug: dominique-durand");
    commits.rename = commit("a tenant file renamed");
    edit("stacks/Pulumi.prod.yaml", 'schedule: "17 2 * * *"', 'schedule: "23 2 * * *"');
    commits.platform = commit("the backups' schedule");
    edit(
      "components/blocks/host-file.ts",
      'export const DEFAULT_HOST_FILE_MODE = "0640";',
      'export const DEFAULT_HOST_FILE_MODE = "0600";',
    );
    commits.defaultMode = commit("a shared default some host files take");
    edit("components/blocks/host-file.ts", ".alacarte-tmp`", ".alacarte-temp`");
    commits.shared = commit("the script every host file runs");
  }, 120_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("a tenant file's edit touches that tenant's stack only", () => {
    const { code, diff } = touched(commits.base!, commits.tenantEdit!);
    expect(code).toBe(0);
    expect(summary(diff)).toEqual(["prod.jardins-partages changed"]);
    expect(diff[0]!.update.length).toBeGreaterThan(0);
    expect(diff[0]!.delete).toEqual([]);
  }, 120_000);

  it("a rename adds the new stack and takes the old one away, which the flow refuses", () => {
    const { code, diff } = touched(commits.tenantEdit!, commits.rename!);
    expect(summary(diff)).toEqual(["prod.dominique-durand added", "prod.dominique-moreau removed"]);
    expect(code).toBe(1);
  }, 120_000);

  it("npm run summary gives the same change as the pull request's Markdown, with the loud warning", () => {
    const run = spawnSync(
      process.execPath,
      [join(repo, "infra/cli/launch.cjs"), "summary", commits.tenantEdit!, commits.rename!, "--cache", cache],
      {
        cwd: repo,
        encoding: "utf8",
        maxBuffer: 1 << 28,
      },
    );
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain("2 stack(s) touched");
    expect(run.stdout).toContain("**⚠ prod.dominique-moreau would be destroyed**");
    expect(run.stdout).toContain("| prod.dominique-durand | added |");
    expect(run.stdout).not.toMatch(/@/);
  }, 120_000);

  it("the platform's settings touch the platform stack only, and a shared component every stack whose plan it changes", () => {
    expect(summary(touched(commits.rename!, commits.platform!).diff)).toEqual(["prod changed"]);
    // A default only the mail domains' fragments take: the stacks with a custom mail domain, no other.
    expect(summary(touched(commits.platform!, commits.defaultMode!).diff)).toEqual([
      "prod.amis-du-velo changed",
      "prod.jardins-partages changed",
    ]);
    const shared = touched(commits.defaultMode!, commits.shared!).diff;
    // Every stack writes host files (its fragments), so every stack is touched, the platform first.
    expect(summary(shared)).toEqual([
      "prod changed",
      "prod.amis-du-velo changed",
      "prod.dominique-durand changed",
      "prod.jardins-partages changed",
    ]);
    expect(shared.every((d) => d.create.length === 0 && d.delete.length === 0)).toBe(true);
  }, 240_000);
});
