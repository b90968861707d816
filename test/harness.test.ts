import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  environmentPolicyConfig,
  mergePolicyConfig,
  plan,
  POLICY_PACK_VERSION,
  type PlanResult,
  type PlannedResource,
  type StackPlan,
} from "../infra/plan/offline-plan";
import type { PolicyPackConfigJson, PolicyViolation } from "../infra/plan/policy-eval";
import { POLICY_PACK_NAME, policies as packPolicies } from "../policies/policies";
import type { PlatformReference } from "../infra/program/program";
import { checkPulumiVersion, PINNED_PULUMI_VERSION, SECRET_SIG, SIG, UNKNOWN } from "./harness/fake-engine";
import { PolicyPackProcess, type AnalyzerInfo, type Diagnostic } from "./harness/policy-pack";
import {
  appliedOutputs,
  EXIT_ERROR_LOGGED,
  launchPlan,
  runProgram,
  splitShell,
  stackConfig,
  readProject,
  type ProgramRun,
} from "./harness/run-program";

/**
 * The program run the way `pulumi preview` runs it: cmd/run started by the language host's command
 * line against a fake engine over gRPC (test/harness/README.md). Slow-ish (one node process per
 * stack), so every run starts in beforeAll and in parallel.
 */

const root = path.resolve(__dirname, "..");
const TENANT = "jardins-partages";
/** The example tenant with apps of its own (a WordPress site, a Nextcloud suite): its offers' resources go through the real serialization too. */
const WORDPRESS_TENANT = "amis-du-velo";
const PLATFORM_REF = "organization/alacarte/prod";
/** The config secret ops set after merge (docs/operations.md "Config secrets"). */
const SMTP_PASSWORD = "smtp-password-set-by-ops";
const BACKUP_PASSWORD = "backup-password-set-by-ops";
/** What the applied platform would export as its secret output (type-checked against the program). */
const PLATFORM_SECRETS: PlatformReference["platformSecrets"] = {
  keycloakAdminClientSecret: "applied-keycloak-secret",
  keycloakAccountsClientSecret: "applied-accounts-secret",
  objectStorageAccessKeyId: "GKapplied",
  objectStorageSecretAccessKey: "applied-s3-secret",
  objectStorageAdminToken: "applied-admin-token",
  smtpPassword: SMTP_PASSWORD,
};

function key(r: Pick<PlannedResource, "type" | "urn" | "parent">): string {
  return `${r.type} ${r.urn} <- ${r.parent ?? "(root)"}`;
}

function planned(result: PlanResult, name: string): StackPlan {
  const s = result.stacks.find((x) => x.name === name);
  if (!s) throw new Error(`no stack ${name} in the offline plan`);
  return s;
}

/** A copy of the program (node_modules linked) with some of its files edited. */
function brokenCopy(edits: Record<string, (source: string) => string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "alacarte-broken-"));
  for (const entry of ["Pulumi.yaml", "package.json", "tsconfig.json", "infra", "components", "policies", "stacks", "tenants"]) {
    fs.cpSync(path.join(root, entry), path.join(dir, entry), { recursive: true });
  }
  fs.symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"), "dir");
  for (const [rel, edit] of Object.entries(edits)) {
    const file = path.join(dir, rel);
    const source = fs.readFileSync(file, "utf8");
    const edited = edit(source);
    if (edited === source) throw new Error(`the deliberate break did not apply: ${rel} changed shape`);
    fs.writeFileSync(file, edited);
  }
  return dir;
}

/** A violating case: the config gives no paid tiers, so every tenant offer with a quota is above what is paid. */
const VIOLATING: PolicyPackConfigJson = { "offer-quota-within-tier": { tenants: {} } };

function sorted(list: readonly (Diagnostic | PolicyViolation)[]): string[] {
  return list.map((v) => `${v.level} ${v.policy} ${v.urn ?? "(stack)"}: ${v.message}`).sort();
}

const copies: string[] = [];
let pack: PolicyPackProcess | undefined;
let packInfo: AnalyzerInfo;
let offlineViolating: PlanResult;
let platform: ProgramRun;
let withoutSecret: ProgramRun;
let tenant: ProgramRun;
let wordpressTenant: ProgramRun;
let offline: PlanResult;
let badImport: ProgramRun;
let typeErrorThenThrow: ProgramRun;
let tscOnTypeError: { code: number; output: string };

beforeAll(async () => {
  const badImportDir = brokenCopy({ "infra/program/program.ts": (s) => `import "./no-such-module";\n${s}` });
  // A type error in a module the program loads, then a throw when the stack is built: reaching the
  // throw shows that tsx ran the ill-typed module (no type check at run time).
  const brokenDir = brokenCopy({
    "infra/model/naming.ts": (s) => `${s}\nexport const deliberatelyWrong: number = "not a number";\n`,
    "infra/program/program.ts": (s) =>
      s.replace(
        "const id = parseStackName(stackName);",
        'throw new Error("deliberately broken: no platform today");\n  const id = parseStackName(stackName);',
      ),
  });
  copies.push(badImportDir, brokenDir);
  // tsc with the project's tsconfig, on the edited module's own imports (the whole program takes ~9 s;
  // `npm run typecheck` covers it).
  fs.writeFileSync(
    path.join(brokenDir, "tsconfig.check.json"),
    JSON.stringify({ extends: "./tsconfig.json", include: [], files: ["infra/model/naming.ts"] }),
  );
  const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
  const tscRun = promisify(execFile)(process.execPath, [tsc, "--noEmit", "-p", "tsconfig.check.json"], { cwd: brokenDir }).then(
    () => ({ code: 0, output: "" }),
    (e: { code: number; stdout: string }) => ({ code: e.code, output: e.stdout }),
  );

  // The policy pack of the tenant stack's preview, as `pulumi preview --policy-pack policies` starts it.
  const packRun = PolicyPackProcess.start({
    packDir: path.join(root, "policies"),
    engineAddress: "127.0.0.1:1",
    project: "alacarte",
    stack: `prod.${TENANT}`,
    // What ConfigureStack carries: the stack's config as `<ns>:<key>` (a tenant stack has no settings file).
    config: Object.fromEntries(
      Object.entries(stackConfig(root, readProject(root), `prod.${TENANT}`)).map(([k, v]) => [k.replace(":config:", ":"), v]),
    ),
  }).then((p) => {
    pack = p;
    return p;
  });
  const platformRun = runProgram({
    root,
    stack: "prod",
    secretConfig: {
      "alacarte:smtpPassword": SMTP_PASSWORD,
      "alacarte:backupPassword": BACKUP_PASSWORD,
      "alacarte:backupS3AccessKeyId": "backup-key-id",
      "alacarte:backupS3SecretAccessKey": "backup-secret-key",
      "alacarte:alertRelayPassword": "relay-password-set-by-ops",
    },
  });
  const platformWithoutSecret = runProgram({ root, stack: "prod" });
  const broken = Promise.all([runProgram({ root: badImportDir, stack: "prod" }), runProgram({ root: brokenDir, stack: "prod" })]);
  offline = await plan({ env: "prod" });
  platform = await platformRun;
  withoutSecret = await platformWithoutSecret;
  if (platform.error || !platform.outputs) throw new Error(platform.error ?? "the platform stack exported nothing");
  const applied = { [PLATFORM_REF]: appliedOutputs(platform.outputs, { secrets: { platformSecrets: PLATFORM_SECRETS } }) };
  [tenant, wordpressTenant] = await Promise.all([
    runProgram({ root, stack: `prod.${TENANT}`, stackOutputs: applied }),
    runProgram({ root, stack: `prod.${WORDPRESS_TENANT}`, stackOutputs: applied }),
  ]);
  offlineViolating = await plan({ env: "prod", tenants: [TENANT], policyConfig: VIOLATING });
  [badImport, typeErrorThenThrow] = await broken;
  tscOnTypeError = await tscRun;
  packInfo = await (await packRun).info();
}, 600_000);

afterAll(async () => {
  for (const dir of copies) fs.rmSync(dir, { recursive: true, force: true });
  await pack?.stop();
});

describe("starting the program as the Node.js language host does", () => {
  it("is pinned to the installed @pulumi/pulumi", () => {
    expect(() => checkPulumiVersion()).not.toThrow();
    const installed = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    expect(installed.dependencies["@pulumi/pulumi"]).toBe(PINNED_PULUMI_VERSION);
  });

  it("takes node arguments, TypeScript setting, entry point and config from Pulumi.yaml and the stack file", () => {
    const project = parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as {
      runtime: { options: { nodeargs: string; typescript: boolean } };
    };
    const launch = launchPlan({ root, stack: "prod", monitor: "127.0.0.1:1", engine: "127.0.0.1:1", dryRun: true });
    const nodeargs = splitShell(project.runtime.options.nodeargs);
    expect(launch.args.slice(0, nodeargs.length)).toEqual(nodeargs);
    expect(launch.args[nodeargs.length]).toBe(require.resolve("@pulumi/pulumi/cmd/run"));
    expect(launch.args).toEqual(
      expect.arrayContaining(["--project", "alacarte", "--stack", "prod", "--organization", "organization", "--dry-run"]),
    );
    // `main: infra/program/index.ts`: the CLI runs from the main file's folder with its base name (getPwdMain).
    expect(launch.args.slice(-1)).toEqual(["index.ts"]);
    expect(launch.args[launch.args.indexOf("--pwd") + 1]).toBe(path.join(root, "infra", "program"));
    expect(launch.env.PULUMI_NODEJS_TYPESCRIPT).toBe(project.runtime.options.typescript ? "true" : undefined);
    const config = JSON.parse(launch.env.PULUMI_CONFIG!) as Record<string, string>;
    expect(config["alacarte:config:baseDomain"]).toBe("alacarte.example.org");
    expect(JSON.parse(config["alacarte:config:placement"]!)).toMatchObject({ proxy: "h1" });
  });

  it("runs the platform stack in preview: every feature asked, no error, config arrived", () => {
    expect(platform.error).toBeNull();
    expect(platform.exitCode).toBe(0);
    expect(platform.features).toContain("outputValues");
    expect(platform.logs.filter((l) => l.severity === "error" || l.severity === "warning")).toEqual([]);
    const stack = platform.resources.find((r) => r.type === "pulumi:pulumi:Stack")!;
    expect(stack.urn).toBe("urn:pulumi:prod::alacarte::pulumi:pulumi:Stack::alacarte-prod");
    expect(platform.outputs?.platform).toMatchObject({ baseDomain: "alacarte.example.org" });
    // Unknown in a preview, and then the SDK sends a bare unknown: the secret flag is not on the wire.
    expect(platform.outputs?.platformSecrets).toBe(UNKNOWN);
    // The office server's admin login, for ops: generated, so unknown in a preview, like the other secrets.
    expect(platform.outputs?.officeAdmin).toBe(UNKNOWN);
    const office = platform.resources.find(
      (r) => r.type === "docker:index/container:Container" && r.inputs.name === "platform-office-collabora",
    )!;
    // Its admin user and password are generated: unknown in a preview, never a clear value on the wire.
    expect((office.inputs.envs as unknown[]).filter((e) => e === UNKNOWN)).toHaveLength(2);
    expect((office.inputs.envs as unknown[]).filter((e) => typeof e === "string" && /^(username|password)=/.test(e))).toEqual([]);
    expect(office.inputs.envs).toContain("remoteconfigurl=https://office.alacarte.example.org/alacarte/wopi-hosts.json");
  });

  it("stops the platform stack with Pulumi's message naming a config secret ops have not set, and the SMTP password stays a secret", () => {
    expect(withoutSecret.exitCode).not.toBe(0);
    expect(withoutSecret.logs.filter((l) => l.severity === "error").map((l) => l.message)).toEqual([
      "Missing required configuration variable 'alacarte:smtpPassword'\n\tplease set a value using the command `pulumi config set --secret alacarte:smtpPassword <value>`",
    ]);
    const realm = platform.resources.find((r) => r.type === "keycloak:index/realm:Realm")!;
    expect(realm.inputs.smtpServer).toMatchObject({
      host: "mail.alacarte.example.org",
      port: "587",
      starttls: true,
      auth: { username: "noreply@alacarte.example.org", password: { [SIG]: SECRET_SIG, value: SMTP_PASSWORD } },
    });
    // The backup repository's password reaches each host's job as a secret, never in clear.
    const jobs = platform.resources.filter(
      (r) => r.type === "docker:index/container:Container" && String(r.inputs.name).startsWith("platform-backups-"),
    );
    expect(jobs.map((j) => j.inputs.name).sort()).toEqual(["platform-backups-h1", "platform-backups-h2"]);
    for (const job of jobs) {
      expect(job.inputs.envs).not.toContain(`RESTIC_PASSWORD=${BACKUP_PASSWORD}`);
      expect(job.inputs.envs).toContainEqual({ [SIG]: SECRET_SIG, value: `RESTIC_PASSWORD=${BACKUP_PASSWORD}` });
    }
  });

  it("registers in the platform stack exactly what the offline plan reports (type, URN, parent)", () => {
    expect(platform.resources.map(key).sort()).toEqual(planned(offline, "prod").resources.map(key).sort());
  });

  it(`runs the tenant stack prod.${TENANT}, reading the platform through the StackReference`, () => {
    expect(tenant.error).toBeNull();
    expect(tenant.exitCode).toBe(0);
    const ref = tenant.resources.find((r) => r.type === "pulumi:pulumi:StackReference")!;
    expect(ref.read).toBe(true);
    expect(ref.inputs.name).toBe(PLATFORM_REF);
    // platformSecrets arrives as a secret and stays one in the provider's inputs.
    const sso = tenant.resources.find((r) => r.type === "pulumi:providers:keycloak")!;
    expect(sso.inputs.clientSecret).toEqual({ [SIG]: SECRET_SIG, value: PLATFORM_SECRETS.keycloakAdminClientSecret });
    expect(tenant.logs.filter((l) => l.severity === "warning").map((l) => l.message)).toEqual(
      planned(offline, `prod.${TENANT}`).problems.map((p) => p.message),
    );
  });

  it("registers in the tenant stack exactly what the offline plan reports (type, URN, parent)", () => {
    expect(tenant.resources.map(key).sort()).toEqual(planned(offline, `prod.${TENANT}`).resources.map(key).sort());
  });

  it(`runs the tenant stack prod.${WORDPRESS_TENANT} (its own apps) and registers exactly what the offline plan reports`, () => {
    expect(wordpressTenant.error).toBeNull();
    expect(wordpressTenant.exitCode).toBe(0);
    expect(wordpressTenant.resources.map((r) => r.type)).toContain("alacarte:tenant:NextcloudSuite");
    expect(wordpressTenant.resources.map((r) => r.type)).toContain("alacarte:tenant:WordpressSite");
    expect(wordpressTenant.resources.map(key).sort()).toEqual(planned(offline, `prod.${WORDPRESS_TENANT}`).resources.map(key).sort());
  });

  it("registers every kind of resource the program uses, through the real serialization (there is no dynamic resource yet)", () => {
    const used = new Set(offline.stacks.flatMap((s) => s.resources.map((r) => r.type)));
    const ran = new Set([...platform.resources, ...tenant.resources, ...wordpressTenant.resources].map((r) => r.type));
    expect([...used].filter((t) => !ran.has(t))).toEqual([]);
    // A dynamic provider would register as this type; its closure serialization is not exercised by the mocks.
    expect([...used].filter((t) => t.startsWith("pulumi-nodejs:dynamic:"))).toEqual([]);
  });
});

describe("a deliberately broken copy of the program", () => {
  it("fails on a bad import with the missing module named", () => {
    expect(badImport.exitCode).toBe(EXIT_ERROR_LOGGED);
    expect(badImport.error).toMatch(/Cannot find module '\.\/no-such-module'/);
    expect(badImport.error).toMatch(/infra\/program\/program\.ts/);
    // The root stack is registered before the entry point is loaded; nothing after it.
    expect(badImport.resources.map((r) => r.type)).toEqual(["pulumi:pulumi:Stack"]);
  });

  it("runs an ill-typed module under tsx, then fails on a runtime throw with the program's message", () => {
    expect(typeErrorThenThrow.exitCode).toBe(EXIT_ERROR_LOGGED);
    expect(typeErrorThenThrow.error).toMatch(/Error: deliberately broken: no platform today/);
  });

  it("is refused by tsc --noEmit for its type error", () => {
    expect(tscOnTypeError.code).not.toBe(0);
    expect(tscOnTypeError.output).toMatch(
      /infra\/model\/naming\.ts\(\d+,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/,
    );
  });
});

describe("the policy pack started as the CLI starts it (cmd/run-policy-pack, analyzer protocol)", () => {
  it("loads and reports its policies with their levels", () => {
    expect(packInfo.name).toBe(POLICY_PACK_NAME);
    expect(packInfo.version).toBe(POLICY_PACK_VERSION);
    expect(packInfo.policies.map((p) => [p.name, p.level])).toEqual(packPolicies.map((p) => [p.name, p.enforcementLevel ?? "advisory"]));
  });

  it(`reports on prod.${TENANT}'s and the platform's registrations what the offline plan reports`, async () => {
    await pack!.configure(packInfo, environmentPolicyConfig("prod"));
    const found = await pack!.analyze(tenant.resources);
    expect(sorted(found)).toEqual(sorted(planned(offline, `prod.${TENANT}`).policies));
    // The CLI would start a pack per stack; the policies read the stack from URNs, so one process serves both here.
    const onPlatform = await pack!.analyze(platform.resources);
    expect(sorted(onPlatform)).toEqual(sorted(planned(offline, "prod").policies));
  });

  it("returns the offline plan's violations for a violating case", async () => {
    // The CLI configures a pack once per preview; configuring it again here saves a second start.
    await pack!.configure(packInfo, mergePolicyConfig(environmentPolicyConfig("prod"), VIOLATING));
    const found = await pack!.analyze(tenant.resources);
    const expected = planned(offlineViolating, `prod.${TENANT}`).policies;
    expect(expected.filter((v) => v.policy === "offer-quota-within-tier" && v.level === "mandatory").length).toBeGreaterThan(0);
    expect(sorted(found)).toEqual(sorted(expected));
    // What the CLI prints puts the policy's description first; the offline plan reports the text alone.
    const policy = packInfo.policies.find((p) => p.name === "offer-quota-within-tier")!;
    for (const d of found) expect(d.wireMessage).toBe(`${policy.description}\n${d.message}`);
  });
});
