/**
 * The workflow files of .forgejo/workflows, parsed, their `run:` steps, and the pipeline's safety
 * rules checked on the parsed YAML (docs/pipeline.md "What the tests check"). Each rule returns
 * problems as `<file>: <job>: <what is wrong>`, so a test shows a bad workflow failing each of them.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";

export const WORKFLOWS_DIR = path.resolve(__dirname, "..", "..", ".forgejo", "workflows");

export interface Workflow {
  file: string;
  text: string;
  doc: any;
}

export interface RunStep {
  file: string;
  job: string;
  index: number;
  name: string;
  id?: string;
  /** The shell the forge starts the script with: `bash` unless the step or a default says `sh`. */
  shell: string;
  script: string;
  env: Record<string, string>;
}

export function loadWorkflows(dir = WORKFLOWS_DIR): Workflow[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yml") || f.endsWith(".yaml"))
    .sort()
    .map((file) => {
      const text = readFileSync(path.join(dir, file), "utf8");
      return { file, text, doc: parse(text) };
    });
}

/** The events a workflow is triggered by, whatever form `on:` takes (a name, a list, a map). */
export function triggers(wf: Workflow): Map<string, any> {
  const on = wf.doc.on;
  if (typeof on === "string") return new Map([[on, null]]);
  if (Array.isArray(on)) return new Map(on.map((e: string) => [e, null]));
  return new Map(Object.entries(on ?? {}));
}

/**
 * A step with no `shell` runs with the job's default, then the workflow's, then the forge's:
 * `bash -e {0}` when bash is on the runner (GitHub's workflow syntax, jobs.<job_id>.steps[*].shell,
 * https://docs.github.com/en/actions/writing-workflows/workflow-syntax-for-github-actions#jobsjob_idstepsshell;
 * Forgejo's runner follows it). Our runners have bash.
 */
export function runSteps(wf: Workflow): RunStep[] {
  const out: RunStep[] = [];
  for (const [job, spec] of Object.entries<any>(wf.doc.jobs ?? {})) {
    (spec.steps ?? []).forEach((step: any, index: number) => {
      if (typeof step.run !== "string") return;
      out.push({
        file: wf.file,
        job,
        index,
        name: step.name ?? step.id ?? `step ${index + 1}`,
        ...(step.id ? { id: step.id } : {}),
        shell: step.shell ?? spec.defaults?.run?.shell ?? wf.doc.defaults?.run?.shell ?? "bash",
        script: step.run,
        env: step.env ?? {},
      });
    });
  }
  return out;
}

/** Every string inside a value (keys excluded), for finding `secrets.` wherever an expression sits. */
function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === "object") return Object.values(value).flatMap(strings);
  return [];
}

const usesSecrets = (value: unknown) => strings(value).some((s) => /\bsecrets\./.test(s));

/** Events whose runs take the workflow file from the pull request itself. */
const PULL_REQUEST_DEFINITIONS = ["pull_request", "pull_request_review", "pull_request_review_comment"];

/** The runner holding the deploy credentials, and the one where pull requests' code runs. */
export const DEPLOY_RUNNER = "alacarte-deploy";
export const APPROVAL_LABEL = "preview-approved";

/**
 * Jobs that hold secrets never run from a pull request's own definitions: a workflow triggered by
 * `pull_request` uses no secret and no job of it runs on the deploy runner.
 */
export function secretsOnPullRequestProblems(workflows: Workflow[]): string[] {
  const problems: string[] = [];
  for (const wf of workflows) {
    const events = [...triggers(wf).keys()].filter((e) => PULL_REQUEST_DEFINITIONS.includes(e));
    if (events.length === 0) continue;
    if (usesSecrets(wf.doc.env))
      problems.push(`${wf.file}: runs on ${events.join(", ")} (the pull request's definitions) and uses secrets`);
    for (const [job, spec] of Object.entries<any>(wf.doc.jobs ?? {})) {
      if (usesSecrets(spec))
        problems.push(`${wf.file}: ${job}: runs on ${events.join(", ")} (the pull request's definitions) and uses secrets`);
      if (strings(spec["runs-on"]).includes(DEPLOY_RUNNER))
        problems.push(`${wf.file}: ${job}: runs on ${events.join(", ")} on the deploy runner`);
    }
  }
  return problems;
}

/** The job brings the pull request's commits in (fetches refs/pull/…, or uses the head's SHA). */
function bringsPullRequestCode(spec: any): boolean {
  return strings(spec.steps ?? []).some((s) => s.includes("refs/pull/") || s.includes("pull_request.head.sha"));
}

const RUNS_PROGRAM = /\b(npm|npx|node|pulumi)\b/;

/**
 * In a `pull_request_target` workflow, a job with secrets that takes the pull request's commits
 * either waits for the maintainer's label on a label event, or previews tenant files only: it
 * requires the `changes` job's verdict and checks the tree itself (step `only-tenant-files`)
 * before anything runs the program.
 */
export function approvalProblems(workflows: Workflow[]): string[] {
  const problems: string[] = [];
  for (const wf of workflows) {
    if (!triggers(wf).has("pull_request_target")) continue;
    for (const [job, spec] of Object.entries<any>(wf.doc.jobs ?? {})) {
      if (!usesSecrets(spec) || !bringsPullRequestCode(spec)) continue;
      const condition = String(spec.if ?? "");
      const approved =
        condition.includes(`contains(github.event.pull_request.labels.*.name, '${APPROVAL_LABEL}')`) &&
        condition.includes("github.event.action == 'labeled'");
      if (approved) continue;
      const steps: any[] = spec.steps ?? [];
      const check = steps.findIndex((s) => s.id === "only-tenant-files");
      const firstProgram = steps.findIndex((s) => typeof s.run === "string" && RUNS_PROGRAM.test(s.run));
      const tenantsOnly =
        condition.includes("needs.changes.outputs.tenants-only == 'true'") && check >= 0 && (firstProgram < 0 || check < firstProgram);
      if (!tenantsOnly)
        problems.push(
          `${wf.file}: ${job}: runs the pull request's commits with secrets without the label ${APPROVAL_LABEL} or a tenant-files-only check before the program`,
        );
    }
  }
  return problems;
}

/** A nightly drift check: a schedule, the drift command over a matrix of shards matching SHARDS. */
export function scheduleProblems(workflows: Workflow[]): string[] {
  const drift = workflows.filter((wf) => runSteps(wf).some((s) => s.script.includes("npm run deploy -- drift --shard")));
  if (drift.length === 0) return ["no workflow runs npm run deploy -- drift"];
  const problems: string[] = [];
  for (const wf of drift) {
    const schedule = triggers(wf).get("schedule");
    if (!Array.isArray(schedule) || !schedule.some((s) => typeof s?.cron === "string"))
      problems.push(`${wf.file}: runs the drift check without a schedule`);
    for (const [job, spec] of Object.entries<any>(wf.doc.jobs ?? {})) {
      if (!strings(spec.steps ?? []).some((s) => s.includes("drift --shard"))) continue;
      const shards = spec.strategy?.matrix?.shard;
      const count = Number(spec.env?.SHARDS);
      const expected = Array.from({ length: count }, (_, i) => i + 1);
      if (!Array.isArray(shards) || JSON.stringify(shards) !== JSON.stringify(expected))
        problems.push(`${wf.file}: ${job}: matrix.shard must be 1..SHARDS (${count}), is ${JSON.stringify(shards)}`);
      if (spec.strategy?.["fail-fast"] !== false)
        problems.push(`${wf.file}: ${job}: a shard's drift must not cancel the others (fail-fast: false)`);
    }
  }
  return problems;
}

/**
 * Two `up`s never overlap and none is cancelled: the workflow has a concurrency group with an
 * explicit `cancel-in-progress: false` (Forgejo cancels a running push run otherwise), and the
 * drift check shares the group.
 */
export function concurrencyProblems(workflows: Workflow[]): string[] {
  const problems: string[] = [];
  const groupOf = (wf: Workflow) => (typeof wf.doc.concurrency === "string" ? wf.doc.concurrency : wf.doc.concurrency?.group);
  const ups = workflows.filter((wf) => runSteps(wf).some((s) => /npm run deploy -- up\b/.test(s.script)));
  if (ups.length === 0) return ["no workflow runs npm run deploy -- up"];
  for (const wf of ups) {
    if (!groupOf(wf)) problems.push(`${wf.file}: runs up without a workflow concurrency group`);
    if (wf.doc.concurrency?.["cancel-in-progress"] !== false) problems.push(`${wf.file}: runs up without cancel-in-progress: false`);
  }
  const upGroups = new Set(ups.map(groupOf));
  for (const wf of workflows.filter((w) => runSteps(w).some((s) => s.script.includes("npm run deploy -- drift")))) {
    if (!upGroups.has(groupOf(wf))) problems.push(`${wf.file}: the drift check is not in the up's concurrency group`);
  }
  return problems;
}

/**
 * No expression inside a script: values reach scripts through `env:`, so a pull request's title or
 * branch name can never become shell code, and shellcheck reads the script the shell runs.
 */
export function expressionInScriptProblems(workflows: Workflow[]): string[] {
  return workflows.flatMap((wf) =>
    runSteps(wf)
      .filter((s) => s.script.includes("${{"))
      .map((s) => `${s.file}: ${s.job}: "${s.name}" has an expression in its script: pass it through env`),
  );
}

export function safetyProblems(workflows: Workflow[]): string[] {
  return [
    ...secretsOnPullRequestProblems(workflows),
    ...approvalProblems(workflows),
    ...scheduleProblems(workflows),
    ...concurrencyProblems(workflows),
    ...expressionInScriptProblems(workflows),
  ];
}
