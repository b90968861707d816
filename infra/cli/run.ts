import * as fs from "node:fs";
import { ConfigError } from "../model/platform-config";

/**
 * Runs a command-line entry: a user mistake (bad flag, bad settings file) or installed Pulumi
 * packages of other versions than the plan was written for (infra/plan/sdk-internals.ts) print
 * one line and exit 2; anything else is a bug and keeps its stack trace. With ALACARTE_TIMINGS_FILE set (the
 * benchmark), the time of the command's own work, imports excluded, is appended there as JSON.
 */
export function runCli(main: () => Promise<number> | number): void {
  const started = performance.now();
  // Output piped into a reader that stops early (`| head`): end quietly, as other commands do.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") throw e;
    process.exit(process.exitCode ?? 0);
  });
  Promise.resolve()
    .then(main)
    .then((code) => {
      process.exitCode = code;
      const timings = process.env.ALACARTE_TIMINGS_FILE;
      if (timings) {
        const now = performance.now();
        fs.appendFileSync(timings, `${JSON.stringify({ insideMs: Math.round(now - started), sinceStartMs: Math.round(now) })}\n`);
      }
    })
    .catch((e: unknown) => {
      const code = (e as { code?: unknown }).code;
      if (e instanceof ConfigError || e instanceof UsageError || code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" || code === SDK_VERSION_ERROR) {
        console.error((e as Error).message);
        process.exitCode = 2;
      } else {
        console.error(e);
        process.exitCode = 70;
      }
    });
}

export class UsageError extends Error {}

/** infra/plan/sdk-internals.ts SDK_VERSION_ERROR, repeated: importing it would load Pulumi in every command. */
const SDK_VERSION_ERROR = "ALACARTE_SDK_VERSION";
