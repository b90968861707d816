import * as pulumi from "@pulumi/pulumi";
import { Platform, type PlatformArgs, PLATFORM_TYPE, type PlatformOutputValues } from "../../components/platform/platform";
import type { HostConnection, PlatformOutputs } from "../../components/platform/outputs";
import type { SsoRealmSmtp } from "../../components/platform/sso-realm";
import { PLATFORM_BACKUP_SET } from "../../components/platform/backup-fragments";
import { StackInventory } from "./stack-inventory";
import {
  CONFIG_NAMESPACE,
  ALERT_RELAY_PASSWORD_KEY,
  BACKUP_PASSWORD_KEY,
  BACKUP_S3_KEY_ID_KEY,
  BACKUP_S3_SECRET_KEY,
  parsePlatformConfig,
  platformConfigSchema,
  SMTP_PASSWORD_KEY,
  placedHost,
  type PlatformConfig,
} from "../model/platform-config";

/** The name of the platform stack's Platform component (its children's names start with it). */
export const PLATFORM_COMPONENT = "platform";

/** `MailServer` → `mail-server`. */
function kebabCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
}

/** Pulumi hands config values over as strings; objects and lists arrive as JSON. */
function readConfig(): Record<string, unknown> {
  const config = new pulumi.Config(CONFIG_NAMESPACE);
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(platformConfigSchema.shape ?? {})) {
    const value = config.get(key);
    if (value === undefined) continue;
    try {
      raw[key] = JSON.parse(value);
    } catch {
      raw[key] = value;
    }
  }
  return raw;
}

/**
 * The realm's SMTP from the platform config; its password is the config secret
 * `alacarte:smtpPassword`, set by ops after merge (docs/operations.md "Config secrets"): missing,
 * the program stops with Pulumi's message naming the key and the command that sets it.
 */
function realmSmtp(smtp: NonNullable<PlatformConfig["smtp"]>): SsoRealmSmtp {
  const { username, ...server } = smtp;
  if (username === undefined) return server;
  return { ...server, auth: { username, password: new pulumi.Config(CONFIG_NAMESPACE).requireSecret(SMTP_PASSWORD_KEY) } };
}

/**
 * The backups from the platform config; the repository's password is the config secret
 * `alacarte:backupPassword` (missing, the program stops with Pulumi's message naming it), and an
 * S3 repository's keys `alacarte:backupS3AccessKeyId` and `alacarte:backupS3SecretAccessKey`.
 */
function backupSettings(backup: PlatformConfig["backup"]): PlatformArgs["backup"] {
  const secrets = new pulumi.Config(CONFIG_NAMESPACE);
  const s3 = backup.repository.startsWith("s3:");
  return {
    repository: backup.repository,
    schedule: backup.schedule,
    pruneSchedule: backup.pruneSchedule,
    ...(backup.pruneHost !== undefined ? { pruneHost: backup.pruneHost } : {}),
    retention: backup.keep,
    password: secrets.requireSecret(BACKUP_PASSWORD_KEY),
    ...(s3
      ? { s3: { accessKeyId: secrets.requireSecret(BACKUP_S3_KEY_ID_KEY), secretAccessKey: secrets.requireSecret(BACKUP_S3_SECRET_KEY) } }
      : {}),
  };
}

export function hostConnections(config: PlatformConfig): Record<string, HostConnection> {
  return Object.fromEntries(Object.entries(config.hosts).map(([name, h]) => [name, { name, address: h.address, user: h.user }]));
}

/** The platform stack of an environment: the shared services, from its settings file. */
export function buildPlatformStack(env: string): Record<string, unknown> {
  const config = parsePlatformConfig(readConfig(), `stacks/Pulumi.${pulumi.getStack()}.yaml`);
  // Before any resource: each platform service's data is credited to the service (`reverse-proxy`, `mail-server`…).
  const inventory = new StackInventory((type) =>
    type.startsWith("alacarte:platform:") && type !== PLATFORM_TYPE ? kebabCase(type.slice("alacarte:platform:".length)) : undefined,
  );
  const hosts = hostConnections(config);
  const smtp = config.smtp ? realmSmtp(config.smtp) : undefined;
  const platform = new Platform(PLATFORM_COMPONENT, {
    baseDomain: config.baseDomain,
    acmeEmail: config.acmeEmail,
    publicIp: config.publicIp,
    hosts,
    placement: config.placement,
    sharedMailDomains: config.sharedMailDomains,
    storage: config.storage,
    mail: config.mail,
    images: config.images,
    office: config.office,
    protect: config.protect,
    environment: env,
    admins: config.admins.map((a) => a.username),
    ...(smtp ? { smtp } : {}),
    backup: backupSettings(config.backup),
    monitoring: {
      alertTo: config.monitoring.alertTo,
      outsideRelay: {
        ...config.monitoring.outsideRelay,
        password: new pulumi.Config(CONFIG_NAMESPACE).requireSecret(ALERT_RELAY_PASSWORD_KEY),
      },
    },
  });
  // The platform's own backup fragment on each host holding its data (docs/services/backups.md).
  inventory.backupSets(PLATFORM_BACKUP_SET, hosts, { mail: config.placement.mail, storage: config.placement.storage });
  // And what its services answer, watched by the monitoring (docs/services/monitoring.md).
  inventory.probeFile(hosts[placedHost(config, "monitoring")]!);
  return {
    ...splitPlatformOutputs(platform.outputs, smtp?.auth?.password),
    // For ops only (`pulumi stack output officeAdmin --show-secrets`, docs/services/office.md); no tenant stack reads it.
    officeAdmin: pulumi.secret({ username: platform.office.adminUsername, password: platform.office.adminPassword }),
  };
}

/**
 * Tenant stacks read two outputs: `platform` in the clear (hostnames, ids) and `platformSecrets`.
 * A StackReference marks a whole output secret when any part of it is, so keeping secrets apart
 * keeps tenant previews readable.
 */
function splitPlatformOutputs(o: PlatformOutputValues, smtpPassword: pulumi.Input<string> | undefined): Record<string, unknown> {
  const { adminClientSecret, accountsClientSecret, ...keycloakPublic } = o.keycloak;
  const { secretAccessKey, accessKeyId, adminToken, ...storagePublic } = o.objectStorage;
  return {
    platform: { ...o, keycloak: keycloakPublic, objectStorage: storagePublic },
    platformSecrets: pulumi.secret({
      keycloakAdminClientSecret: adminClientSecret,
      keycloakAccountsClientSecret: accountsClientSecret,
      objectStorageAccessKeyId: accessKeyId,
      objectStorageSecretAccessKey: secretAccessKey,
      objectStorageAdminToken: adminToken,
      // The tenants' apps send through the platform's mail with the realm's login (docs/services/app-setup.md "Mail").
      ...(smtpPassword !== undefined ? { smtpPassword } : {}),
    }),
  };
}

/** The platform stack's outputs as tenant stacks read them. */
export interface PlatformReference {
  platform: Omit<PlatformOutputs, "keycloak" | "objectStorage"> & {
    keycloak: Omit<PlatformOutputs["keycloak"], "adminClientSecret" | "accountsClientSecret">;
    objectStorage: Omit<PlatformOutputs["objectStorage"], "secretAccessKey" | "accessKeyId">;
  };
  platformSecrets: {
    keycloakAdminClientSecret: string;
    keycloakAccountsClientSecret: string;
    objectStorageAccessKeyId: string;
    objectStorageSecretAccessKey: string;
    objectStorageAdminToken: string;
    /** The platform's SMTP login's password (platform config `smtp`), for the tenants' apps. */
    smtpPassword: string;
  };
}
