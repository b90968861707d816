import { beforeAll, describe, expect, it } from "vitest";
import { byType, installMocks, one, promiseOf, secretOf, settle } from "../helpers/mocks";
import { isSecretInput, optionsRecorder, plain } from "../helpers/options";
import { assertPinnedImage } from "../../components/blocks/container-service";
import { DATABASE_IMAGES, databaseName, databaseServerSpec } from "../../components/blocks/database";

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
    const db = new mod.Database("kc-db", { engine: "postgres", name: "keycloak", server: { args: { host, networks: ["proxy"], sizeGb: 5 } } }, { transformations: [rec.transformation] });
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
    expect(vol.inputs.labels).toEqual(
      expect.arrayContaining([{ label: "alacarte.quota-gb", value: "5" }, { label: "alacarte.backup", value: "true" }]),
    );
    const c = one("docker:index/container:Container", "kc-db-server-container");
    expect(c.inputs.image).toBe(DATABASE_IMAGES.postgres);
    expect(c.inputs.memory).toBe(512);
    expect(c.inputs.cpus).toBe("0.5");
    expect(c.inputs.networksAdvanced).toEqual([{ name: "proxy" }]);
    expect(c.inputs.volumes).toEqual([{ volumeName: "kc-db-server-data", containerPath: "/var/lib/postgresql/data", readOnly: false }]);
    expect(isSecretInput(c.inputs.envs)).toBe(true);
    expect(plain(c.inputs.envs)).toEqual(["POSTGRES_DB=keycloak", "POSTGRES_PASSWORD=mock-password-kc-db-password", "POSTGRES_USER=keycloak"]);
    expect(await promiseOf(db.server!.urn)).toContain("alacarte:block:Database$alacarte:block:ContainerService::kc-db-server");
  });

  it("creates a mariadb server with a separate root password, honours protect and limits", async () => {
    const rec = optionsRecorder();
    const db = new mod.Database(
      "wp-db",
      { engine: "mariadb", name: "acme_wp", server: { args: { host, networks: ["acme"], sizeGb: 2, limits: { memoryMb: 1024, cpus: 1 } } }, protect: false },
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
    expect(() => new mod.Database("bad", { engine: "postgres", name: "bad-name", server: { args: { host, networks: [], sizeGb: 1 } } })).toThrow(/must match/);
  });
});
