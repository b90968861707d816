import { readPlatformConfig } from "../model/platform-config";
import { DEFAULT_SSH, NOTHING_ON_HOST, parseRestoreArgs, restoreCommands } from "./restore-plan";
import { runStep as run, slugConfirmed } from "./host-steps";
import { runCli } from "./run";

/**
 * npm run restore -- <tenant> [--offer <offer>] [--snapshot <id>] [--mailbox <address> [--folder <name>]]
 *   [--env <env>] [--yes]: restores one tenant's data (or one offer's, or one mailbox) from its
 * backups, through the backup job of each host that holds some of it (docs/services/backups.md
 * "Restoring"). It first asks every host what it would restore, shows it, asks to type the
 * tenant's slug (or takes --yes), then restores and says what was restored.
 */
runCli(restore);

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
  if (!yes && !(await slugConfirmed("restore", "nothing restored", request.set, "to restore what is listed above"))) {
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
