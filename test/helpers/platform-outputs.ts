import { placedHost, type PlatformConfig } from "../../infra/model/platform-config";
import { hostConnections, type PlatformReference } from "../../infra/program/platform-stack";

/** The platform stack's outputs as a tenant stack reads them, for an environment's config (placeholder values). */
export function platformReference(config: Readonly<PlatformConfig>): PlatformReference {
  const hosts = hostConnections(config);
  const on = (role: keyof PlatformConfig["placement"]) => hosts[placedHost(config, role)]!;
  return {
    platform: {
      environment: "prod",
      baseDomain: config.baseDomain,
      publicIp: config.publicIp,
      hosts,
      proxy: { host: on("proxy"), network: "proxy", routesDir: "/srv/alacarte/routes" },
      keycloak: {
        url: `https://sso.${config.baseDomain}`,
        realm: "alacarte",
        tenantsGroupId: "tenants-id",
        adminClientId: "alacarte-tenants",
        accountsClientId: "alacarte-accounts",
        memberServiceRoleIds: { git: "member-git-id", nextcloud: "member-nextcloud-id" },
      },
      objectStorage: {
        host: on("storage"),
        endpoint: `https://s3.${config.baseDomain}`,
        region: "garage",
        webUpstream: "http://garage:3902",
      },
      mail: {
        host: on("mail"),
        hostname: `mail.${config.baseDomain}`,
        fragmentsDir: "/srv/alacarte/mail/fragments",
        sharedDomains: [...config.sharedMailDomains],
        wellKnownUpstream: "http://platform-mail-well-known-nginx:8080",
      },
      office: { url: `https://office.${config.baseDomain}`, host: on("office"), fragmentsDir: "/srv/alacarte/office/fragments" },
    },
    platformSecrets: {
      keycloakAdminClientSecret: "kc-secret",
      keycloakAccountsClientSecret: "kc-accounts-secret",
      objectStorageAccessKeyId: "GKplatform",
      objectStorageSecretAccessKey: "s3-secret",
      objectStorageAdminToken: "admin-token",
      smtpPassword: "smtp-secret",
    },
  } as PlatformReference;
}
