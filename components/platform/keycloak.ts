import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import * as keycloak from "@pulumi/keycloak";
import * as random from "@pulumi/random";
import { PROJECT_ROOT } from "../../infra/contract/paths";
import { ContainerService } from "../blocks/container-service";
import { Database } from "../blocks/database";
import { hostConnection } from "../blocks/host-file";
import { shellQuote } from "../blocks/shell";
import type { HostConnection } from "./outputs";
import { webmailHostname } from "./webmail-config";
import { SsoRealm, type SsoRealmSmtp } from "./sso-realm";

export const KEYCLOAK_TYPE = "alacarte:platform:Keycloak";

/** Keycloak, pinned (keycloak/keycloak-oauth-sig#1058, Sep 2026). */
export const KEYCLOAK_IMAGE = "quay.io/keycloak/keycloak:26.7.2";

/**
 * Client id of the temporary bootstrap admin (a service account of the master realm, created by
 * Keycloak on first start from `KC_BOOTSTRAP_ADMIN_CLIENT_*`). It is used once, to create the
 * permanent admin, then deleted (docs/services/keycloak.md "Admin").
 */
export const BOOTSTRAP_ADMIN_CLIENT_ID = "alacarte-bootstrap";

/** Client id of the permanent admin the program sets up in the master realm and the providers use. */
export const PERMANENT_ADMIN_CLIENT_ID = "alacarte-admin";

/** Keycloak's management port (health, metrics). */
export const KEYCLOAK_MANAGEMENT_PORT = 9000;

/** How long the first `up` waits for a starting Keycloak (database migration included). */
export const KEYCLOAK_READY_TIMEOUT_SECONDS = 600;

/**
 * Seconds the Keycloak provider waits for an answer: a realm creation on a busy Keycloak takes
 * longer than the provider's default of 5 s, and a timed-out create that succeeded fails the next
 * try with 409 (the provider does not retry, terraform-provider-keycloak `keycloak_client.go`).
 */
export const KEYCLOAK_CLIENT_TIMEOUT_SECONDS = 60;

/** Keycloak's HTTP port behind the proxy (TLS ends at Traefik). */
export const KEYCLOAK_HTTP_PORT = 8080;

/**
 * Readiness probe on the management port. The image has no curl: bash's /dev/tcp does the request
 * (docs/services/keycloak.md "Ports and health").
 */
export const KEYCLOAK_HEALTHCHECK = ["CMD", "bash", "-c", readinessProbe(KEYCLOAK_MANAGEMENT_PORT)];

/** Pure: one readiness request to the management port, in bash (the image has no curl); succeeds on 200 only, within 5 s. */
export function readinessProbe(port: number): string {
  // read -t bounds one probe: a port that accepts and never answers must not outlast the wait's limit.
  return `exec 3<>/dev/tcp/127.0.0.1/${port}; printf 'GET /health/ready HTTP/1.0\\r\\n\\r\\n' >&3; read -t 5 -r status <&3 && [[ "$status" == "HTTP/1."?" 200"* ]]`;
}

/**
 * Pure: the bash script the readiness wait runs inside the container: the probe every 2 s until
 * it answers 200, failing with a message past `timeoutSeconds`. Each probe runs in its own
 * subshell, so its descriptor closes with it.
 */
export function readinessWaitScript(port: number, timeoutSeconds: number): string {
  return [
    // SECONDS counts whole seconds from the shell's start, whose first second may be nearly over
    // (bash(1), "SECONDS"): one more keeps the wait from ending up to a second early.
    `deadline=$((SECONDS + ${timeoutSeconds} + 1))`,
    `until ( ${readinessProbe(port)} ) 2>/dev/null; do`,
    `  if [ "$SECONDS" -ge "$deadline" ]; then echo "Keycloak is not ready after ${timeoutSeconds} s (GET :${port}/health/ready)" >&2; exit 1; fi`,
    "  sleep 2",
    "done",
  ].join("\n");
}

/**
 * Pure: the paths where a person signs in, registers or resets a password, which the proxy
 * rate-limits per address instead of a captcha (docs/services/keycloak.md "Self-registration").
 * The token endpoint is left out: apps call it from the platform's own addresses for everyone.
 */
export function signInPaths(realm: string): string[] {
  const base = `/realms/${realm}`;
  return [`${base}/login-actions/`, `${base}/protocol/openid-connect/auth`, `${base}/protocol/openid-connect/registrations`];
}

/**
 * A minute's worth of sign-in pages per address: a sign-in takes two or three of these requests,
 * so an office behind one address can still sign in twenty people a minute, and a password
 * guesser gets a few dozen tries a minute, beside Keycloak's own brute-force lockout.
 */
export const SIGN_IN_RATE_LIMIT = { average: 60, periodSeconds: 60, burst: 30 } as const;

/** Public hostname of Keycloak. */
export function keycloakHostname(baseDomain: string): string {
  return `sso.${baseDomain}`;
}

export interface KeycloakEnvInput {
  /** Base domain; Keycloak answers on `sso.<baseDomain>`. */
  baseDomain: string;
  /** Database server hostname on the shared network. */
  dbHost: pulumi.Input<string>;
  /** Database name. */
  dbName: pulumi.Input<string>;
  /** Database user. */
  dbUser: pulumi.Input<string>;
}

/**
 * Pure: the non-secret environment of the Keycloak container (26.x names, docs/services/keycloak.md "Environment"), sorted by key.
 * The secrets (`KC_DB_PASSWORD`, `KC_BOOTSTRAP_ADMIN_CLIENT_SECRET`) are not here: they go through `secretEnv`.
 */
export function keycloakEnv(input: KeycloakEnvInput): Record<string, pulumi.Input<string>> {
  const env: Record<string, pulumi.Input<string>> = {
    KC_BOOTSTRAP_ADMIN_CLIENT_ID: BOOTSTRAP_ADMIN_CLIENT_ID,
    KC_DB: "postgres",
    KC_DB_URL_DATABASE: input.dbName,
    KC_DB_URL_HOST: input.dbHost,
    KC_DB_USERNAME: input.dbUser,
    KC_HEALTH_ENABLED: "true",
    KC_HOSTNAME: `https://${keycloakHostname(input.baseDomain)}`,
    KC_HTTP_ENABLED: "true",
    KC_METRICS_ENABLED: "true",
    KC_PROXY_HEADERS: "xforwarded",
  };
  return Object.fromEntries(Object.entries(env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export interface KeycloakArgs {
  /** Host Keycloak and its database run on. */
  host: HostConnection;
  /** Base domain; Keycloak answers on `https://sso.<baseDomain>`. */
  baseDomain: string;
  /** Docker network shared with the reverse proxy (and the database). */
  network: pulumi.Input<string>;
  /** Name of the realm everyone signs in to. @default "alacarte" */
  realm?: string;
  /** Realm SMTP server; without it Keycloak cannot send verification mails. */
  smtp?: SsoRealmSmtp;
  /** Usernames of the platform administrators. @default [] */
  admins?: string[];
  /** Size of the database volume in GB (2^30 bytes). @default 5 */
  dbSizeGb?: number;
  /** Protect the database volume, the realm and the tenants group against deletion. @default true */
  protect?: boolean;
}

/**
 * Keycloak with its own Postgres; a wait for its readiness; the permanent admin (set up once by
 * the bootstrap admin, which is then deleted); the provider every realm resource goes through;
 * and the platform realm (components/platform/sso-realm.ts).
 */
export class Keycloak extends pulumi.ComponentResource {
  /** Public URL, e.g. `https://sso.example.org`. */
  readonly url: string;
  /** Realm name. */
  readonly realm: string;
  readonly sso: SsoRealm;
  /** Provider talking to this Keycloak as the permanent admin, once it is ready. */
  readonly provider: keycloak.Provider;

  constructor(name: string, args: KeycloakArgs, opts?: pulumi.ComponentResourceOptions) {
    super(KEYCLOAK_TYPE, name, {}, opts);
    const protect = args.protect ?? true;
    const realmName = args.realm ?? "alacarte";
    const hostname = keycloakHostname(args.baseDomain);
    this.url = `https://${hostname}`;
    this.realm = realmName;

    const db = new Database(
      `${name}-db`,
      {
        engine: "postgres",
        name: "keycloak",
        server: { args: { host: args.host, networks: [args.network], sizeGb: args.dbSizeGb ?? 5 } },
        protect,
      },
      { parent: this },
    );

    const bootstrapSecret = new random.RandomPassword(`${name}-bootstrap-admin-secret`, { length: 40, special: false }, { parent: this });
    const permanentSecret = new random.RandomPassword(`${name}-admin-secret`, { length: 40, special: false }, { parent: this });

    const server = new ContainerService(
      `${name}-server`,
      {
        image: KEYCLOAK_IMAGE,
        host: args.host,
        command: ["start"],
        env: keycloakEnv({ baseDomain: args.baseDomain, dbHost: db.hostname, dbName: db.database, dbUser: db.username }),
        secretEnv: { KC_BOOTSTRAP_ADMIN_CLIENT_SECRET: bootstrapSecret.result, KC_DB_PASSWORD: db.password },
        networks: [args.network],
        routes: [
          // Watched by its realm's discovery document, which answers only once the realm is served.
          { hostnames: [hostname], port: KEYCLOAK_HTTP_PORT, probe: { path: `/realms/${realmName}/.well-known/openid-configuration` } },
          {
            hostnames: [hostname],
            port: KEYCLOAK_HTTP_PORT,
            pathPrefixes: signInPaths(realmName),
            rateLimit: SIGN_IN_RATE_LIMIT,
            probe: false,
          },
        ],
        healthCheck: { test: KEYCLOAK_HEALTHCHECK, intervalSeconds: 30, retries: 5 },
        limits: { memoryMb: 1536, cpus: 1 },
        protect,
      },
      { parent: this, dependsOn: [db] },
    );

    // The first `up` creates the realm while Keycloak is still starting: wait for it first.
    const ready = new command.remote.Command(
      `${name}-ready`,
      {
        connection: hostConnection(args.host),
        create: pulumi.interpolate`docker exec ${server.containerName} bash -c ${shellQuote(readinessWaitScript(KEYCLOAK_MANAGEMENT_PORT, KEYCLOAK_READY_TIMEOUT_SECONDS))}`,
        // A new container (image upgrade) is waited for again.
        triggers: [server.container.id],
      },
      {
        parent: this,
        customTimeouts: { create: `${KEYCLOAK_READY_TIMEOUT_SECONDS + 60}s`, update: `${KEYCLOAK_READY_TIMEOUT_SECONDS + 60}s` },
      },
    );

    // The permanent admin, through the public URL, the way the provider will reach Keycloak.
    // Secrets go on standard input (infra/cli/keycloak-admin.ts).
    const admin = new command.local.Command(
      `${name}-permanent-admin`,
      {
        // By name, not by path: a path of this machine would change the command on another.
        create: "node --import tsx infra/cli/keycloak-admin.ts",
        dir: PROJECT_ROOT,
        stdin: pulumi.secret(
          pulumi.jsonStringify({
            url: this.url,
            bootstrapClientId: BOOTSTRAP_ADMIN_CLIENT_ID,
            bootstrapSecret: bootstrapSecret.result,
            adminClientId: PERMANENT_ADMIN_CLIENT_ID,
            adminSecret: permanentSecret.result,
          }),
        ),
        triggers: [permanentSecret.id],
        logging: "stdoutAndStderr",
      },
      { parent: this, dependsOn: [ready] },
    );

    // initialLogin false: a preview works before Keycloak answers (the provider logs in lazily).
    this.provider = new keycloak.Provider(
      `${name}-provider`,
      {
        url: this.url,
        basePath: "",
        realm: "master",
        clientId: PERMANENT_ADMIN_CLIENT_ID,
        clientSecret: pulumi.secret(permanentSecret.result),
        initialLogin: false,
        clientTimeout: KEYCLOAK_CLIENT_TIMEOUT_SECONDS,
      },
      // Every resource of the realm goes through this provider, so it waits for the admin.
      { parent: this, dependsOn: [admin] },
    );

    this.sso = new SsoRealm(
      name,
      {
        realm: realmName,
        baseDomain: args.baseDomain,
        keycloakUrl: this.url,
        ...(args.smtp ? { smtp: args.smtp } : {}),
        admins: args.admins ?? [],
        webmailHostname: webmailHostname(args.baseDomain),
        protect,
      },
      { parent: this, provider: this.provider, keycloakComponent: this },
    );
    this.registerOutputs({ url: this.url, realm: this.realm });
  }
}
