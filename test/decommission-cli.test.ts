/**
 * npm run decommission end to end through launch.cjs: the Automation API against a stub `pulumi`
 * (test/helpers/pulumi-stub-decommission.ts, exact flags checked), ssh replaced by a stub that runs
 * the remote command here, and a stub docker that hands `alacarte-backup decommission` to the
 * image's real script (images/backup/decommission.sh) with each host's folders, and logs the
 * backups. The static site is read from the Garage fake through S3 with the stack's upload key.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderBackupFragment } from "../components/platform/backup-fragments";
import { parseUploadKey } from "../components/tenant/static-site-config";
import { retainedUntil } from "../infra/cli/decommission-plan";
import { parseDecommissionRecord } from "../infra/model/decommission-records";
import { needTools } from "./helpers/debian-tools";
import { provisionSite } from "./helpers/garage-clients";
import { type GarageFake, startGarageFake } from "./helpers/garage-fake";
import { installPulumiStub, type PulumiStub, sampleTenantState } from "./helpers/pulumi-stub-decommission";
import { runProcess } from "./helpers/run-process";

const ROOT = resolve(__dirname, "..");
const STACK = "prod.amis-du-velo";
const TOKEN = "decommission-cli-admin-token";

describe("npm run decommission, through launch.cjs", () => {
  needTools("sh", "curl", "jq", "tar", "sha256sum");
  let dir = "";
  let env: NodeJS.ProcessEnv = {};
  let fake: GarageFake;
  let pulumi: PulumiStub;
  let outputs: Record<string, { value: unknown; secret: boolean }> = {};

  const hostDir = (host: string, sub: string) => join(dir, host, sub);

  /** A fresh world: the stack's state, each host's fragments and data, empty exports and records. */
  const reset = () => {
    for (const host of ["h1", "h2"]) {
      rmSync(join(dir, host), { recursive: true, force: true });
      for (const sub of ["fragments", "exports", "retained", "volumes"]) mkdirSync(hostDir(host, sub), { recursive: true });
    }
    // h1 holds the site's bucket (the storage host), h2 the mailbox (the mail host, prod placement).
    writeFileSync(
      join(hostDir("h1", "fragments"), "amis-du-velo.backup"),
      renderBackupFragment("amis-du-velo", "h1", [{ kind: "bucket", offer: "website", bucket: "site-amis-du-velo" }]),
    );
    writeFileSync(
      join(hostDir("h2", "fragments"), "amis-du-velo.backup"),
      renderBackupFragment("amis-du-velo", "h2", [{ kind: "mailbox", offer: "mail", address: "alice@amisduvelo.org" }]),
    );
    writeFileSync(
      join(hostDir("h2", "fragments"), "platform.backup"),
      renderBackupFragment("platform", "h2", [
        { kind: "mailstore", offer: "mail", volume: "platform-mail-data", container: "platform-mail", mountPath: "/var/mail" },
      ]),
    );
    mkdirSync(join(hostDir("h2", "volumes"), "platform-mail-data/_data/amisduvelo.org/alice/Maildir/cur"), { recursive: true });
    writeFileSync(
      join(hostDir("h2", "volumes"), "platform-mail-data/_data/amisduvelo.org/alice/Maildir/cur/1.eml"),
      "Subject: hi\n\nhello\n",
    );
    pulumi = installPulumiStub(join(dir, "pulumi"), { [STACK]: { state: sampleTenantState(STACK, "amis-du-velo"), outputs } });
    writeFileSync(join(dir, "docker.log"), "");
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "alacarte-decommission-cli-"));
    const bin = join(dir, "bin");
    mkdirSync(bin);
    // ssh [options] user@host COMMAND runs COMMAND in the remote user's shell; the host is kept for the stub docker.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the shell's parameter expansion, not a template
    writeFileSync(join(bin, "fake-ssh"), '#!/bin/sh\nwhile [ "${1#*@}" = "$1" ]; do shift; done\nREMOTE_HOST=${1#*@} exec sh -c "$2"\n');
    // docker exec [-i] platform-backups-<host> alacarte-backup <job> …: the job's own script for
    // decommission, with the folders of that host; a logged success (or FAIL_BACKUP=<host>) for backup.
    const job = join(ROOT, "images/backup/decommission.sh");
    writeFileSync(
      join(bin, "docker"),
      `#!/bin/sh
set -eu
printf "%s %s\\n" "\${REMOTE_HOST%%.*}" "$*" >> "$DOCKER_LOG"
[ "$1" = exec ] || { echo "unexpected docker $1" >&2; exit 2; }
shift
[ "$1" != -i ] || shift
host=\${REMOTE_HOST%%.*}
[ "$1" = "platform-backups-$host" ] && [ "$2" = alacarte-backup ] || { echo "Error response from daemon: No such container: $1" >&2; exit 1; }
job=$3
shift 3
case $job in
  backup) [ "\${FAIL_BACKUP:-}" != "$host" ] || { echo "backup: $1: FAILED" >&2; exit 1; }; echo "backup: $1: saved" >&2 ;;
  decommission) BACKUP_HOST=$host FRAGMENTS_DIR=$WORLD/$host/fragments EXPORTS_DIR=$WORLD/$host/exports RETAINED_DIR=$WORLD/$host/retained VOLUMES_DIR=$WORLD/$host/volumes exec sh ${job} "$@" ;;
  *) echo "unexpected job $job" >&2; exit 2 ;;
esac
`,
    );
    chmodSync(join(bin, "fake-ssh"), 0o755);
    chmodSync(join(bin, "docker"), 0o755);
    fake = await startGarageFake({ adminToken: TOKEN });
    const made = await provisionSite(fake, TOKEN, "amis-du-velo", ["amisduvelo.org"], 1);
    expect(made.code, made.stderr).toBe(0);
    const key = parseUploadKey(made.stdout);
    outputs = {
      tenant: { value: "amis-du-velo", secret: false },
      website: {
        value: {
          bucket: "site-amis-du-velo",
          s3Endpoint: fake.s3Url,
          s3Region: fake.region,
          uploadAccessKeyId: key.accessKeyId,
          uploadSecretAccessKey: key.secretAccessKey,
        },
        secret: true,
      },
    };
    env = {
      ...process.env,
      PATH: `${bin}:${process.env.PATH}`,
      ALACARTE_SSH: join(bin, "fake-ssh"),
      ALACARTE_PULUMI_ROOT: join(dir, "pulumi"),
      DOCKER_LOG: join(dir, "docker.log"),
      WORLD: dir,
      ALACARTE_DECOMMISSIONS_DIR: join(dir, "decommissioned"),
    };
  });
  afterAll(async () => {
    await fake?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  // Run without blocking: the Garage fake answers in this process.
  const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
    runProcess(process.execPath, [join(ROOT, "infra/cli/launch.cjs"), "decommission", ...args], { env: { ...env, ...extra }, stdin: "" });
  const dockerCalls = () => readFileSync(join(dir, "docker.log"), "utf8").trim().split("\n").filter(Boolean);
  const stateNames = () => pulumi.state(STACK).deployment.resources.map((r) => r.urn.slice(r.urn.lastIndexOf("::") + 2));

  it("asks every host, backs up, exports and records on the hosts that hold data, then imports the state without the data resources, each pulumi call with its exact flags", async () => {
    reset();
    const run = await cli(["amis-du-velo", "--yes"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const until = retainedUntil(new Date().toISOString().slice(0, 10), 90);
    expect(run.stdout).toContain(`h1: would export and keep bucket site-amis-du-velo (website) until ${until}`);
    expect(run.stdout).toContain(`h2: would export and keep mailbox alice@amisduvelo.org until ${until}`);
    expect(run.stdout).toContain(`${STACK}: amis-du-velo-website-garage is out of the stack; its data stays until ${until}`);
    expect(run.stdout).toMatch(/now remove tenants\/amis-du-velo\.yaml and commit it with \S*prod\.amis-du-velo\.yaml in one pull request/);
    // The record the pull request carries (infra/model/decommission-records.ts): what left the stack.
    const record = parseDecommissionRecord("record", readFileSync(join(dir, "decommissioned", "prod.amis-du-velo.yaml"), "utf8"));
    expect(record).toEqual({
      stack: STACK,
      date: new Date().toISOString().slice(0, 10),
      until,
      resources: expect.arrayContaining(["amis-du-velo-website-garage"]),
    });
    expect(record.offer).toBeUndefined();

    const calls = pulumi.calls();
    expect(calls[0]).toEqual(["version"]);
    expect(calls[1]).toEqual(["stack", "export", "--stack", STACK, "--non-interactive"]);
    expect(calls[2]).toEqual(["stack", "output", "--json", "--stack", STACK, "--non-interactive"]);
    expect(calls[3]).toEqual(["stack", "output", "--json", "--show-secrets", "--stack", STACK, "--non-interactive"]);
    expect(calls[4]).toEqual([
      "stack",
      "import",
      "--file",
      expect.stringMatching(/alacarte-decommission-[^/]+\/state\.json$/),
      "--stack",
      STACK,
      "--non-interactive",
    ]);
    // The state file is gone once imported.
    expect(existsSync(calls[4]![3]!)).toBe(false);
    expect(calls).toHaveLength(5);
    expect(stateNames()).not.toContain("amis-du-velo-website-garage");
    expect(stateNames()).not.toContain("amis-du-velo-nextcloud-app-data");
    expect(stateNames()).toContain("amis-du-velo-website-route");

    const docker = dockerCalls().map((c) => c.replace(/--until \S+ --into \S+/, "--until U --into F"));
    expect(docker).toEqual([
      "h1 exec platform-backups-h1 alacarte-backup decommission amis-du-velo --until U --into F --dry-run",
      "h2 exec platform-backups-h2 alacarte-backup decommission amis-du-velo --until U --into F --dry-run",
      "h1 exec platform-backups-h1 alacarte-backup backup amis-du-velo",
      "h2 exec platform-backups-h2 alacarte-backup backup amis-du-velo",
      "h1 exec -i platform-backups-h1 alacarte-backup decommission amis-du-velo --until U --into F",
      "h2 exec -i platform-backups-h2 alacarte-backup decommission amis-du-velo --until U --into F",
    ]);
    const [h1Export] = readdirSync(hostDir("h1", "exports"));
    expect(h1Export).toMatch(/^amis-du-velo-\d{8}T\d{6}Z$/);
    expect(readFileSync(join(hostDir("h1", "exports"), h1Export!, "LISTING"), "utf8")).toMatch(/ website\/site\.tar\n$/);
    expect(readFileSync(join(hostDir("h2", "exports"), h1Export!, "LISTING"), "utf8")).toMatch(
      / mail\/alice@amisduvelo\.org\.maildir\.tar\n$/,
    );
    expect(readFileSync(join(hostDir("h1", "retained"), "amis-du-velo.retained"), "utf8")).toContain(`until ${until}\n`);
    expect(readFileSync(join(hostDir("h2", "retained"), "amis-du-velo.retained"), "utf8")).toContain("mailbox mail alice@amisduvelo.org\n");
    // The upload key reached the job on stdin only.
    expect(readFileSync(join(dir, "docker.log"), "utf8")).not.toContain(
      String((outputs.website!.value as Record<string, string>).uploadSecretAccessKey),
    );
    expect(run.stdout).not.toContain(String((outputs.website!.value as Record<string, string>).uploadSecretAccessKey));
  });

  it("for one offer takes out that offer's resources only, and asks the hosts for that offer", async () => {
    reset();
    const run = await cli(["amis-du-velo", "--offer", "mail", "--yes"]);
    expect(run.code, run.stderr).toBe(0);
    // Mail holds no resource of the tenant stack: the state is not imported, the mailbox is exported and kept.
    expect(pulumi.calls().some((c) => c[1] === "import")).toBe(false);
    expect(
      dockerCalls()
        .filter((c) => c.includes(" backup "))
        .map((c) => c.split(" ")[0]),
    ).toEqual(["h2"]);
    expect(existsSync(join(hostDir("h2", "retained"), "amis-du-velo-mail.retained"))).toBe(true);
    expect(readdirSync(hostDir("h1", "retained"))).toEqual([]);
    expect(run.stdout).toMatch(
      /now remove mail from tenants\/amis-du-velo\.yaml and commit it with \S*prod\.amis-du-velo\.mail\.yaml in one pull request/,
    );
    expect(
      parseDecommissionRecord("record", readFileSync(join(dir, "decommissioned", "prod.amis-du-velo.mail.yaml"), "utf8")),
    ).toMatchObject({
      stack: STACK,
      offer: "mail",
      resources: [],
    });
  });

  it("stops before the state is changed when a step fails: a backup, an export, or the import itself", async () => {
    reset();
    const backup = await cli(["amis-du-velo", "--yes"], { FAIL_BACKUP: "h2" });
    expect(backup.code).toBe(1);
    expect(backup.stderr).toContain("decommission: the backup on host h2 failed (exit 1); the stack is unchanged, nothing is lost");
    expect(pulumi.calls().some((c) => c[1] === "import")).toBe(false);
    expect(stateNames()).toContain("amis-du-velo-website-garage");
    expect(dockerCalls().some((c) => c.includes("exec -i"))).toBe(false);

    reset();
    // The mail store's Maildir unreadable as a folder: tar fails on h2, after h1's export.
    rmSync(join(hostDir("h2", "volumes"), "platform-mail-data/_data/amisduvelo.org/alice/Maildir"), { recursive: true });
    writeFileSync(join(hostDir("h2", "volumes"), "platform-mail-data/_data/amisduvelo.org/alice/Maildir"), "");
    rmSync(join(hostDir("h2", "fragments"), "platform.backup"));
    const exported = await cli(["amis-du-velo", "--yes"]);
    expect(exported.code).toBe(1);
    expect(exported.stderr).toContain("decommission: the export on host h2 failed");
    expect(pulumi.calls().some((c) => c[1] === "import")).toBe(false);
    expect(stateNames()).toContain("amis-du-velo-website-garage");
    // h2 wrote nothing; h1's export and record are complete ones (a record whose data a fragment
    // still lists is never purged: images/backup/purge.sh).
    expect(readdirSync(hostDir("h2", "exports"))).toEqual([]);
    expect(readdirSync(hostDir("h2", "retained"))).toEqual([]);

    reset();
    const imported = await cli(["amis-du-velo", "--yes"], { STUB_PULUMI_FAIL: "import" });
    expect(imported.code).toBe(1);
    expect(imported.stderr).toContain(
      `decommission: the state of ${STACK} was not changed: error: could not import deployment: the backend is unreachable`,
    );
    expect(stateNames()).toContain("amis-du-velo-website-garage");
    const missing = await cli(["nobody", "--yes"]);
    expect(missing.stderr.trim()).toBe(
      "decommission: could not read the state of prod.nobody: error: no stack named 'prod.nobody' found; nothing done",
    );
  });

  it("does nothing without a confirmation at a terminal, and exits 2 with one line for a bad argument", async () => {
    reset();
    const run = await cli(["amis-du-velo"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("decommission: nothing done; confirm at a terminal, or give --yes");
    expect(dockerCalls().every((c) => c.endsWith("--dry-run"))).toBe(true);
    expect(pulumi.calls().some((c) => c[1] === "import")).toBe(false);
    const bad = await cli(["Amis"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
  });
});
