import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as keycloak from "@pulumi/keycloak";
import { Provider as AwsProvider } from "@pulumi/aws/provider";
import { Platform, type PlatformOutputValues } from "../../components/platform/platform";
import { DEFAULT_MAIL_FRAGMENTS_DIR, mailHostname } from "../../components/platform/mail-server";
import { DEFAULT_ROUTES_DIR } from "../../components/platform/reverse-proxy";
import type { HostConnection, PlatformOutputs } from "../../components/platform/outputs";
import { TenantIdentity } from "../../components/tenant/identity";
import { MailDomain } from "../../components/tenant/mail-domain";
import { StaticSite } from "../../components/tenant/static-site";
import { loadCatalog } from "../catalog/catalog";
import { BUILT_OFFERS, expandTenant, needsSignInGate, offerFields, type TenantPlan } from "../model/expand";
import { parseStackName, platformStackReference, tenantResourceName } from "../model/naming";
import {
  CONFIG_NAMESPACE, parsePlatformConfig, platformConfigSchema, readPlatformConfig, TENANTS_DIR, type PlatformConfig,
} from "../model/platform-config";
import { displayName, formatProblem, loadTenantText, locateIssues } from "../contract/load";
import { tenantRules } from "../contract/rules";
import { todayUtc } from "../contract/validate";
import { validatedTenant } from "../contract/validated-tenants";

/**
 * The Pulumi program. The stack name decides what it builds: `<env>` is the platform stack of
 * that environment, `<env>.<slug>` the stack of one tenant (see naming.ts).
 */
export function buildStack(stackName: string): Record<string, unknown> {
  const id = parseStackName(stackName);
  return id.slug === null ? buildPlatformStack(id.env) : buildTenantStack(id.env, id.slug);
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

function hostConnections(config: PlatformConfig): Record<string, HostConnection> {
  return Object.fromEntries(Object.entries(config.hosts).map(([name, h]) => [name, { name, address: h.address, user: h.user }]));
}

function buildPlatformStack(env: string): Record<string, unknown> {
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

/** A tenant file that does not pass: the stack stops before creating anything, with the validate messages. */
function loadTenantPlan(env: string, slug: string, config: PlatformConfig): TenantPlan {
  const file = path.join(TENANTS_DIR, `${slug}.yaml`);
  if (!fs.existsSync(file)) throw new pulumi.RunError(`${displayName(file)}: no tenant file for stack ${env}.${slug}`);
  const bytes = fs.readFileSync(file);
  const catalog = loadCatalog();
  const expansion = { catalog, sharedMailDomains: config.sharedMailDomains, tenantHostSuffix: config.tenantHostSuffix };
  const validated = validatedTenant(file, bytes);
  if (validated) {
    for (const warning of validated.warnings) pulumi.log.warn(warning);
    return expandTenant(validated.tenant, expansion);
  }
  const loaded = loadTenantText(displayName(file), bytes);
  const problems = loaded.tenant
    ? locateIssues(loaded.tenant, tenantRules(loaded.tenant.tenant, {
      catalog, fileStem: slug, sharedMailDomains: config.sharedMailDomains, today: todayUtc(),
    }))
    : loaded.problems;
  const errors = problems.filter((p) => p.severity === "error");
  for (const p of problems) if (p.severity === "warning") pulumi.log.warn(formatProblem(p));
  if (!loaded.tenant || errors.length) throw new pulumi.RunError(errors.map(formatProblem).join("\n"));
  return expandTenant(loaded.tenant.tenant, expansion);
}

function buildTenantStack(env: string, slug: string): Record<string, unknown> {
  // The platform's settings file is plain data in the repository: hosts and shared domains are known
  // without waiting on the platform stack; what the platform generates arrives through the reference.
  const config = readPlatformConfig(env);
  const plan = loadTenantPlan(env, slug, config);
  const hosts = hostConnections(config);
  const platformRef = new pulumi.StackReference("platform", {
    name: platformStackReference(pulumi.getOrganization(), pulumi.getProject(), env),
  });
  const platform = platformRef.requireOutput("platform") as pulumi.Output<PlatformReference["platform"]>;
  const secrets = platformRef.requireOutput("platformSecrets") as pulumi.Output<PlatformReference["platformSecrets"]>;
  const outputs: Record<string, unknown> = { tenant: slug };

  // Each lifted property is an Output of its own: taken once, used by every resource.
  const keycloakOutputs = platform.keycloak;
  const realm = keycloakOutputs.realm;
  const sso = new keycloak.Provider("keycloak", {
    url: keycloakOutputs.url,
    realm,
    clientId: keycloakOutputs.adminClientId,
    clientSecret: secrets.keycloakAdminClientSecret,
    basePath: "",
    // Preview must not need Keycloak up (pulumi-keycloak #128); apply logs in on first use.
    initialLogin: false,
  });
  const identity = new TenantIdentity(tenantResourceName(slug, "identity"), {
    slug,
    realmId: realm,
    tenantsGroupId: keycloakOutputs.tenantsGroupId,
    members: plan.members,
    gate: needsSignInGate(plan),
  }, { provider: sso });
  outputs.groupId = identity.groupId;

  const mailHost = hosts[config.placement.mail]!;
  outputs.mailDns = Object.fromEntries(plan.mailDomains.map((d) => {
    const domain = new MailDomain(`${slug}-mail-${d.domain}`, {
      slug,
      domain: d.domain,
      shared: d.shared,
      mailboxes: d.mailboxes,
      redirections: d.redirections,
      mail: { host: mailHost, fragmentsDir: DEFAULT_MAIL_FRAGMENTS_DIR, hostname: mailHostname(config.baseDomain) },
    });
    return [d.domain, domain.dnsRecords];
  }));

  for (const offer of plan.offers) {
    if (!BUILT_OFFERS.has(offer.kind)) {
      for (const field of offerFields(offer)) {
        pulumi.log.warn(`services.${field}: the ${offer.kind} offer is not built yet; nothing is created for it`);
      }
      continue;
    }
    switch (offer.kind) {
      case "static-site": {
        const objects = new AwsProvider("object-storage", {
          region: platform.objectStorage.region,
          accessKey: secrets.objectStorageAccessKeyId,
          secretKey: secrets.objectStorageSecretAccessKey,
          endpoints: [{ s3: platform.objectStorage.endpoint }],
          s3UsePathStyle: true,
          skipCredentialsValidation: true,
          skipRegionValidation: true,
          skipRequestingAccountId: true,
          skipMetadataApiCheck: true,
        });
        const site = new StaticSite(tenantResourceName(slug, "website"), {
          slug,
          domains: offer.hostnames,
          storageGb: offer.storageGb,
          storage: {
            host: hosts[config.placement.storage]!,
            webUpstream: platform.objectStorage.webUpstream,
            adminToken: secrets.objectStorageAdminToken,
          },
          proxy: { host: hosts[config.placement.proxy]!, routesDir: DEFAULT_ROUTES_DIR, publicIp: config.publicIp },
          protect: config.protect,
        }, { providers: { aws: objects } });
        outputs.website = { bucket: site.bucketName, urls: site.urls, uploadAccessKeyId: site.uploadAccessKeyId, uploadSecretAccessKey: site.uploadSecretAccessKey };
        break;
      }
      case "wordpress":
      case "nextcloud":
      case "paheko":
      case "listmonk":
      case "video":
        break;
      default: {
        const unhandled: never = offer;
        throw new Error(`offer ${JSON.stringify(unhandled)} has no component`);
      }
    }
  }
  return outputs;
}

