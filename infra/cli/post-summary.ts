import * as fs from "node:fs";
import { parseArgs } from "node:util";
import { ForgeError, postSummary } from "./forge-comments";
import { runCli, UsageError } from "./run";

/**
 * npm run post-summary -- --file <summary.md> --pr <number>: posts the summary as the pull
 * request's comment, or edits the one a previous run posted (docs/pipeline.md "Posting the
 * summary"). The forge comes from FORGE_API_URL, FORGE_REPOSITORY (owner/name) and FORGE_TOKEN:
 * the token never in a flag.
 */
runCli(async () => {
  const { values } = parseArgs({ options: { file: { type: "string" }, pr: { type: "string" } } });
  if (!values.file || !values.pr) throw new UsageError("usage: npm run post-summary -- --file <summary.md> --pr <number>");
  if (!/^[1-9]\d*$/.test(values.pr)) throw new UsageError(`--pr must be a pull request's number, not "${values.pr}"`);
  const env = process.env;
  for (const name of ["FORGE_API_URL", "FORGE_REPOSITORY", "FORGE_TOKEN"] as const)
    if (!env[name]) throw new UsageError(`${name} is not set (docs/pipeline.md#posting-the-summary)`);
  if (!/^[^/\s]+\/[^/\s]+$/.test(env.FORGE_REPOSITORY!))
    throw new UsageError(`FORGE_REPOSITORY must be owner/name, not "${env.FORGE_REPOSITORY}"`);
  let summary: string;
  try {
    summary = fs.readFileSync(values.file, "utf8");
  } catch {
    throw new UsageError(`${values.file}: cannot read the summary`);
  }
  try {
    const done = await postSummary(
      { apiUrl: env.FORGE_API_URL!, repository: env.FORGE_REPOSITORY!, token: env.FORGE_TOKEN! },
      Number(values.pr),
      summary,
    );
    console.log(`summary ${done.action} as comment ${done.id} of pull request ${values.pr}`);
    return 0;
  } catch (e) {
    if (e instanceof ForgeError) {
      console.error(e.message);
      return 1;
    }
    if (e instanceof TypeError) {
      // fetch's network failure: one line, the address without credentials.
      console.error(`cannot reach the forge at ${new URL(env.FORGE_API_URL!).origin}`);
      return 1;
    }
    throw e;
  }
});
