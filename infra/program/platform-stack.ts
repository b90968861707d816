import * as pulumi from "@pulumi/pulumi";
import { Platform, type PlatformOutputValues } from "../../components/platform/platform";
import type { HostConnection, PlatformOutputs } from "../../components/platform/outputs";
import type { SsoRealmSmtp } from "../../components/platform/sso-realm";
import {
  CONFIG_NAMESPACE,
  parsePlatformConfig,
  platformConfigSchema,
  SMTP_PASSWORD_KEY,
  type PlatformConfig,
} from "../model/platform-config";

/** The name of the platform stack's Platform component (its children's names start with it). */
export const PLATFORM_COMPONENT = "platform";

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

export function hostConnections(config: PlatformConfig): Record<string, HostConnection> {
  return Object.fromEntries(Object.entries(config.hosts).map(([name, h]) => [name, { name, address: h.address, user: h.user }]));
}

/** The platform stack of an environment: the shared services, from its settings file. */
export function buildPlatformStack(env: string): Record<string, unknown> {
  const config = parsePlatformConfig(readConfig(), `stacks/Pulumi.${pulumi.getStack()}.yaml`);
  const platform = new Platform(PLATFORM_COMPONENT, {
    baseDomain: config.baseDomain,
    acmeEmail: config.acmeEmail,
    publicIp: config.publicIp,
    hosts: hostConnections(config),
    placement: config.placement,
    sharedMailDomains: config.sharedMailDomains,
    storage: config.storage,
    mail: config.mail,
    protect: config.protect,
    environment: env,
    admins: config.admins.map((a) => a.username),
    ...(config.smtp ? { smtp: realmSmtp(config.smtp) } : {}),
  });
  return splitPlatformOutputs(platform.outputs);
}

/**
 * Tenant stacks read two outputs: `platform` in the clear (hostnames, ids) and `platformSecrets`.
 * A StackReference marks a whole output secret when any part of it is, so keeping secrets apart
 * keeps tenant previews readable.
 */
function splitPlatformOutputs(o: PlatformOutputValues): Record<string, unknown> {
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
  };
}
