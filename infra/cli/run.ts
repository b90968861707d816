import { ConfigError } from "../platform-config";

/**
 * Runs a command-line entry: a user mistake (bad flag, bad settings file) prints one line and
 * exits 2; anything else is a bug and keeps its stack trace.
 */
export function runCli(main: () => Promise<number> | number): void {
  Promise.resolve()
    .then(main)
    .then((code) => { process.exitCode = code; })
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
