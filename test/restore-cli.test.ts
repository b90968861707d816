/**
 * npm run restore: the request it makes of each host's backup job, and the command end to end
 * through launch.cjs, with ssh replaced by a stub that runs the remote command here against a stub
 * docker answering as the job's restore script does (images/backup/restore.sh, exercised for real
 * in test/backup-e2e.test.ts).
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseRestoreArgs, restoreCommands } from "../infra/cli/restore-plan";
import { readPlatformConfig } from "../infra/model/platform-config";
import { needTools } from "./helpers/debian-tools";

const ROOT = resolve(__dirname, "..");
const config = readPlatformConfig("prod");

describe("the restore request (pure)", () => {
  it("asks every host for a tenant's sets, and only the mail host for a mailbox, each word quoted for the remote shell", () => {
    const { request } = parseRestoreArgs(["amis-du-velo", "--offer", "website", "--snapshot", "0123abcd"]);
    expect(restoreCommands(config, request, true)).toEqual(
      Object.keys(config.hosts)
        .sort()
        .map((host) => ({
          host,
          argv: [
            "ssh",
            "-o",
            "BatchMode=yes",
            `deploy@${config.hosts[host]!.address}`,
            `'docker' 'exec' 'platform-backups-${host}' 'alacarte-backup' 'restore' 'amis-du-velo' '--offer' 'website' '--snapshot' '0123abcd' '--dry-run'`,
          ],
        })),
    );
    const mailbox = parseRestoreArgs(["amis-du-velo", "--mailbox", "alice@amisduvelo.org", "--folder", "Archives/2025"]).request;
    expect(restoreCommands(config, mailbox, false).map((c) => c.host)).toEqual([config.placement.mail]);
    expect(restoreCommands(config, mailbox, false)[0]!.argv.at(-1)).toBe(
      `'docker' 'exec' 'platform-backups-${config.placement.mail}' 'alacarte-backup' 'restore' 'amis-du-velo' '--mailbox' 'alice@amisduvelo.org' '--folder' 'Archives/2025'`,
    );
  });

  it.each([
    [[], "usage: npm run restore"],
    [["Amis"], "is not a tenant's slug"],
    [["amis-du-velo", "--snapshot", "latest"], "--snapshot takes a snapshot id"],
    [["amis-du-velo", "--folder", "INBOX"], "--folder goes with --mailbox"],
    [["amis-du-velo", "--mailbox", "a@b.org", "--offer", "website"], "do not go together"],
    [["amis-du-velo", "--mailbox", "../x@b.org"], "is not an address"],
    [["amis-du-velo", "--mailbox", "a@b.org", "--folder", "../../etc"], "--folder takes a folder name"],
  ])("refuses %j", (args, message) => {
    expect(() => parseRestoreArgs(args)).toThrow(message);
  });
});

describe("npm run restore, through launch.cjs", () => {
  needTools("sh");
  let dir = "";
  let env: NodeJS.ProcessEnv = {};

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "alacarte-restore-cli-"));
    const bin = join(dir, "bin");
    mkdirSync(bin);
    // ssh [options] user@host COMMAND runs COMMAND in the remote user's shell; the host is kept for the stub docker.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the shell's parameter expansion, not a template
    writeFileSync(join(bin, "fake-ssh"), '#!/bin/sh\nwhile [ "${1#*@}" = "$1" ]; do shift; done\nREMOTE_HOST=${1#*@} exec sh -c "$2"\n');
    // The job of h1 holds the tenant's data, h2 nothing of it (exit 3, as restore.sh says so).
    writeFileSync(
      join(bin, "docker"),
      [
        "#!/bin/sh",
        'printf "%s %s\\n" "$REMOTE_HOST" "$*" >> "$STUB_LOG"',
        'case "$REMOTE_HOST" in h2.*) echo "restore: set amis-du-velo has nothing on host h2" >&2; exit 3 ;; esac',
        'for a in "$@"; do [ "$a" = --dry-run ] && { echo "would restore volume amis-du-velo-website-data (website) from snapshot 0123abcd of 2026-12-01T02:17:00Z"; exit 0; }; done',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the shell's parameter expansion, not a template
        '[ -z "${FAIL_RESTORE:-}" ] || { echo "restore: restic failed" >&2; exit 1; }',
        'echo "restored volume amis-du-velo-website-data (website) from snapshot 0123abcd of 2026-12-01T02:17:00Z"',
      ].join("\n"),
    );
    chmodSync(join(bin, "fake-ssh"), 0o755);
    chmodSync(join(bin, "docker"), 0o755);
    env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, ALACARTE_SSH: join(bin, "fake-ssh"), STUB_LOG: join(dir, "calls") };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) => {
    writeFileSync(join(dir, "calls"), "");
    return spawnSync(process.execPath, [join(ROOT, "infra/cli/launch.cjs"), "restore", ...args], {
      env: { ...env, ...extra },
      encoding: "utf8",
      input: "",
    });
  };

  it("shows what each host would restore, restores only after --yes, on the hosts that hold something, and says what it restored", () => {
    const run = cli(["amis-du-velo", "--yes"]);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout.trim().split("\n")).toEqual([
      "h1: would restore volume amis-du-velo-website-data (website) from snapshot 0123abcd of 2026-12-01T02:17:00Z",
      "h1: restored volume amis-du-velo-website-data (website) from snapshot 0123abcd of 2026-12-01T02:17:00Z",
    ]);
    const calls = readFileSync(join(dir, "calls"), "utf8").trim().split("\n");
    expect(calls).toEqual([
      "h1.infra.alacarte.example.org exec platform-backups-h1 alacarte-backup restore amis-du-velo --dry-run",
      "h2.infra.alacarte.example.org exec platform-backups-h2 alacarte-backup restore amis-du-velo --dry-run",
      "h1.infra.alacarte.example.org exec platform-backups-h1 alacarte-backup restore amis-du-velo",
    ]);
  });

  it("restores nothing without a confirmation at a terminal", () => {
    const run = cli(["amis-du-velo"]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain("would restore");
    expect(run.stderr).toContain("confirm at a terminal, or give --yes");
    expect(readFileSync(join(dir, "calls"), "utf8")).not.toMatch(/restore amis-du-velo\n/);
  });

  it("exits 1 when a host fails, and 2 with one line for a bad argument", () => {
    const failed = cli(["amis-du-velo", "--yes"], { FAIL_RESTORE: "1" });
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain("restore: host h1 failed (exit 1)");
    const bad = cli(["Amis"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
  });
});
