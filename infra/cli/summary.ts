import { parseArgs } from "node:util";
import { PROJECT_ROOT } from "../contract/paths";
import { renderSummary } from "../plan/plan-summary";
import { commitOf, planAt, planTree } from "./commit-plans";
import { runCli, UsageError } from "./run";

/**
 * npm run summary -- <base-ref> [<head-ref>] [--env <env>] [--cache <dir>]: the pull request's
 * summary in Markdown, from the offline plans of both commits (the working tree without a head),
 * as the flow will post it (docs/operations.md "CI and the pull-request flow").
 */
runCli(async () => {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { env: { type: "string", default: "prod" }, cache: { type: "string" } },
  });
  if (positionals.length < 1 || positionals.length > 2) {
    throw new UsageError("usage: npm run summary -- <base-ref> [<head-ref>] [--env <env>] [--cache <dir>]");
  }
  const request = { env: values.env!, policies: true };
  const [baseRef, headRef] = positionals;
  const base = planAt(commitOf(baseRef!), request, values.cache);
  const head = headRef === undefined ? planTree(PROJECT_ROOT, request) : planAt(commitOf(headRef), request, values.cache);
  process.stdout.write(renderSummary(base, head));
  return 0;
});
