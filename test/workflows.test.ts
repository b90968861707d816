/**
 * The workflow files of .forgejo/workflows: valid for the format (SchemaStore's schema of GitHub's
 * workflow syntax, through @action-validator/core), every `run:` script clean under shellcheck in
 * the shell the forge runs it with, the pipeline's safety rules on the parsed YAML, each rule shown
 * failing on a bad workflow, and the steps that guard the credentials run for real against git
 * histories made here (docs/pipeline.md "What the tests check").
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { validateWorkflow } from "@action-validator/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { needTools, requireTool } from "./helpers/debian-tools";
import {
  approvalProblems,
  concurrencyProblems,
  expressionInScriptProblems,
  loadWorkflows,
  type RunStep,
  runSteps,
  safetyProblems,
  scheduleProblems,
  secretsOnPullRequestProblems,
  type Workflow,
} from "./helpers/workflows";

const workflows = loadWorkflows();
const byFile = (file: string) => workflows.find((wf) => wf.file === file)!;
const copy = (wf: Workflow): Workflow => ({ ...wf, doc: structuredClone(wf.doc) });
/** The real workflows with one of them changed by `edit`. */
const withEdit = (file: string, edit: (doc: any) => void): Workflow[] =>
  workflows.map((wf) => {
    if (wf.file !== file) return wf;
    const changed = copy(wf);
    edit(changed.doc);
    return changed;
  });

describe("the workflow files", () => {
  it("are there: checks, preview, deploy, drift and images", () => {
    expect(workflows.map((wf) => wf.file)).toEqual(["checks.yml", "deploy.yml", "drift.yml", "images.yml", "preview.yml"]);
  });

  it.each(workflows.map((wf) => [wf.file, wf] as const))("%s is a valid workflow for SchemaStore's schema", (_file, wf) => {
    expect(validateWorkflow(wf.text).errors).toEqual([]);
  });

  it("the validator refuses a workflow with a misspelt key, so its verdict means something", () => {
    const bad = "on: push\njobs:\n  a:\n    runs-onn: alacarte-ci\n    steps:\n      - run: echo\n";
    expect(validateWorkflow(bad).errors.length).toBeGreaterThan(0);
  });
});

/** shellcheck of one step's script, with the shell the forge starts it with; its findings, or "". */
function shellcheck(step: Pick<RunStep, "shell" | "script">, dir: string): string {
  const dialect = { bash: "bash", sh: "sh" }[step.shell];
  if (!dialect) return `shell ${step.shell} is not one shellcheck reads`;
  const file = path.join(dir, "step.sh");
  writeFileSync(file, step.script);
  const run = spawnSync(requireTool("shellcheck"), ["-s", dialect, "-f", "gcc", file], { encoding: "utf8" });
  return run.status === 0 ? "" : (run.stdout || run.stderr).trim();
}

describe("every run step's script", () => {
  needTools("shellcheck");
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "alacarte-workflows-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const steps = workflows.flatMap(runSteps);
  it("runs in bash: the workflows say so, which both forges honour", () => {
    expect(new Set(steps.map((s) => s.shell))).toEqual(new Set(["bash"]));
  });

  it.each(steps.map((s) => [`${s.file} ${s.job} "${s.name}"`, s] as const))("%s passes shellcheck", (_label, step) => {
    expect(shellcheck(step, dir)).toBe("");
  });

  it("shellcheck flags a bad script the same way, so a clean verdict means something", () => {
    expect(shellcheck({ shell: "bash", script: 'cd $HOME\nrm -rf $target/*\n[ $x == "a" ]\n' }, dir)).toMatch(/SC2086/);
    expect(shellcheck({ shell: "sh", script: 'x=$(printf a)\nif [[ "$x" == a ]]; then echo; fi\n' }, dir)).toMatch(/SC3010/);
  });
});

describe("the pipeline's safety rules hold", () => {
  it("on the workflow files", () => {
    expect(safetyProblems(workflows)).toEqual([]);
  });

  it("no job with secrets runs from a pull request's own definitions: a pull_request workflow with a secret is refused", () => {
    const leaky = withEdit("checks.yml", (doc) => {
      doc.jobs.test.steps.push({
        run: "npm run deploy -- preview a b",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a workflow expression, as the forge reads it
        env: { PULUMI_CONFIG_PASSPHRASE: "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}" },
      });
    });
    expect(secretsOnPullRequestProblems(leaky)).toEqual([
      "checks.yml: test: runs on pull_request (the pull request's definitions) and uses secrets",
    ]);
    const onPullRequest = withEdit("preview.yml", (doc) => {
      doc.on = { pull_request: null };
    });
    expect(secretsOnPullRequestProblems(onPullRequest)).toContain(
      "preview.yml: preview-code: runs on pull_request (the pull request's definitions) and uses secrets",
    );
    const onDeployRunner = withEdit("checks.yml", (doc) => {
      doc.jobs.test["runs-on"] = "alacarte-deploy";
    });
    expect(secretsOnPullRequestProblems(onDeployRunner)).toEqual(["checks.yml: test: runs on pull_request on the deploy runner"]);
  });

  it("a code-changing pull request's preview needs the maintainer's label", () => {
    const unguarded = withEdit("preview.yml", (doc) => {
      doc.jobs["preview-code"].if = "needs.changes.outputs.tenants-only == 'false'";
    });
    expect(approvalProblems(unguarded)).toEqual([
      "preview.yml: preview-code: runs the pull request's commits with secrets without the label preview-approved or a tenant-files-only check before the program",
    ]);
    const labelOnAnyEvent = withEdit("preview.yml", (doc) => {
      doc.jobs["preview-code"].if = "contains(github.event.pull_request.labels.*.name, 'preview-approved')";
    });
    expect(approvalProblems(labelOnAnyEvent)).toHaveLength(1);
  });

  it("a tenant pull request's preview checks the tree before the program runs", () => {
    const unchecked = withEdit("preview.yml", (doc) => {
      doc.jobs["preview-tenants"].steps = doc.jobs["preview-tenants"].steps.filter((s: any) => s.id !== "only-tenant-files");
    });
    expect(approvalProblems(unchecked)).toEqual([
      "preview.yml: preview-tenants: runs the pull request's commits with secrets without the label preview-approved or a tenant-files-only check before the program",
    ]);
    const checkedTooLate = withEdit("preview.yml", (doc) => {
      const steps: any[] = doc.jobs["preview-tenants"].steps;
      const check = steps.splice(
        steps.findIndex((s) => s.id === "only-tenant-files"),
        1,
      );
      steps.push(...check);
    });
    expect(approvalProblems(checkedTooLate)).toHaveLength(1);
  });

  it("the drift check is scheduled, sharded over 1..SHARDS and never cut short", () => {
    expect(
      scheduleProblems(
        withEdit("drift.yml", (doc) => {
          doc.on = { workflow_dispatch: null };
        }),
      ),
    ).toEqual(["drift.yml: runs the drift check without a schedule"]);
    expect(
      scheduleProblems(
        withEdit("drift.yml", (doc) => {
          doc.jobs.drift.strategy.matrix.shard = [1, 2, 3];
        }),
      ),
    ).toEqual(["drift.yml: drift: matrix.shard must be 1..SHARDS (4), is [1,2,3]"]);
    expect(scheduleProblems(workflows.filter((wf) => wf.file !== "drift.yml"))).toEqual(["no workflow runs npm run deploy -- drift"]);
  });

  it("up runs in one concurrency group that never cancels, shared by the drift check", () => {
    expect(
      concurrencyProblems(
        withEdit("deploy.yml", (doc) => {
          delete doc.concurrency;
        }),
      ),
    ).toEqual([
      "deploy.yml: runs up without a workflow concurrency group",
      "deploy.yml: runs up without cancel-in-progress: false",
      "drift.yml: the drift check is not in the up's concurrency group",
    ]);
    expect(
      concurrencyProblems(
        withEdit("deploy.yml", (doc) => {
          doc.concurrency["cancel-in-progress"] = true;
        }),
      ),
    ).toEqual(["deploy.yml: runs up without cancel-in-progress: false"]);
  });

  it("no expression is pasted into a script", () => {
    const injected = withEdit("preview.yml", (doc) => {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a workflow expression pasted into a script, the mistake shown
      doc.jobs.changes.steps.push({ name: "greet", run: 'echo "${{ github.event.pull_request.title }}"' });
    });
    expect(expressionInScriptProblems(injected)).toEqual([
      'preview.yml: changes: "greet" has an expression in its script: pass it through env',
    ]);
  });
});

/**
 * The steps of preview.yml that decide what runs with the credentials, run as the forge runs them
 * (`bash --noprofile --norc -eo pipefail <script>`) in a clone of an "origin" whose pull requests
 * are refs/pull/<n>/head, as on Forgejo and GitHub.
 */
describe("preview.yml's guarding steps, run against real git histories", () => {
  needTools("git", "bash", "awk");
  const preview = byFile("preview.yml");
  const step = (job: string, name: string) => runSteps(preview).find((s) => s.job === job && (s.name === name || s.id === name))!;

  let root: string;
  const sha: Record<string, string> = {};
  const git = (cwd: string, ...args: string[]) =>
    execFileSync(requireTool("git"), ["-c", "user.name=ops", "-c", "user.email=ops@example.org", ...args], {
      cwd,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    }).trim();
  const write = (repo: string, file: string, text: string) => {
    mkdirSync(path.dirname(path.join(repo, file)), { recursive: true });
    writeFileSync(path.join(repo, file), text);
  };

  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), "alacarte-preview-steps-"));
    const src = path.join(root, "src");
    mkdirSync(src);
    git(src, "init", "-q", "-b", "main");
    write(src, "tenants/amis.yaml", "slug: amis\n");
    write(src, "tenants/bleu.yaml", "slug: bleu\n");
    write(src, "infra/program.ts", "export {};\n");
    git(src, "add", "-A");
    git(src, "commit", "-q", "-m", "base");
    const fork = git(src, "rev-parse", "HEAD");
    const branch = (name: string, change: () => void) => {
      git(src, "checkout", "-q", "-b", name, fork);
      change();
      git(src, "add", "-A");
      git(src, "commit", "-q", "-m", name);
      sha[name] = git(src, "rev-parse", "HEAD");
    };
    branch("tenants", () => {
      write(src, "tenants/amis.yaml", "slug: amis\nname: Les Amis\n");
      rmSync(path.join(src, "tenants/bleu.yaml"));
      write(src, "tenants/cerise.yaml", "slug: cerise\n");
    });
    branch("code", () => {
      write(src, "tenants/amis.yaml", "slug: amis\nname: Les Amis\n");
      write(src, "infra/offers.ts", "export const x = 1;\n");
    });
    branch("conflict", () => write(src, "infra/program.ts", "export const onBranch = true;\n"));
    branch("link", () => symlinkSync("../infra/program.ts", path.join(src, "tenants/lien.yaml")));
    branch("executable", () => chmodSync(path.join(src, "tenants/amis.yaml"), 0o755));
    // main moves on after the pull requests branched off: its own code change is not theirs.
    git(src, "checkout", "-q", "main");
    write(src, "infra/program.ts", "export const onMain = true;\n");
    git(src, "commit", "-q", "-am", "main moves on");
    sha.main = git(src, "rev-parse", "HEAD");
    const origin = path.join(root, "origin.git");
    git(root, "clone", "-q", "--bare", src, origin);
    ["tenants", "code", "link", "executable", "conflict"].forEach((name, i) => {
      git(origin, "update-ref", `refs/pull/${i + 1}/head`, sha[name]!);
    });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const PULLS = { tenants: 1, code: 2, link: 3, executable: 4, conflict: 5 } as const;

  /** The values of the expressions the steps' env uses, for pull request `name`. */
  function expressions(name: keyof typeof PULLS): Record<string, string> {
    return {
      "github.event.pull_request.number": String(PULLS[name]),
      "github.event.pull_request.base.sha": sha.main!,
      "github.event.pull_request.head.sha": sha[name]!,
    };
  }

  /** Runs steps in order in a fresh checkout of main, carrying GITHUB_ENV; returns the last run and the outputs. */
  function runInCheckout(name: keyof typeof PULLS, steps: RunStep[]) {
    const work = mkdtempSync(path.join(root, "work-"));
    git(root, "clone", "-q", path.join(root, "origin.git"), work);
    git(work, "checkout", "-q", "--detach", sha.main!);
    const files = { env: path.join(work, "..", `${path.basename(work)}.env`), output: path.join(work, "..", `${path.basename(work)}.out`) };
    writeFileSync(files.env, "");
    writeFileSync(files.output, "");
    const values = expressions(name);
    let last: ReturnType<typeof spawnSync> | undefined;
    for (const s of steps) {
      const carried = Object.fromEntries(
        readFileSync(files.env, "utf8")
          .split("\n")
          .filter(Boolean)
          .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
      );
      const stepEnv = Object.fromEntries(
        Object.entries(s.env).map(([k, v]) => {
          const m = /^\$\{\{ ([\w.]+) \}\}$/.exec(v);
          if (!m || values[m[1]!] === undefined) throw new Error(`no value for ${k}: ${v}`);
          return [k, values[m[1]!]!];
        }),
      );
      const script = path.join(root, `${path.basename(work)}-${s.index}.sh`);
      writeFileSync(script, s.script);
      last = spawnSync(requireTool("bash"), ["--noprofile", "--norc", "-eo", "pipefail", script], {
        cwd: work,
        encoding: "utf8",
        env: { PATH: process.env.PATH, HOME: root, GITHUB_ENV: files.env, GITHUB_OUTPUT: files.output, ...carried, ...stepEnv },
      });
      if (last.status !== 0) break;
    }
    return { last: last!, output: readFileSync(files.output, "utf8") };
  }

  it("the classification says tenants only for tenant files, and code for the rest", () => {
    const classify = step("changes", "classify");
    expect(runInCheckout("tenants", [classify]).output).toBe("tenants-only=true\n");
    expect(runInCheckout("code", [classify]).output).toBe("tenants-only=false\n");
  });

  const guarded = () => [
    step("preview-tenants", "Merge the pull request into main, locally"),
    step("preview-tenants", "only-tenant-files"),
  ];

  it("a tenant pull request merged into main passes the check: edits, a new file and a deletion", () => {
    const { last } = runInCheckout("tenants", guarded());
    expect(last.stderr).toBe("");
    expect(last.status).toBe(0);
  });

  it("a pull request that changes code is stopped before anything runs, naming the file", () => {
    const { last } = runInCheckout("code", guarded());
    expect(last.status).toBe(1);
    expect(last.stdout).toBe(
      "infra/offers.ts\n::error::the files above are not tenant files: this pull request needs a maintainer's approval (label preview-approved)\n",
    );
  });

  it("a pull request that does not merge into main is stopped, saying so", () => {
    const { last } = runInCheckout("conflict", guarded());
    expect(last.status).toBe(1);
    expect(last.stdout).toContain("::error::the pull request does not merge into main: merge main into its branch first");
  });

  it("a tenant file that is a symbolic link or executable is stopped", () => {
    for (const name of ["link", "executable"] as const) {
      const { last } = runInCheckout(name, guarded());
      expect(last.status, name).toBe(1);
      expect(last.stdout, name).toContain("::error::a tenant file above is not a plain file");
    }
  });
});
