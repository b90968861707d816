import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import * as random from "@pulumi/random";
import { ContainerService } from "../blocks/container-service";
import { HostFile, hostConnection } from "../blocks/host-file";
import { shellQuote } from "../blocks/shell";
import type { HostConnection } from "./outputs";

export const OBJECT_STORAGE_TYPE = "alacarte:platform:ObjectStorage";

/** Garage, pinned (docs/services/garage.md "Image"). */
export const GARAGE_IMAGE = "dxflrs/garage:v2.0.0";

/** Garage's ports: S3 API, RPC, web endpoint, admin API. */
export const GARAGE_PORTS = { s3: 3900, rpc: 3901, web: 3902, admin: 3903 } as const;

/** Name of the platform's Garage key allowed to create buckets. */
export const GARAGE_ADMIN_KEY_NAME = "alacarte-admin";

/** Where garage.toml lives on the storage host (bind-mounted read-only at /etc/garage.toml). */
export const DEFAULT_GARAGE_CONFIG_PATH = "/srv/alacarte/garage/garage.toml";

export interface GarageTomlInput {
  /** Cluster RPC secret: 64 hex characters (32 bytes). */
  rpcSecret: string;
  /** Bearer token of the admin API. */
  adminToken: string;
  /** S3 region name clients must use. @default "garage" */
  region?: string;
  /** Base domain: S3 answers on `s3.<baseDomain>`, buckets on `<bucket>.web.<baseDomain>`. */
  baseDomain: string;
}

/**
 * Pure: a single-node Garage 2.x config (replication factor 1, LMDB metadata with automatic
 * snapshots). Holds the RPC secret and the admin token: the caller keeps the result secret.
 * @throws Error when the RPC secret is not 64 hex characters or the token is empty.
 */
export function renderGarageToml(input: GarageTomlInput): string {
  if (!/^[0-9a-f]{64}$/.test(input.rpcSecret)) throw new Error("Garage rpc_secret must be 64 lowercase hex characters");
  if (input.adminToken.length === 0 || /["\\\n]/.test(input.adminToken)) {
    throw new Error("Garage admin_token must be non-empty and hold no quote, backslash or newline");
  }
  const region = input.region ?? "garage";
  return [
    'metadata_dir = "/var/lib/garage/meta"',
    'data_dir = "/var/lib/garage/data"',
    'db_engine = "lmdb"',
    'metadata_auto_snapshot_interval = "6h"',
    "",
    "replication_factor = 1",
    // A static site's domain is a global alias; Garage refuses one with an xn-- label unless this
    // top-level key is set (src/model/bucket_alias_table.rs, src/util/config.rs; docs/services/garage.md).
    "allow_punycode = true",
    "",
    `rpc_bind_addr = "[::]:${GARAGE_PORTS.rpc}"`,
    `rpc_public_addr = "127.0.0.1:${GARAGE_PORTS.rpc}"`,
    `rpc_secret = "${input.rpcSecret}"`,
    "",
    "[s3_api]",
    `s3_region = "${region}"`,
    `api_bind_addr = "[::]:${GARAGE_PORTS.s3}"`,
    `root_domain = ".s3.${input.baseDomain}"`,
    "",
    "[s3_web]",
    `bind_addr = "[::]:${GARAGE_PORTS.web}"`,
    `root_domain = ".web.${input.baseDomain}"`,
    "",
    "[admin]",
    `api_bind_addr = "[::]:${GARAGE_PORTS.admin}"`,
    `admin_token = "${input.adminToken}"`,
    "",
  ].join("\n");
}

/**
 * Pure: the idempotent bootstrap run on the storage host. Waits for Garage, gives the single node a
 * role when the layout has none (capacity = the data volume), creates the platform key once, lets it
 * create buckets, and prints the key with its secret (`garage key info --show-secret`).
 * No secret is in the script: the CLI inside the container reads garage.toml.
 */
export function garageBootstrapScript(container: string, dataGb: number, zone = "dc1"): string {
  const g = `docker exec ${shellQuote(container)} /garage`;
  const key = shellQuote(GARAGE_ADMIN_KEY_NAME);
  return [
    "set -eu",
    `i=0; until ${g} status >/dev/null 2>&1; do i=$((i+1)); [ "$i" -lt 60 ] || { echo "garage not up" >&2; exit 1; }; sleep 2; done`,
    `if ${g} layout show 2>/dev/null | grep -q 'No nodes currently have a role'; then`,
    `  node=$(${g} node id -q | cut -d@ -f1)`,
    // Garage reads "200G" as 200 × 10^9 bytes (bytesize); GiB is the contract's GB, 2^30.
    `  ${g} layout assign -z ${zone} -c ${dataGb}GiB "$node" >/dev/null`,
    `  ${g} layout apply --version 1 >/dev/null`,
    "fi",
    `${g} key info ${key} >/dev/null 2>&1 || ${g} key create ${key} >/dev/null`,
    `${g} key allow --create-bucket ${key} >/dev/null`,
    `${g} key info --show-secret ${key}`,
  ].join("\n");
}

/** An S3 key printed by the Garage CLI. */
export interface GarageKey {
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * Pure: reads `Key ID:` and `Secret key:` from `garage key info --show-secret` output.
 * @throws Error when either is missing (the message holds no output: it may carry the secret).
 */
export function parseGarageKeyInfo(stdout: string): GarageKey {
  const id = /^\s*Key ID:\s*(GK[0-9a-f]+)\s*$/m.exec(stdout)?.[1];
  const secret = /^\s*Secret key:\s*([0-9a-f]{64})\s*$/m.exec(stdout)?.[1];
  if (!id || !secret) throw new Error("garage key info printed no key id and secret key");
  return { accessKeyId: id, secretAccessKey: secret };
}

export interface ObjectStorageArgs {
  /** Host Garage runs on. */
  host: HostConnection;
  /** Base domain; the S3 API answers on `https://s3.<baseDomain>`. */
  baseDomain: string;
  /** Docker network shared with the reverse proxy. */
  network: pulumi.Input<string>;
  /** Metadata volume size in GB (2^30 bytes); backed up. */
  metaGb: number;
  /** Data volume size in GB (2^30 bytes); also the node's layout capacity. */
  dataGb: number;
  /** S3 region clients use. @default "garage" */
  region?: string;
  /** Path of garage.toml on the host. @default "/srv/alacarte/garage/garage.toml" */
  configPath?: string;
  /** Protect the volumes against deletion. @default true */
  protect?: boolean;
}

/**
 * Garage as the platform's S3-compatible store for static sites: S3 API routed on `s3.<baseDomain>`,
 * web endpoint reached by the proxy on the shared network, a platform key allowed to create buckets.
 */
export class ObjectStorage extends pulumi.ComponentResource {
  /** S3 endpoint, e.g. `https://s3.example.org`. */
  readonly endpoint: string;
  readonly region: string;
  /** Garage container name on the shared network. */
  readonly containerName: pulumi.Output<string>;
  /** Where the proxy forwards static-site hosts, e.g. `http://garage:3902`. */
  readonly webUpstream: pulumi.Output<string>;
  /** Platform key id (secret). */
  readonly accessKeyId: pulumi.Output<string>;
  /** Platform key secret (secret). */
  readonly secretAccessKey: pulumi.Output<string>;
  /** Admin API bearer token (secret); tenant stacks pass it on stdin to the admin API. */
  readonly adminToken: pulumi.Output<string>;

  constructor(name: string, args: ObjectStorageArgs, opts?: pulumi.ComponentResourceOptions) {
    super(OBJECT_STORAGE_TYPE, name, {}, opts);
    const protect = args.protect ?? true;
    const region = args.region ?? "garage";
    const configPath = args.configPath ?? DEFAULT_GARAGE_CONFIG_PATH;
    const s3Hostname = `s3.${args.baseDomain}`;
    const containerName = `${name}-garage`;

    const rpcSecret = new random.RandomId(`${name}-rpc-secret`, { byteLength: 32 }, { parent: this });
    const adminToken = new random.RandomPassword(`${name}-admin-token`, { length: 48, special: false }, { parent: this });

    const toml = pulumi
      .all([rpcSecret.hex, adminToken.result])
      .apply(([rpc, token]) => renderGarageToml({ rpcSecret: rpc, adminToken: token, region, baseDomain: args.baseDomain }));

    const config = new HostFile(
      `${name}-config`,
      {
        host: args.host,
        path: configPath,
        content: pulumi.secret(toml),
        mode: "0600",
        secret: true,
        // Garage reads its config at start only; the first write happens before the container exists.
        afterWrite: `docker restart ${shellQuote(containerName)} >/dev/null 2>&1 || true`,
      },
      { parent: this },
    );

    const garage = new ContainerService(
      containerName,
      {
        image: GARAGE_IMAGE,
        host: args.host,
        volumes: [
          { name: "meta", containerPath: "/var/lib/garage/meta", sizeGb: args.metaGb, backup: true },
          // Single node, replication factor 1: nothing else holds the objects, so they are backed up too.
          { name: "data", containerPath: "/var/lib/garage/data", sizeGb: args.dataGb, backup: true },
        ],
        hostPaths: [{ hostPath: configPath, containerPath: "/etc/garage.toml", readOnly: true }],
        networks: [args.network],
        // The S3 API refuses anonymous requests: its certificate is what can be watched from outside.
        routes: [{ hostnames: [s3Hostname], port: GARAGE_PORTS.s3, probe: "tls" }],
        limits: { memoryMb: 512, cpus: 1 },
        protect,
        // The admin API answers tenant stacks' commands on the storage host only: loopback, never public.
        transform: {
          container: (c) => ({
            ...c,
            ports: [{ internal: GARAGE_PORTS.admin, external: GARAGE_PORTS.admin, ip: "127.0.0.1", protocol: "tcp" }],
          }),
        },
      },
      { parent: this, dependsOn: [config] },
    );

    const bootstrap = new command.remote.Command(
      `${name}-bootstrap`,
      {
        connection: hostConnection(args.host),
        create: pulumi.output(garage.containerName).apply((c) => garageBootstrapScript(c, args.dataGb)),
        triggers: [args.dataGb],
        addPreviousOutputInEnv: false,
      },
      { parent: this, dependsOn: [garage], additionalSecretOutputs: ["stdout"] },
    );
    const key = pulumi.secret(bootstrap.stdout.apply(parseGarageKeyInfo));

    this.endpoint = `https://${s3Hostname}`;
    this.region = region;
    this.containerName = pulumi.output(garage.containerName);
    this.webUpstream = this.containerName.apply((c) => `http://${c}:${GARAGE_PORTS.web}`);
    this.accessKeyId = pulumi.secret(key.apply((k) => k.accessKeyId));
    this.secretAccessKey = pulumi.secret(key.apply((k) => k.secretAccessKey));
    this.adminToken = pulumi.secret(adminToken.result);
    this.registerOutputs({
      endpoint: this.endpoint,
      region: this.region,
      containerName: this.containerName,
      webUpstream: this.webUpstream,
      accessKeyId: this.accessKeyId,
      secretAccessKey: this.secretAccessKey,
      adminToken: this.adminToken,
    });
  }
}
