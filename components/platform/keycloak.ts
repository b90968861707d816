import * as pulumi from "@pulumi/pulumi";
import * as keycloak from "@pulumi/keycloak";
import * as random from "@pulumi/random";
import { ContainerService } from "../blocks/container-service";
import { Database } from "../blocks/database";
import type { HostConnection } from "./outputs";

export const KEYCLOAK_TYPE = "alacarte:platform:Keycloak";

/** Keycloak, pinned (keycloak/keycloak-oauth-sig#1058, Sep 2026). */
export const KEYCLOAK_IMAGE = "quay.io/keycloak/keycloak:26.7.2";

/** Username of the temporary bootstrap admin of the master realm. */
export const BOOTSTRAP_ADMIN_USERNAME = "alacarte-bootstrap";

/** Client id of the confidential service-account client tenant stacks manage the realm with. */
export const TENANTS_ADMIN_CLIENT_ID = "alacarte-tenants";

/** Roles of the built-in `realm-management` client granted to the tenants' service account (sorted). */
export const TENANTS_ADMIN_ROLES = ["manage-clients", "manage-realm", "manage-users", "view-realm"] as const;

/** Keycloak's HTTP port behind the proxy (TLS ends at Traefik). */
export const KEYCLOAK_HTTP_PORT = 8080;

/**
 * Readiness probe on the management port. The image has no curl: bash's /dev/tcp does the request
 * (docs/services/keycloak.md "Ports and health").
 */
export const KEYCLOAK_HEALTHCHECK = [
  "CMD",
  "bash",
  "-c",
  "exec 3<>/dev/tcp/127.0.0.1/9000; printf 'GET /health/ready HTTP/1.0\\r\\n\\r\\n' >&3; grep -q 'HTTP/1.. 200' <&3",
];

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
 * The passwords (`KC_DB_PASSWORD`, `KC_BOOTSTRAP_ADMIN_PASSWORD`) are not here: they go through `secretEnv`.
 */
export function keycloakEnv(input: KeycloakEnvInput): Record<string, pulumi.Input<string>> {
  const env: Record<string, pulumi.Input<string>> = {
    KC_BOOTSTRAP_ADMIN_USERNAME: BOOTSTRAP_ADMIN_USERNAME,
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

/** Realm SMTP server (Keycloak sends verification and "set your password" mails with it). */
export interface KeycloakSmtpArgs {
  /** SMTP host. @example "mail.example.org" */
  host: string;
  /** SMTP port. @default 587 */
  port?: number;
  /** Sender address. @example "noreply@example.org" */
  from: string;
  /** Display name of the sender. @default "alacarte" */
  fromDisplayName?: string;
  /** STARTTLS on the port. @default true */
  starttls?: boolean;
  /** SMTP login, when the server needs one. */
  username?: pulumi.Input<string>;
  /** SMTP password (secret). */
  password?: pulumi.Input<string>;
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
  smtp?: KeycloakSmtpArgs;
  /** Size of the database volume in GB (2^30 bytes). @default 5 */
  dbSizeGb?: number;
  /** Protect the database volume, the realm and the tenants group against deletion. @default true */
  protect?: boolean;
}

/**
 * Keycloak with its own Postgres, the realm, the `/tenants` group and the service-account client
 * tenant stacks use to manage their groups and clients.
 */
export class Keycloak extends pulumi.ComponentResource {
  /** Public URL, e.g. `https://sso.example.org`. */
  readonly url: string;
  /** Realm name. */
  readonly realm: string;
  /** Realm id (as the Keycloak provider expects in `realmId`). */
  readonly realmId: pulumi.Output<string>;
  /** Id of the top-level `/tenants` group. */
  readonly tenantsGroupId: pulumi.Output<string>;
  /** Client id of the tenants' service account client. */
  readonly adminClientId: pulumi.Output<string>;
  /** Its client secret (secret). */
  readonly adminClientSecret: pulumi.Output<string>;
  /** Provider talking to this Keycloak as the bootstrap admin. */
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

    const adminPassword = new random.RandomPassword(`${name}-bootstrap-admin-password`, { length: 32, special: false }, { parent: this });

    new ContainerService(
      `${name}-server`,
      {
        image: KEYCLOAK_IMAGE,
        host: args.host,
        command: ["start"],
        env: keycloakEnv({ baseDomain: args.baseDomain, dbHost: db.hostname, dbName: db.database, dbUser: db.username }),
        secretEnv: { KC_BOOTSTRAP_ADMIN_PASSWORD: adminPassword.result, KC_DB_PASSWORD: db.password },
        networks: [args.network],
        routes: [{ hostnames: [hostname], port: KEYCLOAK_HTTP_PORT }],
        healthCheck: { test: KEYCLOAK_HEALTHCHECK, intervalSeconds: 30, retries: 5 },
        limits: { memoryMb: 1536, cpus: 1 },
        protect,
      },
      { parent: this, dependsOn: [db] },
    );

    // initialLogin false: a preview works before Keycloak answers (the provider logs in lazily).
    this.provider = new keycloak.Provider(
      `${name}-provider`,
      {
        url: this.url,
        basePath: "",
        realm: "master",
        clientId: "admin-cli",
        username: BOOTSTRAP_ADMIN_USERNAME,
        password: pulumi.secret(adminPassword.result),
        initialLogin: false,
      },
      { parent: this },
    );
    const kc = { parent: this, provider: this.provider };

    const smtp = args.smtp;
    const realm = new keycloak.Realm(
      `${name}-realm`,
      {
        realm: realmName,
        enabled: true,
        registrationAllowed: true,
        verifyEmail: true,
        resetPasswordAllowed: true,
        loginWithEmailAllowed: true,
        duplicateEmailsAllowed: false,
        sslRequired: "external",
        ...(smtp
          ? {
              smtpServer: {
                host: smtp.host,
                port: String(smtp.port ?? 587),
                from: smtp.from,
                fromDisplayName: smtp.fromDisplayName ?? "alacarte",
                starttls: smtp.starttls ?? true,
                ...(smtp.username !== undefined && smtp.password !== undefined
                  ? { auth: { username: smtp.username, password: pulumi.secret(smtp.password) } }
                  : {}),
              },
            }
          : {}),
      },
      // The realm holds every account: never deleted by an edit.
      { ...kc, protect, retainOnDelete: true },
    );

    const tenants = new keycloak.Group(
      `${name}-tenants-group`,
      { realmId: realm.id, name: "tenants" },
      { ...kc, protect, retainOnDelete: true },
    );

    const adminClient = new keycloak.openid.Client(
      `${name}-tenants-client`,
      {
        realmId: realm.id,
        clientId: TENANTS_ADMIN_CLIENT_ID,
        name: "alacarte tenant stacks",
        accessType: "CONFIDENTIAL",
        serviceAccountsEnabled: true,
        standardFlowEnabled: false,
        implicitFlowEnabled: false,
        directAccessGrantsEnabled: false,
      },
      kc,
    );

    const realmManagement = keycloak.openid.getClientOutput({ realmId: realm.id, clientId: "realm-management" }, kc);
    for (const role of TENANTS_ADMIN_ROLES) {
      new keycloak.openid.ClientServiceAccountRole(
        `${name}-tenants-${role}`,
        {
          realmId: realm.id,
          serviceAccountUserId: adminClient.serviceAccountUserId,
          clientId: realmManagement.id,
          role,
        },
        kc,
      );
    }

    this.realmId = realm.id;
    this.tenantsGroupId = tenants.id;
    this.adminClientId = adminClient.clientId;
    this.adminClientSecret = pulumi.secret(adminClient.clientSecret);
    this.registerOutputs({
      url: this.url,
      realm: this.realm,
      realmId: this.realmId,
      tenantsGroupId: this.tenantsGroupId,
      adminClientId: this.adminClientId,
      adminClientSecret: this.adminClientSecret,
    });
  }
}
