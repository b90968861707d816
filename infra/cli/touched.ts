import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { PROJECT_ROOT } from "../contract/paths";
import { diffPlans, type PlanForDiff, type StackDiff } from "../plan/plan-diff";
import { runCli, UsageError } from "./run";

/**
 * npm run touched -- <base-ref> [<head-ref>] [--env <env>] [--json] [--cache <dir>]: the stacks a
 * change touches, from the offline plans (with digests) of the two commits, the working tree when
 * no head is given (docs/operations.md "CI and the future orchestrator"). A commit's plan is made
 * in a worktree of it, sharing this checkout's node_modules when the lockfiles are the same; with
 * --cache it is kept as <dir>/<env>-<commit>.json for the next run. Exit 1 when the change would
 * take a stack away or delete data, which the flow refuses (npm run decommission).
 */
runCli(async () => {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      env: { type: "string", default: "prod" },
      json: { type: "boolean", default: false },
      cache: { type: "string" },
    },
  });
  if (positionals.length < 1 || positionals.length > 2) {
    throw new UsageError("usage: npm run touched -- <base-ref> [<head-ref>] [--env <env>] [--json] [--cache <dir>]");
  }
  const env = values.env!;
  const [baseRef, headRef] = positionals;
  const base = planAt(commitOf(baseRef!), env, values.cache);
  const head = headRef === undefined ? planTree(PROJECT_ROOT, env) : planAt(commitOf(headRef), env, values.cache);
  const diff = diffPlans(base, head);
  if (values.json) console.log(JSON.stringify(diff, null, 2));
  else process.stdout.write(touchedText(diff));
  return diff.some(refused) ? 1 : 0;
});

/** What the flow refuses to apply: a stack taken away, or data deleted. */
function refused(d: StackDiff): boolean {
  return d.status === "removed" || d.dataDeletes.length > 0;
}

/** Pure: one line per touched stack, then what the flow refuses; counts and slugs only. */
function touchedText(diff: readonly StackDiff[]): string {
  if (diff.length === 0) return "no stack is touched\n";
  const lines = diff.map(
    (d) => `${d.stack}: ${d.status} (${d.create.length} to create, ${d.update.length} to update, ${d.delete.length} to delete)`,
  );
  for (const d of diff.filter(refused)) {
    if (d.status === "removed") lines.push(`refused: ${d.stack} would be destroyed (its tenant file is gone); see npm run decommission`);
    else
      lines.push(
        `refused: ${d.stack} would delete ${d.dataDeletes.map((r) => r.urn.slice(r.urn.lastIndexOf("::") + 2)).join(", ")}; see npm run decommission`,
      );
  }
  return `${lines.join("\n")}\n`;
}

function git(args: string[], cwd = PROJECT_ROOT): string {
  return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

function commitOf(ref: string): string {
  try {
    return git(["rev-parse", "--verify", `${ref}^{commit}`]);
  } catch {
    throw new UsageError(`touched: "${ref}" names no commit`);
  }
}

/** The offline plan, with digests, of a checkout's working tree. */
function planTree(root: string, env: string): PlanForDiff {
  const childEnv = { ...process.env };
  // The tree's own tenant files, never a folder another command was pointed at.
  delete childEnv.ALACARTE_TENANTS_DIR;
  const run = spawnSync(
    process.execPath,
    [path.join(root, "infra", "cli", "launch.cjs"), "plan", "--json", "--digests", "--no-policies", "--env", env],
    {
      cwd: root,
      env: childEnv,
      encoding: "utf8",
      maxBuffer: 1 << 30,
    },
  );
  try {
    return JSON.parse(run.stdout) as PlanForDiff;
  } catch {
    const why = run.stderr.trim().split("\n").slice(-3).join("\n");
    throw new UsageError(`touched: the plan of ${root} gave no result (exit ${run.status}):\n${why}`);
  }
}

/** The plan of a commit: from the cache, or made in a worktree of it. */
function planAt(commit: string, env: string, cacheDir: string | undefined): PlanForDiff {
  const cached = cacheDir ? path.join(cacheDir, `${env}-${commit}.json`) : undefined;
  if (cached && fs.existsSync(cached)) return JSON.parse(fs.readFileSync(cached, "utf8")) as PlanForDiff;
  const lockHere = fs.readFileSync(path.join(PROJECT_ROOT, "package-lock.json"), "utf8");
  const lockThere = git(["show", `${commit}:package-lock.json`]);
  if (lockHere.trim() !== lockThere.trim()) {
    throw new UsageError(
      `touched: ${commit.slice(0, 12)} has other dependencies than this checkout; plan it in a checkout of its own after npm ci`,
    );
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "alacarte-touched-"));
  const tree = path.join(dir, "tree");
  try {
    git(["worktree", "add", "--detach", "--quiet", tree, commit]);
    fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(tree, "node_modules"), "dir");
    const plan = planTree(tree, env);
    if (plan.stacks.some((s) => s.resources.some((r) => r.digest === undefined))) {
      throw new UsageError(`touched: ${commit.slice(0, 12)} predates the plan's digests`);
    }
    if (cached) {
      fs.mkdirSync(cacheDir!, { recursive: true });
      fs.writeFileSync(`${cached}.tmp`, JSON.stringify(plan));
      fs.renameSync(`${cached}.tmp`, cached);
    }
    return plan;
  } finally {
    try {
      git(["worktree", "remove", "--force", tree]);
    } catch {
      // already gone
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
