import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { HostConnection } from "../platform/outputs";
import type { HostData } from "../units";
import { ContainerService } from "./container-service";
import type { ContainerServiceArgs } from "./container-service";
import type { DatabaseServerRef } from "./database-server";
import { hostConnection } from "./host-file";
import { shellQuote } from "./shell";
import * as command from "@pulumi/command";

export const DATABASE_TYPE = "alacarte:block:Database";

export type DatabaseEngine = "postgres" | "mariadb";

/** Exact images per engine (never a floating major). */
export const DATABASE_IMAGES: Record<DatabaseEngine, string> = {
  postgres: "postgres:17.6",
  mariadb: "mariadb:11.4.8",
};

export const DATABASE_PORTS: Record<DatabaseEngine, number> = { postgres: 5432, mariadb: 3306 };

/** Default resource limits of a database server. */
export const DEFAULT_DATABASE_LIMITS = { memoryMb: 512, cpus: 0.5 } as const;

/** A server of the database's own, made with it (the platform's Keycloak). */
export interface OwnServerArgs {
  /** Host the server runs on. */
  host: HostConnection;
  /** Docker networks the app reaches the server on. */
  networks: pulumi.Input<string>[];
  /** Quota of the data volume, in GB (2^30 bytes). */
  sizeGb: number;
  /** Resource limits. @default { memoryMb: 512, cpus: 0.5 } (MB, CPUs) */
  limits?: { memoryMb: number; cpus: number };
  /** Escape hatch: rewrite the Docker container args. */
  transform?: ContainerServiceArgs["transform"];
}

export interface DatabaseArgs {
  /** Database server engine. */
  engine: DatabaseEngine;
  /** Name of the database and of its user ([a-z_][a-z0-9_]*, at most 63); see {@link databaseName}. @example "acme_corp_nextcloud" */
  name: string;
  /**
   * Where the database lives: `args` makes a server of its own for it; `existing` adds it to a
   * server that holds others (a tenant's one server per engine, infra/program/tenant-context.ts),
   * through a command on the server's host.
   */
  server: { args: OwnServerArgs } | { existing: DatabaseServerRef };
  /** Protect the data against deletion (the volume, or the command that made the database). @default true */
  protect?: boolean;
}

/**
 * Pure: a database and user name from a slug and an optional role: lowercase, `-` → `_`.
 * @example databaseName("amis-du-velo", "wordpress") === "amis_du_velo_wordpress"
 * @throws Error when the result is not a valid name.
 */
export function databaseName(slug: string, role?: string): string {
  const name = [slug, role].filter(Boolean).join("_").toLowerCase().replace(/-/g, "_");
  assertDatabaseName(name);
  return name;
}

function assertDatabaseName(name: string): void {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`Database name "${name}" must match [a-z_][a-z0-9_]{0,62}`);
}

/** What the server container needs for an engine: plain env, secret env keys, data path, health check. */
export interface DatabaseServerSpec {
  image: string;
  port: number;
  dataPath: string;
  env: Record<string, string>;
  /** Secret env var → which password it holds. */
  secretEnv: Record<string, "user" | "root">;
  command?: string[];
  healthCheck: string[];
}

/**
 * What every server of an engine runs with, whatever databases it holds: a database's own server
 * ({@link databaseServerSpec}) and a tenant's shared one (database-server.ts `sharedServerSpec`).
 */
export const ENGINE_CONTAINERS: Readonly<Record<DatabaseEngine, Pick<DatabaseServerSpec, "image" | "port" | "dataPath" | "command">>> = {
  postgres: { image: DATABASE_IMAGES.postgres, port: DATABASE_PORTS.postgres, dataPath: "/var/lib/postgresql/data" },
  mariadb: {
    image: DATABASE_IMAGES.mariadb,
    port: DATABASE_PORTS.mariadb,
    dataPath: "/var/lib/mysql",
    // What Nextcloud needs on MariaDB (docs/services/database.md), harmless for the others.
    command: ["--transaction-isolation=READ-COMMITTED", "--binlog-format=ROW"],
  },
};

/** MariaDB's health check, the image's own script, whoever the server's users are. */
export const MARIADB_HEALTHCHECK = ["CMD", "healthcheck.sh", "--connect", "--innodb_initialized"];

/** Pure: the server container of an engine for a database/user name. */
export function databaseServerSpec(engine: DatabaseEngine, name: string): DatabaseServerSpec {
  assertDatabaseName(name);
  switch (engine) {
    case "postgres":
      return {
        ...ENGINE_CONTAINERS.postgres,
        env: { POSTGRES_DB: name, POSTGRES_USER: name },
        secretEnv: { POSTGRES_PASSWORD: "user" },
        healthCheck: ["CMD", "pg_isready", "-U", name, "-d", name],
      };
    case "mariadb":
      return {
        ...ENGINE_CONTAINERS.mariadb,
        env: { MARIADB_DATABASE: name, MARIADB_USER: name },
        secretEnv: { MARIADB_PASSWORD: "user", MARIADB_ROOT_PASSWORD: "root" },
        healthCheck: [...MARIADB_HEALTHCHECK],
      };
    default: {
      const never: never = engine;
      throw new Error(`Unknown database engine ${String(never)}`);
    }
  }
}

/**
 * Pure: the script that creates a database and its user on a running server, or sets the user's
 * password again when they exist: idempotent, so it runs on create and on every update. The
 * user's password comes on standard input (first line) and reaches the server's client on its
 * standard input too, never in arguments or the environment of a process; the client logs in as
 * the server's administrator with the password the server's own container holds.
 * @throws Error on an invalid name.
 */
export function createDatabaseScript(engine: DatabaseEngine, containerName: string, name: string): string {
  assertDatabaseName(name);
  if (!/^[a-z0-9][a-z0-9_.-]*$/.test(containerName)) throw new Error(`invalid container name "${containerName}"`);
  // The password is [A-Za-z0-9] (RandomPassword, special: false): it cannot leave its quotes.
  const check = 'case "$password" in "" | *[!A-Za-z0-9]*) echo "the database password must be letters and digits" >&2; exit 1;; esac';
  // The SQL goes to the client on stdin through a here-document, which expands $password and
  // nothing else here: names are [a-z0-9_] and the SQL holds no backquote or backslash-newline.
  const run = (client: string, sql: string[]) =>
    [
      "set -eu",
      "IFS= read -r password",
      check,
      `docker exec -i ${shellQuote(containerName)} sh -c ${shellQuote(client)} <<SQL`,
      ...sql,
      "SQL",
    ].join("\n");
  switch (engine) {
    case "postgres":
      // \gexec runs the CREATE the query yields only when the role or database is missing.
      return run('PGPASSWORD="$POSTGRES_PASSWORD" exec psql -v ON_ERROR_STOP=1 -q -h 127.0.0.1 -U "$POSTGRES_USER" -d postgres', [
        `SELECT 'CREATE ROLE ${name} LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${name}')\\gexec`,
        `ALTER ROLE ${name} WITH LOGIN PASSWORD '$password';`,
        `SELECT 'CREATE DATABASE ${name} OWNER ${name}' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '${name}')\\gexec`,
        `ALTER DATABASE ${name} OWNER TO ${name};`,
      ]);
    case "mariadb":
      return run('exec mariadb -uroot -p"$MARIADB_ROOT_PASSWORD"', [
        `CREATE DATABASE IF NOT EXISTS ${name};`,
        `CREATE USER IF NOT EXISTS '${name}'@'%' IDENTIFIED BY '$password';`,
        `ALTER USER '${name}'@'%' IDENTIFIED BY '$password';`,
        `GRANT ALL PRIVILEGES ON ${name}.* TO '${name}'@'%';`,
      ]);
    default: {
      const never: never = engine;
      throw new Error(`Unknown database engine ${String(never)}`);
    }
  }
}

/** Where the backups find a database to dump. */
export interface DatabaseDump {
  engine: DatabaseEngine;
  database: string;
  /** The server's container, which `docker exec` names. */
  container: string;
  /** The host it runs on. */
  host: string;
}

/**
 * A database and its user, with a generated password: on a server of its own (`server.args`), or
 * added to an existing server (`server.existing`) by a command on its host. A database made by a
 * command is declared in the component's props (`hostData`: what it is, its protection and its
 * backup), as a resource would be, so the policy pack sees it.
 */
export class Database extends pulumi.ComponentResource {
  /** Container name of the server, on its networks. */
  readonly hostname: pulumi.Output<string>;
  readonly port: pulumi.Output<number>;
  /** Name of the database. */
  readonly database: pulumi.Output<string>;
  /** Name of the user owning it. */
  readonly username: pulumi.Output<string>;
  /** Password of the user (secret). */
  readonly password: pulumi.Output<string>;
  /** MariaDB's root password (secret), on a server of its own; undefined otherwise. */
  readonly rootPassword?: pulumi.Output<string>;
  /** The server of its own, when `server.args`. */
  readonly server?: ContainerService;

  constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    const protect = args.protect ?? true;
    const hostData: HostData | undefined =
      "existing" in args.server
        ? { kind: "database", engine: args.engine, name: args.name, protect, backup: "server-dump", madeBy: `${name}-create` }
        : undefined;
    // What the backups dump (components/platform/backup-fragments.ts): the database, in its server's container, on its host.
    const dump: DatabaseDump =
      "existing" in args.server
        ? { engine: args.engine, database: args.name, container: args.server.existing.container, host: args.server.existing.host.name }
        : { engine: args.engine, database: args.name, container: `${name}-server`, host: args.server.args.host.name };
    super(DATABASE_TYPE, name, hostData ? { hostData, dump } : { dump }, opts);
    const password = new random.RandomPassword(`${name}-password`, { length: 32, special: false }, { parent: this });
    this.password = pulumi.secret(password.result);
    this.database = pulumi.output(args.name);
    this.username = pulumi.output(args.name);

    if ("existing" in args.server) {
      const server = args.server.existing;
      this.addTo(name, args, server, protect);
      this.hostname = pulumi.output(server.containerName);
      this.port = pulumi.output(server.port);
    } else {
      const own = args.server.args;
      const spec = databaseServerSpec(args.engine, args.name);
      const passwords: Record<"user" | "root", pulumi.Output<string>> = { user: this.password, root: this.password };
      if (Object.values(spec.secretEnv).includes("root")) {
        const root = new random.RandomPassword(`${name}-root-password`, { length: 32, special: false }, { parent: this });
        passwords.root = pulumi.secret(root.result);
        this.rootPassword = passwords.root;
      }
      const secretEnv = Object.fromEntries(Object.entries(spec.secretEnv).map(([k, which]) => [k, passwords[which]]));
      this.server = new ContainerService(`${name}-server`, databaseServerContainer(args.engine, spec, { ...own, secretEnv, protect }), {
        parent: this,
      });
      this.hostname = this.server.containerName;
      this.port = pulumi.output(spec.port);
    }
    this.registerOutputs({
      hostname: this.hostname,
      port: this.port,
      database: this.database,
      username: this.username,
      password: this.password,
      dump,
      ...(hostData ? { hostData } : {}),
    });
  }

  /** The command that adds the database and its user to an existing server (createDatabaseScript). */
  private addTo(name: string, args: DatabaseArgs, server: DatabaseServerRef, protect: boolean): void {
    assertDatabaseName(args.name);
    if (server.engine !== args.engine)
      throw new Error(`Database "${name}": a ${args.engine} database cannot live on a ${server.engine} server`);
    const script = pulumi.output(server.containerName).apply((c) => createDatabaseScript(args.engine, c, args.name));
    new command.remote.Command(
      `${name}-create`,
      {
        connection: hostConnection(server.host),
        create: script,
        update: script,
        // Nothing on delete: a database is never dropped by a deployment (docs/architecture.md).
        stdin: pulumi.secret(pulumi.interpolate`${this.password}\n`),
        addPreviousOutputInEnv: false,
        logging: "stderr",
      },
      { parent: this, protect, retainOnDelete: true, additionalSecretOutputs: ["stdin"] },
    );
  }
}

/**
 * Pure: the container of a database server, for {@link Database}'s own server and for
 * {@link DatabaseServer}: the engine's image and settings, its data volume (backed up), its health
 * check, its limits and the `alacarte.database` label.
 */
export function databaseServerContainer(
  engine: DatabaseEngine,
  spec: Pick<DatabaseServerSpec, "image" | "command" | "env" | "dataPath" | "healthCheck">,
  args: OwnServerArgs & { secretEnv: Record<string, pulumi.Input<string>>; protect: boolean },
): ContainerServiceArgs {
  return {
    image: spec.image,
    host: args.host,
    command: spec.command,
    env: spec.env,
    secretEnv: args.secretEnv,
    // Saved by dumps of its databases (docs/services/backups.md), never by its files copied live.
    volumes: [{ name: "data", containerPath: spec.dataPath, sizeGb: args.sizeGb, backup: "dump" }],
    networks: args.networks,
    healthCheck: { test: spec.healthCheck, intervalSeconds: 10, retries: 5 },
    limits: args.limits ?? { ...DEFAULT_DATABASE_LIMITS },
    labels: { "alacarte.database": engine },
    protect: args.protect,
    transform: args.transform,
  };
}
