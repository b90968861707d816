import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { ContainerService } from "../blocks/container-service";
import { shellQuote } from "../blocks/shell";
import type { HostConnection } from "./outputs";

export const MAIL_SERVER_TYPE = "alacarte:platform:MailServer";

/** docker-mailserver, pinned to the newest 15.x seen (docker-mailserver-helm#192). */
export const MAILSERVER_IMAGE = "ghcr.io/docker-mailserver/docker-mailserver:15.1.0";

/** Where tenant stacks drop their map fragments on the mail host. */
export const DEFAULT_MAIL_FRAGMENTS_DIR = "/srv/alacarte/mail/fragments";

/** docker-mailserver's config folder on the mail host (bind-mounted at /tmp/docker-mailserver). */
export const DEFAULT_MAIL_CONFIG_DIR = "/srv/alacarte/mail/config";

/** Folder holding `fullchain.pem` and `privkey.pem` for the mail hostname, on the mail host. */
export const DEFAULT_MAIL_TLS_DIR = "/srv/alacarte/mail/tls";

/**
 * Fragment kinds and the docker-mailserver file each is assembled into, in assembly order.
 * A fragment is `<fragmentsDir>/<slug>--<domain>.<kind>`.
 */
export const MAIL_FRAGMENT_KINDS = [
  { kind: "virtual", file: "postfix-virtual.cf" },
  { kind: "accounts", file: "postfix-accounts.cf" },
  { kind: "quotas", file: "dovecot-quotas.cf" },
] as const;

/** The mail ports docker-mailserver publishes: SMTP, SMTPS, submission, IMAP, IMAPS. */
export const MAIL_PORTS = [25, 465, 587, 143, 993] as const;

/**
 * Pure: the shell script that rebuilds docker-mailserver's maps from every tenant fragment, used as
 * a fragment HostFile's `afterWrite`. For each kind it concatenates `<fragmentsDir>/*.<kind>` in
 * byte order (LC_ALL=C, a missing final newline is added) into a temporary file and renames it over
 * the target, under an flock so concurrent tenant stacks cannot drop each other's lines.
 * docker-mailserver's change detector sees the new files and reloads Postfix and Dovecot
 * (a few seconds later): no `docker exec` is needed, so the script does not depend on the container name.
 * @param configDir docker-mailserver's config folder @default the `config` sibling of fragmentsDir
 */
export function assembleCommand(fragmentsDir: string, configDir: string = path.posix.join(path.posix.dirname(fragmentsDir), "config")): string {
  for (const dir of [fragmentsDir, configDir]) {
    if (!dir.startsWith("/")) throw new Error(`assembleCommand needs absolute folders, got "${dir}"`);
  }
  const frag = shellQuote(path.posix.normalize(fragmentsDir));
  const conf = shellQuote(path.posix.normalize(configDir));
  const lines = [
    "set -eu",
    "export LC_ALL=C",
    `mkdir -p ${frag} ${conf}`,
    `exec 9>${conf}/.assemble.lock`,
    "flock 9",
    'assemble() { out="$2"; tmp="$2.alacarte-tmp"; : > "$tmp"; for f in "$1"/*."$3"; do if [ -f "$f" ]; then awk 1 "$f" >> "$tmp"; fi; done; chmod 0640 "$tmp"; mv -f "$tmp" "$out"; }',
    ...MAIL_FRAGMENT_KINDS.map(({ kind, file }) => `assemble ${frag} ${conf}/${file} ${kind}`),
  ];
  return lines.join("\n");
}

/** Pure: the OAuth2 introspection URL docker-mailserver gives Dovecot (the realm's userinfo endpoint). */
export function oauth2IntrospectionUrl(keycloakUrl: string, realm: string): string {
  return `${keycloakUrl.replace(/\/+$/, "")}/realms/${realm}/protocol/openid-connect/userinfo`;
}

/** Pure: the environment of docker-mailserver (no secret in it), sorted by key. */
export function mailServerEnv(input: { hostname: string; keycloakUrl: string; realm: string }): Record<string, string> {
  const env: Record<string, string> = {
    ACCOUNT_PROVISIONER: "FILE",
    ENABLE_AMAVIS: "0",
    ENABLE_CLAMAV: "0",
    ENABLE_FAIL2BAN: "0",
    ENABLE_OAUTH2: "1",
    ENABLE_QUOTAS: "1",
    ENABLE_RSPAMD: "1",
    ENABLE_OPENDKIM: "0",
    ENABLE_OPENDMARC: "0",
    ENABLE_POLICYD_SPF: "0",
    OAUTH2_INTROSPECTION_URL: oauth2IntrospectionUrl(input.keycloakUrl, input.realm),
    OVERRIDE_HOSTNAME: input.hostname,
    PERMIT_DOCKER: "none",
    SPOOF_PROTECTION: "1",
    SSL_CERT_PATH: "/tmp/dms-tls/fullchain.pem",
    SSL_KEY_PATH: "/tmp/dms-tls/privkey.pem",
    SSL_TYPE: "manual",
  };
  return Object.fromEntries(Object.entries(env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export interface MailServerArgs {
  /** Host the mail server runs on (its ports 25/465/587/143/993 are published there). */
  host: HostConnection;
  /** Public name of the mail server (MX target, TLS certificate name). @example "mail.example.org" */
  hostname: string;
  /** Docker network shared with Keycloak (OAuth2 introspection) and the webmail. */
  network: pulumi.Input<string>;
  /** Keycloak's public URL. @example "https://sso.example.org" */
  keycloakUrl: string;
  /** Keycloak realm. */
  realm: string;
  /** Mailbox volume size in GB (2^30 bytes). */
  dataGb: number;
  /** Fragments folder on the host. @default "/srv/alacarte/mail/fragments" */
  fragmentsDir?: string;
  /** docker-mailserver's config folder on the host. @default "/srv/alacarte/mail/config" */
  configDir?: string;
  /** TLS certificate folder on the host (`fullchain.pem`, `privkey.pem`). @default "/srv/alacarte/mail/tls" */
  tlsDir?: string;
  /** Protect the mail volumes against deletion. @default true */
  protect?: boolean;
}

/**
 * docker-mailserver: mailboxes from file maps assembled from per-tenant fragments, quotas on,
 * OAuth2 (XOAUTH2/OAUTHBEARER) against Keycloak for webmail.
 */
export class MailServer extends pulumi.ComponentResource {
  /** Public name of the mail server (MX target). */
  readonly hostname: string;
  /** Folder tenant stacks write fragments into. */
  readonly fragmentsDir: string;
  /** docker-mailserver's config folder on the host. */
  readonly configDir: string;
  /** The script a fragment's afterWrite runs. */
  readonly assembleCommand: string;
  /** Container name on the shared network. */
  readonly containerName: pulumi.Output<string>;

  constructor(name: string, args: MailServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super(MAIL_SERVER_TYPE, name, {}, opts);
    const fragmentsDir = args.fragmentsDir ?? DEFAULT_MAIL_FRAGMENTS_DIR;
    const configDir = args.configDir ?? DEFAULT_MAIL_CONFIG_DIR;
    const tlsDir = args.tlsDir ?? DEFAULT_MAIL_TLS_DIR;

    const mail = new ContainerService(
      `${name}-mailserver`,
      {
        image: MAILSERVER_IMAGE,
        host: args.host,
        env: mailServerEnv({ hostname: args.hostname, keycloakUrl: args.keycloakUrl, realm: args.realm }),
        ports: MAIL_PORTS.map((port) => ({ internal: port, external: port, protocol: "tcp" as const })),
        volumes: [
          { name: "data", containerPath: "/var/mail", sizeGb: args.dataGb, backup: true },
          { name: "state", containerPath: "/var/mail-state", sizeGb: 2, backup: true },
          { name: "logs", containerPath: "/var/log/mail", sizeGb: 1, backup: false },
        ],
        hostPaths: [
          { hostPath: configDir, containerPath: "/tmp/docker-mailserver" },
          { hostPath: tlsDir, containerPath: "/tmp/dms-tls", readOnly: true },
        ],
        networks: [args.network],
        limits: { memoryMb: 2048, cpus: 1 },
        protect: args.protect ?? true,
      },
      { parent: this },
    );

    this.hostname = args.hostname;
    this.fragmentsDir = fragmentsDir;
    this.configDir = configDir;
    this.assembleCommand = assembleCommand(fragmentsDir, configDir);
    this.containerName = pulumi.output(mail.containerName);
    this.registerOutputs({
      hostname: this.hostname,
      fragmentsDir: this.fragmentsDir,
      configDir: this.configDir,
      containerName: this.containerName,
    });
  }
}
