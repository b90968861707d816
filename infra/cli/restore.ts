import { spawn } from "node:child_process";
import * as readline from "node:readline/promises";
import { readPlatformConfig } from "../model/platform-config";
import { DEFAULT_SSH, NOTHING_ON_HOST, parseRestoreArgs, restoreCommands } from "./restore-plan";
import { runCli } from "./run";

/**
 * npm run restore -- <tenant> [--offer <offer>] [--snapshot <id>] [--mailbox <address> [--folder <name>]]
 *   [--env <env>] [--yes]: restores one tenant's data (or one offer's, or one mailbox) from its
 * backups, through the backup job of each host that holds some of it (docs/services/backups.md
 * "Restoring"). It first asks every host what it would restore, shows it, asks to type the
 * tenant's slug (or takes --yes), then restores and says what was restored.
 */
runCli(restore);

/** Runs a command, its output kept. */
function run(argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString("utf8");
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString("utf8");
    });
    child.on("error", (e) => resolve({ code: 127, stdout, stderr: `${stderr}${e.message}\n` }));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

async function confirmed(slug: string): Promise<boolean> {
  if (!process.stdin.isTTY) {
    console.error("restore: nothing restored; confirm at a terminal, or give --yes");
    return false;
  }
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
  const answer = await rl.question(`Type ${slug} to restore what is listed above: `);
  rl.close();
  return answer.trim() === slug;
}

async function restore(): Promise<number> {
  const { request, env, yes } = parseRestoreArgs(process.argv.slice(2));
  const config = readPlatformConfig(env);
  // ssh is ALACARTE_SSH when set (a command line, as for npm run mail-passwords).
  const ssh = process.env.ALACARTE_SSH?.split(/\s+/).filter(Boolean) ?? [...DEFAULT_SSH];
  const asked = restoreCommands(config, request, true, ssh);
  const holding: string[] = [];
  for (const { host, argv } of asked) {
    const answer = await run(argv);
    if (answer.code === NOTHING_ON_HOST) continue;
    if (answer.code !== 0) {
      process.stderr.write(answer.stderr);
      console.error(`restore: host ${host} could not say what it would restore (exit ${answer.code}); nothing restored`);
      return 1;
    }
    holding.push(host);
    for (const line of answer.stdout.trim().split("\n")) console.log(`${host}: ${line}`);
  }
  if (holding.length === 0) {
    console.error(
      `restore: no host holds anything of ${request.set}${request.offer ? ` (offer ${request.offer})` : ""}${request.mailbox ? ` (mailbox ${request.mailbox})` : ""}`,
    );
    return 1;
  }
  if (!yes && !(await confirmed(request.set))) {
    console.error("restore: not confirmed; nothing restored");
    return 1;
  }
  let failed = false;
  for (const { host, argv } of restoreCommands(config, request, false, ssh).filter((c) => holding.includes(c.host))) {
    const done = await run(argv);
    for (const line of done.stdout.trim().split("\n").filter(Boolean)) console.log(`${host}: ${line}`);
    if (done.code !== 0) {
      process.stderr.write(done.stderr);
      console.error(`restore: host ${host} failed (exit ${done.code})`);
      failed = true;
    }
  }
  return failed ? 1 : 0;
}
