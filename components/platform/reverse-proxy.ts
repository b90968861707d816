import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as command from "@pulumi/command";
import { ContainerService } from "../blocks/container-service";
import { HostFile, hostConnection } from "../blocks/host-file";
import { promoteAllRoutesScript } from "../blocks/proxy-route";
import { shellQuote } from "../blocks/shell";
import type { HostConnection } from "./outputs";

export const REVERSE_PROXY_TYPE = "alacarte:platform:ReverseProxy";

/**
 * Traefik, pinned. v3.6.1+ negotiates the Docker API version (Docker Engine 29 refuses the 1.24 that
 * older releases asked for, docs/services/traefik.md "Image"); v3.6.25 is the newest v3.6 seen (docker-library/official-images#21961).
 */
export const TRAEFIK_IMAGE = "traefik:v3.6.25";

/** Folder of Traefik's file provider on the proxy host (mounted at the same path in the container). */
export const DEFAULT_ROUTES_DIR = "/srv/alacarte/routes";

/** Docker network shared by the proxy and every routed container. */
export const DEFAULT_PROXY_NETWORK = "proxy";

/** Where the ACME account and certificates live inside the container (a backed-up volume). */
export const ACME_DIR = "/letsencrypt";

/** Traefik's ACME store in ACME_DIR, and the resolver every route names (the store's top-level key). */
export const ACME_STORE = { file: "acme.json", resolver: "le" } as const;

export interface TraefikStaticConfig {
  /** Email of the Let's Encrypt account (expiry notices). */
  acmeEmail: string;
  /** Folder of the file provider, as seen by the container. @default "/srv/alacarte/routes" */
  routesDir?: string;
  /** Docker network Traefik reaches containers on. @default "proxy" */
  network?: string;
}

/**
 * Pure: Traefik's static configuration as command-line arguments, sorted (deterministic).
 * HTTP on :80 only redirects to HTTPS (the ACME HTTP-01 challenge is still answered there);
 * the `le` resolver is the one every route (labels and file fragments) names.
 * @throws Error when the email or the routes folder is not usable.
 */
export function traefikArgs(config: TraefikStaticConfig): string[] {
  const routesDir = config.routesDir ?? DEFAULT_ROUTES_DIR;
  const network = config.network ?? DEFAULT_PROXY_NETWORK;
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(config.acmeEmail)) {
    throw new Error(`ReverseProxy acmeEmail must be an email address, got "${config.acmeEmail}"`);
  }
  if (!routesDir.startsWith("/") || /\s/.test(routesDir)) {
    throw new Error(`ReverseProxy routesDir must be an absolute path without spaces, got "${routesDir}"`);
  }
  return [
    `--certificatesresolvers.${ACME_STORE.resolver}.acme.email=${config.acmeEmail}`,
    `--certificatesresolvers.${ACME_STORE.resolver}.acme.httpchallenge.entrypoint=web`,
    `--certificatesresolvers.${ACME_STORE.resolver}.acme.storage=${ACME_DIR}/${ACME_STORE.file}`,
    "--entrypoints.web.address=:80",
    "--entrypoints.web.http.redirections.entrypoint.scheme=https",
    "--entrypoints.web.http.redirections.entrypoint.to=websecure",
    "--entrypoints.websecure.address=:443",
    "--global.checknewversion=false",
    "--global.sendanonymoususage=false",
    "--ping=true",
    "--providers.docker.exposedbydefault=false",
    `--providers.docker.network=${network}`,
    "--providers.docker=true",
    `--providers.file.directory=${routesDir}`,
    "--providers.file.watch=true",
  ].sort();
}

/** Where the route promoter script lives on the proxy host. */
export const DEFAULT_PROMOTER_PATH = "/srv/alacarte/bin/promote-routes.sh";

/** Marker ending the deploy user's crontab line of the route promoter. */
export const PROMOTER_CRON_MARKER = "# alacarte-promote-routes";

/**
 * Pure: the scripts that install and remove the deploy user's crontab line running the route
 * promoter every minute (a pending route goes live within a minute of its DNS pointing at us).
 * No root needed; `flock -n` keeps runs from overlapping. Other crontab lines are kept.
 */
export function promoterCronCommands(scriptPath: string, routesDir: string): { create: string; delete: string } {
  const keepOthers = `crontab -l 2>/dev/null | grep -vF ${shellQuote(PROMOTER_CRON_MARKER)} || true`;
  const line = `* * * * * flock -n ${routesDir.replace(/\/+$/, "")}/.promote.lock ${scriptPath} >/dev/null 2>&1 ${PROMOTER_CRON_MARKER}`;
  return {
    create: ["set -eu", `{ ${keepOthers}; echo ${shellQuote(line)}; } | crontab -`].join("\n"),
    delete: ["set -eu", `{ ${keepOthers}; } | crontab -`].join("\n"),
  };
}

export interface ReverseProxyArgs {
  /** Host that receives ports 80 and 443 (the platform's public IP points at it). */
  host: HostConnection;
  /** Email of the Let's Encrypt account. */
  acmeEmail: string;
  /**
   * Folder of Traefik's file provider on the host, bind-mounted read-only at the same path;
   * tenant stacks drop one route fragment per offer in it. @default "/srv/alacarte/routes"
   */
  routesDir?: string;
  /** Name of the Docker network shared with routed containers. @default "proxy" */
  networkName?: string;
  /**
   * Public IPv4 the platform's DNS records point at. When set, a route promoter runs every minute on
   * the host: a pending route fragment goes live once its hostnames resolve here (ProxyRoute `requireDns`).
   */
  publicIp?: string;
  /** Path of the route promoter script on the host. @default "/srv/alacarte/bin/promote-routes.sh" */
  promoterPath?: string;
  /** Size of the volume holding acme.json, in GB (2^30 bytes). @default 1 */
  acmeGb?: number;
  /** Protect the certificates volume against deletion. @default true */
  protect?: boolean;
}

/**
 * Traefik in front of every HTTP service: the shared `proxy` network, ports 80/443,
 * Let's Encrypt certificates (resolver `le`), Docker labels and the file-provider folder as route sources.
 */
export class ReverseProxy extends pulumi.ComponentResource {
  /** Name of the Docker network routed containers must join. */
  readonly networkName: pulumi.Output<string>;
  /** Folder of the file provider on the proxy host. */
  readonly routesDir: string;
  /** Name of the Traefik container. */
  readonly containerName: pulumi.Output<string>;
  /** The Docker volume holding `acme.json` (every certificate Traefik obtained), for the mail server on this host. */
  readonly acmeVolumeName: pulumi.Output<string>;

  constructor(name: string, args: ReverseProxyArgs, opts?: pulumi.ComponentResourceOptions) {
    super(REVERSE_PROXY_TYPE, name, {}, opts);
    const routesDir = args.routesDir ?? DEFAULT_ROUTES_DIR;
    const networkName = args.networkName ?? DEFAULT_PROXY_NETWORK;
    const staticArgs = traefikArgs({ acmeEmail: args.acmeEmail, routesDir, network: networkName });

    const network = new docker.Network(`${name}-network`, { name: networkName, driver: "bridge", attachable: true }, { parent: this });

    const traefik = new ContainerService(
      `${name}-traefik`,
      {
        image: TRAEFIK_IMAGE,
        host: args.host,
        command: staticArgs,
        ports: [
          { internal: 80, external: 80, protocol: "tcp" },
          { internal: 443, external: 443, protocol: "tcp" },
        ],
        volumes: [{ name: "letsencrypt", containerPath: ACME_DIR, sizeGb: args.acmeGb ?? 1, backup: true }],
        hostPaths: [
          { hostPath: routesDir, containerPath: routesDir, readOnly: true },
          { hostPath: "/var/run/docker.sock", containerPath: "/var/run/docker.sock", readOnly: true },
        ],
        networks: [network.name],
        healthCheck: { test: ["CMD", "traefik", "healthcheck", "--ping"], intervalSeconds: 30, retries: 3 },
        limits: { memoryMb: 256, cpus: 1 },
        protect: args.protect ?? true,
      },
      { parent: this },
    );

    if (args.publicIp !== undefined) {
      const promoterPath = args.promoterPath ?? DEFAULT_PROMOTER_PATH;
      const script = new HostFile(
        `${name}-promoter-script`,
        {
          host: args.host,
          path: promoterPath,
          content: `#!/bin/sh\n${promoteAllRoutesScript({ routesDir, publicIp: args.publicIp })}\n`,
          mode: "0750",
        },
        { parent: this },
      );
      const cron = promoterCronCommands(promoterPath, routesDir);
      new command.remote.Command(
        `${name}-promoter-cron`,
        { connection: hostConnection(args.host), create: cron.create, delete: cron.delete, addPreviousOutputInEnv: false },
        { parent: this, dependsOn: [script] },
      );
    }

    this.networkName = network.name;
    this.routesDir = routesDir;
    this.containerName = pulumi.output(traefik.containerName);
    this.acmeVolumeName = traefik.volumes.letsencrypt!.name;
    this.registerOutputs({ networkName: this.networkName, routesDir: this.routesDir, containerName: this.containerName });
  }
}
