import { spawn } from "node:child_process";

/** What a process gave: its exit code, its output and error streams, and how long it ran. */
export interface ProcessRun {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/**
 * Runs a process to its end without blocking the event loop (a test's own servers keep answering
 * it meanwhile), `stdin` written to its input when given, in `env` when given (else this process's).
 */
export async function runProcess(
  command: string,
  args: readonly string[],
  options: { cwd?: string; stdin?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ProcessRun> {
  const started = Date.now();
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: [options.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => {
    stdout += d.toString("utf8");
  });
  child.stderr!.on("data", (d: Buffer) => {
    stderr += d.toString("utf8");
  });
  if (options.stdin !== undefined) child.stdin!.end(options.stdin);
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  return { code, stdout, stderr, seconds: (Date.now() - started) / 1000 };
}
