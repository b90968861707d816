import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROJECT_ROOT } from "../contract/paths";
import type { PlanForDiff } from "../plan/plan-diff";
import { UsageError } from "./run";

/**
 * The offline plans (with digests) of commits and of the working tree, for the commands that
 * compare two (npm run touched, npm run summary). A commit's plan is made in a worktree of it,
 * sharing this checkout's node_modules when the lockfiles are the same; with a cache folder it is
 * kept as <dir>/<env>-<commit>.json.
 */

/** What the commands read of a plan: its stacks with digests, each with its yearly price and policy results. */
export type CommitPlan = PlanForDiff & {
  stacks: (PlanForDiff["stacks"][number] & {
    yearlyPriceEur: number | null;
    policies: { policy: string; level: string; message: string }[];
  })[];
};

/** Runs git in the checkout (or `cwd`); its output, trimmed. */
export function git(args: string[], cwd = PROJECT_ROOT): string {
  return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

export function commitOf(ref: string): string {
  try {
    return git(["rev-parse", "--verify", `${ref}^{commit}`]);
  } catch {
    throw new UsageError(`"${ref}" names no commit`);
  }
}

/** How a plan is made: its environment, and whether the policy pack is evaluated (the summary shows its results). */
export interface PlanRequest {
  env: string;
  policies: boolean;
}

/** The offline plan, with digests, of a checkout's working tree. */
export function planTree(root: string, request: PlanRequest): CommitPlan {
  const childEnv = { ...process.env };
  // The tree's own tenant files, never a folder another command was pointed at.
  delete childEnv.ALACARTE_TENANTS_DIR;
  const run = spawnSync(
    process.execPath,
    [
      path.join(root, "infra", "cli", "launch.cjs"),
      "plan",
      "--json",
      "--digests",
      ...(request.policies ? [] : ["--no-policies"]),
      "--env",
      request.env,
    ],
    {
      cwd: root,
      env: childEnv,
      encoding: "utf8",
      maxBuffer: 1 << 30,
    },
  );
  try {
    return JSON.parse(run.stdout) as CommitPlan;
  } catch {
    const why = run.stderr.trim().split("\n").slice(-3).join("\n");
    throw new UsageError(`the plan of ${root} gave no result (exit ${run.status}):\n${why}`);
  }
}

/** The plan of a commit: from the cache, or made in a worktree of it. */
export function planAt(commit: string, request: PlanRequest, cacheDir: string | undefined): CommitPlan {
  const cached = cacheDir ? path.join(cacheDir, `${request.env}-${commit}${request.policies ? "-policies" : ""}.json`) : undefined;
  if (cached && fs.existsSync(cached)) return JSON.parse(fs.readFileSync(cached, "utf8")) as CommitPlan;
  const lockHere = fs.readFileSync(path.join(PROJECT_ROOT, "package-lock.json"), "utf8");
  const lockThere = git(["show", `${commit}:package-lock.json`]);
  if (lockHere.trim() !== lockThere.trim()) {
    throw new UsageError(`${commit.slice(0, 12)} has other dependencies than this checkout; plan it in a checkout of its own after npm ci`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "alacarte-plan-"));
  const tree = path.join(dir, "tree");
  try {
    git(["worktree", "add", "--detach", "--quiet", tree, commit]);
    fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(tree, "node_modules"), "dir");
    const plan = planTree(tree, request);
    if (plan.stacks.some((s) => s.resources.some((r) => r.digest === undefined))) {
      throw new UsageError(`${commit.slice(0, 12)} predates the plan's digests`);
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
