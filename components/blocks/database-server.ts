import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { HostConnection } from "../platform/outputs";
import { ContainerService } from "./container-service";
import { type DatabaseEngine, databaseServerContainer, ENGINE_CONTAINERS, MARIADB_HEALTHCHECK } from "./database";

export const DATABASE_SERVER_TYPE = "alacarte:block:DatabaseServer";

/**
 * A database server that several databases live on: what a {@link Database} with
 * `server: { existing }` needs to create its database and user there.
 */
export interface DatabaseServerRef {
  engine: DatabaseEngine;
  /** Host the server runs on: the database is created by a command there. */
  host: HostConnection;
  /** Container name: the address apps reach it at on its network, and what `docker exec` names. */
  containerName: pulumi.Input<string>;
  /**
   * The same name, known before the container exists (a ContainerService names its container
   * after itself): what the backups list the server's databases under.
   */
  container: string;
  port: number;
  /** Docker network(s) apps join to reach it. */
  networks: pulumi.Input<string>[];
}

export interface DatabaseServerArgs {
  engine: DatabaseEngine;
  /** Host the server runs on. */
  host: HostConnection;
  /** Docker networks it is reachable on: the tenant's own network, never one shared between tenants. */
  networks: pulumi.Input<string>[];
  /** Quota of the data volume, in GB (2^30 bytes), for every database on the server. */
  sizeGb: number;
  /** Protect the data volume against deletion (it is retained on delete in any case). @default true */
  protect?: boolean;
  /** Resource limits. @default { memoryMb: 512, cpus: 0.5 } (MB, CPUs) */
  limits?: { memoryMb: number; cpus: number };
}

/** What the server container needs for an engine when it holds no database of its own yet. */
export interface SharedServerSpec {
  image: string;
  port: number;
  dataPath: string;
  env: Record<string, string>;
  /** Env var holding the administrator's password (secret). */
  adminPasswordEnv: string;
  command?: string[];
  healthCheck: string[];
}

/**
 * Pure: the container of a server whose databases are created afterwards by {@link Database}. The
 * official images create the administrator from these variables on first start (postgres:
 * POSTGRES_USER/POSTGRES_PASSWORD; mariadb: MARIADB_ROOT_PASSWORD), docs/services/database.md.
 */
export function sharedServerSpec(engine: DatabaseEngine): SharedServerSpec {
  switch (engine) {
    case "postgres":
      return {
        ...ENGINE_CONTAINERS.postgres,
        env: { POSTGRES_USER: "postgres" },
        adminPasswordEnv: "POSTGRES_PASSWORD",
        healthCheck: ["CMD", "pg_isready", "-U", "postgres"],
      };
    case "mariadb":
      return {
        ...ENGINE_CONTAINERS.mariadb,
        env: {},
        adminPasswordEnv: "MARIADB_ROOT_PASSWORD",
        healthCheck: [...MARIADB_HEALTHCHECK],
      };
    default: {
      const never: never = engine;
      throw new Error(`Unknown database engine ${String(never)}`);
    }
  }
}

/**
 * A database server that databases are added to one by one ({@link Database} with
 * `server: { existing: server.ref }`): a tenant's one server per engine, shared by that tenant's
 * offers and reachable on the tenant's own network only.
 */
export class DatabaseServer extends pulumi.ComponentResource {
  readonly ref: DatabaseServerRef;
  /** The administrator's password (secret). */
  readonly adminPassword: pulumi.Output<string>;
  readonly server: ContainerService;

  constructor(name: string, args: DatabaseServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super(DATABASE_SERVER_TYPE, name, {}, opts);
    const spec = sharedServerSpec(args.engine);
    const password = new random.RandomPassword(`${name}-admin-password`, { length: 32, special: false }, { parent: this });
    this.adminPassword = pulumi.secret(password.result);
    this.server = new ContainerService(
      `${name}-server`,
      databaseServerContainer(args.engine, spec, {
        host: args.host,
        networks: args.networks,
        sizeGb: args.sizeGb,
        limits: args.limits,
        secretEnv: { [spec.adminPasswordEnv]: this.adminPassword },
        protect: args.protect ?? true,
      }),
      { parent: this },
    );
    this.ref = {
      engine: args.engine,
      host: args.host,
      containerName: this.server.containerName,
      container: `${name}-server`,
      port: spec.port,
      networks: args.networks,
    };
    this.registerOutputs({ containerName: this.server.containerName, adminPassword: this.adminPassword });
  }
}
