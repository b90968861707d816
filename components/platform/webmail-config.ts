/**
 * Pure, no Pulumi import: the Roundcube configuration of the webmail (docs/services/mail.md
 * "Webmail"). Setting names are Roundcube 1.6's (roundcube/roundcubemail `config/defaults.inc.php`
 * at tag 1.6.18: `imap_host`/`smtp_host`, which replaced 1.5's `default_host`/`smtp_server`).
 */
import { hostnameProblem } from "../../infra/contract/names";

/** Pure: the webmail's public name. @example webmailHostname("example.org") → "webmail.example.org" */
export function webmailHostname(baseDomain: string): string {
  return `webmail.${baseDomain}`;
}

/** Port Apache listens on in the image's root variant (its base, `php:8.4-apache`); only Traefik reaches it. */
export const WEBMAIL_PORT = 80;

/** Name of the generated file in `/var/roundcube/config/`: the image includes every `*.php` there, after its own settings. */
export const WEBMAIL_CONFIG_FILE = "alacarte.inc.php";

/**
 * The environment variables that carry the secrets, read by the generated PHP with `getenv`.
 * `ROUNDCUBEMAIL_DES_KEY` is the image's own name (its entrypoint also reads it with `getenv`).
 * The client secret is NOT the image's `ROUNDCUBEMAIL_OAUTH_CLIENT_SECRET`: the entrypoint would
 * copy that one in clear, between single quotes, into the container's config.docker.inc.php
 * (roundcubemail-docker `apache/docker-entrypoint.sh`, "if [ ! -z "${ROUNDCUBEMAIL_OAUTH_CLIENT_SECRET}" ]").
 */
export const WEBMAIL_SECRET_ENV = {
  oauthClientSecret: "WEBMAIL_OAUTH_CLIENT_SECRET",
  desKey: "ROUNDCUBEMAIL_DES_KEY",
} as const;

/** Length of the session encryption key: AES-256-CBC (`cipher_method` below) takes 32 bytes. */
export const WEBMAIL_DES_KEY_LENGTH = 32;

export interface WebmailConfigInput {
  /** Public name of the webmail. @example "webmail.example.org" */
  webmailHostname: string;
  /** Public name of the mail server: its certificate is for that name. @example "mail.example.org" */
  mailHostname: string;
  /** The realm's issuer (`issuerUrl` of components/blocks/oidc-client.ts). @example "https://sso.example.org/realms/alacarte" */
  issuerUrl: string;
  /** OIDC client id. @example "members-mail" */
  clientId: string;
  /** Shown on the sign-in button (after a sign-out or a failure only: otherwise Roundcube goes straight to Keycloak). @default Keycloak's hostname */
  providerName?: string;
}

/** A value of Roundcube's `$config`, as the generated PHP writes it. */
export type WebmailSetting = string | boolean | string[] | { env: string };

function checkedHostname(hostname: string, what: string): string {
  const bad = hostnameProblem(hostname);
  if (bad) throw new Error(`Webmail ${what} "${hostname}" is not a hostname: ${bad}`);
  return hostname;
}

/**
 * Pure: Roundcube's settings, in the order written. `{ env }` is a secret read from the
 * container's environment at each request, never written in the file.
 * @throws Error when a hostname or the issuer is malformed.
 */
export function webmailSettings(input: WebmailConfigInput): Record<string, WebmailSetting> {
  const mail = checkedHostname(input.mailHostname, "mail hostname");
  checkedHostname(input.webmailHostname, "hostname");
  if (!/^https:\/\/[a-z0-9.-]+(:\d+)?\/realms\/[^/\s]+$/.test(input.issuerUrl)) {
    throw new Error(`Webmail issuer "${input.issuerUrl}" must be a Keycloak realm's https URL`);
  }
  // Keycloak's OIDC endpoints (docs/services/keycloak.md: `$KC/protocol/openid-connect/…`).
  const oidc = `${input.issuerUrl}/protocol/openid-connect`;
  return {
    // Roundcube's generic OAuth2 login (config/defaults.inc.php "OAuth"; program/include/rcmail_oauth.php).
    oauth_provider: "generic",
    oauth_provider_name: input.providerName ?? new URL(input.issuerUrl).hostname,
    oauth_client_id: input.clientId,
    oauth_client_secret: { env: WEBMAIL_SECRET_ENV.oauthClientSecret },
    oauth_auth_uri: `${oidc}/auth`,
    oauth_token_uri: `${oidc}/token`,
    oauth_identity_uri: `${oidc}/userinfo`,
    oauth_scope: "openid profile email",
    // The IMAP login is the Keycloak username, read from the ID token first, then from userinfo
    // (rcmail_oauth::request_access_token); the mail server opens every mailbox that person may open.
    oauth_identity_fields: ["preferred_username"],
    // Straight to Keycloak when there is no session (rcmail_oauth::unauthenticated): no Roundcube login form.
    oauth_login_redirect: true,
    oauth_verify_peer: true,
    // The server's public name, which its certificate names; PHP checks it against the image's CA bundle.
    imap_host: `ssl://${mail}:993`,
    smtp_host: `ssl://${mail}:465`,
    // With an OAuth session Roundcube signs in to SMTP as the IMAP login with the token, by XOAUTH2
    // (rcmail_oauth::smtp_connect sets smtp_user '%u', smtp_pass '%p' and smtp_auth_type from the token).
    smtp_user: "%u",
    smtp_pass: "%p",
    // Traefik ends TLS: without it Roundcube sees plain HTTP and sends Keycloak an http:// redirect URI
    // (rcube_utils::resolve_url and https_check).
    use_https: true,
    // The session's copy of the token is encrypted with it; AES rather than the 3DES kept by default for old installs.
    cipher_method: "AES-256-CBC",
    des_key: { env: WEBMAIL_SECRET_ENV.desKey },
  };
}

/** Pure: a PHP single-quoted string literal (only `\` and `'` are special there). */
export function phpString(value: string): string {
  return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

function phpValue(value: WebmailSetting): string {
  if (typeof value === "string") return phpString(value);
  if (typeof value === "boolean") return value ? "true" : "false";
  if (Array.isArray(value)) return `[${value.map(phpString).join(", ")}]`;
  return `$alacarteSecret(${phpString(value.env)})`;
}

/**
 * Pure: the PHP file written to the proxy host and mounted in `/var/roundcube/config/`. A secret
 * missing from the environment throws at the first request (a 500 and a failing health check),
 * rather than a webmail running with an empty key.
 */
export function webmailConfigPhp(input: WebmailConfigInput): string {
  const settings = webmailSettings(input);
  const lines = Object.entries(settings).map(([key, value]) => `$config[${phpString(key)}] = ${phpValue(value)};`);
  return [
    "<?php",
    '// Generated by alacarte (components/platform/webmail-config.ts); docs/services/mail.md "Webmail".',
    "// Secrets come from the container's environment, never from this file.",
    "$alacarteSecret = static function (string $name): string {",
    "    $value = getenv($name);",
    "    if ($value === false || $value === '') {",
    "        throw new RuntimeException($name . ' is not set in the environment');",
    "    }",
    "    return $value;",
    "};",
    ...lines,
    "unset($alacarteSecret);",
    "",
  ].join("\n");
}

/**
 * Pure: the health check: PHP's own HTTP client (the image has PHP, so no curl is needed), without
 * following redirects. A 2xx or 3xx from `/` means Apache, PHP, the configuration and the database
 * answer (with no session Roundcube answers 302 to Keycloak); a 5xx or no answer fails.
 */
export function webmailHealthCheck(port: number = WEBMAIL_PORT): string[] {
  return [
    "CMD",
    "php",
    "-r",
    '$c = stream_context_create(["http" => ["follow_location" => 0, "ignore_errors" => true, "timeout" => 5]]); ' +
      `@file_get_contents("http://127.0.0.1:${port}/", false, $c); ` +
      'exit(preg_match("#^HTTP/\\S+ [23]\\d\\d#", $http_response_header[0] ?? "") ? 0 : 1);',
  ];
}
