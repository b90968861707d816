import { parseArgs } from "node:util";
import { exitCode, reportJson, reportLines } from "./accounts-report";
import { KeycloakUnavailable, runAccounts } from "./accounts-run";
import { runCli } from "./run";

/**
 * npm run accounts [-- --env <env>] [--send] [--recreate-deleted] [--prune] [--json]: the Keycloak
 * accounts the listed people need, created and invited with --send (docs/accounts.md). Without
 * --send it only reads. Keycloak's address and credentials come from the environment, never flags.
 */
runCli(async () => {
  try {
    return await accounts();
  } catch (e) {
    if (!(e instanceof KeycloakUnavailable)) throw e;
    console.error(e.message);
    return 1;
  }
});

async function accounts(): Promise<number> {
  const { values } = parseArgs({
    options: {
      env: { type: "string", default: "prod" },
      send: { type: "boolean", default: false },
      "recreate-deleted": { type: "boolean", default: false },
      prune: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
    },
  });
  const run = await runAccounts({
    env: values.env!,
    send: values.send!,
    recreateDeleted: values["recreate-deleted"]!,
    prune: values.prune!,
  });
  if (values.json) console.log(JSON.stringify(reportJson(run), null, 2));
  else for (const line of reportLines(run)) console.log(line);
  return exitCode(run);
}
