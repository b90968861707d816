/**
 * The backup image's decommission and purge scripts (images/backup/decommission.sh, purge.sh), run
 * as they run on a host: fragments rendered by the stacks' own function, Debian's restic with a
 * local repository, curl against the Garage fake (test/helpers/garage-fake.ts: admin API, S3 with
 * signatures checked), and stubs that keep state for the Docker CLI and for the database clients a
 * `docker exec` reaches (psql, pg_dump, mariadb, mariadb-dump) and WP-CLI, each following the rules
 * of the real one cited beside it. The purge runs twice: the second run changes nothing.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BackupEntry, renderBackupFragment } from "../components/platform/backup-fragments";
import { parseUploadKey } from "../components/tenant/static-site-config";
import { needTools, requireTool } from "./helpers/debian-tools";
import { provisionSite, s3Client } from "./helpers/garage-clients";
import { type GarageFake, startGarageFake } from "./helpers/garage-fake";
import { runProcess } from "./helpers/run-process";

const IMAGE = resolve(__dirname, "..", "images", "backup");
const RESTIC_PASSWORD = "correct horse battery staple";
const ADMIN_TOKEN = "purge-test-admin-token";

/**
 * The Docker CLI, for the calls the scripts make, with its state in files: a volume is the folder
 * $VOLUMES_DIR/<v> (Docker keeps its files in <v>/_data), a container its env file.
 * - `volume inspect <v>`: exit 1 "no such volume" when absent (https://docs.docker.com/reference/cli/docker/volume/inspect/);
 * - `volume rm <v>`: "You cannot remove a volume that is in use by a container" — refused while a
 *   container, running or not, mounts it; an absent one is an error (https://docs.docker.com/reference/cli/docker/volume/rm/);
 * - `inspect --format '{{.State.Running}}' <c>`: true or false, "No such object" for an unknown one;
 * - `exec [-i] <c> <cmd…>`: runs <cmd…> here with the container's environment, refused for an unknown
 *   or stopped container (https://docs.docker.com/reference/cli/docker/container/exec/);
 * - `ps --filter volume=<v> --format {{.Names}}`: the running containers mounting <v>.
 */
const DOCKER_STUB = `#!/bin/sh
set -eu
printf '%s\\n' "$*" >> "$STUB_DIR/calls.log"
verb=$1; shift
case $verb in
  volume)
    sub=$1; v=$2
    [ -d "$VOLUMES_DIR/$v" ] || { echo "Error response from daemon: get $v: no such volume" >&2; exit 1; }
    case $sub in
      inspect) echo "[{\\"Name\\": \\"$v\\"}]" ;;
      rm)
        for f in "$STUB_DIR"/*.volumes; do
          [ -e "$f" ] || continue
          if grep -qx "$v" "$f"; then echo "Error response from daemon: remove $v: volume is in use" >&2; exit 1; fi
        done
        rm -rf "\${VOLUMES_DIR:?}/$v"; echo "$v" ;;
      *) echo "unexpected docker volume $sub" >&2; exit 2 ;;
    esac ;;
  inspect)
    [ "$1" = "--format" ] && [ "$2" = "{{.State.Running}}" ] || { echo "unexpected docker inspect $*" >&2; exit 2; }
    [ -f "$STUB_DIR/$3.env" ] || { echo "Error: No such object: $3" >&2; exit 1; }
    if [ -e "$STUB_DIR/$3.stopped" ]; then echo false; else echo true; fi ;;
  exec)
    [ "$1" != "-i" ] || shift
    c=$1; shift
    [ -f "$STUB_DIR/$c.env" ] || { echo "Error response from daemon: No such container: $c" >&2; exit 1; }
    [ ! -e "$STUB_DIR/$c.stopped" ] || { echo "Error response from daemon: container $c is not running" >&2; exit 1; }
    . "$STUB_DIR/$c.env"
    exec "$@" ;;
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

/**
 * PostgreSQL's psql against a server whose state is $DB_STATE: a database is a folder (its owner in
 * <db>/owner, the rows the DAV export reads in <db>/<table>), a role a file roles/<name>. Rules of
 * PostgreSQL 15: connecting to a database that does not exist fails ("FATAL: database … does not
 * exist", https://www.postgresql.org/docs/15/app-psql.html exit 2); `DROP DATABASE IF EXISTS` of a
 * missing one is a notice, never of the database connected to
 * (https://www.postgresql.org/docs/15/sql-dropdatabase.html); `DROP ROLE` of a role that owns a
 * database is refused (https://www.postgresql.org/docs/15/sql-droprole.html); any other statement
 * is refused here.
 */
const PSQL_STUB = `#!/bin/sh
set -eu
db="" sql=""
while [ $# -gt 0 ]; do
  case $1 in
    -d) db=$2; shift 2 ;;
    -c) sql="$sql$2
"; shift 2 ;;
    -h|-U|-v) shift 2 ;;
    -*) shift ;;
    *) echo "psql: unexpected argument $1" >&2; exit 2 ;;
  esac
done
[ "$db" = postgres ] || [ -d "$DB_STATE/$db" ] || { echo "psql: error: connection to server at \\"127.0.0.1\\", port 5432 failed: FATAL:  database \\"$db\\" does not exist" >&2; exit 2; }
printf '%s' "$sql" | while IFS= read -r s; do
  case $s in
    'DROP DATABASE IF EXISTS "'*'" WITH (FORCE)')
      x=\${s#*\\"}; x=\${x%%\\"*}
      [ "$x" != "$db" ] || { echo "ERROR:  cannot drop the currently open database" >&2; exit 3; }
      rm -rf "\${DB_STATE:?}/$x" ;;
    'DROP ROLE IF EXISTS "'*'"')
      x=\${s#*\\"}; x=\${x%%\\"*}
      for o in "$DB_STATE"/*/owner; do
        [ -e "$o" ] || continue
        if [ "$(cat "$o")" = "$x" ]; then echo "ERROR:  role \\"$x\\" cannot be dropped because some objects depend on it" >&2; exit 3; fi
      done
      rm -f "$DB_STATE/roles/$x" ;;
    'SELECT id, principaluri, uri FROM oc_calendars') cat "$DB_STATE/$db/oc_calendars" ;;
    'SELECT id, principaluri, uri FROM oc_addressbooks') cat "$DB_STATE/$db/oc_addressbooks" ;;
    "SELECT convert_from(calendardata, 'UTF8') FROM oc_calendarobjects WHERE calendarid = "*" ORDER BY id")
      n=\${s#*calendarid = }; cat "$DB_STATE/$db/oc_calendarobjects.\${n%% *}" ;;
    "SELECT convert_from(carddata, 'UTF8') FROM oc_cards WHERE addressbookid = "*" ORDER BY id")
      n=\${s#*addressbookid = }; cat "$DB_STATE/$db/oc_cards.\${n%% *}" ;;
    *) echo "ERROR:  statement not known to the stub: $s" >&2; exit 3 ;;
  esac
done
`;

/** pg_dump: fails for a missing database (the same FATAL as psql); plain format (-Fp) with --create starts with CREATE DATABASE (https://www.postgresql.org/docs/15/app-pgdump.html). */
const PG_DUMP_STUB = `#!/bin/sh
set -eu
for a in "$@"; do db=$a; done
case " $* " in *" -Fp "*) ;; *) echo "pg_dump stub: only the plain format is emulated" >&2; exit 2 ;; esac
[ -d "$DB_STATE/$db" ] || { echo "pg_dump: error: connection to server failed: FATAL:  database \\"$db\\" does not exist" >&2; exit 1; }
echo "CREATE DATABASE $db;"
cat "$DB_STATE/$db/content"
`;

/** MariaDB's client: `-e "DROP DATABASE IF EXISTS \`x\`"` drops it, a missing one being a note (https://mariadb.com/kb/en/drop-database/); anything else refused. */
const MARIADB_STUB = `#!/bin/sh
set -eu
for a in "$@"; do s=$a; done
case $s in
  'DROP DATABASE IF EXISTS \`'*'\`') x=\${s#*\\\`}; x=\${x%\\\`}; rm -rf "\${DB_STATE:?}/$x" ;;
  *) echo "ERROR 1064 (42000): statement not known to the stub" >&2; exit 1 ;;
esac
`;

/** mariadb-dump --databases <db>: CREATE DATABASE and USE come first (https://mariadb.com/kb/en/mariadb-dump/ --databases). */
const MARIADB_DUMP_STUB = `#!/bin/sh
set -eu
for a in "$@"; do db=$a; done
case " $* " in *" --databases "*) ;; *) echo "mariadb-dump stub: --databases expected" >&2; exit 2 ;; esac
[ -d "$DB_STATE/$db" ] || { echo "mariadb-dump: Got error: 1049: \\"Unknown database '$db'\\"" >&2; exit 2; }
echo "CREATE DATABASE \\\`$db\\\`; USE \\\`$db\\\`;"
cat "$DB_STATE/$db/content"
`;

/** WP-CLI's `wp export`: --stdout writes the WXR to standard output and is incompatible with --dir (https://developer.wordpress.org/cli/commands/export/). */
const WP_STUB = `#!/bin/sh
set -eu
[ "$1" = export ] || { echo "Error: unexpected wp $1" >&2; exit 1; }
case " $* " in *" --dir="*" --stdout "*|*" --stdout "*" --dir="*) echo "Error: --stdout and --dir cannot be used together." >&2; exit 1 ;; esac
case " $* " in *" --stdout "*) ;; *) echo "Error: the stub writes only to --stdout" >&2; exit 1 ;; esac
printf '<?xml version="1.0" encoding="UTF-8" ?>\\n<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/"><channel><title>%s</title></channel></rss>\\n' "$WP_TITLE"
`;

describe("decommission.sh and purge.sh, for real (restic and curl from Debian, the Garage fake, stubs of docker and the database clients)", () => {
  needTools("sh", "restic", "curl", "jq", "tar", "sha256sum", "shellcheck");

  let root = "";
  let env: NodeJS.ProcessEnv = {};
  let fake: GarageFake;
  let site = { accessKeyId: "", secretAccessKey: "" };
  const dirs = { volumes: "", fragments: "", exports: "", retained: "", metrics: "", repo: "", stub: "", db: "" };

  const script = (name: string, args: string[], stdin?: string, extra: NodeJS.ProcessEnv = {}) =>
    runProcess("sh", [join(IMAGE, name), ...args], { cwd: root, env: { ...env, ...extra }, ...(stdin !== undefined ? { stdin } : {}) });
  const fragment = (set: string, entries: BackupEntry[]) =>
    writeFileSync(join(dirs.fragments, `${set}.backup`), renderBackupFragment(set, "h1", entries));
  const volume = (name: string, files: Record<string, string>) => {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(dirs.volumes, name, "_data", path, ".."), { recursive: true });
      writeFileSync(join(dirs.volumes, name, "_data", path), content);
    }
  };
  const container = (name: string, envLines: string[], volumes: string[] = []) => {
    writeFileSync(join(dirs.stub, `${name}.env`), envLines.map((l) => `export ${l}\n`).join(""));
    writeFileSync(join(dirs.stub, `${name}.volumes`), volumes.map((v) => `${v}\n`).join(""));
  };
  const database = (server: string, name: string, files: Record<string, string>) => {
    mkdirSync(join(dirs.db, server, name), { recursive: true });
    for (const [file, content] of Object.entries(files)) writeFileSync(join(dirs.db, server, name, file), content);
  };
  const tarList = (file: string) => execFileSync("tar", ["-tf", file], { encoding: "utf8" }).trim().split("\n").sort();
  const tarFile = (file: string, member: string) => execFileSync("tar", ["-xOf", file, member], { encoding: "utf8" });
  const restic = (...args: string[]) => execFileSync(requireTool("restic"), args, { env, encoding: "utf8", cwd: root });
  const snapshotsOf = () =>
    (JSON.parse(restic("snapshots", "--json")) as { hostname: string; tags: string[] }[])
      .map((s) => `${s.hostname} ${s.tags.join(",")}`)
      .sort();

  const acme: BackupEntry[] = [
    { kind: "bucket", offer: "website", bucket: "site-acme" },
    { kind: "mailbox", offer: "mail", address: "alice@acme.example" },
  ];
  const wpcoWebsite: BackupEntry[] = [
    { kind: "volume", offer: "website", volume: "wpco-website-wordpress", quotaGb: 5 },
    { kind: "database", offer: "website", engine: "mariadb", container: "wpco-mariadb", database: "wpco_wordpress" },
  ];
  const wpcoNextcloud: BackupEntry[] = [
    { kind: "volume", offer: "nextcloud", volume: "wpco-nextcloud-data", quotaGb: 20 },
    { kind: "database", offer: "nextcloud", engine: "postgres", container: "wpco-postgres", database: "wpco_nextcloud" },
  ];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "alacarte-decommission-"));
    for (const key of Object.keys(dirs) as (keyof typeof dirs)[]) {
      dirs[key] = join(root, key);
      mkdirSync(dirs[key], { recursive: true });
    }
    const stubs = {
      docker: DOCKER_STUB,
      psql: PSQL_STUB,
      pg_dump: PG_DUMP_STUB,
      mariadb: MARIADB_STUB,
      "mariadb-dump": MARIADB_DUMP_STUB,
      wp: WP_STUB,
    };
    for (const [name, text] of Object.entries(stubs)) writeFileSync(join(dirs.stub, name), text, { mode: 0o755 });
    fake = await startGarageFake({ adminToken: ADMIN_TOKEN });
    env = {
      PATH: `${dirs.stub}:${process.env.PATH}`,
      STUB_DIR: dirs.stub,
      FRAGMENTS_DIR: dirs.fragments,
      VOLUMES_DIR: dirs.volumes,
      EXPORTS_DIR: dirs.exports,
      RETAINED_DIR: dirs.retained,
      METRICS_DIR: dirs.metrics,
      BACKUP_HOST: "h1",
      RESTIC_REPOSITORY: dirs.repo,
      RESTIC_PASSWORD,
      RESTIC_CACHE_DIR: join(root, "cache"),
      GARAGE_ADMIN_URL: fake.adminUrl,
      GARAGE_ADMIN_TOKEN: ADMIN_TOKEN,
      GARAGE_S3_URL: fake.s3Url,
      GARAGE_S3_REGION: fake.region,
      PURGE_RETRY_SECONDS: "0",
    };

    // The static site, made by the site's own script, with two pages uploaded as a tenant does.
    const made = await provisionSite(fake, ADMIN_TOKEN, "acme", ["acme.example"], 1);
    expect(made.code, made.stderr).toBe(0);
    site = parseUploadKey(made.stdout);
    const s3 = s3Client(fake, site);
    await s3.send(new PutObjectCommand({ Bucket: "site-acme", Key: "index.html", Body: "<h1>acme</h1>" }));
    await s3.send(new PutObjectCommand({ Bucket: "site-acme", Key: "a b/c&d.html", Body: "<p>tricky name</p>" }));

    fragment("platform", [
      { kind: "mailstore", offer: "mail", volume: "platform-mail-data", container: "platform-mail", mountPath: "/var/mail" },
    ]);
    fragment("acme", acme);
    fragment("wpco", [...wpcoWebsite, ...wpcoNextcloud]);
    fragment("stay", [{ kind: "volume", offer: "website", volume: "stay-website-data", quotaGb: 1 }]);
    volume("platform-mail-data", {
      "acme.example/alice/Maildir/cur/1.eml": "Subject: hello\n\nfrom alice's mailbox\n",
      "acme.example/alice/Maildir/.Archives/cur/2.eml": "Subject: old\n\narchived\n",
      "other.example/bob/Maildir/cur/3.eml": "Subject: bob's\n\nstays\n",
    });
    volume("wpco-website-wordpress", { "wp-config.php": "<?php // config", "wp-content/uploads/2026/logo.png": "PNG" });
    volume("wpco-nextcloud-data", {
      "data/ana/files/notes.md": "# Ana's notes",
      "data/ben/files/photo.jpg": "JPEG",
      "config/config.php": "<?php // nextcloud",
    });
    volume("stay-website-data", { "index.html": "stays" });
    container("wpco-website-wordpress", ["WP_TITLE='wpco blog'"], ["wpco-website-wordpress"]);
    container("wpco-mariadb", [`DB_STATE=${join(dirs.db, "wpco-mariadb")}`, "MARIADB_ROOT_PASSWORD=x"]);
    container("wpco-postgres", [`DB_STATE=${join(dirs.db, "wpco-postgres")}`, "POSTGRES_USER=postgres", "POSTGRES_PASSWORD=x"]);
    database("wpco-mariadb", "wpco_wordpress", { content: "INSERT INTO wp_posts VALUES (1, 'Hello');\n" });
    database("wpco-postgres", "wpco_nextcloud", {
      owner: "wpco_nextcloud",
      content: "INSERT INTO oc_users VALUES ('ana');\n",
      oc_calendars: "7|principals/users/ana|personal\n",
      "oc_calendarobjects.7": "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:1\r\nSUMMARY:AG\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
      oc_addressbooks: "3|principals/users/ana|contacts\n",
      "oc_cards.3": "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ben\r\nEND:VCARD\r\n",
    });
    mkdirSync(join(dirs.db, "wpco-postgres", "roles"), { recursive: true });
    writeFileSync(join(dirs.db, "wpco-postgres", "roles", "wpco_nextcloud"), "");

    // Snapshots of the sets, as backup.sh tags them (--host, --tag set:<set>); one of acme from another host.
    restic("init");
    for (const [host, set] of [
      ["h1", "acme"],
      ["h2", "acme"],
      ["h1", "stay"],
      ["h1", "wpco"],
    ] as const)
      restic("backup", "--quiet", "--host", host, "--tag", `set:${set}`, join(dirs.volumes, "stay-website-data"));
  });

  afterAll(async () => {
    await fake?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("passes shellcheck", () => {
    execFileSync("shellcheck", [join(IMAGE, "decommission.sh"), join(IMAGE, "purge.sh"), join(IMAGE, "entrypoint.sh")], { stdio: "pipe" });
  });

  it("says what it would export and keep, and that it holds nothing of a set that is not here (exit 3)", async () => {
    const ask = await script("decommission.sh", ["acme", "--until", "2026-03-02", "--into", "acme-x", "--dry-run"]);
    expect(ask.code, ask.stderr).toBe(0);
    expect(ask.stdout.trim().split("\n").sort()).toEqual([
      "would export and keep bucket site-acme (website) until 2026-03-02",
      "would export and keep mailbox alice@acme.example until 2026-03-02",
    ]);
    expect((await script("decommission.sh", ["nobody", "--until", "2026-03-02", "--into", "n", "--dry-run"])).code).toBe(3);
    expect(
      (await script("decommission.sh", ["acme", "--offer", "nextcloud", "--until", "2026-03-02", "--into", "n", "--dry-run"])).code,
    ).toBe(3);
    expect(readdirSync(dirs.exports)).toEqual([]);
    expect(readdirSync(dirs.retained)).toEqual([]);
  });

  it("writes nothing when a step fails: a bucket read with a wrong key leaves no export and no record", async () => {
    const bad = `s3_endpoint=${fake.s3Url}\ns3_region=${fake.region}\ns3_key=${site.accessKeyId}\ns3_secret=${"0".repeat(64)}\n`;
    const run = await script("decommission.sh", ["acme", "--until", "2026-03-02", "--into", "acme-bad"], bad);
    expect(run.code).not.toBe(0);
    expect(readdirSync(dirs.exports)).toEqual([]);
    expect(readdirSync(dirs.retained)).toEqual([]);
  });

  it("exports a tenant's static site (its files as a tar, read through S3) and its mailboxes (each Maildir as a tar), with a listing, then records what it keeps", async () => {
    const input = `s3_endpoint=${fake.s3Url}\ns3_region=${fake.region}\ns3_key=${site.accessKeyId}\ns3_secret=${site.secretAccessKey}\n`;
    const run = await script("decommission.sh", ["acme", "--until", "2026-03-02", "--into", "acme-20260101T000000Z"], input);
    expect(run.code, run.stderr).toBe(0);
    const out = join(dirs.exports, "acme-20260101T000000Z");
    expect(tarList(join(out, "website", "site.tar"))).toEqual(["./", "./a b/", "./a b/c&d.html", "./index.html"]);
    expect(tarFile(join(out, "website", "site.tar"), "./a b/c&d.html")).toBe("<p>tricky name</p>");
    expect(tarList(join(out, "mail", "alice@acme.example.maildir.tar"))).toEqual([
      "Maildir/",
      "Maildir/.Archives/",
      "Maildir/.Archives/cur/",
      "Maildir/.Archives/cur/2.eml",
      "Maildir/cur/",
      "Maildir/cur/1.eml",
    ]);
    const listing = readFileSync(join(out, "LISTING"), "utf8").trim().split("\n");
    expect(listing.map((l) => l.split("  ")[2]).sort()).toEqual(["mail/alice@acme.example.maildir.tar", "website/site.tar"]);
    for (const line of listing) {
      const [sum, size, file] = line.split("  ");
      expect(execFileSync("sha256sum", [join(out, file!)], { encoding: "utf8" }).split(" ")[0]).toBe(sum);
      expect(String(readFileSync(join(out, file!)).length)).toBe(size);
    }
    expect(readFileSync(join(dirs.retained, "acme.retained"), "utf8")).toContain(
      `until 2026-03-02\nset acme\noffer -\nexported ${out}\nbucket website site-acme\nmailbox mail alice@acme.example\n`,
    );
    expect(run.stdout).toContain("kept until 2026-03-02: bucket site-acme");
    // The secret never reaches an argument: every docker call is logged, and curl read its key on stdin.
    const calls = join(dirs.stub, "calls.log");
    expect(existsSync(calls) ? readFileSync(calls, "utf8") : "").not.toContain(site.secretAccessKey);
    // Nothing was deleted.
    expect(fake.state.buckets.size).toBe(1);
  });

  it("exports a WordPress offer (WXR by wp export, uploads tar, SQL dump) and a Nextcloud offer (each user's files, calendars .ics, contacts .vcf, SQL dump)", async () => {
    const wp = await script("decommission.sh", ["wpco", "--offer", "website", "--until", "2026-03-02", "--into", "wpco-website-x"]);
    expect(wp.code, wp.stderr).toBe(0);
    const w = join(dirs.exports, "wpco-website-x", "website");
    expect(readFileSync(join(w, "wordpress.xml"), "utf8")).toContain("<title>wpco blog</title>");
    expect(tarList(join(w, "uploads.tar"))).toContain("uploads/2026/logo.png");
    expect(readFileSync(join(w, "wpco_wordpress.sql"), "utf8")).toBe(
      "CREATE DATABASE `wpco_wordpress`; USE `wpco_wordpress`;\nINSERT INTO wp_posts VALUES (1, 'Hello');\n",
    );
    expect(existsSync(join(w, "volume-wpco-website-wordpress.tar"))).toBe(true);

    const nc = await script("decommission.sh", ["wpco", "--offer", "nextcloud", "--until", "2026-03-02", "--into", "wpco-nextcloud-x"]);
    expect(nc.code, nc.stderr).toBe(0);
    const n = join(dirs.exports, "wpco-nextcloud-x", "nextcloud");
    expect(tarList(join(n, "files-ana.tar"))).toEqual(["files/", "files/notes.md"]);
    expect(tarList(join(n, "files-ben.tar"))).toEqual(["files/", "files/photo.jpg"]);
    expect(readFileSync(join(n, "dav", "ana-personal.ics"), "utf8")).toContain("SUMMARY:AG");
    expect(readFileSync(join(n, "dav", "ana-contacts.vcf"), "utf8")).toContain("FN:Ben");
    expect(readFileSync(join(n, "wpco_nextcloud.sql"), "utf8")).toMatch(/^CREATE DATABASE wpco_nextcloud;\nINSERT INTO oc_users/);
    expect(readdirSync(dirs.retained).sort()).toEqual(["acme.retained", "wpco-nextcloud.retained", "wpco-website.retained"]);
  });

  it("purges what is past its retention and listed nowhere (volumes, databases, mailboxes, buckets, a whole tenant's snapshots), keeps what is listed again, and a second run changes nothing", async () => {
    // The stacks' next deployments: acme is gone, wpco dropped its nextcloud and kept its website
    // (added back within the period: its fragment lists the same names again).
    rmSync(join(dirs.fragments, "acme.backup"));
    fragment("wpco", wpcoWebsite);
    // One record not due yet.
    writeFileSync(join(dirs.retained, "stay.retained"), "until 2099-01-01\nset stay\noffer -\nvolume website stay-website-data 1 -\n");

    const first = await script("purge.sh", [], undefined, { PURGE_TODAY: "2026-03-03" });
    expect(first.code, first.stderr).toBe(0);
    expect(fake.state.buckets.size).toBe(0);
    expect([...fake.state.keys.values()].map((k) => k.name)).not.toContain("site-acme");
    expect(existsSync(join(dirs.volumes, "platform-mail-data", "_data", "acme.example", "alice"))).toBe(false);
    expect(existsSync(join(dirs.volumes, "platform-mail-data", "_data", "other.example", "bob", "Maildir", "cur", "3.eml"))).toBe(true);
    expect(existsSync(join(dirs.volumes, "wpco-nextcloud-data"))).toBe(false);
    expect(existsSync(join(dirs.db, "wpco-postgres", "wpco_nextcloud"))).toBe(false);
    expect(existsSync(join(dirs.db, "wpco-postgres", "roles", "wpco_nextcloud"))).toBe(false);
    // Listed again: kept, its record done.
    expect(existsSync(join(dirs.volumes, "wpco-website-wordpress", "_data", "wp-config.php"))).toBe(true);
    expect(existsSync(join(dirs.db, "wpco-mariadb", "wpco_wordpress"))).toBe(true);
    expect(first.stderr).toContain("wpco-website: volume wpco-website-wordpress is listed again in a backup fragment: kept");
    // The whole tenant's snapshots of this host, and only those.
    expect(snapshotsOf()).toEqual(["h1 set:stay", "h1 set:wpco", "h2 set:acme"]);
    expect(readdirSync(dirs.retained).filter((f) => f.endsWith(".retained"))).toEqual(["stay.retained"]);
    expect(readdirSync(join(dirs.retained, ".done")).sort()).toEqual([
      "acme.2026-03-03.retained",
      "wpco-nextcloud.2026-03-03.retained",
      "wpco-website.2026-03-03.retained",
    ]);
    expect(first.stderr).toMatch(/purge: 4 deleted, 2 kept \(listed again\), 0 records left/);
    expect(readFileSync(join(dirs.metrics, "alacarte_purge.prom"), "utf8")).toContain('alacarte_purge_deleted{host="h1"} 4');
    expect(existsSync(join(dirs.volumes, "stay-website-data"))).toBe(true);

    const second = await script("purge.sh", [], undefined, { PURGE_TODAY: "2026-03-03" });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/purge: 0 deleted, 0 kept \(listed again\), 0 records left/);
    expect(snapshotsOf()).toEqual(["h1 set:stay", "h1 set:wpco", "h2 set:acme"]);
  });

  it("keeps a record whose data cannot go yet (a volume still mounted), says so in its exit code and metrics, and finishes it once it can", async () => {
    volume("late-website-data", { "x.txt": "x" });
    container("late-app", [], ["late-website-data"]);
    writeFileSync(join(dirs.retained, "late.retained"), "until 2026-01-01\nset late\noffer -\nvolume website late-website-data 1 -\n");
    const blocked = await script("purge.sh", [], undefined, { PURGE_TODAY: "2026-03-03" });
    expect(blocked.code).toBe(1);
    expect(existsSync(join(dirs.retained, "late.retained"))).toBe(true);
    expect(readFileSync(join(dirs.metrics, "alacarte_purge.prom"), "utf8")).toContain('alacarte_purge_last_run_ok{host="h1"} 0');
    rmSync(join(dirs.stub, "late-app.volumes"));
    const done = await script("purge.sh", [], undefined, { PURGE_TODAY: "2026-03-03" });
    expect(done.code, done.stderr).toBe(0);
    expect(existsSync(join(dirs.volumes, "late-website-data"))).toBe(false);
    expect(existsSync(join(dirs.retained, "late.retained"))).toBe(false);
  });
});
