import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { PROJECT_ROOT } from "../../infra/contract/paths";
import { repositoryImage } from "../blocks/image-pin";
import { ContainerService, type DeclaredProbes } from "../blocks/container-service";
import { HostFile } from "../blocks/host-file";
import { shellQuote } from "../blocks/shell";
import { ACME_STORE } from "./reverse-proxy";
import { MAIL_FRAGMENT_KINDS, MAIL_FRAGMENT_SUFFIX, MAIL_SECTION_MARKER } from "./mail-fragments";
import type { DnsRecord, HostConnection } from "./outputs";

export const MAIL_SERVER_TYPE = "alacarte:platform:MailServer";

/** Where tenant stacks drop their map fragments on the mail host. */
export const DEFAULT_MAIL_FRAGMENTS_DIR = "/srv/alacarte/mail/fragments";

/** The maps folder on the mail host (bind-mounted at /etc/alacarte/mail). */
export const DEFAULT_MAIL_CONFIG_DIR = "/srv/alacarte/mail/config";

/** Folder holding `fullchain.pem` and `privkey.pem` for the mail hostname, on the mail host. */
export const DEFAULT_MAIL_TLS_DIR = "/srv/alacarte/mail/tls";

export { MAIL_FRAGMENT_KINDS, MAIL_FRAGMENT_SUFFIX, MAIL_SECTION_MARKER, type MailFragmentKind } from "./mail-fragments";

/**
 * The awk program of {@link assembleCommand}. It reads the fragment paths on stdin (in byte order),
 * then splits each fragment's `#> <kind>` sections into `<ALACARTE_MAIL_CONF>/<file>.alacarte-tmp`;
 * lines before the first marker and sections of an unknown kind are skipped. Reads with getline,
 * not argv, so thousands of fragments never reach ARG_MAX; a read error exits non-zero before any
 * rename.
 */
function assembleAwk(): string {
  const files = MAIL_FRAGMENT_KINDS.map(({ kind, file }) => `file["${kind}"] = "${file}"`).join("; ");
  return [
    `BEGIN { dir = ENVIRON["ALACARTE_MAIL_CONF"]; ${files} }`,
    "{ name[n++] = $0 }",
    'function target(k) { return (k in file) ? dir "/" file[k] ".alacarte-tmp" : "" }',
    "END {",
    "  for (i = 0; i < n; i++) {",
    '    f = name[i]; out = ""',
    "    while ((r = (getline line < f)) > 0) {",
    `      if (substr(line, 1, ${MAIL_SECTION_MARKER.length}) == "${MAIL_SECTION_MARKER}") out = target(substr(line, ${MAIL_SECTION_MARKER.length + 1}))`,
    '      else if (out != "") print line > out',
    "    }",
    '    if (r < 0) { print "assemble: cannot read " f > "/dev/stderr"; exit 2 }',
    "    close(f)",
    "  }",
    "}",
  ].join("\n");
}

/** The folders of the mail host the assemble script reads and writes. */
export interface MailFolders {
  /** Tenant fragments. @example "/srv/alacarte/mail/fragments" */
  fragmentsDir: string;
  /** The maps the mail server reads (bind-mounted into it). @default the `config` sibling of fragmentsDir */
  configDir?: string;
  /**
   * The app-password store: `<username>/<mailbox>` holds the hash of that person's app password
   * for that mailbox (docs/services/mail.md "App passwords"). @default the `app-passwords` sibling of fragmentsDir
   */
  passwordsDir?: string;
}

/**
 * Pure: the shell script (POSIX sh + awk) that rebuilds the mail server's maps from every tenant
 * fragment, used as the fragment HostFile's `afterWrite`. Under an flock (so concurrent tenant
 * stacks cannot drop each other's lines) it lists `<fragmentsDir>/*.mail` in byte order
 * (LC_ALL=C; hidden files, such as a HostFile's write in progress, are skipped), splits their
 * sections into the maps of {@link MAIL_FRAGMENT_KINDS} (a missing final newline is added), and
 * renames each into place in that order: mailboxes before the redirections that may point at
 * them. It then builds the Dovecot password files of the app passwords, `passdb/owners/<mailbox>`
 * and `passdb/shared/<mailbox>`, from the store's hash of each login line; `passdb/keycloak`, the
 * owner of each owned mailbox they have no app password for (the Keycloak password); and what a
 * person signed in as themselves opens (`passdb/acl`, `passdb/shared-mailboxes`, `passdb/people`);
 * all in a new folder that
 * a symlink swap puts in place at once: a share removed from a tenant file closes that login.
 * Last, it makes the DKIM key of each domain that has none (`dkim/<domain>.key`, root's only) and
 * the TXT record of its public key (`dkim/<domain>.dns`).
 * The mail server's watcher builds the Postfix tables of the renamed maps (images/mail/entrypoint.sh).
 */
/** Pure: the three folders, defaults filled in (siblings of the fragments folder). @throws Error on a relative folder. */
export function mailFolders(folders: MailFolders): Required<MailFolders> {
  const parent = path.posix.dirname(path.posix.normalize(folders.fragmentsDir));
  const dirs = {
    fragmentsDir: path.posix.normalize(folders.fragmentsDir),
    configDir: path.posix.normalize(folders.configDir ?? path.posix.join(parent, "config")),
    passwordsDir: path.posix.normalize(folders.passwordsDir ?? path.posix.join(parent, "app-passwords")),
  };
  for (const dir of Object.values(dirs)) {
    if (!dir.startsWith("/")) throw new Error(`the mail folders must be absolute, got "${dir}"`);
  }
  return dirs;
}

export function assembleCommand(folders: MailFolders): string {
  const dirs = mailFolders(folders);
  const frag = shellQuote(dirs.fragmentsDir);
  const conf = shellQuote(dirs.configDir);
  const store = shellQuote(dirs.passwordsDir);
  const targets = MAIL_FRAGMENT_KINDS.map(({ file }) => `${conf}/${file}`).join(" ");
  const lines = [
    "set -eu",
    "export LC_ALL=C",
    "umask 022",
    `mkdir -p ${frag} ${conf} ${store}`,
    `exec 9>${conf}/.assemble.lock`,
    "flock 9",
    `for t in ${targets}; do : > "$t.alacarte-tmp"; done`,
    `for f in ${frag}/*${MAIL_FRAGMENT_SUFFIX}; do if [ -f "$f" ]; then printf '%s\\n' "$f"; fi; done |`,
    `  ALACARTE_MAIL_CONF=${conf} awk ${shellQuote(assembleAwk())}`,
    `new=$(mktemp -d ${conf}/passdb.XXXXXX)`,
    'mkdir "$new/owners" "$new/shared"',
    ': > "$new/keycloak"; : > "$new/people"; : > "$new/shared-mailboxes"',
    `printf '* owner lrwstipekx\\n' > "$new/acl"`,
    "while read -r mailbox role user; do",
    `  hash=${store}/"$user"/"$mailbox"`,
    // The owner's Keycloak username, for the password grant (images/mail/dovecot/keycloak-passdb.conf),
    // only while the owner has no app password for the mailbox: a stale app password in a client
    // then never reaches Keycloak, whose lockout would shut its owner out of every service.
    `  if [ "$role" = owner ] && [ ! -f "$hash" ]; then printf '%s:::::::user=%s noauthenticate\\n' "$mailbox" "$user" >> "$new/keycloak"; fi`,
    // Who opens the mailbox as themselves (Mailboxes/<mailbox> in dovecot.conf): the ACL line, the
    // shared-mailboxes dict (key and value lines, Dovecot's file dict) and the person's userdb line.
    `  printf 'Mailboxes/%s user=%s lrwstipekx\\nMailboxes/%s/* user=%s lrwstipekx\\n' "$mailbox" "$user" "$mailbox" "$user" >> "$new/acl"`,
    `  printf 'shared/shared-boxes/user/%s/%s\\n1\\n' "$user" "$mailbox" >> "$new/shared-mailboxes"`,
    `  printf '%s:::::::\\n' "$user" >> "$new/people"`,
    '  [ -f "$hash" ] || continue',
    '  IFS= read -r h < "$hash" || continue',
    '  case "$role" in',
    `    owner) printf '%s:%s\\n' "$mailbox" "$h" >> "$new/owners/$mailbox" ;;`,
    `    shared) printf '%s:%s\\n' "$user" "$h" >> "$new/shared/$mailbox" ;;`,
    "  esac",
    `done < ${conf}/logins.alacarte-tmp`,
    'sort -u -o "$new/people" "$new/people"',
    'chmod -R a+rX "$new"',
    `for t in ${targets}; do chmod 0644 "$t.alacarte-tmp"; mv -f "$t.alacarte-tmp" "$t"; done`,
    // A folder of that name (not the symlink) would refuse the swap.
    `if [ -d ${conf}/passdb ] && [ ! -L ${conf}/passdb ]; then rm -rf ${conf}/passdb; fi`,
    `ln -s "$(basename "$new")" ${conf}/passdb.alacarte-tmp`,
    `mv -fT ${conf}/passdb.alacarte-tmp ${conf}/passdb`,
    `for d in ${conf}/passdb.*; do if [ "$d" != "$new" ] && [ -d "$d" ]; then rm -rf "$d"; fi; done`,
    // DKIM: a key for each domain that has none, made here and never copied anywhere but the mail
    // server; the record to publish beside it (docs/services/mail.md "DKIM").
    `mkdir -p ${conf}/dkim`,
    `chmod 0700 ${conf}/dkim`,
    "while read -r domain _; do",
    `  key=${conf}/dkim/"$domain".key`,
    '  if [ ! -f "$key" ]; then',
    '    (umask 077; openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$key.alacarte-tmp" 2>/dev/null)',
    '    mv -f "$key.alacarte-tmp" "$key"',
    "  fi",
    `  if [ ! -f ${conf}/dkim/"$domain".dns ]; then`,
    '    p=$(openssl pkey -in "$key" -pubout -outform DER 2>/dev/null | base64 | tr -d "\\n")',
    `    printf 'v=DKIM1; k=rsa; p=%s\\n' "$p" > ${conf}/dkim/"$domain".dns`,
    "  fi",
    `done < ${conf}/domains`,
  ];
  return lines.join("\n");
}

/** Pure: the public name of the mail server (MX target), in the platform's base domain. */
export function mailHostname(baseDomain: string): string {
  return `mail.${baseDomain}`;
}

/**
 * The mail image, built from `images/mail` (Debian 12's Postfix and Dovecot, the configuration in
 * the repository: docs/services/mail.md "Image"). The tag ends with the first 12 hex digits of the
 * SHA-256 of the folder's files (`mailImageDigest`, test/mail-image.test.ts): an edit of the
 * folder that keeps the tag fails the tests.
 */
export const MAIL_IMAGE = "alacarte/mail:1.1.0-47f9a8bd8daf";

/** The build folder of the mail image, from the project root. */
export const MAIL_IMAGE_CONTEXT = "images/mail";

/** The Keycloak client through which Dovecot checks an owner's Keycloak password (the password grant). */
export interface MailKeycloakClient {
  /** The realm's token endpoint. @example "https://sso.example.org/realms/alacarte/protocol/openid-connect/token" */
  tokenUrl: string;
  /** Its introspection endpoint (the token's username and whether it is active). */
  introspectionUrl: string;
  clientId: pulumi.Input<string>;
  /** Secret; reaches the container as a secret environment variable only. */
  clientSecret: pulumi.Input<string>;
}

/** Where the mail server's certificate comes from (docs/services/mail.md "Certificate"). */
export type MailCertificateSource = "proxy-store" | { acmeDirectory: string; email: string };

/** Pure: the environment of the mail image (no secret in it); the rest are its defaults. */
export function mailServerEnv(input: {
  hostname: string;
  keycloak?: Pick<MailKeycloakClient, "tokenUrl" | "introspectionUrl">;
  certificate?: MailCertificateSource;
  outbound?: MailOutbound;
}): Record<string, string> {
  const certificate = input.certificate;
  return {
    MAIL_HOSTNAME: input.hostname,
    ...(input.outbound === "discard" ? { OUTBOUND_TRANSPORT: DISCARD_TRANSPORT } : {}),
    ...(input.keycloak ? { OAUTH2_INTROSPECTION_URL: input.keycloak.introspectionUrl, OAUTH2_TOKEN_URL: input.keycloak.tokenUrl } : {}),
    ...(certificate === "proxy-store"
      ? { ACME_JSON: `${MAIL_CONTAINER_PATHS.acme}/${ACME_STORE.file}`, ACME_RESOLVER: ACME_STORE.resolver }
      : certificate
        ? { ACME_DIRECTORY: certificate.acmeDirectory, ACME_EMAIL: certificate.email }
        : {}),
  };
}

/**
 * What becomes of mail for the domains the server does not host: `deliver` sends it out by SMTP;
 * `discard` drops it, logged, so an environment such as staging never mails real members while its
 * own mailboxes still receive (images/mail/postfix/main.cf `default_transport`, docs/services/mail.md "Outbound mail").
 */
export type MailOutbound = "deliver" | "discard";

/** Postfix's discard(8) transport; the next-hop is the reason it logs. */
export const DISCARD_TRANSPORT = "discard:outbound-mail-off";

/** Where the mail image reads its maps, app-password files, certificate and the proxy's ACME store (images/mail/entrypoint.sh). */
export const MAIL_CONTAINER_PATHS = { maps: "/etc/alacarte/mail", tls: "/etc/alacarte/tls", acme: "/etc/alacarte/acme" } as const;

/** Let's Encrypt's production ACME directory (RFC 8555 §7.1.1), for the image's own ACME client. */
export const LETS_ENCRYPT_DIRECTORY = "https://acme-v02.api.letsencrypt.org/directory";

/** The port the image's ACME client answers HTTP-01 on (RFC 8555 §8.3: always 80). */
export const ACME_HTTP_PORT = 80;

/** The mail ports: SMTP, submissions (TLS), submission, IMAP, IMAPS, ManageSieve. */
export const MAIL_PORTS = [25, 465, 587, 143, 993, 4190] as const;

export interface MailServerArgs {
  /** The mail image pushed to the forge's registry, pinned by digest (platform config `images.mail`). @default built on the host from images/mail */
  pushedImage?: string;
  /** Host the mail server runs on (its mail ports are published there). */
  host: HostConnection;
  /** Public name of the mail server (MX target, TLS certificate name). @example "mail.example.org" */
  hostname: string;
  /** Docker network shared with the webmail. */
  network: pulumi.Input<string>;
  /** The platform's shared mail domains: declared by the platform's own fragment, tenants claim addresses in them. */
  sharedDomains: string[];
  /** Mailbox volume size in GB (2^30 bytes). */
  dataGb: number;
  /** Fragments folder on the host. @default "/srv/alacarte/mail/fragments" */
  fragmentsDir?: string;
  /** The maps folder on the host. @default "/srv/alacarte/mail/config" */
  configDir?: string;
  /** TLS certificate folder on the host (`fullchain.pem`, `privkey.pem`). @default "/srv/alacarte/mail/tls" */
  tlsDir?: string;
  /** Protect the mail volumes against deletion. @default true */
  protect?: boolean;
  /** The Keycloak client of the owners' password; without it, mail clients sign in with app passwords only. */
  keycloak?: MailKeycloakClient;
  /** Mail for domains the server does not host: sent out, or discarded (staging). @default "deliver" */
  outbound?: MailOutbound;
  /**
   * The reverse proxy's ACME volume, when the mail server runs on the proxy's host: the mail image
   * takes the certificate of its hostname from Traefik's store and reloads on renewal
   * (docs/services/mail.md "Certificate"). Without it the certificate is expected in `tlsDir`.
   */
  acmeVolumeName?: pulumi.Input<string>;
  /**
   * Otherwise, the image's own ACME client (dehydrated, HTTP-01 on the mail host's port 80, which
   * this publishes): the ACME directory and the account's email. Ignored with `acmeVolumeName`.
   */
  acmeClient?: { acmeDirectory: string; email: string };
}

/**
 * The mail server: the image built from `images/mail`, its maps assembled from per-tenant
 * fragments and from the platform's own (the shared domains), its mailboxes and queue on volumes.
 */
export class MailServer extends pulumi.ComponentResource {
  /** Public name of the mail server (MX target). */
  readonly hostname: string;
  /** Folder tenant stacks write fragments into. */
  readonly fragmentsDir: string;
  /** The maps folder on the host. */
  readonly configDir: string;
  /** The script a fragment's afterWrite runs. */
  readonly assembleCommand: string;
  /** Container name on the shared network. */
  readonly containerName: pulumi.Output<string>;

  constructor(name: string, args: MailServerArgs, opts?: pulumi.ComponentResourceOptions) {
    // Where the mailboxes live, for the backups' restore of one mailbox (components/platform/backup-fragments.ts).
    const mailStore = { volume: `${mailContainerName(name)}-data`, container: mailContainerName(name), mountPath: "/var/mail" };
    // Its implicit-TLS ports, for the monitoring: IMAPS and submissions, each with its certificate.
    const probes: DeclaredProbes = { http: [], tls: [`${args.hostname}:465`, `${args.hostname}:993`] };
    super(MAIL_SERVER_TYPE, name, { mailStore, probes }, opts);
    const fragmentsDir = args.fragmentsDir ?? DEFAULT_MAIL_FRAGMENTS_DIR;
    const configDir = args.configDir ?? DEFAULT_MAIL_CONFIG_DIR;
    const tlsDir = args.tlsDir ?? DEFAULT_MAIL_TLS_DIR;
    const assemble = assembleCommand({ fragmentsDir, configDir });
    const certificate: MailCertificateSource | undefined = args.acmeVolumeName !== undefined ? "proxy-store" : args.acmeClient;

    // The shared domains, in a fragment of the platform's own, assembled like a tenant's.
    const platformFragment = new HostFile(
      `${name}-shared-domains`,
      {
        host: args.host,
        path: `${fragmentsDir.replace(/\/+$/, "")}/${PLATFORM_FRAGMENT}`,
        content: renderPlatformFragment(args.sharedDomains),
        mode: "0640",
        afterWrite: assemble,
      },
      { parent: this },
    );

    const mail = new ContainerService(
      mailContainerName(name),
      {
        ...repositoryImage(MAIL_IMAGE, path.join(PROJECT_ROOT, MAIL_IMAGE_CONTEXT), args.pushedImage),
        host: args.host,
        env: {
          ...mailServerEnv({
            hostname: args.hostname,
            ...(args.keycloak ? { keycloak: args.keycloak } : {}),
            ...(certificate ? { certificate } : {}),
            ...(args.outbound ? { outbound: args.outbound } : {}),
          }),
          ...(args.keycloak ? { OAUTH2_CLIENT_ID: args.keycloak.clientId } : {}),
        },
        ...(args.keycloak ? { secretEnv: { OAUTH2_CLIENT_SECRET: args.keycloak.clientSecret } } : {}),
        ports: [...MAIL_PORTS, ...(certificate !== undefined && certificate !== "proxy-store" ? [ACME_HTTP_PORT] : [])].map((port) => ({
          internal: port,
          external: port,
          protocol: "tcp" as const,
        })),
        volumes: [
          { name: "data", containerPath: mailStore.mountPath, sizeGb: args.dataGb, backup: true },
          { name: "queue", containerPath: "/var/spool/postfix", sizeGb: 5, backup: true },
          { name: "state", containerPath: "/var/lib/dovecot", sizeGb: 1, backup: false },
        ],
        hostPaths: [
          { hostPath: configDir, containerPath: MAIL_CONTAINER_PATHS.maps },
          { hostPath: tlsDir, containerPath: MAIL_CONTAINER_PATHS.tls },
        ],
        ...(args.acmeVolumeName !== undefined
          ? { borrowedVolumes: [{ volumeName: args.acmeVolumeName, containerPath: MAIL_CONTAINER_PATHS.acme }] }
          : {}),
        networks: [args.network],
        limits: { memoryMb: 2048, cpus: 1 },
        protect: args.protect ?? true,
      },
      { parent: this, dependsOn: [platformFragment] },
    );

    this.hostname = args.hostname;
    this.fragmentsDir = fragmentsDir;
    this.configDir = configDir;
    this.assembleCommand = assemble;
    this.containerName = pulumi.output(mail.containerName);
    this.registerOutputs({
      hostname: this.hostname,
      fragmentsDir: this.fragmentsDir,
      configDir: this.configDir,
      containerName: this.containerName,
    });
  }
}

/** Pure: the container name of a MailServer component named `name`. */
export function mailContainerName(name: string): string {
  return `${name}-mailserver`;
}

/** What the app-password script does with one person's app password for one mailbox. */
export type AppPasswordAction = "set" | "revoke" | "list";

/**
 * Pure: the script (POSIX sh) the mail host runs for the app passwords (docs/services/mail.md
 * "Signing in to mail"). `set` reads the new password on its standard input (never an argument),
 * hashes it with the mail server's own `doveadm pw -s ARGON2ID` (which reads it twice from its
 * input), writes the hash to `<store>/<user>/<mailbox>` through a temporary file, then runs the
 * assemble script, which gives the hash to the mailbox's password file if the tenant file still
 * allows that login. `revoke` removes it and assembles; `list` prints `<user> <mailbox>` for the
 * user's app passwords (never a hash).
 */
export function appPasswordScript(options: {
  action: AppPasswordAction;
  user: string;
  /** Required for set and revoke. */
  mailbox?: string;
  container: string;
  folders: MailFolders;
}): string {
  const store = shellQuote(mailFolders(options.folders).passwordsDir);
  const user = shellQuote(options.user);
  if (options.action === "list") {
    return [
      "set -eu",
      `cd ${store} 2>/dev/null || exit 0`,
      `for f in ${user}/*; do if [ -f "$f" ]; then printf '%s %s\\n' ${user} "\${f#*/}"; fi; done`,
    ].join("\n");
  }
  if (!options.mailbox) throw new Error(`appPasswordScript: ${options.action} needs a mailbox`);
  const file = `${store}/${user}/${shellQuote(options.mailbox)}`;
  const assemble = assembleCommand(options.folders);
  if (options.action === "revoke") return ["set -eu", `rm -f ${file}`, `( ${assemble}\n)`].join("\n");
  return [
    "set -eu",
    "umask 077",
    `mkdir -p ${store}/${user}`,
    "IFS= read -r password",
    `hash=$(printf '%s\\n%s\\n' "$password" "$password" | docker exec -i ${shellQuote(options.container)} doveadm pw -s ARGON2ID)`,
    "unset password",
    'case "$hash" in "{ARGON2ID}"*) ;; *) echo "app password: doveadm gave no hash" >&2; exit 1 ;; esac',
    `printf '%s\\n' "$hash" > ${file}.alacarte-tmp`,
    `mv -f ${file}.alacarte-tmp ${file}`,
    `( ${assemble}\n)`,
  ].join("\n");
}

/** The DKIM selector of every domain's key (images/mail/entrypoint.sh `DKIM_SELECTOR`). */
export const DKIM_SELECTOR = "alacarte1";

/** Pure: a shell line printing `dkim <record>` for a domain's DKIM record once assembled (the fragment's afterWrite ends with it). */
export function printDkimRecord(folders: MailFolders, domain: string): string {
  return `printf 'dkim %s\\n' "$(cat ${shellQuote(path.posix.join(mailFolders(folders).configDir, "dkim", `${domain}.dns`))} 2>/dev/null)"`;
}

/** Pure: the DKIM record of a domain from the fragment command's output (its `dkim …` line), or undefined. */
export function dkimRecordOf(stdout: string, domain: string): DnsRecord | undefined {
  const line = stdout.split("\n").find((l) => l.startsWith("dkim v=DKIM1;"));
  return line ? { name: `${DKIM_SELECTOR}._domainkey.${domain}`, type: "TXT", value: line.slice("dkim ".length) } : undefined;
}

/** The platform's own fragment (it sorts after every tenant's `<slug>--<domain>.mail`). */
export const PLATFORM_FRAGMENT = "~platform.mail";

/** Pure: the platform's fragment: only the shared domains, whose addresses tenants claim one by one. */
export function renderPlatformFragment(sharedDomains: readonly string[]): string {
  const domains = [...new Set(sharedDomains.map((d) => d.toLowerCase()))].sort();
  return `${MAIL_SECTION_MARKER}domains\n${domains.map((d) => `${d} OK\n`).join("")}`;
}
