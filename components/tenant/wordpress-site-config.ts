import { hostnameProblem } from "../../infra/contract/names";
import { extensionPins } from "../blocks/app-image";
import { mailAddressParts } from "../blocks/app-mail";
import { WORDPRESS_IMAGE } from "./wordpress-image";

/** The login the setup installs WordPress with: a tenant username starts with a letter, so none can take it. */
export const WORDPRESS_ADMIN_LOGIN = "_alacarte";

/**
 * Memory and CPU limits of the two containers; the offer table's sizing is their sum
 * (infra/model/offers.ts). The wp-cli container is idle but for the setup, so it gets little CPU:
 * the association's expected set (`npm run bench`, ×1) must fit the apps host with its MariaDB servers.
 */
export const WORDPRESS_LIMITS = {
  web: { memoryMb: 384, cpus: 0.4 },
  cli: { memoryMb: 128, cpus: 0.1 },
} as const;

/** Keycloak's OIDC endpoints under a realm's issuer URL (https://www.keycloak.org/securing-apps/oidc-layers). */
export function keycloakEndpoints(issuer: string): { login: string; token: string; userinfo: string; logout: string } {
  const base = `${issuer.replace(/\/+$/, "")}/protocol/openid-connect`;
  return { login: `${base}/auth`, token: `${base}/token`, userinfo: `${base}/userinfo`, logout: `${base}/logout` };
}

export interface WordpressPlan {
  /** The site's domains, in the tenant file's order; the first is WP_HOME. */
  domains: string[];
  /** `https://<first domain>`, WP_HOME and WP_SITEURL. */
  siteUrl: string;
  /** One per domain: the plugin's admin-ajax callback. */
  redirectUris: string[];
  /** `<slug>-website`. */
  clientId: string;
  /** The group paths of the `groups` claim (components/tenant/identity.ts identityPlan). */
  groups: { members: string; admins: string };
  /** The volume's size, the tier. */
  storageGb: number;
  /** PHP's upload limit, in MB: never above the tier. */
  uploadMaxMb: number;
}

/**
 * Pure: what the WordPress site of a tenant is made of, from its slug, domains and tier.
 * @throws Error on a bad domain or tier.
 */
export function wordpressPlan(slug: string, domains: readonly string[], storageGb: number): WordpressPlan {
  if (domains.length === 0) throw new Error(`WordPress site of ${slug}: at least one domain is needed`);
  for (const d of domains) {
    const bad = hostnameProblem(d);
    if (bad) throw new Error(`WordPress site of ${slug}: invalid domain "${d}": ${bad}`);
  }
  if (!Number.isInteger(storageGb) || storageGb <= 0)
    throw new Error(`WordPress site of ${slug}: storageGb must be a positive whole number, got ${storageGb}`);
  const unique = [...new Set(domains)];
  return {
    domains: unique,
    siteUrl: `https://${unique[0]}`,
    // The plugin's redirect URI: admin_url('admin-ajax.php?action=openid-connect-authorize')
    // (oidc-wp/openid-connect-generic@3.10.3:openid-connect-generic.php get_redirect_uri).
    redirectUris: unique.map((d) => `https://${d}/wp-admin/admin-ajax.php?action=openid-connect-authorize`),
    clientId: `${slug}-website`,
    groups: { members: `/tenants/${slug}`, admins: `/tenants/${slug}/admins` },
    storageGb,
    uploadMaxMb: Math.min(64, storageGb * 1024),
  };
}

/** A PHP single-quoted string literal: only `\` and `'` are special there. */
export function phpString(value: string): string {
  return `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

/** Names of the secret environment variables the PHP reads with getenv (never a define of the secret itself). */
export const SECRET_ENV = {
  dbPassword: "WORDPRESS_DB_PASSWORD",
  oidcSecret: "ALACARTE_OIDC_CLIENT_SECRET",
  smtpPassword: "ALACARTE_SMTP_PASSWORD",
} as const;

/**
 * Pure: the PHP of WORDPRESS_CONFIG_EXTRA, which the image's wp-config.php evals
 * (docker-library/wordpress@bf223d1c:latest/php8.3/apache/wp-config-docker.php): the site's URL,
 * no file changes from the admin (plugins come from the repository, pinned), no automatic update
 * (the version is the tenant's pin), and the OIDC plugin's settings as constants
 * (oidc-wp/openid-connect-generic@3.10.3:includes/openid-connect-generic-option-settings.php
 * `$environment_settings`); the client secret is read from the environment at run time, so it is
 * in no plain value. HTTPS behind the proxy is the image's own X-Forwarded-Proto check.
 */
export function wordpressConfigExtra(plan: WordpressPlan, issuer: string): string {
  const ep = keycloakEndpoints(issuer);
  const define = (name: string, value: string | number | boolean) =>
    `define(${phpString(name)}, ${typeof value === "string" ? phpString(value) : String(value)});`;
  return [
    define("WP_HOME", plan.siteUrl),
    define("WP_SITEURL", plan.siteUrl),
    define("FORCE_SSL_ADMIN", true),
    define("DISALLOW_FILE_MODS", true),
    define("AUTOMATIC_UPDATER_DISABLED", true),
    define("WP_AUTO_UPDATE_CORE", false),
    define("OIDC_CLIENT_ID", plan.clientId),
    `define('OIDC_CLIENT_SECRET', getenv(${phpString(SECRET_ENV.oidcSecret)}));`,
    define("OIDC_ENDPOINT_LOGIN_URL", ep.login),
    define("OIDC_ENDPOINT_TOKEN_URL", ep.token),
    define("OIDC_ENDPOINT_USERINFO_URL", ep.userinfo),
    define("OIDC_ENDPOINT_LOGOUT_URL", ep.logout),
    define("OIDC_CLIENT_SCOPE", "openid email profile"),
    define("OIDC_LOGIN_TYPE", "auto"),
    define("OIDC_CREATE_IF_DOES_NOT_EXIST", 1),
    define("OIDC_LINK_EXISTING_USERS", 0),
    define("OIDC_ENFORCE_PRIVACY", 0),
    `@ini_set('upload_max_filesize', '${plan.uploadMaxMb}M');`,
    `@ini_set('post_max_size', '${plan.uploadMaxMb}M');`,
  ].join("\n");
}

/** What the site's containers send mail with (the platform's SMTP login, components/blocks/app-mail.ts). */
export interface WordpressMailSettings {
  host: string;
  port: number;
  starttls: boolean;
  username: string;
  from: string;
  fromName: string;
}

/**
 * Pure: the plain environment of both containers that does not come from other resources: what
 * the tenant gate reads (its group paths, the mail settings). The component adds the database's
 * (WORDPRESS_DB_*) and WORDPRESS_CONFIG_EXTRA; the secrets are in {@link SECRET_ENV}.
 */
export function wordpressEnv(plan: WordpressPlan, mail: WordpressMailSettings): Record<string, string> {
  mailAddressParts(mail.from);
  return {
    ...WORDPRESS_IMAGE.env,
    ALACARTE_TENANT_GROUP: plan.groups.members,
    ALACARTE_ADMINS_GROUP: plan.groups.admins,
    ALACARTE_SMTP_HOST: mail.host,
    ALACARTE_SMTP_PORT: String(mail.port),
    ALACARTE_SMTP_SECURE: mail.starttls ? "tls" : "ssl",
    ALACARTE_SMTP_USER: mail.username,
    ALACARTE_MAIL_FROM: mail.from,
    ALACARTE_MAIL_FROM_NAME: mail.fromName,
    // wp-cli's cache: uid 33 has no home in the CLI image.
    WP_CLI_CACHE_DIR: "/tmp/wp-cli-cache",
  };
}

/** A member as the setup script takes it: `<username>:admin` or `<username>:member`. */
export function memberArg(m: { username: string; admin: boolean }): string {
  return `${m.username}:${m.admin ? "admin" : "member"}`;
}

/**
 * Pure: the setup script's positional arguments (components/tenant/scripts/wordpress-setup.sh):
 * site URL, title, admin e-mail, WordPress version, the plugin pin (the table's only extension:
 * the script takes exactly one), the tenant gate's PHP, then the members sorted.
 */
export function wordpressSetupArgs(
  plan: WordpressPlan,
  args: {
    title: string;
    adminEmail: string;
    version: string;
    gatePhp: string;
    members: readonly { username: string; admin: boolean }[];
  },
): string[] {
  const pins = extensionPins(WORDPRESS_IMAGE, args.version);
  if (pins.length !== 1) throw new Error(`the WordPress setup takes one plugin pin, the table has ${pins.length}`);
  const members = [...args.members].sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0)).map(memberArg);
  return [plan.siteUrl, args.title, args.adminEmail, args.version, ...pins, args.gatePhp, ...members];
}
