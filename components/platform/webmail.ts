import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { ContainerService } from "../blocks/container-service";
import { HostFile } from "../blocks/host-file";
import type { HostConnection } from "./outputs";
import {
  WEBMAIL_CONFIG_FILE,
  WEBMAIL_DES_KEY_LENGTH,
  WEBMAIL_PORT,
  WEBMAIL_SECRET_ENV,
  webmailConfigPhp,
  webmailHealthCheck,
} from "./webmail-config";

export * from "./webmail-config";

/** Type token of {@link Webmail}; ends up in URNs, never rename it without an alias. */
export const WEBMAIL_TYPE = "alacarte:platform:Webmail";

/**
 * The official Roundcube image, Apache variant, pinned. Tags are `<version>-apache`
 * (roundcube/roundcubemail-docker `build-image.sh`: `"${version}-${variant}${tag_suffix}"`), one
 * per Roundcube release: 1.6.18 is the newest 1.6 tag of roundcube/roundcubemail (2026-08-09; 1.6.17
 * fixed CVE-2026-54432 and CVE-2026-54433, a zero-click XSS). The image tag itself was seen in public
 * compose files and scripts; the official repository's newest build matrix read names 1.6.16
 * (roundcube/roundcubemail-docker c3b867c, "Update versions to 1.7.1 and 1.6.16"): unchecked
 * against Docker Hub, docs/services/mail.md "Webmail".
 */
export const ROUNDCUBE_IMAGE = "roundcube/roundcubemail:1.6.18-apache";

/** Folder of the configuration on the proxy host. */
export const DEFAULT_WEBMAIL_DIR = "/srv/alacarte/webmail";

/** Where the image looks for extra configuration files (its entrypoint includes every `*.php` there). */
export const ROUNDCUBE_CONFIG_DIR = "/var/roundcube/config";

/** Where the image keeps its SQLite database (the entrypoint's default `ROUNDCUBEMAIL_DB_DIR`). */
export const ROUNDCUBE_DB_DIR = "/var/roundcube/db";

/** Size of Roundcube's own database (preferences, contacts, identities, caches): small. */
export const WEBMAIL_DB_GB = 1;

export interface WebmailArgs {
  /** The proxy's host: Traefik routes to the service by Docker labels, which it reads there only (docs/services/traefik.md). */
  host: HostConnection;
  /** Docker network shared with Traefik. */
  network: pulumi.Input<string>;
  /** Public name of the webmail, routed with TLS. @example "webmail.example.org" */
  hostname: string;
  /** Public name of the mail server (IMAP 993, submission 465). @example "mail.example.org" */
  mailHostname: string;
  /** The realm's issuer. @example "https://sso.example.org/realms/alacarte" */
  issuerUrl: string;
  /** The mail client (members-mail): its id, and its secret (secret). */
  client: { clientId: pulumi.Input<string>; clientSecret: pulumi.Input<string> };
  /** Folder of the configuration on the host. @default "/srv/alacarte/webmail" */
  configDir?: string;
  /** Protect the database volume against deletion. @default true */
  protect?: boolean;
}

/**
 * Roundcube on the proxy host, signing in through Keycloak (docs/services/mail.md "Webmail"): its
 * settings are one generated PHP file, written to the host and mounted read-only; its secrets
 * reach it as secret environment variables only; its own database is SQLite on a backed-up volume.
 */
export class Webmail extends pulumi.ComponentResource {
  /** Public URL. @example "https://webmail.example.org" */
  readonly url: string;
  /** URL of the service on the proxy network. @example "http://platform-webmail-roundcube:80" */
  readonly upstream: pulumi.Output<string>;

  constructor(name: string, args: WebmailArgs, opts?: pulumi.ComponentResourceOptions) {
    super(WEBMAIL_TYPE, name, {}, opts);
    const protect = args.protect ?? true;
    const configDir = (args.configDir ?? DEFAULT_WEBMAIL_DIR).replace(/\/+$/, "");

    // Roundcube encrypts the session's copy of the token with it: a new key only ends the open sessions.
    const desKey = new random.RandomPassword(`${name}-des-key`, { length: WEBMAIL_DES_KEY_LENGTH, special: false }, { parent: this });

    const content = pulumi
      .output(args.client.clientId)
      .apply((clientId) =>
        webmailConfigPhp({ webmailHostname: args.hostname, mailHostname: args.mailHostname, issuerUrl: args.issuerUrl, clientId }),
      );
    // Read at each request (PHP includes it), so a rewrite needs no restart; no secret in it.
    const config = new HostFile(
      `${name}-config`,
      { host: args.host, path: `${configDir}/${WEBMAIL_CONFIG_FILE}`, content, mode: "0644" },
      { parent: this },
    );

    const roundcube = new ContainerService(
      `${name}-roundcube`,
      {
        image: ROUNDCUBE_IMAGE,
        host: args.host,
        // The image's entrypoint (roundcubemail-docker apache/docker-entrypoint.sh) writes its own settings
        // from these; the file of configDir, included after them, decides the servers and sign-in.
        env: {
          ROUNDCUBEMAIL_DB_TYPE: "sqlite",
          ROUNDCUBEMAIL_SKIN: "elastic",
          ROUNDCUBEMAIL_PLUGINS: "archive,zipdownload",
        },
        secretEnv: {
          [WEBMAIL_SECRET_ENV.oauthClientSecret]: args.client.clientSecret,
          [WEBMAIL_SECRET_ENV.desKey]: desKey.result,
        },
        // A SQLite file: the webmail stops for the seconds its snapshot takes (https://www.sqlite.org/howtocorrupt.html §1.2).
        volumes: [{ name: "db", containerPath: ROUNDCUBE_DB_DIR, sizeGb: WEBMAIL_DB_GB, backup: true, stopForBackup: true }],
        // The folder, not the file: the file is replaced by a rename, which a file's bind mount would not see.
        hostPaths: [{ hostPath: configDir, containerPath: ROUNDCUBE_CONFIG_DIR, readOnly: true }],
        networks: [args.network],
        routes: [{ hostnames: [args.hostname], port: WEBMAIL_PORT }],
        healthCheck: { test: webmailHealthCheck(), intervalSeconds: 30, retries: 3 },
        limits: { memoryMb: 512, cpus: 0.5 },
        protect,
      },
      { parent: this, dependsOn: [config] },
    );

    this.url = `https://${args.hostname}`;
    this.upstream = roundcube.internalUrl(WEBMAIL_PORT);
    this.registerOutputs({ url: this.url, upstream: this.upstream });
  }
}
