import { runImportLegacy } from "./import-legacy-run";
import { runCli } from "./run";

/**
 * npm run import-legacy -- <export-dir> --out <dir> [--force] [--today YYYY-MM-DD] [--existing-accounts <users.json>]:
 * the 2019 member space's export as tenant files, Keycloak's partial import, the mail server's
 * app passwords, the report and the cutover's runbook and scripts (docs/migration.md). Prints
 * counts and slugs only: the report files name people, the console does not.
 */
runCli(() => {
  const run = runImportLegacy(process.argv.slice(2));
  for (const line of run.lines) (run.exitCode === 0 ? console.log : console.error)(line);
  return run.exitCode;
});
