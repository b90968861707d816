import * as fs from "node:fs";
import { ConfigError } from "../model/platform-config";

/**
 * Runs a command-line entry: a user mistake (bad flag, bad settings file) prints one line and
 * exits 2; anything else is a bug and keeps its stack trace. With ALACARTE_TIMINGS_FILE set (the
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
      if (e instanceof ConfigError || e instanceof UsageError || (e as { code?: string }).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
        console.error((e as Error).message);
        process.exitCode = 2;
      } else {
        console.error(e);
        process.exitCode = 70;
      }
    });
}

export class UsageError extends Error {}
