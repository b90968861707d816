import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import { hostnameProblem } from "../../infra/contract/names";
import type { HostConnection } from "../platform/outputs";
import { assertPinnedImage } from "./image-pin";

export { assertPinnedImage } from "./image-pin";

export const CONTAINER_SERVICE_TYPE = "alacarte:block:ContainerService";

/** A port published on the host (non-HTTP protocols only: HTTP goes through `routes`). */
export interface PublishedPort {
  /** Port inside the container. @example 993 */
  internal: number;
  /** Port on the host. @example 993 */
  external: number;
  /** @default "tcp" */
  protocol?: "tcp" | "udp";
}

/** A named data volume, quota-limited by the host. */
export interface ServiceVolume {
  /** Role of the volume ([a-z0-9-]); the Docker volume is named `<service name>-<name>`. @example "data" */
  name: string;
  /** Mount point inside the container. @example "/var/lib/postgresql/data" */
  containerPath: string;
  /** Quota in GB (2^30 bytes), enforced by the host with a filesystem project quota. */
  sizeGb: number;
  /**
   * How the backups save the volume (docs/services/backups.md): `true`, its files; `"dump"`, the
   * dumps of the databases its server holds, never its files copied live; `false`, not at all
   * (state the service rebuilds: a cache, a search index). @default false
   */
  backup?: boolean | "dump";
  /**
   * Stop the service around the snapshot of this volume's files, for files that are not safe to
   * read while written (a SQLite database). @default false
   */
  stopForBackup?: boolean;
  /** Mount read-only. @default false */
  readOnly?: boolean;
}

/** A folder or file of the host bind-mounted into the container. */
export interface HostPathMount {
  /** Absolute path on the host. @example "/var/run/docker.sock" */
  hostPath: string;
  /** Absolute path inside the container. */
  containerPath: string;
  /** Mount read-only. @default false */
  readOnly?: boolean;
}

/** A Docker volume another service owns, mounted here too (read-only unless said otherwise). */
export interface BorrowedVolumeMount {
  /** Name of the Docker volume (the owner's `volumes[<name>].name`). */
  volumeName: pulumi.Input<string>;
  /** Mount point inside the container. */
  containerPath: string;
  /** Mount read-only. @default true */
  readOnly?: boolean;
}

/** Public HTTPS route to one port of the container, through the reverse proxy (TLS by the `le` resolver). */
export interface ServiceRoute {
  /** Hostnames served. @example ["sso.example.org"] */
  hostnames: string[];
  /** HTTP port inside the container. @example 8080 */
  port: number;
  /**
   * Only these path prefixes of the hostnames (a more specific route beside a whole-host one:
   * Traefik prefers the longer rule). @default the whole host
   */
  pathPrefixes?: string[];
  /**
   * Only requests whose source address is in one of these IPv4 ranges (CIDR), by Traefik's
   * `ClientIP` matcher, one range each: it takes one parameter and reads the connection's address,
   * never a forwarded header (traefik/traefik v3 pkg/muxer/http/matcher.go `clientIP`:
   * `expectNParameters(clientIP, 1)`, `ip.RemoteAddrStrategy{}`). @default any client
   */
  clientIps?: string[];
  /** Requests allowed per client address: `average` per `periodSeconds`, bursts of `burst`. @default no limit */
  rateLimit?: { average: number; periodSeconds: number; burst: number };
  /**
   * How the monitoring watches each hostname (docs/services/monitoring.md): a page that answers 2xx
   * over HTTPS at `path`; `"tls"`, the TLS handshake and certificate only (an API that refuses
   * anonymous requests); `false`, not at all (a second route on a hostname already watched).
   * @default { path: "/" }
   */
  probe?: { path: string } | "tls" | false;
}

/** What a component declares the monitoring should probe: pages (HTTPS URLs) and TLS ports (`host:port`). */
export interface DeclaredProbes {
  http: string[];
  tls: string[];
}

/** Pure: the probes of a service's routes, one per hostname, sorted. */
export function routeProbes(routes: readonly ServiceRoute[]): DeclaredProbes {
  const http = new Set<string>();
  const tls = new Set<string>();
  for (const route of routes) {
    const probe = route.probe ?? { path: "/" };
    if (probe === false) continue;
    for (const hostname of route.hostnames) {
      if (probe === "tls") tls.add(`${hostname}:443`);
      else {
        if (!/^\/[A-Za-z0-9._~/%-]*$/.test(probe.path))
          throw new Error(`Route probe path must be an absolute URL path, got "${probe.path}"`);
        http.add(`https://${hostname}${probe.path}`);
      }
    }
  }
  return { http: [...http].sort(), tls: [...tls].sort() };
}

export interface ContainerServiceArgs {
  /**
   * Image pinned to an exact version tag or a digest (never `latest` or a bare major).
   * @example "postgres:17.6"
   */
  image: string;
  /**
   * Build the image from a folder of the repository instead of pulling it: on the service's host,
   * by its Docker engine, tagged `image`; the container runs the build's digest, so a rebuild
   * updates it. @default pulled from its registry
   */
  build?: { context: string; dockerfile?: string };
  /** Host the service is placed on. The engine provider comes from `opts.providers` (or the parent's). */
  host: HostConnection;
  /** Command (arguments after the image's entrypoint). @default the image's */
  command?: string[];
  /** Plain environment variables (stored in clear in the state: no secrets here). @default {} */
  env?: Record<string, pulumi.Input<string>>;
  /** Environment variables holding secrets: wrapped with `pulumi.secret`. Keys must not repeat `env`'s. @default {} */
  secretEnv?: Record<string, pulumi.Input<string>>;
  /** Ports published on the host, only for non-HTTP protocols (25, 993, 1935…). @default [] */
  ports?: PublishedPort[];
  /** Data volumes (protected, retained on delete, their quotas declared by the service). @default [] */
  volumes?: ServiceVolume[];
  /** Bind mounts of host paths (fragment folders, docker.sock). @default [] */
  hostPaths?: HostPathMount[];
  /** Volumes of other services of the same host, mounted here (the owner backs them up). @default [] */
  borrowedVolumes?: BorrowedVolumeMount[];
  /** Docker networks to attach, by name. @default [] */
  networks?: pulumi.Input<string>[];
  /** Public HTTPS routes, as Traefik labels. @default [] */
  routes?: ServiceRoute[];
  /** Container health check. @default the image's */
  healthCheck?: {
    /** Test command, Docker form. @example ["CMD", "pg_isready"] */
    test: string[];
    /** Seconds between checks. @default 30 */
    intervalSeconds?: number;
    /** Failures before unhealthy. @default 3 */
    retries?: number;
  };
  /** Resource limits; the host's capacity is planned from them. */
  limits: {
    /** Memory limit in MB (2^20 bytes). */
    memoryMb: number;
    /** CPU limit in CPUs (fractions allowed). @example 0.5 */
    cpus: number;
  };
  /** Extra container labels. @default {} */
  labels?: Record<string, string>;
  /** Protect the data volumes against deletion. @default true */
  protect?: boolean;
  /** Escape hatch: rewrite the Docker container args after the defaults are applied. */
  transform?: { container?: (args: docker.ContainerArgs) => docker.ContainerArgs };
}

/**
 * Pure: a Traefik router rule matching any of the hostnames, e.g. ``Host(`a`) || Host(`b`)``.
 * Hostnames follow the contract's rule (infra/contract/names.ts), which also keeps a backquote
 * or a space out of the rule.
 */
export function hostRule(hostnames: string[]): string {
  if (hostnames.length === 0) throw new Error("A route needs at least one hostname");
  for (const h of hostnames) {
    const bad = hostnameProblem(h);
    if (bad) throw new Error(`Invalid hostname "${h}" in a route: ${bad}`);
  }
  return hostnames.map((h) => `Host(\`${h}\`)`).join(" || ");
}

function isIpv4Cidr(value: string): boolean {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
  return !!match && match.slice(1, 5).every((n) => Number(n) <= 255) && Number(match[5]) <= 32;
}

function sortedRecord(entries: [string, string][]): Record<string, string> {
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Pure: Traefik docker labels for the routes: router and service `<name>-<i>` each, entrypoint
 * websecure, TLS by the `le` resolver, explicit service port. Sorted by key; empty without routes.
 */
export function routeLabels(name: string, routes: ServiceRoute[]): Record<string, string> {
  if (routes.length === 0) return {};
  const entries: [string, string][] = [["traefik.enable", "true"]];
  routes.forEach((route, i) => {
    if (!Number.isInteger(route.port) || route.port < 1 || route.port > 65535) {
      throw new Error(`Route ${i} of "${name}" has an invalid port ${route.port}`);
    }
    const r = `${name}-${i}`;
    const paths = route.pathPrefixes ?? [];
    for (const p of paths) {
      if (!/^\/[A-Za-z0-9._~/-]*$/.test(p)) throw new Error(`Route ${i} of "${name}" has an invalid path prefix "${p}"`);
    }
    const hosts = hostRule(route.hostnames);
    let rule = paths.length ? `(${hosts}) && (${paths.map((p) => `PathPrefix(\`${p}\`)`).join(" || ")})` : hosts;
    const clientIps = route.clientIps ?? [];
    for (const c of clientIps) {
      if (!isIpv4Cidr(c)) throw new Error(`Route ${i} of "${name}" has an invalid client range "${c}" (want IPv4 CIDR like 10.0.0.0/8)`);
    }
    if (clientIps.length) rule = `(${rule}) && (${clientIps.map((c) => `ClientIP(\`${c}\`)`).join(" || ")})`;
    if (route.rateLimit) {
      const { average, periodSeconds, burst } = route.rateLimit;
      // Traefik's rateLimit middleware, keyed by the client address (https://doc.traefik.io/traefik/middlewares/http/ratelimit/).
      entries.push(
        [`traefik.http.middlewares.${r}-ratelimit.ratelimit.average`, String(average)],
        [`traefik.http.middlewares.${r}-ratelimit.ratelimit.period`, `${periodSeconds}s`],
        [`traefik.http.middlewares.${r}-ratelimit.ratelimit.burst`, String(burst)],
        [`traefik.http.routers.${r}.middlewares`, `${r}-ratelimit`],
      );
    }
    entries.push(
      [`traefik.http.routers.${r}.rule`, rule],
      [`traefik.http.routers.${r}.entrypoints`, "websecure"],
      [`traefik.http.routers.${r}.tls.certresolver`, "le"],
      [`traefik.http.routers.${r}.service`, r],
      [`traefik.http.services.${r}.loadbalancer.server.port`, String(route.port)],
    );
  });
  return sortedRecord(entries);
}

/**
 * Pure: labels of a data volume, read by the backups. Only what never changes with a tenant file:
 * the provider replaces a Docker volume when its labels change (infra/model/replacement-properties.ts),
 * so its quota is declared by the service ({@link VolumeQuota}), never on the volume.
 */
export function volumeLabels(volume: Pick<ServiceVolume, "backup">): Record<string, string> {
  // "dump" is saved too: the label says only whether the volume's data is in the backups.
  return { "alacarte.backup": volume.backup ? "true" : "false" };
}

/** A volume's quota as its service declares it (registered props and outputs), for the policy pack and the host. */
export interface VolumeQuota {
  /** The Docker volume's name. @example "amis-du-velo-wordpress-data" */
  name: string;
  /** Quota in GB (2^30 bytes). */
  quotaGb: number;
  /** How the backups save it ({@link ServiceVolume.backup}). */
  backup: boolean | "dump";
  /** The service is stopped around the snapshot of its files. */
  stopForBackup?: true;
}

/** Pure: the quotas a service declares for its volumes (Docker volume `<service>-<role>`). */
export function volumeQuotas(name: string, volumes: readonly ServiceVolume[]): VolumeQuota[] {
  return volumes.map((v) => {
    if (!Number.isFinite(v.sizeGb) || v.sizeGb <= 0) throw new Error(`Volume size must be a positive number of GB, got ${v.sizeGb}`);
    return {
      name: `${name}-${v.name}`,
      quotaGb: v.sizeGb,
      backup: v.backup ?? false,
      ...(v.stopForBackup ? { stopForBackup: true as const } : {}),
    };
  });
}

/** Pure: every label of the container (routes, `alacarte.service`, extras), sorted; extras may not override. */
export function containerLabels(name: string, routes: ServiceRoute[], extra: Record<string, string> = {}): Record<string, string> {
  const own = { ...routeLabels(name, routes), "alacarte.service": name };
  for (const key of Object.keys(extra)) {
    if (key in own) throw new Error(`Label "${key}" of "${name}" is set by ContainerService itself`);
  }
  return sortedRecord(Object.entries({ ...own, ...extra }));
}

/** Pure: checks names, sizes and limits before anything is created. */
export function validateContainerService(name: string, args: ContainerServiceArgs): void {
  assertPinnedImage(args.image);
  if (!/^[a-z0-9][a-z0-9_.-]*$/.test(name)) throw new Error(`ContainerService name "${name}" must match [a-z0-9][a-z0-9_.-]*`);
  if (!(args.limits.memoryMb > 0) || !Number.isInteger(args.limits.memoryMb)) {
    throw new Error(`ContainerService "${name}": limits.memoryMb must be a positive integer (MB), got ${args.limits.memoryMb}`);
  }
  if (!(args.limits.cpus > 0)) throw new Error(`ContainerService "${name}": limits.cpus must be positive, got ${args.limits.cpus}`);
  const volumeNames = new Set<string>();
  for (const v of args.volumes ?? []) {
    if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(v.name)) throw new Error(`ContainerService "${name}": volume name "${v.name}" must be kebab-case`);
    if (v.name === "image" || v.name === "container") throw new Error(`ContainerService "${name}": volume name "${v.name}" is reserved`);
    if (volumeNames.has(v.name)) throw new Error(`ContainerService "${name}": volume "${v.name}" is listed twice`);
    volumeNames.add(v.name);
  }
  volumeQuotas(name, args.volumes ?? []);
  for (const key of Object.keys(args.secretEnv ?? {})) {
    if (key in (args.env ?? {})) throw new Error(`ContainerService "${name}": env var "${key}" is in both env and secretEnv`);
  }
  for (const p of args.ports ?? []) {
    for (const n of [p.internal, p.external]) {
      if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`ContainerService "${name}": invalid port ${n}`);
    }
  }
}

/**
 * What a service needs (image, volumes, networks, routes with TLS, limits, health check), run
 * today as one Docker container on its host. The container is named `name`, so other containers
 * of a shared network reach it as `name`.
 */
export class ContainerService extends pulumi.ComponentResource {
  /** Name of the container, resolvable on its networks. */
  readonly containerName: pulumi.Output<string>;
  readonly image: docker.RemoteImage | docker.Image;
  readonly container: docker.Container;
  /** Data volumes by role (`args.volumes[].name`). */
  readonly volumes: Record<string, docker.Volume>;

  constructor(name: string, args: ContainerServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    // The names (never the values) of the plain and secret env vars, for the policy pack's
    // no-plaintext-secrets check: a policy sees Pulumi secrets unwrapped, so it reads the split here.
    // Its volumes' quotas too: the policy pack and host load read them here, not on the volumes;
    // its host and container name, which the backups list it under, and what the monitoring probes.
    validateContainerService(name, args);
    const volumes = volumeQuotas(name, args.volumes ?? []);
    const probes = routeProbes(args.routes ?? []);
    super(
      CONTAINER_SERVICE_TYPE,
      name,
      {
        envKeys: Object.keys(args.env ?? {}).sort(),
        secretEnvKeys: Object.keys(args.secretEnv ?? {}).sort(),
        volumes,
        host: args.host.name,
        container: name,
        probes,
      },
      opts,
    );
    const protect = args.protect ?? true;

    let image: pulumi.Input<string>;
    if (args.build) {
      const built = new docker.Image(
        `${name}-image`,
        {
          imageName: args.image,
          build: {
            context: args.build.context,
            ...(args.build.dockerfile ? { dockerfile: args.build.dockerfile } : {}),
            platform: "linux/amd64",
          },
          // Never pushed: it stays on the host that built it (@pulumi/docker Image docs, "repoDigest" for local images).
          skipPush: true,
        },
        { parent: this },
      );
      this.image = built;
      image = built.repoDigest;
    } else {
      const pulled = new docker.RemoteImage(`${name}-image`, { name: args.image, keepLocally: true }, { parent: this });
      this.image = pulled;
      image = pulled.name;
    }

    this.volumes = {};
    for (const v of args.volumes ?? []) {
      this.volumes[v.name] = new docker.Volume(
        `${name}-${v.name}`,
        {
          name: `${name}-${v.name}`,
          labels: toLabelList({ ...volumeLabels(v), "alacarte.service": name }),
        },
        { parent: this, protect, retainOnDelete: true },
      );
    }

    const envs = buildEnvs(args.env ?? {}, args.secretEnv ?? {});
    const health = args.healthCheck;
    let containerArgs: docker.ContainerArgs = {
      name,
      image,
      command: args.command,
      envs,
      restart: "unless-stopped",
      memory: args.limits.memoryMb,
      cpus: String(args.limits.cpus),
      labels: toLabelList(containerLabels(name, args.routes ?? [], args.labels)),
      ports: (args.ports ?? []).map((p) => ({ internal: p.internal, external: p.external, protocol: p.protocol ?? "tcp" })),
      volumes: [
        ...(args.volumes ?? []).map((v) => ({
          volumeName: this.volumes[v.name]!.name,
          containerPath: v.containerPath,
          readOnly: v.readOnly ?? false,
        })),
        ...(args.hostPaths ?? []).map((h) => ({ hostPath: h.hostPath, containerPath: h.containerPath, readOnly: h.readOnly ?? false })),
        ...(args.borrowedVolumes ?? []).map((b) => ({
          volumeName: b.volumeName,
          containerPath: b.containerPath,
          readOnly: b.readOnly ?? true,
        })),
      ],
      networksAdvanced: (args.networks ?? []).map((n) => ({ name: n })),
      healthcheck: health ? { tests: health.test, interval: `${health.intervalSeconds ?? 30}s`, retries: health.retries ?? 3 } : undefined,
    };
    if (args.transform?.container) containerArgs = args.transform.container(containerArgs);

    this.container = new docker.Container(`${name}-container`, containerArgs, { parent: this });
    this.containerName = this.container.name;
    this.registerOutputs({ containerName: this.containerName, volumes, container: name, probes });
  }

  /** URL of a port of the container on its networks. @example svc.internalUrl(3902) → "http://garage:3902" */
  internalUrl(port: number, scheme = "http"): pulumi.Output<string> {
    return pulumi.interpolate`${scheme}://${this.containerName}:${port}`;
  }
}

function toLabelList(labels: Record<string, string>): docker.types.input.ContainerLabel[] {
  return Object.entries(labels).map(([label, value]) => ({ label, value }));
}

/** `KEY=VALUE` sorted by key; the secret ones are secret outputs, which makes the whole list secret. */
function buildEnvs(env: Record<string, pulumi.Input<string>>, secretEnv: Record<string, pulumi.Input<string>>): pulumi.Input<string>[] {
  const all: [string, pulumi.Input<string>][] = [
    ...Object.entries(env).map(([k, v]): [string, pulumi.Input<string>] => [k, pulumi.interpolate`${k}=${v}`]),
    ...Object.entries(secretEnv).map(([k, v]): [string, pulumi.Input<string>] => [k, pulumi.secret(pulumi.interpolate`${k}=${v}`)]),
  ];
  return all.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
}
