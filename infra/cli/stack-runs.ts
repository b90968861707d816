import * as fs from "node:fs";
import * as path from "node:path";
import { type EngineEvent, LocalWorkspace, type LocalWorkspaceOptions, PulumiCommand, type Stack } from "@pulumi/pulumi/automation";
import { emptyEvents, hasChanges, keepEvent, type ReducedEvents } from "../plan/engine-summary";
import type { StackDiff } from "../plan/plan-diff";
import { redactEmails } from "./keycloak-accounts";

/**
 * One stack's preview, update or drift check through the Automation API (docs/pipeline.md): the
 * project's folder as the workspace (the CLI runs the program as `pulumi preview` does), the
 * policy pack and its config, `--diff`, and the engine's events reduced as they arrive
 * (infra/plan/engine-summary.ts). A tenant stack is created the first time; the platform stack
 * must exist (its settings file, with its salt and secrets, is committed: docs/pipeline.md).
 */

export type DeployMode = "preview" | "up" | "drift";

export interface StackJob {
  stack: string;
  tenant: string | null;
  status: StackDiff["status"];
  /** The host its containers run on (a tenant's: the platform config's placement.apps). */
  host: string;
}

export interface StackOutcome {
  job: StackJob;
  events: ReducedEvents;
  /** One line without secrets when the run failed. */
  failure?: string;
  /** drift: the preview after the refresh proposed changes. */
  drifted?: boolean;
}

/** The accounts a tenant's members need, created and invited before its stack's `up` (infra/cli/accounts-run.ts). */
export type AccountsStep = (tenant: string) => Promise<{ ok: boolean; line: string }>;

export interface RunContext {
  mode: DeployMode;
  pulumi: PulumiCommand;
  workDir: string;
  /** The policy pack's config, written once per run (npm run policy-config's JSON). */
  policyConfigFile: string;
  accounts: AccountsStep;
  /** Where each stack's reduced events are written, `<dir>/<stack>.events.json`. */
  eventDir?: string;
}

/**
 * The CLI to run: `<root>/bin/pulumi` when a root is given (a pinned install, or a stub in the
 * tests), else `pulumi` on PATH; its `pulumi version` is checked against the SDK's minimum
 * (@pulumi/pulumi 3.248.0 automation/cmd.ts `PulumiCommand.get`).
 */
export function pulumiCommand(root: string | undefined): Promise<PulumiCommand> {
  return PulumiCommand.get({ ...(root ? { root: path.resolve(root) } : {}), skipVersionCheck: false });
}

/**
 * The workspace's options. Never `projectSettings` nor `stackSettings`: both make the workspace
 * write Pulumi.yaml or Pulumi.<stack>.yaml beside it, the second ignoring `stackConfigDir`
 * (localWorkspace.ts saveStackSettings), and parallel stacks share this one folder.
 */
function workspaceOptions(ctx: RunContext): LocalWorkspaceOptions {
  return {
    pulumiCommand: ctx.pulumi,
    // New tenant stacks take the passphrase provider (its salt goes with the state, below).
    secretsProvider: "passphrase",
    envVars: {
      // A tenant stack's settings file is not committed: the CLI takes the secrets provider and
      // salt saved in the stack's state (pulumi/pulumi pkg/cmd/pulumi/stack/secrets.go
      // SecretsManagerLoader.FallbackToState; sdk/go/common/env/env.go FALLBACK_TO_STATE_SECRETS_MANAGER).
      PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER: "true",
      PULUMI_SKIP_UPDATE_CHECK: "true",
    },
  };
}

async function openStack(job: StackJob, ctx: RunContext): Promise<Stack> {
  const args = { stackName: job.stack, workDir: ctx.workDir };
  // The drift check and the platform stack select only: a stack made there would be empty.
  if (job.tenant !== null && ctx.mode !== "drift") return LocalWorkspace.createOrSelectStack(args, workspaceOptions(ctx));
  return LocalWorkspace.selectStack(args, workspaceOptions(ctx));
}

/** Pure: the one line of a failed CLI run worth printing: its last `error:` line, emails masked, cut short. */
export function failureLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const error = lines.filter((l) => /error:/i.test(l)).pop() ?? lines.pop() ?? "failed";
  const line = redactEmails(error);
  return line.length > 300 ? `${line.slice(0, 297)}…` : line;
}

/** Runs one stack; a failure is its outcome, never a throw. */
export async function runStack(job: StackJob, ctx: RunContext): Promise<StackOutcome> {
  const events = emptyEvents();
  const outcome: StackOutcome = { job, events };
  try {
    const stack = await openStack(job, ctx);
    if (ctx.mode === "up" && job.tenant !== null) {
      const accounts = await ctx.accounts(job.tenant);
      if (!accounts.ok) {
        outcome.failure = `accounts: ${accounts.line}`;
        return outcome;
      }
    }
    const options = {
      policyPacks: ["policies"],
      policyPackConfigs: [ctx.policyConfigFile],
      diff: true,
      color: "never" as const,
      onEvent: (event: EngineEvent) => keepEvent(events, event),
    };
    if (ctx.mode === "preview") await stack.preview(options);
    else if (ctx.mode === "up") await stack.up(options);
    // A refresh in memory, then the preview against it: the scheduled check writes no state.
    else await stack.preview({ ...options, refresh: true, expectNoChanges: true });
  } catch (e) {
    outcome.failure = failureLine(e);
  } finally {
    if (ctx.mode === "drift") {
      outcome.drifted = hasChanges(events);
      // expect-no-changes makes a drifted preview fail: that is the drift, not a failure.
      if (outcome.drifted) delete outcome.failure;
    }
    if (ctx.eventDir) {
      fs.mkdirSync(ctx.eventDir, { recursive: true });
      fs.writeFileSync(path.join(ctx.eventDir, `${job.stack}.events.json`), `${JSON.stringify(events)}\n`);
    }
  }
  return outcome;
}
