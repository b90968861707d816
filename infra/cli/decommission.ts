import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LocalWorkspace, PulumiCommand } from "@pulumi/pulumi/automation";
import { DECOMMISSIONS_DIR, decommissionRecordPath, renderDecommissionRecord } from "../model/decommission-records";
import { PROJECT_ROOT } from "../contract/paths";
import { readPlatformConfig } from "../model/platform-config";
import {
  DEFAULT_SSH,
  decommissionStack,
  exportFolder,
  hostCommands,
  NOTHING_ON_HOST,
  parseDecommissionArgs,
  retainedResources,
  retainedUntil,
  type StackState,
  stateWithout,
  urnName,
} from "./decommission-plan";
import { runStep as run, slugConfirmed } from "./host-steps";
import { runCli } from "./run";

/**
 * npm run decommission -- <tenant> [--offer <offer>] [--env prod|staging] [--yes]: takes a tenant's
 * data (or one offer's) out of its stack without deleting it (docs/decommission.md). It asks every
 * host's backup job what it holds, shows that and the data resources of the stack's state, asks to
 * type the slug (or takes --yes), then in this order: a backup of the set now, the export in open
 * formats and the retention record on each host, and last the stack's state without those
 * resources. A failing step stops it before the state is changed: nothing is lost.
 */
runCli(decommission);

/** What a static site's export reads its bucket with (the tenant stack's outputs, infra/program/offer-builders.ts), as the job's stdin. */
function s3Input(outputs: Record<string, { value: unknown }>, offer: string | undefined): string {
  const site = (offer === undefined || offer === "website" ? outputs.website?.value : undefined) as Record<string, unknown> | undefined;
  const fields = ["s3Endpoint", "s3Region", "uploadAccessKeyId", "uploadSecretAccessKey"] as const;
  if (!site || !fields.every((f) => typeof site[f] === "string")) return "";
  return `s3_endpoint=${site.s3Endpoint}\ns3_region=${site.s3Region}\ns3_key=${site.uploadAccessKeyId}\ns3_secret=${site.uploadSecretAccessKey}\n`;
}

/** What the Pulumi CLI said when an Automation API call failed (CommandError carries its stderr), in one line. */
function pulumiError(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const stderr = /stderr: ([\s\S]*?)(\n\s*err\?:|$)/.exec(text)?.[1] ?? text;
  const lines = stderr.split("\n").map((l) => l.trim());
  // The CLI's own line ("error: …") rather than the runner's "Command failed with exit code …".
  return lines.find((l) => l.startsWith("error:")) ?? lines.find((l) => l !== "") ?? "unknown error";
}

async function decommission(): Promise<number> {
  const { request, env, yes } = parseDecommissionArgs(process.argv.slice(2));
  const config = readPlatformConfig(env);
  const stack = decommissionStack(env, request);
  const what = `${request.slug}${request.offer ? ` (offer ${request.offer})` : ""}`;
  // ssh is ALACARTE_SSH when set (a command line, as for npm run restore); the Pulumi CLI is the one
  // on PATH, or ALACARTE_PULUMI_ROOT/bin/pulumi (PulumiCommand.get's `root`).
  const ssh = process.env.ALACARTE_SSH?.split(/\s+/).filter(Boolean) ?? [...DEFAULT_SSH];
  const root = process.env.ALACARTE_PULUMI_ROOT;
  const pulumiCommand = await PulumiCommand.get(root ? { root } : {});
  const workspace = await LocalWorkspace.create({ workDir: PROJECT_ROOT, pulumiCommand });

  // The state is exported and imported by the CLI PulumiCommand found (its public `command`), as
  // the workspace runs it (in the project, --non-interactive: automation/cmd.js), rather than
  // through the workspace's exportStack/importStack, which add --show-secrets and write the state
  // to a file of the temporary folder: without it the secrets stay encrypted by the stack's own
  // provider (`pulumi stack export --help`), and the file is in a folder only this user reads.
  const cli = async (args: string[]) => {
    const done = await run([pulumiCommand.command, ...args, "--non-interactive"], "", PROJECT_ROOT);
    if (done.code !== 0) throw new Error(`stderr: ${done.stderr}`);
    return done.stdout;
  };
  let state: StackState;
  try {
    state = JSON.parse(await cli(["stack", "export", "--stack", stack])) as StackState;
  } catch (e) {
    console.error(`decommission: could not read the state of ${stack}: ${pulumiError(e)}; nothing done`);
    return 1;
  }
  const retained = retainedResources(state, stack, request);
  const today = new Date().toISOString().slice(0, 10);
  const until = retainedUntil(today, config.decommission.retentionDays);
  const folder = exportFolder(
    request,
    new Date()
      .toISOString()
      .replace(/[-:]/g, "")
      .replace(/\.\d+Z$/, "Z"),
  );
  const options = { until, folder };

  const holding: string[] = [];
  for (const { host, argv } of hostCommands(config, request, "ask", options, ssh)) {
    const answer = await run(argv);
    if (answer.code === NOTHING_ON_HOST) continue;
    if (answer.code !== 0) {
      process.stderr.write(answer.stderr);
      console.error(`decommission: host ${host} could not say what it holds of ${what} (exit ${answer.code}); nothing done`);
      return 1;
    }
    holding.push(host);
    for (const line of answer.stdout.trim().split("\n").filter(Boolean)) console.log(`${host}: ${line}`);
  }
  if (holding.length === 0 && retained.length === 0) {
    console.error(`decommission: neither ${stack} nor any host holds data of ${what}; nothing done`);
    return 1;
  }
  for (const r of retained)
    console.log(`${stack}: take ${urnName(r.urn)} (${r.type}, ${r.holds}) out of the stack, its data left on its host`);
  console.log(`kept until ${until} (${config.decommission.retentionDays} days), then deleted with its backups`);
  if (
    !yes &&
    !(await slugConfirmed(
      "decommission",
      "nothing done",
      request.slug,
      "to back up, export and take out of its stack what is listed above",
    ))
  ) {
    console.error("decommission: not confirmed; nothing done");
    return 1;
  }

  for (const { host, argv } of hostCommands(config, request, "backup", { ...options, hosts: holding }, ssh)) {
    const done = await run(argv);
    if (done.code !== 0) {
      process.stderr.write(done.stderr);
      console.error(`decommission: the backup on host ${host} failed (exit ${done.code}); the stack is unchanged, nothing is lost`);
      return 1;
    }
    console.log(`${host}: backed up set ${request.slug}`);
  }

  let input = "";
  try {
    if (holding.length > 0) input = s3Input(await workspace.stackOutputs(stack), request.offer);
  } catch (e) {
    console.error(`decommission: could not read the outputs of ${stack}: ${pulumiError(e)}; the stack is unchanged, nothing is lost`);
    return 1;
  }
  for (const { host, argv } of hostCommands(config, request, "export", { ...options, hosts: holding }, ssh)) {
    const done = await run(argv, input);
    for (const line of done.stdout.trim().split("\n").filter(Boolean)) console.log(`${host}: ${line}`);
    if (done.code !== 0) {
      process.stderr.write(done.stderr);
      console.error(`decommission: the export on host ${host} failed (exit ${done.code}); the stack is unchanged, nothing is lost`);
      return 1;
    }
  }

  if (retained.length > 0) {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), "alacarte-decommission-"));
    const file = path.join(folder, "state.json");
    try {
      fs.writeFileSync(file, JSON.stringify(stateWithout(state, retained), null, 2), { mode: 0o600 });
      await cli(["stack", "import", "--file", file, "--stack", stack]);
    } catch (e) {
      // The import writes the whole state or nothing (one checkpoint): the stack is as it was.
      console.error(`decommission: the state of ${stack} was not changed: ${pulumiError(e)}`);
      console.error("decommission: the backups, exports and retention records are done; run the command again once pulumi works");
      return 1;
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
    for (const r of retained) console.log(`${stack}: ${urnName(r.urn)} is out of the stack; its data stays until ${until}`);
  }
  // What the pull request that removes the offer carries, so the flow lets it through (docs/decommission.md "The pull request").
  const record = {
    stack,
    ...(request.offer ? { offer: request.offer } : {}),
    date: today,
    until,
    resources: retained.map((r) => urnName(r.urn)),
  };
  // The checkout's records folder, or the one ALACARTE_DECOMMISSIONS_DIR names (a test's).
  const recordsDir = process.env.ALACARTE_DECOMMISSIONS_DIR ?? path.join(PROJECT_ROOT, DECOMMISSIONS_DIR);
  const recordFile = path.join(recordsDir, path.basename(decommissionRecordPath(record)));
  fs.mkdirSync(path.dirname(recordFile), { recursive: true });
  fs.writeFileSync(`${recordFile}.tmp`, renderDecommissionRecord(record));
  fs.renameSync(`${recordFile}.tmp`, recordFile);
  const recordName = path.relative(PROJECT_ROOT, recordFile);
  console.log(
    request.offer
      ? `decommission: done; now remove ${request.offer} from tenants/${request.slug}.yaml and commit it with ${recordName} in one pull request (docs/decommission.md)`
      : `decommission: done; now remove tenants/${request.slug}.yaml and commit it with ${recordName} in one pull request (docs/decommission.md)`,
  );
  return 0;
}
