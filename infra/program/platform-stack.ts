import * as pulumi from "@pulumi/pulumi";
import { Platform, type PlatformOutputValues } from "../../components/platform/platform";
import type { HostConnection, PlatformOutputs } from "../../components/platform/outputs";
import { CONFIG_NAMESPACE, parsePlatformConfig, platformConfigSchema, type PlatformConfig } from "../model/platform-config";

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

export function hostConnections(config: PlatformConfig): Record<string, HostConnection> {
  return Object.fromEntries(Object.entries(config.hosts).map(([name, h]) => [name, { name, address: h.address, user: h.user }]));
}

/** The platform stack of an environment: the shared services, from its settings file. */
export function buildPlatformStack(env: string): Record<string, unknown> {
  const config = parsePlatformConfig(readConfig(), `stacks/Pulumi.${pulumi.getStack()}.yaml`);
  const platform = new Platform("platform", {
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
  });
  return splitPlatformOutputs(platform.outputs);
}

/**
 * Tenant stacks read two outputs: `platform` in the clear (hostnames, ids) and `platformSecrets`.
 * A StackReference marks a whole output secret when any part of it is, so keeping secrets apart
 * keeps tenant previews readable.
 */
function splitPlatformOutputs(o: PlatformOutputValues): Record<string, unknown> {
  const { adminClientSecret, ...keycloakPublic } = o.keycloak;
  const { secretAccessKey, accessKeyId, adminToken, ...storagePublic } = o.objectStorage;
  return {
    platform: { ...o, keycloak: keycloakPublic, objectStorage: storagePublic },
    platformSecrets: pulumi.secret({
      keycloakAdminClientSecret: adminClientSecret,
      objectStorageAccessKeyId: accessKeyId,
      objectStorageSecretAccessKey: secretAccessKey,
      objectStorageAdminToken: adminToken,
    }),
  };
}

/** The platform stack's outputs as tenant stacks read them. */
export interface PlatformReference {
  platform: Omit<PlatformOutputs, "keycloak" | "objectStorage"> & {
    keycloak: Omit<PlatformOutputs["keycloak"], "adminClientSecret">;
    objectStorage: Omit<PlatformOutputs["objectStorage"], "secretAccessKey" | "accessKeyId">;
  };
  platformSecrets: {
    keycloakAdminClientSecret: string;
    objectStorageAccessKeyId: string;
    objectStorageSecretAccessKey: string;
    objectStorageAdminToken: string;
  };
}
