import { parseArgs } from "node:util";
import { runCli, UsageError } from "./run";
import { refused, touchedSelection, touchedText } from "./touched-selection";

/**
 * npm run touched -- <base-ref> [<head-ref>] [--env <env>] [--json] [--cache <dir>]: the stacks a
 * change touches, from the offline plans (with digests) of the two commits, the working tree when
 * no head is given (docs/operations.md "CI and the pull-request flow"). A commit's plan is made
 * in a worktree of it, sharing this checkout's node_modules when the lockfiles are the same; with
 * --cache it is kept as <dir>/<env>-<commit>.json for the next run. Exit 1 when the change would
 * take a stack away or delete data, which the flow refuses (npm run decommission).
 */
runCli(async () => {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      env: { type: "string", default: "prod" },
      json: { type: "boolean", default: false },
      cache: { type: "string" },
    },
  });
  if (positionals.length < 1 || positionals.length > 2) {
    throw new UsageError("usage: npm run touched -- <base-ref> [<head-ref>] [--env <env>] [--json] [--cache <dir>]");
  }
  const [baseRef, headRef] = positionals;
  const { diff } = touchedSelection(baseRef!, headRef, { env: values.env!, cache: values.cache });
  if (values.json) console.log(JSON.stringify(diff, null, 2));
  else process.stdout.write(touchedText(diff));
  return diff.some(refused) ? 1 : 0;
});
