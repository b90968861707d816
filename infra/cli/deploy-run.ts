import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { PROJECT_ROOT, TENANTS_DIR } from "../contract/paths";
import { platformStackName, tenantStackName } from "../model/naming";
import { readPlatformConfig } from "../model/platform-config";
import { changesOf, renderEngineSummary, type StackRun } from "../plan/engine-summary";
import { environmentPolicyConfig } from "../plan/offline-plan";
import { renderSummary } from "../plan/plan-summary";
import { tenantAccountsStep } from "./accounts-run";
import { runBounded } from "./bounded-pool";
import { commitOf } from "./commit-plans";
import {
  type AccountsStep,
  type DeployMode,
  failureLine,
  pulumiCommand,
  type RunContext,
  runStack,
  type StackJob,
  type StackOutcome,
} from "./stack-runs";
import { UsageError } from "./run";
import { refusalLines, refused, type SelectionRequest, type TouchedSelection, touchedSelection } from "./touched-selection";

/**
 * npm run deploy -- <preview|up|drift> ... (docs/pipeline.md): the stacks a change touches
 * (npm run touched's selection), each previewed or applied through the Automation API with the
 * policy pack, the platform stack first, the tenant stacks with bounded parallelism overall and
 * per host; or every stack's drift check. A line per stack; exit 1 when one failed or drifted,
 * 2 when the change is refused (a stack taken away, data deleted: npm run decommission).
 */

export const USAGE =
  "usage: npm run deploy -- <preview|up> <base-ref> [<head-ref>] [--env prod|staging] [--summary <file.md>] [--parallel N] [--per-host N] [--event-dir <dir>] [--cache <dir>] [--pulumi-root <dir>]\n" +
  "       npm run deploy -- drift [--shard i/n] [--env prod|staging] [--parallel N] [--per-host N] [--event-dir <dir>] [--pulumi-root <dir>]";

/** What the command depends on, replaceable in tests. */
export interface DeployDeps {
  /** npm run touched's selection (the offline plans of both commits). */
  select: (baseRef: string, headRef: string | undefined, request: SelectionRequest) => TouchedSelection;
  /** The accounts step of one tenant, for `up`. */
  accounts: (env: string) => AccountsStep;
  /** The folder whose bin/pulumi is run; default ALACARTE_PULUMI_ROOT, else `pulumi` on PATH. */
  pulumiRoot: string | undefined;
  /** The project folder the CLI runs the program from. */
  workDir: string;
  print: (line: string) => void;
  printError: (line: string) => void;
}

/** The selection of the checkout's own commit: the program the CLI runs is the checkout's. */
function checkoutSelection(baseRef: string, headRef: string | undefined, request: SelectionRequest): TouchedSelection {
  if (headRef !== undefined && commitOf(headRef) !== commitOf("HEAD"))
    throw new UsageError(`${headRef} is not the checked-out commit: the CLI runs the checkout's program, so check ${headRef} out first`);
  return touchedSelection(baseRef, headRef, request);
}

const defaults = (): DeployDeps => ({
  select: checkoutSelection,
  accounts: (env) => tenantAccountsStep(env),
  pulumiRoot: process.env.ALACARTE_PULUMI_ROOT || undefined,
  workDir: PROJECT_ROOT,
  print: (line) => console.log(line),
  printError: (line) => console.error(line),
});

function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${flag} must be a whole number of at least 1, not "${value}"`);
  return n;
}

/** Pure: `i/n` with 1 ≤ i ≤ n. */
export function parseShard(value: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(value);
  const index = m ? Number(m[1]) : 0;
  const count = m ? Number(m[2]) : 0;
  if (!m || count < 1 || index < 1 || index > count) throw new UsageError(`--shard must be i/n with 1 ≤ i ≤ n, not "${value}"`);
  return { index, count };
}

/** Pure: the stacks of shard i of n: every n-th of the sorted list, from the i-th. */
export function shardOf<T>(items: readonly T[], shard: { index: number; count: number }): T[] {
  return items.filter((_, k) => k % shard.count === shard.index - 1);
}

/** Every stack of an environment (the drift check): the platform, then one per tenant file of it. */
function everyStack(env: string): { stack: string; tenant: string | null }[] {
  const platform = readPlatformConfig(env);
  const only = platform.tenants ? new Set(platform.tenants) : undefined;
  const slugs = fs
    .readdirSync(TENANTS_DIR)
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => f.slice(0, -".yaml".length))
    .filter((slug) => !only || only.has(slug))
    .sort();
  return [{ stack: platformStackName(env), tenant: null }, ...slugs.map((slug) => ({ stack: tenantStackName(env, slug), tenant: slug }))];
}

/** Pure: what happened to one stack, on one line: counts, never names of people or secrets. */
export function outcomeLine(mode: DeployMode, o: StackOutcome): string {
  if (o.failure !== undefined) return `${o.job.stack}: failed: ${o.failure}`;
  const c = changesOf(o.events);
  const counts = `${c.create.length} to create, ${c.update.length} to update, ${c.replace.length} to replace, ${c.delete.length} to delete`;
  const policies = o.events.policies.length ? `; ${o.events.policies.length} policy result(s)` : "";
  if (mode === "drift") return o.drifted ? `${o.job.stack}: drifted: ${counts}` : `${o.job.stack}: no drift`;
  return `${o.job.stack}: ${mode === "up" ? "applied" : "previewed"}: ${counts}${policies}`;
}

/** The policy pack's config; an invalid tenant file is one line (its messages may quote an email: npm run validate shows them). */
function policyConfigOf(env: string) {
  try {
    return environmentPolicyConfig(env);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError("the tenant files do not validate: run npm run validate, fix them, then deploy again");
  }
}

function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

/** The command; returns its exit code. */
export async function deploy(argv: readonly string[], overrides: Partial<DeployDeps> = {}): Promise<number> {
  const deps = { ...defaults(), ...overrides };
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      env: { type: "string", default: "prod" },
      summary: { type: "string" },
      parallel: { type: "string", default: "4" },
      "per-host": { type: "string", default: "2" },
      "event-dir": { type: "string" },
      shard: { type: "string" },
      cache: { type: "string" },
      "pulumi-root": { type: "string" },
    },
  });
  const [mode, baseRef, headRef, ...extra] = positionals;
  if (mode !== "preview" && mode !== "up" && mode !== "drift") throw new UsageError(USAGE);
  if (mode === "drift" ? baseRef !== undefined || values.summary !== undefined : baseRef === undefined || extra.length > 0)
    throw new UsageError(USAGE);
  if (mode !== "drift" && values.shard !== undefined) throw new UsageError("--shard is for drift only");
  const env = values.env!;
  const bounds = { parallel: positiveInt(values.parallel!, "parallel"), perHost: positiveInt(values["per-host"]!, "per-host") };
  const platformConfig = readPlatformConfig(env);
  const appsHost = platformConfig.placement.apps;

  let selection: TouchedSelection | undefined;
  let targets: { stack: string; tenant: string | null; status: StackJob["status"] }[];
  if (mode === "drift") {
    const all = everyStack(env);
    targets = (values.shard ? shardOf(all, parseShard(values.shard)) : all).map((s) => ({ ...s, status: "changed" as const }));
  } else {
    selection = deps.select(baseRef!, headRef, { env, cache: values.cache });
    const refusals = refusalLines(selection.diff);
    if (selection.diff.some(refused)) {
      for (const line of refusals) deps.printError(line);
      // The pull request still gets its summary, with the loud warnings, saying why.
      if (values.summary) writeAtomically(values.summary, renderSummary(selection.base, selection.head));
      return 2;
    }
    // A decommissioned tenant's stack has nothing left to run: it is never destroyed by the flow.
    targets = selection.diff.filter((d) => !d.decommissioned).map((d) => ({ stack: d.stack, tenant: d.tenant, status: d.status }));
  }
  if (targets.length === 0) {
    deps.print("no stack is touched");
    if (values.summary && selection) writeAtomically(values.summary, renderSummary(selection.base, selection.head));
    return 0;
  }

  const jobs: StackJob[] = targets.map((t) => ({ ...t, host: t.tenant === null ? "platform" : appsHost }));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "alacarte-deploy-"));
  try {
    const policyConfigFile = path.join(dir, "policy-config.json");
    fs.writeFileSync(policyConfigFile, `${JSON.stringify(policyConfigOf(env), null, 2)}\n`);
    const root = values["pulumi-root"] ?? deps.pulumiRoot;
    const ctx: RunContext = {
      mode,
      pulumi: await pulumiCommand(root).catch((e: unknown) => {
        throw new UsageError(`cannot run the Pulumi CLI (${root ? `${root}/bin/pulumi` : "pulumi on PATH"}): ${failureLine(e)}`);
      }),
      workDir: deps.workDir,
      policyConfigFile,
      accounts: deps.accounts(env),
      ...(values["event-dir"] ? { eventDir: values["event-dir"] } : {}),
    };
    const report = (o: StackOutcome) => {
      deps.print(outcomeLine(mode, o));
      return o;
    };
    // The platform before the tenants: a tenant stack reads the platform's outputs.
    const platformJobs = jobs.filter((j) => j.tenant === null);
    const tenantJobs = jobs.filter((j) => j.tenant !== null);
    const outcomes: StackOutcome[] = [];
    for (const job of platformJobs) outcomes.push(report(await runStack(job, ctx)));
    const platformFailed = outcomes.some((o) => o.failure !== undefined);
    if (mode === "up" && platformFailed) {
      for (const job of tenantJobs)
        outcomes.push(report({ job, events: { steps: [], policies: [], errors: 0 }, failure: "not applied: the platform stack failed" }));
    } else
      outcomes.push(
        ...(await runBounded(
          tenantJobs,
          bounds,
          (j) => j.host,
          async (job) => report(await runStack(job, ctx)),
        )),
      );

    const failed = outcomes.filter((o) => o.failure !== undefined);
    const drifted = outcomes.filter((o) => o.drifted);
    deps.print(
      `${outcomes.length} stack(s): ${outcomes.length - failed.length} ${mode === "drift" ? "checked" : mode === "up" ? "applied" : "previewed"}, ${failed.length} failed` +
        (mode === "drift" ? `, ${drifted.length} drifted${drifted.length ? ` (${drifted.map((o) => o.job.stack).join(", ")})` : ""}` : ""),
    );
    if (values.summary && selection) {
      const runs: StackRun[] = outcomes.map((o) => ({
        stack: o.job.stack,
        tenant: o.job.tenant,
        status: o.job.status,
        events: o.events,
        ...(o.failure !== undefined ? { failure: o.failure } : {}),
      }));
      writeAtomically(values.summary, renderEngineSummary(selection.base, selection.head, runs));
    }
    return failed.length || drifted.length ? 1 : 0;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
