import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { HostConnection } from "../platform/outputs";
import { ContainerService } from "./container-service";
import type { ContainerServiceArgs } from "./container-service";

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

export interface DatabaseArgs {
  /** Database server engine. */
  engine: DatabaseEngine;
  /** Name of the database and of its user ([a-z_][a-z0-9_]*, at most 63); see {@link databaseName}. @example "acme_corp_nextcloud" */
  name: string;
  /** Host the server runs on. */
  host: HostConnection;
  /** Docker networks the app reaches the server on. */
  networks: pulumi.Input<string>[];
  /** Quota of the data volume, in GB (2^30 bytes). */
  sizeGb: number;
  /** Protect the data volume against deletion. @default true */
  protect?: boolean;
  /** Resource limits. @default { memoryMb: 512, cpus: 0.5 } (MB, CPUs) */
  limits?: { memoryMb: number; cpus: number };
  /** Escape hatch: rewrite the Docker container args. */
  transform?: ContainerServiceArgs["transform"];
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

/** Pure: the server container of an engine for a database/user name. */
export function databaseServerSpec(engine: DatabaseEngine, name: string): DatabaseServerSpec {
  assertDatabaseName(name);
  switch (engine) {
    case "postgres":
      return {
        image: DATABASE_IMAGES.postgres,
        port: DATABASE_PORTS.postgres,
        dataPath: "/var/lib/postgresql/data",
        env: { POSTGRES_DB: name, POSTGRES_USER: name },
        secretEnv: { POSTGRES_PASSWORD: "user" },
        healthCheck: ["CMD", "pg_isready", "-U", name, "-d", name],
      };
    case "mariadb":
      return {
        image: DATABASE_IMAGES.mariadb,
        port: DATABASE_PORTS.mariadb,
        dataPath: "/var/lib/mysql",
        env: { MARIADB_DATABASE: name, MARIADB_USER: name },
        secretEnv: { MARIADB_PASSWORD: "user", MARIADB_ROOT_PASSWORD: "root" },
        // What Nextcloud needs on MariaDB (SERVICES.md), harmless for the others.
        command: ["--transaction-isolation=READ-COMMITTED", "--binlog-format=ROW"],
        healthCheck: ["CMD", "healthcheck.sh", "--connect", "--innodb_initialized"],
      };
    default: {
      const never: never = engine;
      throw new Error(`Unknown database engine ${String(never)}`);
    }
  }
}

/** A dedicated database server container for one app, with a generated password. */
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
  /** MariaDB's root password (secret); undefined for postgres. */
  readonly rootPassword?: pulumi.Output<string>;
  readonly server: ContainerService;

  constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super(DATABASE_TYPE, name, {}, opts);
    const spec = databaseServerSpec(args.engine, args.name);

    const password = new random.RandomPassword(`${name}-password`, { length: 32, special: false }, { parent: this });
    const passwords: Record<"user" | "root", pulumi.Output<string>> = {
      user: pulumi.secret(password.result),
      root: pulumi.secret(password.result), // replaced below when the engine has a root account
    };
    if (Object.values(spec.secretEnv).includes("root")) {
      const root = new random.RandomPassword(`${name}-root-password`, { length: 32, special: false }, { parent: this });
      passwords.root = pulumi.secret(root.result);
      this.rootPassword = passwords.root;
    }

    this.server = new ContainerService(
      `${name}-server`,
      {
        image: spec.image,
        host: args.host,
        command: spec.command,
        env: spec.env,
        secretEnv: Object.fromEntries(Object.entries(spec.secretEnv).map(([k, which]) => [k, passwords[which]])),
        volumes: [{ name: "data", containerPath: spec.dataPath, sizeGb: args.sizeGb, backup: true }],
        networks: args.networks,
        healthCheck: { test: spec.healthCheck, intervalSeconds: 10, retries: 5 },
        limits: args.limits ?? { ...DEFAULT_DATABASE_LIMITS },
        labels: { "alacarte.database": args.engine },
        protect: args.protect ?? true,
        transform: args.transform,
      },
      { parent: this },
    );

    this.hostname = this.server.containerName;
    this.port = pulumi.output(spec.port);
    this.database = pulumi.output(args.name);
    this.username = pulumi.output(args.name);
    this.password = passwords.user;
    this.registerOutputs({
      hostname: this.hostname,
      port: this.port,
      database: this.database,
      username: this.username,
      password: this.password,
    });
  }
}

