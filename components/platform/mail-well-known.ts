import * as pulumi from "@pulumi/pulumi";
import { ContainerService } from "../blocks/container-service";
import { HostFile } from "../blocks/host-file";
import { shellQuote } from "../blocks/shell";
import { MTA_STS_MODE, type MtaStsMode, WELL_KNOWN_PORT, wellKnownHostnames, wellKnownNginxConf } from "./mail-well-known-config";
import type { HostConnection } from "./outputs";

export * from "./mail-well-known-config";

/** Type token of {@link MailWellKnown}; ends up in URNs, never rename it without an alias. */
export const MAIL_WELL_KNOWN_TYPE = "alacarte:platform:MailWellKnown";

/**
 * The official nginx image, pinned: 1.30.5 is the newest stable seen (docker-library/official-images#22274,
 * "stable goes to 1.30.5"; 1.30.0 in #21240, whose tag lines read `1.30.0, stable, 1.30, …`).
 */
export const NGINX_IMAGE = "nginx:1.30.5";

/** Folder of the configuration on the proxy host. */
export const DEFAULT_WELL_KNOWN_DIR = "/srv/alacarte/mail-well-known";

/** Where that folder is mounted in the container. */
export const WELL_KNOWN_CONTAINER_DIR = "/etc/alacarte/well-known";

export interface MailWellKnownArgs {
  /** The proxy's host: Traefik routes to the service by Docker labels, which it reads there only (docs/services/traefik.md). */
  host: HostConnection;
  /** Docker network shared with Traefik. */
  network: pulumi.Input<string>;
  /** The mail server's name: the MX of the policy, the server clients are given. @example "mail.example.org" */
  mailHostname: string;
  /** The platform's shared mail domains: each gets `mta-sts.`, `autoconfig.` and `autodiscover.` routed here. @default [] */
  sharedDomains?: string[];
  /**
   * Route the mail server's own name here too, so that Traefik obtains and renews its certificate,
   * which the mail server on the proxy's host reuses (docs/services/mail.md "Certificate"). Off when
   * that name resolves to another host: Traefik's challenges would only fail. @default true
   */
  routeMailHostname?: boolean;
  /** MTA-STS mode. @default "enforce" */
  mode?: MtaStsMode;
  /** Folder of the configuration on the host. @default "/srv/alacarte/mail-well-known" */
  configDir?: string;
}

/** Pure: the hostnames the platform routes to the service by labels: the mail server's own name (unless undefined), and the shared domains' three names. */
export function platformWellKnownHostnames(mailHostname: string | undefined, sharedDomains: readonly string[]): string[] {
  return [...(mailHostname ? [mailHostname] : []), ...[...new Set(sharedDomains)].sort().flatMap(wellKnownHostnames)];
}

/**
 * The mail's well-known web service on the proxy host: nginx answers the MTA-STS policy,
 * Thunderbird's autoconfig file and Outlook's autodiscover, the same for every Host routed to it
 * (docs/services/mail.md "MTA-STS and client autoconfiguration"). The platform routes its own
 * names here by labels; the mail server's name among them, so that Traefik holds a certificate
 * for it. Each tenant's custom domain adds its own route (MailDomain).
 */
export class MailWellKnown extends pulumi.ComponentResource {
  /** URL of the service on the proxy network, for tenant routes. @example "http://platform-mail-well-known-nginx:8080" */
  readonly upstream: pulumi.Output<string>;
  /** Hostnames routed here by the platform. */
  readonly hostnames: string[];

  constructor(name: string, args: MailWellKnownArgs, opts?: pulumi.ComponentResourceOptions) {
    super(MAIL_WELL_KNOWN_TYPE, name, {}, opts);
    const configDir = (args.configDir ?? DEFAULT_WELL_KNOWN_DIR).replace(/\/+$/, "");
    const containerName = `${name}-nginx`;
    const content = wellKnownNginxConf({ mailHostname: args.mailHostname, mode: args.mode ?? MTA_STS_MODE });
    const hostnames = platformWellKnownHostnames(
      args.routeMailHostname === false ? undefined : args.mailHostname,
      args.sharedDomains ?? [],
    );

    const config = new HostFile(
      `${name}-config`,
      {
        host: args.host,
        path: `${configDir}/nginx.conf`,
        content,
        mode: "0644",
        // SIGHUP makes nginx re-read its configuration without dropping a request; the first write comes before the container.
        afterWrite: `docker kill -s HUP ${shellQuote(containerName)} >/dev/null 2>&1 || true`,
      },
      { parent: this },
    );

    const nginx = new ContainerService(
      containerName,
      {
        image: NGINX_IMAGE,
        host: args.host,
        command: ["nginx", "-c", `${WELL_KNOWN_CONTAINER_DIR}/nginx.conf`],
        // The folder, not the file: the file is replaced by a rename, which a file's bind mount would not see.
        hostPaths: [{ hostPath: configDir, containerPath: WELL_KNOWN_CONTAINER_DIR, readOnly: true }],
        networks: [args.network],
        // Each name serves its own documents only (MTA-STS, autoconfig, autodiscover): its certificate is watched.
        routes: [{ hostnames, port: WELL_KNOWN_PORT, probe: "tls" }],
        limits: { memoryMb: 64, cpus: 0.25 },
      },
      { parent: this, dependsOn: [config] },
    );

    this.upstream = nginx.internalUrl(WELL_KNOWN_PORT);
    this.hostnames = hostnames;
    this.registerOutputs({ upstream: this.upstream, hostnames: this.hostnames });
  }
}
