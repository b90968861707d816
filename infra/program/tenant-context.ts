import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as keycloak from "@pulumi/keycloak";
import type { AppMail } from "../../components/blocks/app-mail";
import { Database, databaseName } from "../../components/blocks/database";
import type { DatabaseEngine } from "../../components/blocks/database";
import { DatabaseServer } from "../../components/blocks/database-server";
import { issuerUrl } from "../../components/blocks/oidc-client";
import { officeFolders } from "../../components/platform/office-fragments";
import { officeHostname } from "../../components/platform/office-server";
import { KEYCLOAK_CLIENT_TIMEOUT_SECONDS } from "../../components/platform/keycloak";
import { dockerHostUrl } from "../../components/platform/platform";
import type { HostConnection } from "../../components/platform/outputs";
import { DEFAULT_ROUTES_DIR } from "../../components/platform/reverse-proxy";
import { TenantIdentity } from "../../components/tenant/identity";
import { needsSignInGate, type TenantPlan } from "../model/expand";
import { TENANT_DATABASE_SERVER } from "../model/host-load";
import { tenantResourceName } from "../model/naming";
import { placedHost, type PlatformConfig } from "../model/platform-config";
import type { PlatformReference } from "./platform-stack";

export interface TenantContextArgs {
  env: string;
  slug: string;
  /** The environment's platform settings (hosts, placement, shared domains, protection). */
  config: Readonly<PlatformConfig>;
  /** The tenant's expansion. */
  plan: TenantPlan;
  hosts: Record<string, HostConnection>;
  /** The platform stack's outputs, through the tenant stack's StackReference. */
  platform: pulumi.Output<PlatformReference["platform"]>;
  secrets: pulumi.Output<PlatformReference["platformSecrets"]>;
}

/**
 * What every offer of a tenant stands on, made once per tenant stack and handed to each offer's
 * builder (infra/program/offer-builders.ts): the providers (Keycloak; Docker on the host an offer
 * is placed on), the tenant's own network and the proxy's, the routes folder, the
 * tenant's identity (groups and sign-in gate), the platform's outputs, and the tenant's database
 * server, one per engine, on the tenant's own network and shared by its offers only.
 *
 * Providers, networks and database servers are made on first use: a tenant whose offers need none
 * registers none, so a stack holds only what its offers use (docs/architecture.md).
 */
export class TenantContext {
  readonly env: string;
  readonly slug: string;
  readonly config: Readonly<PlatformConfig>;
  readonly plan: TenantPlan;
  readonly hosts: Record<string, HostConnection>;
  readonly platform: pulumi.Output<PlatformReference["platform"]>;
  readonly secrets: pulumi.Output<PlatformReference["platformSecrets"]>;
  /** Keycloak, signed in with the platform's admin client. */
  readonly keycloak: keycloak.Provider;
  /** The tenant's groups and, when an offer signs in through Keycloak, its sign-in gate. */
  readonly identity: TenantIdentity;
  /** Protect data resources (platform setting). */
  readonly protect: boolean;

  private readonly dockerProviders = new Map<string, docker.Provider>();
  private ownNetwork?: docker.Network;
  private readonly databaseServers = new Map<DatabaseEngine, DatabaseServer>();

  constructor(args: TenantContextArgs) {
    this.env = args.env;
    this.slug = args.slug;
    this.config = args.config;
    this.plan = args.plan;
    this.hosts = args.hosts;
    this.platform = args.platform;
    this.secrets = args.secrets;
    this.protect = args.config.protect;

    // Each lifted property is an Output of its own: taken once, used by every resource.
    const keycloakOutputs = args.platform.keycloak;
    const realm = keycloakOutputs.realm;
    this.keycloak = new keycloak.Provider("keycloak", {
      url: keycloakOutputs.url,
      realm,
      clientId: keycloakOutputs.adminClientId,
      clientSecret: args.secrets.keycloakAdminClientSecret,
      basePath: "",
      clientTimeout: KEYCLOAK_CLIENT_TIMEOUT_SECONDS,
      // Preview must not need Keycloak up (pulumi-keycloak #128, docs/pulumi.md); apply logs in on first use.
      initialLogin: false,
    });
    this.identity = new TenantIdentity(
      tenantResourceName(args.slug, "identity"),
      {
        slug: args.slug,
        realmId: realm,
        tenantsGroupId: keycloakOutputs.tenantsGroupId,
        memberServiceRoleIds: { git: keycloakOutputs.memberServiceRoleIds.git, nextcloud: keycloakOutputs.memberServiceRoleIds.nextcloud },
        members: args.plan.members,
        gate: needsSignInGate(args.plan),
      },
      { provider: this.keycloak },
    );
  }

  /** The host a service of the platform config's placement runs on. */
  host(role: keyof PlatformConfig["placement"]): HostConnection {
    return this.hosts[placedHost(this.config, role)]!;
  }

  /** Where the tenant's own containers run (placement `apps`). */
  get appsHost(): HostConnection {
    return this.host("apps");
  }

  /** The reverse proxy: its host, Traefik's file-provider folder and the public address routes wait for. */
  get proxy(): { host: HostConnection; routesDir: string; publicIp: string } {
    return { host: this.host("proxy"), routesDir: DEFAULT_ROUTES_DIR, publicIp: this.config.publicIp };
  }

  /**
   * The proxy's Docker network, which a routed container joins. It exists on the proxy's host only
   * (components/platform/platform.ts), so tenant containers can be routed this way only while the
   * apps run on the proxy's host.
   */
  get proxyNetwork(): pulumi.Output<string> {
    if (this.config.placement.apps !== this.config.placement.proxy) {
      throw new pulumi.RunError(
        `stack ${this.env}.${this.slug}: placement.apps (${this.config.placement.apps}) must be the proxy's host (${this.config.placement.proxy}) for its containers to be routed`,
      );
    }
    return this.platform.proxy.network;
  }

  /**
   * How the tenant's apps send mail: the platform's SMTP login (platform config `smtp`, which the
   * platform requires with a username; docs/services/app-setup.md "Mail").
   */
  get mail(): AppMail {
    const smtp = this.config.smtp;
    if (!smtp?.username)
      throw new pulumi.RunError(`stack ${this.env}.${this.slug}: the platform config has no smtp login for the apps' mail`);
    return {
      host: smtp.host,
      port: smtp.port,
      starttls: smtp.starttls,
      username: smtp.username,
      password: this.secrets.smtpPassword,
      from: smtp.from,
    };
  }

  /**
   * The platform's office server, from the platform config as the mail's fragments are: its public
   * URL, and the proxy host's folder of allowed-host fragments (docs/services/office.md).
   */
  get office(): { url: string; host: HostConnection; fragmentsDir: string } {
    return {
      url: `https://${officeHostname(this.config.baseDomain)}`,
      host: this.host("office"),
      fragmentsDir: officeFolders().fragmentsDir,
    };
  }

  /** Keycloak's issuer URL of the platform's realm, which every app's OIDC discovery starts from. */
  get issuerUrl(): pulumi.Output<string> {
    return this.platform.keycloak.apply((k) => issuerUrl(k.url, k.realm));
  }

  /** Docker on a host, one provider per host and stack. */
  docker(host: HostConnection = this.appsHost): docker.Provider {
    let provider = this.dockerProviders.get(host.name);
    if (!provider) {
      provider = new docker.Provider(`docker-${host.name}`, { host: dockerHostUrl(host), sshOpts: ["-o", "BatchMode=yes"] });
      this.dockerProviders.set(host.name, provider);
    }
    return provider;
  }

  /** The tenant's own Docker network on the apps host: its apps and its database servers, nobody else's. */
  network(): pulumi.Output<string> {
    this.ownNetwork ??= new docker.Network(
      tenantResourceName(this.slug, "network"),
      { name: tenantResourceName(this.slug, "network"), driver: "bridge", attachable: true },
      { provider: this.docker() },
    );
    return this.ownNetwork.name;
  }

  /** The tenant's database server of an engine: one per tenant and engine, on the tenant's network. */
  databaseServer(engine: DatabaseEngine): DatabaseServer {
    let server = this.databaseServers.get(engine);
    if (!server) {
      server = new DatabaseServer(
        tenantResourceName(this.slug, engine),
        {
          engine,
          host: this.appsHost,
          networks: [this.network()],
          sizeGb: TENANT_DATABASE_SERVER.diskGb,
          limits: { memoryMb: TENANT_DATABASE_SERVER.memoryMb, cpus: TENANT_DATABASE_SERVER.cpus },
          protect: this.protect,
        },
        { provider: this.docker() },
      );
      this.databaseServers.set(engine, server);
    }
    return server;
  }

  /**
   * A database of one offer on the tenant's server of its engine, named from the slug and the
   * offer (`amis_du_velo_wordpress`), parented to the offer's component.
   */
  database(offer: string, engine: DatabaseEngine, parent: pulumi.Resource): Database {
    const server = this.databaseServer(engine);
    return new Database(
      `${tenantResourceName(this.slug, offer)}-db`,
      {
        engine,
        name: databaseNameOf(this.slug, offer),
        server: { existing: server.ref },
        protect: this.protect,
      },
      { parent },
    );
  }
}

/**
 * The database and user name of a tenant's offer, from the slug and the offer. A slug may start
 * with a digit, which an unquoted SQL name may not: such a name takes a `t_` prefix.
 */
function databaseNameOf(slug: string, offer: string): string {
  return databaseName(/^[0-9]/.test(slug) ? `t_${slug}` : slug, offer);
}
