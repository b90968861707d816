/**
 * The backup image's scripts (images/backup), run as they run on a host, with Debian's restic,
 * PostgreSQL, MariaDB and Dovecot: fragments rendered by the stacks' own function, a local restic
 * repository, and a stub `docker` that forwards `docker exec <container>` to the local servers.
 * Data is saved, damaged, restored and compared row by row and byte by byte; a tenant's restore
 * leaves every other tenant's data as it is.
 */
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BackupEntry, renderBackupFragment } from "../components/platform/backup-fragments";
import { needTools, requireTool } from "./helpers/debian-tools";
import { freePort } from "./helpers/loopback";
import { runProcess } from "./helpers/run-process";

const IMAGE = resolve(__dirname, "..", "images", "backup");
const PG_BIN = "/usr/lib/postgresql/15/bin";
const RESTIC_PASSWORD = "correct horse battery staple";
const PG_ADMIN_PASSWORD = "AdminPassw0rd";
const MARIADB_ROOT_PASSWORD = "RootPassw0rd";

/**
 * A stub of the Docker CLI, for the calls the scripts make, answering as the CLI does
 * (https://docs.docker.com/reference/cli/docker/container/exec/, …/stop/, …/start/, …/ls/):
 * `exec [-i] <container> <cmd…>` runs <cmd…> here with that container's environment (its env file)
 * and fails like the daemon for an unknown or stopped container; `stop`/`start` print the name;
 * `ps --filter volume=<v> --format {{.Names}}` lists the running containers mounting <v>. Every
 * call is logged, so the test sees what a process listing would.
 */
const DOCKER_STUB = `#!/bin/sh
set -eu
printf '%s\\n' "$*" >> "$STUB_DIR/calls.log"
verb=$1; shift
case $verb in
  exec)
    [ "$1" != "-i" ] || shift
    c=$1; shift
    [ -f "$STUB_DIR/$c.env" ] || { echo "Error response from daemon: No such container: $c" >&2; exit 1; }
    [ ! -e "$STUB_DIR/$c.stopped" ] || { echo "Error response from daemon: container $c is not running" >&2; exit 1; }
    . "$STUB_DIR/$c.env"
    exec "$@" ;;
  stop|start)
    [ -f "$STUB_DIR/$1.env" ] || { echo "Error response from daemon: No such container: $1" >&2; exit 1; }
    if [ "$verb" = stop ]; then touch "$STUB_DIR/$1.stopped"; else rm -f "$STUB_DIR/$1.stopped"; fi
    echo "$1" ;;
  ps)
    [ "$1 $3 $4" = "--filter --format {{.Names}}" ] || { echo "unexpected docker ps $*" >&2; exit 2; }
    volume=\${2#volume=}
    for f in "$STUB_DIR"/*.volumes; do
      [ -e "$f" ] || continue
      c=$(basename "$f" .volumes)
      if grep -qx "$volume" "$f" && [ ! -e "$STUB_DIR/$c.stopped" ]; then echo "$c"; fi
    done ;;
  *) echo "unexpected docker call: $verb $*" >&2; exit 2 ;;
esac
`;

describe("the backup image's scripts, for real (restic, PostgreSQL, MariaDB and Dovecot from Debian, a stub docker)", () => {
  needTools(
    "sh",
    "chown",
    "restic",
    "jq",
    "shellcheck",
    "doveadm",
    "dovecot",
    "mariadbd",
    "mariadb",
    "mariadb-dump",
    "mariadb-install-db",
    "runuser",
    "/usr/lib/postgresql/15/bin/initdb",
    "/usr/lib/postgresql/15/bin/pg_ctl",
    "psql",
  );

  let root = "";
  let env: NodeJS.ProcessEnv = {};
  const dirs = { volumes: "", fragments: "", staging: "", metrics: "", repo: "", stub: "", pg: "", maria: "", dovecot: "" };
  let pgPort = 0;
  const stopServers: (() => void)[] = [];

  const psql = (database: string, sql: string) =>
    execFileSync(
      requireTool("psql"),
      ["-h", "127.0.0.1", "-p", String(pgPort), "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
      {
        encoding: "utf8",
        env: { ...process.env, PGPASSWORD: PG_ADMIN_PASSWORD },
      },
    ).trim();
  const mariadb = (sql: string) =>
    execFileSync(requireTool("mariadb"), [`--socket=${join(dirs.maria, "sock")}`, "-uroot", "-N", "-B", "-e", sql], {
      encoding: "utf8",
      env: { ...process.env, MYSQL_PWD: MARIADB_ROOT_PASSWORD },
    }).trim();
  const doveadm = (...args: string[]) =>
    execFileSync(requireTool("doveadm"), ["-c", join(dirs.dovecot, "dovecot.conf"), ...args], { encoding: "utf8", stdio: "pipe" });
  const volumeData = (volume: string) => join(dirs.volumes, volume, "_data");
  const script = (name: string, args: string[]) => runProcess("sh", [join(IMAGE, name), ...args], { cwd: root, env });

  /** A container of the stub: its environment (what `docker exec` runs with) and the volumes it mounts. */
  const container = (name: string, envLines: string[], volumes: string[] = []) => {
    writeFileSync(join(dirs.stub, `${name}.env`), `${envLines.join("\n")}\n`);
    writeFileSync(join(dirs.stub, `${name}.volumes`), volumes.map((v) => `${v}\n`).join(""));
  };

  const fragments: Record<string, BackupEntry[]> = {
    alpha: [
      { kind: "volume", offer: "website", volume: "alpha-website-data", quotaGb: 5, stop: "alpha-website" },
      { kind: "database", offer: "website", engine: "postgres", container: "alpha-postgres-server", database: "alpha_website" },
      { kind: "database", offer: "nextcloud", engine: "mariadb", container: "alpha-mariadb-server", database: "alpha_nextcloud" },
      { kind: "volume", offer: "nextcloud", volume: "alpha-nextcloud-data", quotaGb: 20 },
      { kind: "mailbox", offer: "mail", address: "alice@alpha.example" },
    ],
    // Only a mailbox here: saved with the platform's mail store, no snapshot of its own.
    delta: [{ kind: "mailbox", offer: "mail", address: "dan@delta.example" }],
    beta: [
      { kind: "volume", offer: "website", volume: "beta-website-data", quotaGb: 5 },
      { kind: "database", offer: "website", engine: "postgres", container: "beta-postgres-server", database: "beta_website" },
      { kind: "mailbox", offer: "mail", address: "bob@beta.example" },
    ],
  };

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "alacarte-backup-"));
    chmodSync(root, 0o755);
    for (const key of Object.keys(dirs) as (keyof typeof dirs)[]) {
      dirs[key] = join(root, key);
      mkdirSync(dirs[key], { recursive: true });
    }
    writeFileSync(join(dirs.stub, "docker"), DOCKER_STUB, { mode: 0o755 });
    env = {
      PATH: `${dirs.stub}:${process.env.PATH}`,
      STUB_DIR: dirs.stub,
      FRAGMENTS_DIR: dirs.fragments,
      VOLUMES_DIR: dirs.volumes,
      STAGING_DIR: dirs.staging,
      METRICS_DIR: dirs.metrics,
      BACKUP_HOST: "h1",
      RESTIC_REPOSITORY: dirs.repo,
      RESTIC_PASSWORD,
      RESTIC_CACHE_DIR: join(root, "cache"),
    };

    // PostgreSQL 15, run by its own user (it refuses root), password logins only.
    pgPort = await freePort();
    execFileSync("chown", ["postgres:postgres", dirs.pg]);
    writeFileSync(join(root, "pgpass"), `${PG_ADMIN_PASSWORD}\n`, { mode: 0o644 });
    execFileSync(
      "runuser",
      [
        "-u",
        "postgres",
        "--",
        `${PG_BIN}/initdb`,
        "-D",
        join(dirs.pg, "data"),
        "-U",
        "postgres",
        "--auth=scram-sha-256",
        `--pwfile=${join(root, "pgpass")}`,
      ],
      { stdio: "pipe" },
    );
    execFileSync(
      "runuser",
      [
        "-u",
        "postgres",
        "--",
        `${PG_BIN}/pg_ctl`,
        "-D",
        join(dirs.pg, "data"),
        "-w",
        "-l",
        join(dirs.pg, "log"),
        "-o",
        `-p ${pgPort} -k ${dirs.pg} -c listen_addresses=127.0.0.1`,
        "start",
      ],
      { stdio: "pipe" },
    );
    stopServers.push(() =>
      execFileSync("runuser", ["-u", "postgres", "--", `${PG_BIN}/pg_ctl`, "-D", join(dirs.pg, "data"), "-m", "immediate", "stop"], {
        stdio: "pipe",
      }),
    );

    // MariaDB 10.11 on a socket of its own, its root with a password.
    execFileSync(
      requireTool("mariadb-install-db"),
      [
        "--no-defaults",
        "--user=root",
        `--datadir=${join(dirs.maria, "data")}`,
        "--auth-root-authentication-method=normal",
        "--skip-test-db",
      ],
      { stdio: "pipe" },
    );
    const maria = spawn(
      requireTool("mariadbd"),
      [
        "--no-defaults",
        "--user=root",
        `--datadir=${join(dirs.maria, "data")}`,
        `--socket=${join(dirs.maria, "sock")}`,
        "--skip-networking",
        `--pid-file=${join(dirs.maria, "pid")}`,
      ],
      { stdio: "ignore" },
    );
    stopServers.push(() => maria.kill("SIGKILL"));
    for (let i = 0; !existsSync(join(dirs.maria, "sock")); i++) {
      if (i > 100) throw new Error("mariadbd did not start");
      await new Promise((r) => setTimeout(r, 100));
    }
    execFileSync(requireTool("mariadb"), [
      `--socket=${join(dirs.maria, "sock")}`,
      "-uroot",
      "-e",
      `ALTER USER 'root'@'localhost' IDENTIFIED BY '${MARIADB_ROOT_PASSWORD}'`,
    ]);
    // In the image the clients find the server's socket by default; here Debian's client settings
    // name another, so the stub container's clients are given this server's.
    mkdirSync(join(dirs.maria, "bin"));
    for (const client of ["mariadb", "mariadb-dump"]) {
      writeFileSync(join(dirs.maria, "bin", client), `#!/bin/sh\nexec ${requireTool(client)} --socket=${join(dirs.maria, "sock")} "$@"\n`, {
        mode: 0o755,
      });
    }

    // Dovecot's doveadm, with the mail image's layout: <root>/<domain>/<local part>/Maildir.
    const mailRoot = volumeData("platform-mail-data");
    mkdirSync(mailRoot, { recursive: true });
    writeFileSync(
      join(dirs.dovecot, "dovecot.conf"),
      [
        "protocols =",
        "ssl = no",
        `base_dir = ${dirs.dovecot}/run`,
        `state_dir = ${dirs.dovecot}/state`,
        "log_path = /dev/stderr",
        "mail_location = maildir:~/Maildir",
        // The mail image's namespace: folders A/B, kept on disk as Maildir++ .A.B (images/mail/dovecot/dovecot.conf).
        "namespace inbox {\n  inbox = yes\n  separator = /\n}",
        `passdb {\n  driver = passwd-file\n  args = ${dirs.dovecot}/users\n}`,
        `userdb {\n  driver = passwd-file\n  args = ${dirs.dovecot}/users\n  default_fields = uid=nobody gid=nogroup home=${mailRoot}/%d/%n\n}`,
        "",
      ].join("\n"),
    );
    writeFileSync(join(dirs.dovecot, "users"), "alice@alpha.example:{PLAIN}x::::::\nbob@beta.example:{PLAIN}x::::::\n");
    mkdirSync(join(dirs.dovecot, "bin"));
    writeFileSync(
      join(dirs.dovecot, "bin", "doveadm"),
      `#!/bin/sh\nexec ${requireTool("doveadm")} -c ${dirs.dovecot}/dovecot.conf "$@"\n`,
      { mode: 0o755 },
    );
    execFileSync("chown", ["nobody:nogroup", mailRoot]);
    // Its auth service answers doveadm's user lookups, as in the mail container.
    const dovecot = spawn(requireTool("dovecot"), ["-F", "-c", join(dirs.dovecot, "dovecot.conf")], { stdio: "ignore" });
    stopServers.push(() => dovecot.kill("SIGTERM"));
    for (let i = 0; !existsSync(join(dirs.dovecot, "run", "auth-userdb")); i++) {
      if (i > 100) throw new Error("dovecot did not start");
      await new Promise((r) => setTimeout(r, 100));
    }

    // The stub's containers: each database server's administrator, as the official images set it.
    const pgEnv = [`export POSTGRES_USER=postgres POSTGRES_PASSWORD=${PG_ADMIN_PASSWORD} PGPORT=${pgPort}`];
    container("alpha-postgres-server", pgEnv);
    container("beta-postgres-server", pgEnv);
    container("alpha-mariadb-server", [`export MARIADB_ROOT_PASSWORD=${MARIADB_ROOT_PASSWORD} PATH=${dirs.maria}/bin:$PATH`]);
    container("alpha-website", [], ["alpha-website-data"]);
    container("alpha-nextcloud", [], ["alpha-nextcloud-data"]);
    container("beta-website", [], ["beta-website-data"]);
    container("platform-mail", [`export PATH=${dirs.dovecot}/bin:$PATH`], ["platform-mail-data"]);

    // The fragments, as the stacks render them.
    for (const [set, entries] of Object.entries(fragments))
      writeFileSync(join(dirs.fragments, `${set}.backup`), renderBackupFragment(set, "h1", entries));
    writeFileSync(
      join(dirs.fragments, "platform.backup"),
      renderBackupFragment("platform", "h1", [
        { kind: "volume", offer: "mail", volume: "platform-mail-data", quotaGb: 100 },
        { kind: "mailstore", offer: "mail", volume: "platform-mail-data", container: "platform-mail", mountPath: mailRoot },
      ]),
    );

    // Sample data: a table per database with its owner as the database block makes it, files per volume, mail per mailbox.
    for (const db of ["alpha_website", "beta_website"]) {
      psql("postgres", `CREATE ROLE ${db} LOGIN PASSWORD 'x'`);
      psql("postgres", `CREATE DATABASE ${db} OWNER ${db}`);
      psql(
        db,
        `SET ROLE ${db}; CREATE TABLE posts (id int PRIMARY KEY, title text, body text); INSERT INTO posts SELECT i, 'titre ' || i || ' é', repeat('x', i) FROM generate_series(1, 200) i`,
      );
    }
    mariadb(
      "CREATE DATABASE alpha_nextcloud; CREATE TABLE alpha_nextcloud.files (id INT PRIMARY KEY, path TEXT); INSERT INTO alpha_nextcloud.files VALUES (1, '/a.odt'), (2, '/b/é.txt'), (3, '/c')",
    );
    for (const volume of ["alpha-website-data", "alpha-nextcloud-data", "beta-website-data"]) {
      mkdirSync(join(volumeData(volume), "uploads", "2026"), { recursive: true });
      writeFileSync(join(volumeData(volume), "index.html"), `<h1>${volume}</h1>\n`);
      writeFileSync(join(volumeData(volume), "uploads", "2026", "photo.bin"), Buffer.alloc(4096, volume.length));
    }
    const message = (subject: string) => `From: a@example.org\r\nTo: x@example.org\r\nSubject: ${subject}\r\n\r\n${subject} body\r\n`;
    for (const user of ["alice@alpha.example", "bob@beta.example"]) {
      execFileSync(requireTool("doveadm"), ["-c", join(dirs.dovecot, "dovecot.conf"), "save", "-u", user], {
        input: message(`hello ${user}`),
      });
      doveadm("mailbox", "create", "-u", user, "Archives");
      execFileSync(requireTool("doveadm"), ["-c", join(dirs.dovecot, "dovecot.conf"), "save", "-u", user, "-m", "Archives"], {
        input: message(`archived ${user}`),
      });
    }
  }, 120_000);

  afterAll(() => {
    for (const stop of stopServers.reverse()) {
      try {
        stop();
      } catch {
        // already stopped
      }
    }
    if (root) rmSync(root, { recursive: true, force: true });
  });

  const rows = (db: string) => psql(db, "SELECT id, title, body FROM posts ORDER BY id");
  const subjects = (user: string, mailbox: string) =>
    doveadm("fetch", "-u", user, "hdr.subject", "mailbox", mailbox)
      .split("\n")
      .filter((l) => l.startsWith("hdr.subject:"))
      .map((l) => l.replace("hdr.subject: ", ""))
      .sort();

  it("passes shellcheck", () => {
    for (const file of readdirSync(IMAGE).filter((f) => f.endsWith(".sh"))) {
      // -x: the sourced lib-dump.sh is checked with the scripts that source it.
      expect(
        () => execFileSync(requireTool("shellcheck"), ["-x", "-s", "sh", join(IMAGE, file)], { encoding: "utf8" }),
        file,
      ).not.toThrow();
    }
  });

  let saved: { alpha: string; beta: string; alphaFiles: string; nextcloud: string } | undefined;

  it("saves every set of the host into the repository, one tagged snapshot per set, and says so in its metrics", async () => {
    saved = {
      alpha: rows("alpha_website"),
      beta: rows("beta_website"),
      alphaFiles: readFileSync(join(volumeData("alpha-website-data"), "index.html"), "utf8"),
      nextcloud: mariadb("SELECT id, path FROM alpha_nextcloud.files ORDER BY id"),
    };
    const run = await script("backup.sh", []);
    expect(run.stderr).not.toMatch(/FAILED/);
    expect(run.code, run.stderr).toBe(0);
    const snapshots = JSON.parse(
      execFileSync(requireTool("restic"), ["snapshots", "--json"], { env: { ...process.env, ...env }, encoding: "utf8" }),
    ) as {
      tags: string[];
      hostname: string;
      paths: string[];
    }[];
    expect(snapshots.map((s) => s.tags.join(",")).sort()).toEqual(["set:alpha", "set:beta", "set:platform"]);
    expect(new Set(snapshots.map((s) => s.hostname))).toEqual(new Set(["h1"]));
    // The dumps are saved, not the servers' files; each tenant's snapshot holds its own volumes only.
    const alpha = snapshots.find((s) => s.tags.includes("set:alpha"))!;
    expect(alpha.paths.sort()).toEqual(
      [`${dirs.staging}/alpha`, volumeData("alpha-nextcloud-data"), volumeData("alpha-website-data")].sort(),
    );
    const metrics = readFileSync(join(dirs.metrics, "alacarte_backup.prom"), "utf8");
    for (const set of ["alpha", "beta", "delta", "platform"]) {
      expect(metrics).toContain(`alacarte_backup_last_run_ok{set="${set}",host="h1"} 1`);
      expect(metrics).toMatch(new RegExp(`alacarte_backup_last_success_timestamp_seconds\\{set="${set}",host="h1"\\} \\d{10}`));
    }
    // The website was stopped around its snapshot and runs again; the secrets never reached an argument.
    const calls = readFileSync(join(dirs.stub, "calls.log"), "utf8");
    expect(calls).toContain("stop alpha-website");
    expect(calls).toContain("start alpha-website");
    expect(existsSync(join(dirs.stub, "alpha-website.stopped"))).toBe(false);
    expect(calls).not.toContain(PG_ADMIN_PASSWORD);
    expect(calls).not.toContain(MARIADB_ROOT_PASSWORD);
  }, 120_000);

  it("restores one tenant's databases and volumes from its snapshot, row by row and byte by byte, keeping what was there aside, and touches no other tenant", async () => {
    expect(saved).toBeDefined();
    // Damage to alpha; changes to beta after the backup, which alpha's restore must leave alone.
    psql("postgres", "DROP DATABASE alpha_website WITH (FORCE)");
    mariadb("DELETE FROM alpha_nextcloud.files WHERE id = 2");
    rmSync(join(volumeData("alpha-website-data"), "uploads"), { recursive: true });
    writeFileSync(join(volumeData("alpha-website-data"), "index.html"), "defaced\n");
    psql("beta_website", "INSERT INTO posts VALUES (999, 'after the backup', '')");
    writeFileSync(join(volumeData("beta-website-data"), "new.html"), "new\n");
    writeFileSync(join(dirs.stub, "calls.log"), "");

    const plan = await script("restore.sh", ["alpha", "--dry-run"]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/would restore volume alpha-website-data \(website\)/);
    expect(plan.stdout).toMatch(/would restore database alpha_website \(website, postgres\)/);
    expect(rows("beta_website")).toContain("999|after the backup|");

    const run = await script("restore.sh", ["alpha"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim().split("\n").sort()).toEqual([
      expect.stringMatching(/^restored database alpha_nextcloud \(nextcloud, mariadb\) from snapshot [0-9a-f]{8} of /),
      expect.stringMatching(/^restored database alpha_website \(website, postgres\) from snapshot [0-9a-f]{8} of /),
      expect.stringMatching(/^restored volume alpha-nextcloud-data \(nextcloud\) from snapshot /),
      expect.stringMatching(/^restored volume alpha-website-data \(website\) from snapshot /),
    ]);
    expect(rows("alpha_website")).toBe(saved!.alpha);
    expect(psql("alpha_website", "SELECT pg_catalog.pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()")).toBe(
      "alpha_website",
    );
    expect(mariadb("SELECT id, path FROM alpha_nextcloud.files ORDER BY id")).toBe(saved!.nextcloud);
    expect(readFileSync(join(volumeData("alpha-website-data"), "index.html"), "utf8")).toBe(saved!.alphaFiles);
    expect(readFileSync(join(volumeData("alpha-website-data"), "uploads", "2026", "photo.bin"))).toEqual(
      Buffer.alloc(4096, "alpha-website-data".length),
    );
    // Nothing lost: the defaced files are kept beside the volume, the dropped database had nothing to keep, the deleted row's table was dumped.
    const kept = readdirSync(join(dirs.volumes, "alpha-website-data")).filter((f) => f.startsWith("pre-restore-"));
    expect(kept).toHaveLength(1);
    expect(readFileSync(join(dirs.volumes, "alpha-website-data", kept[0]!, "index.html"), "utf8")).toBe("defaced\n");
    expect(readdirSync(join(dirs.staging, "pre-restore"), { recursive: true }).map(String)).toContainEqual(
      expect.stringMatching(/alpha_nextcloud\.dump$/),
    );
    // The containers using a restored volume were stopped and run again.
    expect(existsSync(join(dirs.stub, "alpha-website.stopped"))).toBe(false);
    // Beta is as it was after its own changes, and no call named anything of beta's.
    expect(rows("beta_website")).toContain("999|after the backup|");
    expect(readFileSync(join(volumeData("beta-website-data"), "new.html"), "utf8")).toBe("new\n");
    expect(readFileSync(join(dirs.stub, "calls.log"), "utf8")).not.toMatch(/beta/);
  }, 120_000);

  it("restores one offer of a tenant only", async () => {
    writeFileSync(join(volumeData("alpha-website-data"), "index.html"), "changed again\n");
    mariadb("INSERT INTO alpha_nextcloud.files VALUES (7, '/kept')");
    const run = await script("restore.sh", ["alpha", "--offer", "website"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).not.toMatch(/nextcloud/);
    expect(readFileSync(join(volumeData("alpha-website-data"), "index.html"), "utf8")).toBe(saved!.alphaFiles);
    expect(mariadb("SELECT path FROM alpha_nextcloud.files WHERE id = 7")).toBe("/kept");
  }, 60_000);

  it("brings back one person's mailbox, or one folder of it, into a folder of its own, from the platform's snapshot", async () => {
    doveadm("expunge", "-u", "alice@alpha.example", "mailbox", "INBOX", "all");
    doveadm("expunge", "-u", "alice@alpha.example", "mailbox", "Archives", "all");
    expect(subjects("alice@alpha.example", "INBOX")).toEqual([]);
    const folder = await script("restore.sh", ["alpha", "--mailbox", "alice@alpha.example", "--folder", "Archives"]);
    expect(folder.code, folder.stderr).toBe(0);
    const restored = /into its folder (Restored-\d{4}-\d{2}-\d{2})$/m.exec(folder.stdout)?.[1];
    expect(restored).toBeDefined();
    expect(subjects("alice@alpha.example", `${restored}/Archives`)).toEqual(["archived alice@alpha.example"]);
    expect(doveadm("mailbox", "list", "-u", "alice@alpha.example").split("\n")).not.toContain(`${restored}/INBOX`);

    const whole = await script("restore.sh", ["alpha", "--mailbox", "alice@alpha.example"]);
    expect(whole.code, whole.stderr).toBe(0);
    expect(subjects("alice@alpha.example", `${restored}/INBOX`)).toEqual(["hello alice@alpha.example"]);
    // Bob's mailbox is not alpha's to restore, and was not touched.
    const other = await script("restore.sh", ["alpha", "--mailbox", "bob@beta.example"]);
    expect(other.code).not.toBe(0);
    expect(other.stderr).toMatch(/bob@beta\.example is not a mailbox of set alpha/);
    expect(doveadm("mailbox", "list", "-u", "bob@beta.example").split("\n").filter(Boolean).sort()).toEqual(["Archives", "INBOX"]);
  }, 60_000);

  it("reports a set that fails, keeps the others' backups, and starts again the containers it stopped", async () => {
    writeFileSync(
      join(dirs.fragments, "gamma.backup"),
      renderBackupFragment("gamma", "h1", [
        { kind: "volume", offer: "website", volume: "gamma-missing", quotaGb: 5, stop: "alpha-website" },
      ]),
    );
    const run = await script("backup.sh", []);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/gamma: FAILED/);
    const metrics = readFileSync(join(dirs.metrics, "alacarte_backup.prom"), "utf8");
    expect(metrics).toContain('alacarte_backup_last_run_ok{set="gamma",host="h1"} 0');
    expect(metrics).toContain('alacarte_backup_last_run_ok{set="alpha",host="h1"} 1');
    expect(existsSync(join(dirs.stub, "alpha-website.stopped"))).toBe(false);
    rmSync(join(dirs.fragments, "gamma.backup"));
    // A host that holds nothing of a set says so with its own exit code, which npm run restore skips.
    const elsewhere = await script("restore.sh", ["gamma"]);
    expect(elsewhere.code).toBe(3);
    expect(elsewhere.stderr).toMatch(/set gamma has nothing on host h1/);
  }, 120_000);

  it("writes each volume's use against its quota for the monitoring", async () => {
    const run = await script("metrics.sh", []);
    expect(run.code, run.stderr).toBe(0);
    const metrics = readFileSync(join(dirs.metrics, "alacarte_volumes.prom"), "utf8");
    expect(metrics).toContain(
      `alacarte_volume_quota_bytes{set="alpha",offer="website",volume="alpha-website-data",host="h1"} ${5 * 2 ** 30}`,
    );
    const used = Number(
      /alacarte_volume_used_bytes\{set="beta",offer="website",volume="beta-website-data",host="h1"\} (\d+)/.exec(metrics)?.[1],
    );
    expect(used).toBeGreaterThan(4096);
  });
});
