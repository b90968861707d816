import { spawn } from "node:child_process";
import * as readline from "node:readline/promises";

/**
 * What the commands that act on the hosts through their backup jobs share (npm run restore,
 * npm run decommission): a step run with its output kept, and the slug typed to confirm.
 */

/** A step's result: its exit code and its output. */
export interface StepResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command, its output kept; `input` goes to its standard input (secrets never in argv). */
export function runStep(argv: readonly string[], input = "", cwd?: string): Promise<StepResult> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ["pipe", "pipe", "pipe"], ...(cwd ? { cwd } : {}) });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString("utf8");
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString("utf8");
    });
    child.stdin.on("error", () => {});
    child.stdin.end(input);
    child.on("error", (e) => resolve({ code: 127, stdout, stderr: `${stderr}${e.message}\n` }));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Asks to type the slug at a terminal; without one, says to give --yes and answers no.
 * @param command the command's name, for the refusal. @example "restore"
 * @param refusal what the command then did. @example "nothing restored"
 */
export async function slugConfirmed(command: string, refusal: string, slug: string, question: string): Promise<boolean> {
  if (!process.stdin.isTTY) {
    console.error(`${command}: ${refusal}; confirm at a terminal, or give --yes`);
    return false;
  }
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
  const answer = await rl.question(`Type ${slug} ${question}: `);
  rl.close();
  return answer.trim() === slug;
}
