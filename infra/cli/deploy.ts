import { deploy } from "./deploy-run";
import { runCli } from "./run";

/**
 * npm run deploy -- <preview|up> <base-ref> [<head-ref>] [--env prod|staging] [--summary <file.md>]
 *   [--parallel N] [--per-host N] [--event-dir <dir>] [--cache <dir>] [--pulumi-root <dir>]
 * npm run deploy -- drift [--shard i/n] ...
 * The pull-request flow's previews, its updates on merge and the scheduled drift check
 * (docs/pipeline.md; infra/cli/deploy-run.ts).
 */
runCli(() => deploy(process.argv.slice(2)));
