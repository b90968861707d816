import { fork } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import type { TenantChunk, TenantChunkSetup, TenantStackRun } from "./offline-plan";
import { PROJECT_ROOT, TENANTS_DIR } from "../model/platform-config";
import { tenantFiles } from "../contract/validate";

/** A process planning chunks of the tenant stacks (plan-worker.ts), one after the other. */
export interface PlanWorker {
  /** Sends what every chunk needs: once, before any chunk. */
  setup(setup: TenantChunkSetup): void;
  plan(chunk: TenantChunk): Promise<TenantStackRun[]>;
  stop(): void;
}

/**
 * Tenant stacks per process from which the plan starts another: each costs its start (importing the
 * program and Pulumi) and about 150–280 MB. Measured on two cores (bench/, whole plan, with / without
 * the second process): 1.71 / 1.38 s at 300 stacks, 2.44 / 2.25 s at 600, 3.57 / 3.67 s at 1,200,
 * 4.76 / 4.97 s at 1,800, 6.57 / 6.81 s at 3,000, 49.4 / 62.6–65.6 s at 30,000: two processes from 2,000 stacks.
 */
const MIN_STACKS_PER_WORKER = 1000;

/** Processes the plan uses by default for a number of tenant stacks. */
function defaultWorkers(stacks: number): number {
  const cores = Math.min(os.availableParallelism(), 4);
  return Math.max(1, Math.min(cores, Math.floor(stacks / MIN_STACKS_PER_WORKER)));
}

/**
 * Starts the processes that will plan tenant stacks beside this one (none for a few stacks).
 * Without Pulumi, so the plan command starts them first: each imports the program and Pulumi
 * while this process does the same and the tenant files are checked.
 */
export function startPlanWorkers(options: { workers?: number; tenants?: readonly string[]; tenantsDir?: string }): PlanWorker[] {
  const count = options.workers ?? defaultWorkers(options.tenants?.length ?? tenantFiles(options.tenantsDir ?? TENANTS_DIR).length);
  return Array.from({ length: Math.max(0, count - 1) }, startWorker);
}

/**
 * A child process running infra/plan/plan-worker: the build's plan-worker.js beside this file when the
 * plan runs from the build (infra/cli/launch.cjs), else the TypeScript source through tsx.
 */
function startWorker(): PlanWorker {
  const fromBuild = __filename.endsWith(".js");
  // The young generation this process was given for a large plan (infra/cli/launch.cjs), the children get too.
  const heapFlags = process.execArgv.filter((a) => a.startsWith("--max-semi-space-size"));
  const child = fork(path.join(__dirname, fromBuild ? "plan-worker.js" : "plan-worker.ts"), [], {
    execArgv: [...heapFlags, ...(fromBuild ? [] : ["--import", "tsx"])],
    cwd: PROJECT_ROOT,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = new Promise<string>((resolve) => {
    child.once("exit", (code, signal) => resolve(`plan worker stopped (${signal ?? `exit ${code}`})`));
    child.once("error", (e) => resolve(`plan worker failed to start: ${e.message}`));
  });
  // Answers come back in the order the chunks were sent.
  const waiting: { resolve(runs: TenantStackRun[]): void; reject(e: Error): void }[] = [];
  child.on("message", (message: { runs?: TenantStackRun[]; error?: string }) => {
    const next = waiting.shift();
    if (message.runs) next?.resolve(message.runs);
    else next?.reject(new Error(message.error ?? "plan worker failed"));
  });
  let stopped: string | undefined;
  exited.then((why) => {
    stopped = why;
    for (const w of waiting.splice(0)) w.reject(new Error(why));
  });
  return {
    setup: (setup) => {
      child.send({ setup });
    },
    plan: (chunk) =>
      new Promise<TenantStackRun[]>((resolve, reject) => {
        if (stopped) {
          reject(new Error(stopped));
          return;
        }
        waiting.push({ resolve, reject });
        child.send({ chunk });
      }),
    stop: () => {
      if (child.connected) child.disconnect();
    },
  };
}
