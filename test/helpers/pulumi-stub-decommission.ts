/**
 * A stub `pulumi` CLI for `npm run decommission`, installed as `<root>/bin/pulumi` so that
 * `PulumiCommand.get({ root })` runs it. It answers the calls the Automation API of
 * @pulumi/pulumi 3.248.0 makes for it, with their exact flags, and refuses any other:
 * - `pulumi version` (automation/cmd.js PulumiCommand.get, which checks the version printed);
 * - `stack export --show-secrets --stack <s>` (automation/localWorkspace.js exportStack);
 * - `stack import --file <f> --stack <s>` (localWorkspace.js importStack);
 * - `stack output --json [--show-secrets] --stack <s>` (localWorkspace.js stackOutputs: once masked, once not);
 * each with `--non-interactive` appended (cmd.js PulumiCommand.run). A stack it does not hold is
 * "no stack named … found" (pulumi/pulumi pkg/backend/diy/backend.go). An import is checked as the
 * CLI checks a snapshot before writing it (pulumi/pulumi pkg/resource/deploy/snapshot.go
 * VerifyIntegrity): every parent and dependency of a resource is a resource listed before it, no
 * URN twice. Every call is appended to `<root>/calls.jsonl`; the stacks' states are
 * `<root>/state/<stack>.json` and their outputs `<root>/state/<stack>.outputs.json`
 * (`{ name: { value, secret } }`). `STUB_PULUMI_FAIL=import` makes an import fail.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The CLI version the stub reports: the SDK's own (node_modules/@pulumi/pulumi/version.js). */
export const STUB_PULUMI_VERSION = "3.248.0";

interface Resource {
  urn: string;
  parent?: string;
  dependencies?: string[];
  propertyDependencies?: Record<string, string[]>;
  deletedWith?: string;
}

/**
 * The integrity rules the stub's import applies (pkg/resource/deploy/snapshot.go VerifyIntegrity):
 * a resource's parent, dependencies, property dependencies and deletedWith each name a resource
 * listed earlier; no URN twice. Returns the first problem, or undefined.
 */
export function integrityProblem(state: { version?: unknown; deployment?: { resources?: Resource[] } }): string | undefined {
  if (state.version !== 3) return `unsupported deployment version ${String(state.version)}`;
  const seen = new Set<string>();
  for (const r of state.deployment?.resources ?? []) {
    if (seen.has(r.urn)) return `resource ${r.urn} is duplicated`;
    if (r.parent !== undefined && !seen.has(r.parent)) return `resource ${r.urn}'s parent ${r.parent} comes after it or does not exist`;
    const deps = [...(r.dependencies ?? []), ...Object.values(r.propertyDependencies ?? {}).flat()];
    for (const d of deps) if (!seen.has(d)) return `resource ${r.urn}'s dependency ${d} comes after it or does not exist`;
    if (r.deletedWith !== undefined && !seen.has(r.deletedWith)) return `resource ${r.urn} refers to unknown deletedWith ${r.deletedWith}`;
    seen.add(r.urn);
  }
  return undefined;
}

const STUB = `#!/usr/bin/env node
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const root = path.resolve(__dirname, "..");
const args = process.argv.slice(2);
fs.appendFileSync(path.join(root, "calls.jsonl"), JSON.stringify(args) + "\\n");
const fail = (message, code = 255) => { process.stderr.write("error: " + message + "\\n"); process.exit(code); };
const integrityProblem = ${integrityProblem.toString()};
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const stackFile = (s, suffix) => {
  const file = path.join(root, "state", s + suffix);
  if (!fs.existsSync(path.join(root, "state", s + ".json"))) fail("no stack named '" + s + "' found");
  return file;
};
if (same(args, ["version"])) { process.stdout.write("v${STUB_PULUMI_VERSION}\\n"); process.exit(0); }
const [group, verb] = args;
const stack = args[args.indexOf("--stack") + 1];
if (group === "stack" && verb === "export" && same(args, ["stack", "export", "--stack", stack, "--non-interactive"])) {
  process.stdout.write(fs.readFileSync(stackFile(stack, ".json"), "utf8"));
  process.exit(0);
}
if (group === "stack" && verb === "import" && same(args, ["stack", "import", "--file", args[3], "--stack", stack, "--non-interactive"])) {
  const target = stackFile(stack, ".json");
  if (process.env.STUB_PULUMI_FAIL === "import") fail("could not import deployment: the backend is unreachable");
  let state;
  try { state = JSON.parse(fs.readFileSync(args[3], "utf8")); } catch (e) { fail("could not read deployment: " + e.message); }
  const problem = integrityProblem(state);
  if (problem) fail("could not import deployment: " + problem);
  fs.writeFileSync(target, JSON.stringify(state, null, 2));
  process.stdout.write("Import complete.\\n");
  process.exit(0);
}
if (group === "stack" && verb === "output" && (same(args, ["stack", "output", "--json", "--stack", stack, "--non-interactive"]) || same(args, ["stack", "output", "--json", "--show-secrets", "--stack", stack, "--non-interactive"]))) {
  const outputs = JSON.parse(fs.readFileSync(stackFile(stack, ".outputs.json"), "utf8"));
  const show = args.includes("--show-secrets");
  process.stdout.write(JSON.stringify(Object.fromEntries(Object.entries(outputs).map(([k, o]) => [k, o.secret && !show ? "[secret]" : o.value]))));
  process.exit(0);
}
fail("the stub does not know: pulumi " + args.join(" "), 2);
`;

export interface PulumiStub {
  /** The installation root to give `PulumiCommand.get({ root })` (ALACARTE_PULUMI_ROOT). */
  root: string;
  /** Every call's arguments, in order. */
  calls(): string[][];
  /** A stack's state now. */
  state(stack: string): { version: number; deployment: { resources: (Resource & Record<string, unknown>)[] } };
}

/** Installs the stub under `root` with these stacks' states and outputs. */
export function installPulumiStub(
  root: string,
  stacks: Record<string, { state: unknown; outputs?: Record<string, { value: unknown; secret: boolean }> }>,
): PulumiStub {
  mkdirSync(join(root, "bin"), { recursive: true });
  mkdirSync(join(root, "state"), { recursive: true });
  writeFileSync(join(root, "bin", "pulumi"), STUB, { mode: 0o755 });
  writeFileSync(join(root, "calls.jsonl"), "");
  for (const [name, { state, outputs }] of Object.entries(stacks)) {
    writeFileSync(join(root, "state", `${name}.json`), JSON.stringify(state, null, 2));
    writeFileSync(join(root, "state", `${name}.outputs.json`), JSON.stringify(outputs ?? {}));
  }
  return {
    root,
    calls: () =>
      readFileSync(join(root, "calls.jsonl"), "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as string[]),
    state: (stack) => JSON.parse(readFileSync(join(root, "state", `${stack}.json`), "utf8")),
  };
}

/**
 * The state of a tenant stack as `pulumi stack export` gives it (apitype DeploymentV3): its stack
 * resource, a static site (its protected garage command, retained on delete, and a route that
 * depends on it), a mail domain, and a Nextcloud offer as it will be built (a ContainerService with
 * its volume, a container that mounts it, and a Database whose command makes the database).
 */
export function sampleTenantState(stack: string, slug: string) {
  const urn = (chain: string, name: string) => `urn:pulumi:${stack}::alacarte::${chain}::${name}`;
  const root = urn("pulumi:pulumi:Stack", `alacarte-${stack}`);
  const site = urn("alacarte:tenant:StaticSite", `${slug}-website`);
  const garage = urn("alacarte:tenant:StaticSite$command:remote:Command", `${slug}-website-garage`);
  const route = urn("alacarte:tenant:StaticSite$alacarte:block:ProxyRoute", `${slug}-website-route`);
  const mail = urn("alacarte:tenant:MailDomain", `${slug}-mail-example-org`);
  const app = urn("alacarte:block:ContainerService", `${slug}-nextcloud-app`);
  const volume = urn("alacarte:block:ContainerService$docker:index/volume:Volume", `${slug}-nextcloud-app-data`);
  const container = urn("alacarte:block:ContainerService$docker:index/container:Container", `${slug}-nextcloud-app`);
  const db = urn("alacarte:block:Database", `${slug}-nextcloud-db`);
  const dbCreate = urn("alacarte:block:Database$command:remote:Command", `${slug}-nextcloud-db-create`);
  const other = urn("alacarte:block:ContainerService$docker:index/volume:Volume", `${slug}-websites-archive`);
  const hostData = (kind: string, name: string, madeBy: string) => ({ kind, name, engine: "x", protect: true, backup: "x", madeBy });
  return {
    version: 3,
    deployment: {
      manifest: { time: "2026-12-01T00:00:00Z", magic: "x", version: "v3.248.0" },
      resources: [
        { urn: root, custom: false, type: "pulumi:pulumi:Stack" },
        {
          urn: site,
          custom: false,
          type: "alacarte:tenant:StaticSite",
          parent: root,
          inputs: { hostData: hostData("bucket", `site-${slug}`, `${slug}-website-garage`) },
          outputs: { hostData: hostData("bucket", `site-${slug}`, `${slug}-website-garage`) },
        },
        { urn: garage, custom: true, type: "command:remote:Command", parent: site, protect: true, retainOnDelete: true },
        { urn: route, custom: false, type: "alacarte:block:ProxyRoute", parent: site, dependencies: [garage] },
        { urn: mail, custom: false, type: "alacarte:tenant:MailDomain", parent: root },
        { urn: app, custom: false, type: "alacarte:block:ContainerService", parent: root },
        { urn: volume, custom: true, type: "docker:index/volume:Volume", parent: app, protect: true },
        {
          urn: container,
          custom: true,
          type: "docker:index/container:Container",
          parent: app,
          dependencies: [volume],
          propertyDependencies: { volumes: [volume], image: [] },
          deletedWith: volume,
        },
        {
          urn: db,
          custom: false,
          type: "alacarte:block:Database",
          parent: root,
          outputs: { hostData: hostData("database", `${slug.replace(/-/g, "_")}_nextcloud`, `${slug}-nextcloud-db-create`) },
        },
        { urn: dbCreate, custom: true, type: "command:remote:Command", parent: db, protect: true, retainOnDelete: true },
        { urn: other, custom: true, type: "docker:index/volume:Volume", parent: app, protect: true },
      ],
    },
  };
}
