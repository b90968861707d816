import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { ContainerService } from "../blocks/container-service";
import { shellQuote } from "../blocks/shell";
import { MAIL_FRAGMENT_KINDS, MAIL_FRAGMENT_SUFFIX, MAIL_SECTION_MARKER } from "./mail-fragments";
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

export { MAIL_FRAGMENT_KINDS, MAIL_FRAGMENT_SUFFIX, MAIL_SECTION_MARKER, type MailFragmentKind } from "./mail-fragments";

/** The mail ports docker-mailserver publishes: SMTP, SMTPS, submission, IMAP, IMAPS. */
export const MAIL_PORTS = [25, 465, 587, 143, 993] as const;

/**
 * The awk program of {@link assembleCommand}. It reads the fragment paths on stdin (in byte order),
 * then splits each `*.mail` fragment's `#> <kind>` sections into `<ALACARTE_MAIL_CONF>/<file>.alacarte-tmp`;
 * lines before the first marker and sections of an unknown kind are skipped. A legacy per-kind
 * fragment (`<slug>--<domain>.<kind>`, written before one file per domain) is taken whole, unless
 * the `.mail` fragment of the same tenant and domain exists already. Reads with getline, not argv,
 * so thousands of fragments never reach ARG_MAX; a read error exits non-zero before any rename.
 */
function assembleAwk(): string {
  const files = MAIL_FRAGMENT_KINDS.map(({ kind, file }) => `file["${kind}"] = "${file}"`).join("; ");
  const suffix = MAIL_FRAGMENT_SUFFIX.replace(/\./g, "\\.");
  return [
    `BEGIN { dir = ENVIRON["ALACARTE_MAIL_CONF"]; ${files} }`,
    "{ name[n++] = $0; have[$0] = 1 }",
    'function target(k) { return (k in file) ? dir "/" file[k] ".alacarte-tmp" : "" }',
    "END {",
    "  for (i = 0; i < n; i++) {",
    '    f = name[i]; out = ""',
    `    mail = f ~ /${suffix}$/`,
    '    if (!mail) { k = f; sub(/^.*\\./, "", k); base = substr(f, 1, length(f) - length(k) - 1)',
    `      if ((base "${MAIL_FRAGMENT_SUFFIX}") in have) continue; out = target(k) }`,
    "    while ((r = (getline line < f)) > 0) {",
    `      if (mail && substr(line, 1, ${MAIL_SECTION_MARKER.length}) == "${MAIL_SECTION_MARKER}") out = target(substr(line, ${MAIL_SECTION_MARKER.length + 1}))`,
    '      else if (out != "") print line > out',
    "    }",
    '    if (r < 0) { print "assemble: cannot read " f > "/dev/stderr"; exit 2 }',
    "    close(f)",
    "  }",
    "}",
  ].join("\n");
}

/**
 * Pure: the shell script (POSIX sh + awk) that rebuilds docker-mailserver's maps from every tenant
 * fragment, used as the fragment HostFile's `afterWrite`. Under an flock (so concurrent tenant
 * stacks cannot drop each other's lines) it lists `<fragmentsDir>/*` in byte order (LC_ALL=C; hidden
 * files, such as a HostFile's write in progress, are skipped), splits the sections of every
 * `<slug>--<domain>.mail` into postfix-virtual.cf, postfix-accounts.cf, dovecot-quotas.cf and
 * dovecot-acl.cf (see {@link MAIL_FRAGMENT_KINDS}; a missing final newline is added), each through a
 * temporary file renamed over the target. docker-mailserver's change detector sees the new files
 * and reloads Postfix and Dovecot (a few seconds later): no `docker exec` is needed, so the script
 * does not depend on the container name. dovecot-acl.cf is collected only: nothing applies it yet.
 * Legacy per-kind fragments (`*.virtual`, `*.accounts`, `*.quotas`, `*.acl`) are still read, so a
 * tenant stack not yet moved to one `.mail` file keeps its addresses.
 * @param configDir docker-mailserver's config folder @default the `config` sibling of fragmentsDir
 */
export function assembleCommand(
  fragmentsDir: string,
  configDir: string = path.posix.join(path.posix.dirname(fragmentsDir), "config"),
): string {
  for (const dir of [fragmentsDir, configDir]) {
    if (!dir.startsWith("/")) throw new Error(`assembleCommand needs absolute folders, got "${dir}"`);
  }
  const frag = shellQuote(path.posix.normalize(fragmentsDir));
  const conf = shellQuote(path.posix.normalize(configDir));
  const targets = MAIL_FRAGMENT_KINDS.map(({ file }) => `${conf}/${file}`).join(" ");
  const legacy = MAIL_FRAGMENT_KINDS.map(({ kind }) => `*.${kind}`).join("|");
  const lines = [
    "set -eu",
    "export LC_ALL=C",
    `mkdir -p ${frag} ${conf}`,
    `exec 9>${conf}/.assemble.lock`,
    "flock 9",
    `for t in ${targets}; do : > "$t.alacarte-tmp"; done`,
    `for f in ${frag}/*; do case "$f" in *${MAIL_FRAGMENT_SUFFIX}|${legacy}) if [ -f "$f" ]; then printf '%s\\n' "$f"; fi ;; esac; done |`,
    `  ALACARTE_MAIL_CONF=${conf} awk ${shellQuote(assembleAwk())}`,
    `for t in ${targets}; do chmod 0640 "$t.alacarte-tmp"; mv -f "$t.alacarte-tmp" "$t"; done`,
  ];
  return lines.join("\n");
}

/** Pure: the public name of the mail server (MX target), in the platform's base domain. */
export function mailHostname(baseDomain: string): string {
  return `mail.${baseDomain}`;
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
