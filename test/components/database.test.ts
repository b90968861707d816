import { beforeAll, describe, expect, it } from "vitest";
import { byType, installMocks, one, promiseOf, secretOf, settle } from "../helpers/mocks";
import { isSecretInput, optionsRecorder, plain } from "../helpers/options";
import { assertPinnedImage } from "../../components/blocks/container-service";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDatabaseScript, DATABASE_IMAGES, databaseName, databaseServerSpec } from "../../components/blocks/database";
import { needTools, requireTool } from "../helpers/debian-tools";

const host = { name: "h1", address: "h1.infra.example.org", user: "deploy" };

describe("databaseName", () => {
  it("derives [a-z0-9_] names from a slug and a role", () => {
    expect(databaseName("amis-du-velo", "wordpress")).toBe("amis_du_velo_wordpress");
    expect(databaseName("keycloak")).toBe("keycloak");
  });
  it("rejects what no engine accepts", () => {
    expect(() => databaseName("9lives")).toThrow('Database name "9lives" must match [a-z_][a-z0-9_]{0,62}');
    expect(() => databaseName("a".repeat(64))).toThrow(/must match/);
    expect(() => databaseName("a.b")).toThrow(/must match/);
  });
});

describe("databaseServerSpec", () => {
  it("pins exact images", () => {
    for (const image of Object.values(DATABASE_IMAGES)) {
      expect(() => assertPinnedImage(image)).not.toThrow();
      expect(image).toMatch(/:\d+\.\d+/);
    }
    expect(DATABASE_IMAGES.postgres).toMatch(/^postgres:17\.\d+$/);
    expect(DATABASE_IMAGES.mariadb).toMatch(/^mariadb:11\.\d+\.\d+$/);
  });
  it("describes a postgres server", () =>
    expect(databaseServerSpec("postgres", "kc")).toEqual({
      image: DATABASE_IMAGES.postgres,
      port: 5432,
      dataPath: "/var/lib/postgresql/data",
      env: { POSTGRES_DB: "kc", POSTGRES_USER: "kc" },
      secretEnv: { POSTGRES_PASSWORD: "user" },
      healthCheck: ["CMD", "pg_isready", "-U", "kc", "-d", "kc"],
    }));
  it("describes a mariadb server with its own root password and Nextcloud's isolation level", () =>
    expect(databaseServerSpec("mariadb", "wp")).toEqual({
      image: DATABASE_IMAGES.mariadb,
      port: 3306,
      dataPath: "/var/lib/mysql",
      env: { MARIADB_DATABASE: "wp", MARIADB_USER: "wp" },
      secretEnv: { MARIADB_PASSWORD: "user", MARIADB_ROOT_PASSWORD: "root" },
      command: ["--transaction-isolation=READ-COMMITTED", "--binlog-format=ROW"],
      healthCheck: ["CMD", "healthcheck.sh", "--connect", "--innodb_initialized"],
    }));
});

describe("Database under mocks", () => {
  let mod: typeof import("../../components/blocks/database");
  beforeAll(async () => {
    installMocks();
    mod = await import("../../components/blocks/database.js");
  });

  it("creates a password and a protected postgres server with a backed-up, quota-labelled volume", async () => {
    const rec = optionsRecorder();
    const db = new mod.Database(
      "kc-db",
      { engine: "postgres", name: "keycloak", server: { args: { host, networks: ["proxy"], sizeGb: 5 } } },
      { transformations: [rec.transformation] },
    );
    expect(await promiseOf(db.hostname)).toBe("kc-db-server");
    expect(await promiseOf(db.port)).toBe(5432);
    expect(await promiseOf(db.database)).toBe("keycloak");
    expect(await promiseOf(db.username)).toBe("keycloak");
    expect(await promiseOf(db.password)).toBe("mock-password-kc-db-password");
    expect(await secretOf(db.password)).toBe(true);
    expect(db.rootPassword).toBeUndefined();
    await settle();

    expect(one("random:index/randomPassword:RandomPassword", "kc-db-password").inputs).toMatchObject({ length: 32, special: false });
    expect(rec.get("kc-db-password").opts.parent).toBe(db);
    expect(rec.get("kc-db-server").opts.parent).toBe(db);
    expect(rec.get("kc-db-server").type).toBe("alacarte:block:ContainerService");
    expect(rec.get("kc-db-server-data").opts).toMatchObject({ protect: true, retainOnDelete: true });

    const vol = one("docker:index/volume:Volume", "kc-db-server-data");
    expect(vol.inputs.labels).toEqual(expect.arrayContaining([{ label: "alacarte.backup", value: "true" }]));
    expect(one("alacarte:block:ContainerService", "kc-db-server").inputs.volumes).toEqual([
      { name: "kc-db-server-data", quotaGb: 5, backup: "dump" },
    ]);
    const c = one("docker:index/container:Container", "kc-db-server-container");
    expect(c.inputs.image).toBe(DATABASE_IMAGES.postgres);
    expect(c.inputs.memory).toBe(512);
    expect(c.inputs.cpus).toBe("0.5");
    expect(c.inputs.networksAdvanced).toEqual([{ name: "proxy" }]);
    expect(c.inputs.volumes).toEqual([{ volumeName: "kc-db-server-data", containerPath: "/var/lib/postgresql/data", readOnly: false }]);
    expect(isSecretInput(c.inputs.envs)).toBe(true);
    expect(plain(c.inputs.envs)).toEqual([
      "POSTGRES_DB=keycloak",
      "POSTGRES_PASSWORD=mock-password-kc-db-password",
      "POSTGRES_USER=keycloak",
    ]);
    expect(await promiseOf(db.server!.urn)).toContain("alacarte:block:Database$alacarte:block:ContainerService::kc-db-server");
  });

  it("creates a mariadb server with a separate root password, honours protect and limits", async () => {
    const rec = optionsRecorder();
    const db = new mod.Database(
      "wp-db",
      {
        engine: "mariadb",
        name: "acme_wp",
        server: { args: { host, networks: ["acme"], sizeGb: 2, limits: { memoryMb: 1024, cpus: 1 } } },
        protect: false,
      },
      { transformations: [rec.transformation] },
    );
    expect(await promiseOf(db.port)).toBe(3306);
    expect(await secretOf(db.rootPassword!)).toBe(true);
    await settle();
    expect(byType("random:index/randomPassword:RandomPassword").map((r) => r.name)).toEqual(
      expect.arrayContaining(["wp-db-password", "wp-db-root-password"]),
    );
    expect(rec.get("wp-db-server-data").opts).toMatchObject({ protect: false, retainOnDelete: true });
    const c = one("docker:index/container:Container", "wp-db-server-container");
    expect(c.inputs.memory).toBe(1024);
    expect(plain(c.inputs.envs)).toEqual([
      "MARIADB_DATABASE=acme_wp",
      "MARIADB_PASSWORD=mock-password-wp-db-password",
      "MARIADB_ROOT_PASSWORD=mock-password-wp-db-root-password",
      "MARIADB_USER=acme_wp",
    ]);
    expect(isSecretInput(c.inputs.envs)).toBe(true);
  });

  it("refuses an invalid name at construction", () => {
    expect(
      () => new mod.Database("bad", { engine: "postgres", name: "bad-name", server: { args: { host, networks: [], sizeGb: 1 } } }),
    ).toThrow(/must match/);
  });
});

describe("createDatabaseScript against a real PostgreSQL (Debian's, through pg_virtualenv), run twice", () => {
  needTools("pg_virtualenv", "shellcheck", "sh");

  it("passes shellcheck for both engines", () => {
    for (const engine of ["postgres", "mariadb"] as const) {
      expect(() =>
        execFileSync(requireTool("shellcheck"), ["-s", "sh", "--severity=warning", "-"], {
          input: createDatabaseScript(engine, "t-postgres-server", "t_app"),
          encoding: "utf8",
        }),
      ).not.toThrow();
    }
  });

  it("creates the user and database, is idempotent, sets a new password on a re-run, and keeps the password off the command line", () => {
    const script = createDatabaseScript("postgres", "t-postgres-server", "t_nextcloud");
    const dir = mkdtempSync(join(tmpdir(), "alacarte-db-"));
    // pg_virtualenv run as root runs its command as the postgres user, who must reach the scripts.
    chmodSync(dir, 0o755);
    // A stub of `docker exec -i <container> sh -c <cmd>` that runs <cmd> here as the image's
    // shell would, with the server's administrator from the environment pg_virtualenv sets; it
    // records its arguments, so the test sees what a process listing would show.
    writeFileSync(
      join(dir, "docker"),
      [
        "#!/bin/sh",
        'printf "%s\\n" "$*" >> "$STUB_LOG"',
        '[ "$1 $2 $3 $4" = "exec -i t-postgres-server sh" ] || { echo "unexpected docker call: $*" >&2; exit 2; }',
        'POSTGRES_USER="$PGUSER" POSTGRES_PASSWORD="$PGPASSWORD" exec sh -c "$6"',
      ].join("\n"),
      { mode: 0o755 },
    );
    writeFileSync(join(dir, "create.sh"), script);
    const driver = [
      "set -eu",
      `export PATH="${dir}:$PATH" STUB_LOG="${dir}/log"`,
      `echo FirstPassw0rd | sh "${dir}/create.sh"`,
      `echo FirstPassw0rd | sh "${dir}/create.sh"`,
      "PGPASSWORD=FirstPassw0rd psql -h 127.0.0.1 -U t_nextcloud -d t_nextcloud -tAc \"select current_user || ' ' || current_database()\"",
      `echo Second2Passw0rd | sh "${dir}/create.sh"`,
      'PGPASSWORD=Second2Passw0rd psql -h 127.0.0.1 -U t_nextcloud -d t_nextcloud -tAc "select pg_catalog.pg_get_userbyid(datdba) from pg_database where datname = current_database()"',
      'if PGPASSWORD=FirstPassw0rd psql -h 127.0.0.1 -U t_nextcloud -d t_nextcloud -tAc "select 1" 2>/dev/null; then echo "old password still works"; fi',
      "psql -h 127.0.0.1 -tAc \"select count(*) from pg_database where datname = 't_nextcloud'\"",
      `echo 'bad"quote' | sh "${dir}/create.sh" 2>&1 || echo "refused"`,
    ].join("\n");
    try {
      const out = execFileSync(requireTool("pg_virtualenv"), ["sh", "-c", driver], {
        encoding: "utf8",
        cwd: dir,
        stdio: ["ignore", "pipe", "pipe"],
      });
      expect(
        out
          .trim()
          .split("\n")
          .filter((l) => !/^(Creating new|Dropping) (PostgreSQL )?cluster/.test(l)),
      ).toEqual(["t_nextcloud t_nextcloud", "t_nextcloud", "1", "the database password must be letters and digits", "refused"]);
      const calls = readFileSync(join(dir, "log"), "utf8");
      expect(calls).not.toMatch(/FirstPassw0rd|Second2Passw0rd/);
      expect(calls.trim().split("\n")).toHaveLength(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
