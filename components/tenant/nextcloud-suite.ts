import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { type AppMail, mailAddressParts } from "../blocks/app-mail";
import { extensionPins, imageOf } from "../blocks/app-image";
import { AppSetup, appScript } from "../blocks/app-setup";
import { ContainerService, type ContainerServiceArgs } from "../blocks/container-service";
import { OfficeAccess } from "../blocks/office-access";
import type { Database } from "../blocks/database";
import { OidcClient } from "../blocks/oidc-client";
import { ProxyRoute } from "../blocks/proxy-route";
import type { SignInGate } from "../blocks/sign-in-gate";
import type { HostConnection } from "../platform/outputs";
import type { StorageQuota } from "../units";
import {
  NEXTCLOUD_ADMIN_USER,
  NEXTCLOUD_HTML_GB,
  NEXTCLOUD_IMAGE,
  NEXTCLOUD_LIMITS,
  nextcloudAppIds,
  nextcloudGroupRegex,
  nextcloudMemberArgs,
  REDIS,
  TRUSTED_PROXY_RANGES,
} from "./nextcloud-image";

export * from "./nextcloud-image";

/** Type token of {@link NextcloudSuite}; ends up in URNs, never rename it without an alias. */
export const NEXTCLOUD_SUITE_TYPE = "alacarte:tenant:NextcloudSuite";

export interface NextcloudSuiteArgs {
  /** Tenant slug; names every resource, the OIDC client and the group whose members sign in. @example "amis-du-velo" */
  slug: string;
  /** Public hostname of the suite; its route goes live once its DNS points at the proxy. @example "cloud.amisduvelo.org" */
  hostname: string;
  /**
   * Storage tier in GB (2^30 bytes), for the whole instance: the code volume's 2 GB and the data
   * volume (the rest), which is also every account's quota. @example 20
   */
  storageGb: number;
  /** The tenant file's apps (`forms`, `polls`, `calendar`, `contacts`, `deck`, `notes`, `tasks`, `office`). */
  apps: string[];
  /** Nextcloud version, one of the catalog's (`offers.nextcloud.versions`). @example "34.0.2" */
  version: string;
  /** The tenant's members: each gets an account, the admins administer the suite. */
  members: { username: string; admin: boolean }[];
  /** Host the containers run on (the tenant's apps host). */
  host: HostConnection;
  /** The tenant's own network (its database server, its other apps). */
  tenantNetwork: pulumi.Input<string>;
  /** The reverse proxy's network, which the web container joins for its route. */
  proxyNetwork: pulumi.Input<string>;
  /** The reverse proxy: where the route's fragment is written, and the address DNS must point at. */
  proxy: { host: HostConnection; routesDir: string; publicIp: pulumi.Input<string> };
  /** Makes the suite's PostgreSQL database, parented to the suite, on the tenant's server. */
  database: (parent: pulumi.Resource) => Database;
  /** Keycloak: the realm, its issuer URL and the tenant's sign-in gate. */
  keycloak: { realmId: pulumi.Input<string>; issuerUrl: pulumi.Input<string>; gate?: SignInGate };
  /** How the suite sends mail. */
  mail: AppMail;
  /**
   * The platform's office server (needed when `apps` has `office`): its public URL, and the host
   * and folder where the suite's allowed-host fragment goes (docs/services/office.md).
   */
  office?: { url: pulumi.Input<string>; host: HostConnection; fragmentsDir: string };
  /** Protect the data volumes and the database (in production). @default true */
  protect?: boolean;
}

/**
 * A tenant's dedicated Nextcloud suite: Nextcloud (the apache image) with its cron container, a
 * Redis for locking and cache, its database on the tenant's PostgreSQL server, its Keycloak
 * client behind the tenant's gate, its DNS-gated route, and the post-install script that pins
 * the apps, wires user_oidc to Keycloak for the tenant's group only, makes one account per member
 * and disables everyone else (docs/services/nextcloud.md).
 */
export class NextcloudSuite extends pulumi.ComponentResource {
  /** The suite's public URL. */
  readonly url: pulumi.Output<string>;
  /** OIDC client id in Keycloak. */
  readonly clientId: pulumi.Output<string>;

  constructor(name: string, args: NextcloudSuiteArgs, opts?: pulumi.ComponentResourceOptions) {
    // The tier the policy pack checks (components/units.ts StorageQuota).
    const quota: StorageQuota = { offer: "nextcloud", gb: args.storageGb };
    // Checked before anything is registered.
    const image = imageOf(NEXTCLOUD_IMAGE, args.version);
    const wanted = nextcloudAppIds(args.apps);
    // The whole instance fits in the tier: its code, config and apps take their part of it.
    const dataGb = args.storageGb - NEXTCLOUD_HTML_GB;
    if (!(dataGb > 0))
      throw new Error(
        `NextcloudSuite "${name}": a ${args.storageGb} GB tier leaves no room for data beside ${NEXTCLOUD_HTML_GB} GB of code`,
      );
    const office = args.apps.includes("office") ? args.office : undefined;
    if (args.apps.includes("office") && !office)
      throw new Error(`NextcloudSuite "${name}": the office app needs the platform's office server`);
    super(NEXTCLOUD_SUITE_TYPE, name, { quota }, opts);
    const protect = args.protect ?? true;
    const labels = { "alacarte.tenant": args.slug };

    const db = args.database(this);
    const adminPassword = new random.RandomPassword(`${name}-admin-password`, { length: 32, special: false }, { parent: this });

    const redis = new ContainerService(
      `${name}-redis`,
      {
        image: REDIS.image,
        host: args.host,
        command: [...REDIS.command],
        networks: [args.tenantNetwork],
        healthCheck: { test: [...REDIS.healthCheck], intervalSeconds: 10 },
        limits: NEXTCLOUD_LIMITS.redis,
        labels,
        protect,
      },
      { parent: this },
    );

    const { local, domain } = mailAddressParts(args.mail.from);
    const env: Record<string, pulumi.Input<string>> = {
      ...NEXTCLOUD_IMAGE.env,
      POSTGRES_HOST: db.hostname,
      POSTGRES_DB: db.database,
      POSTGRES_USER: db.username,
      NEXTCLOUD_ADMIN_USER,
      NEXTCLOUD_TRUSTED_DOMAINS: args.hostname,
      NEXTCLOUD_DATA_DIR: NEXTCLOUD_IMAGE.mounts.data!,
      REDIS_HOST: redis.containerName,
      OVERWRITEPROTOCOL: "https",
      OVERWRITEHOST: args.hostname,
      OVERWRITECLIURL: `https://${args.hostname}`,
      TRUSTED_PROXIES: TRUSTED_PROXY_RANGES.join(" "),
      SMTP_HOST: args.mail.host,
      SMTP_PORT: String(args.mail.port),
      // Nextcloud's mailer: "ssl" is TLS from the first byte; empty lets it use STARTTLS (docs/services/nextcloud.md "Mail").
      ...(args.mail.starttls ? {} : { SMTP_SECURE: "ssl" }),
      SMTP_NAME: args.mail.username,
      MAIL_FROM_ADDRESS: local,
      MAIL_DOMAIN: domain,
    };
    const secretEnv = { POSTGRES_PASSWORD: db.password, NEXTCLOUD_ADMIN_PASSWORD: adminPassword.result, SMTP_PASSWORD: args.mail.password };
    const common: Pick<ContainerServiceArgs, "image" | "host" | "env" | "secretEnv" | "labels" | "protect"> = {
      image,
      host: args.host,
      env,
      secretEnv,
      labels,
      protect,
    };

    const app = new ContainerService(
      `${name}-app`,
      {
        ...common,
        volumes: [
          // Code, config and the apps of custom_apps: what a restore needs besides the data. Nextcloud
          // stops around their snapshot, so that no request writes while they are read (Nextcloud's
          // backup guide: maintenance mode, then the files; docs/services/nextcloud.md "Backups").
          { name: "html", containerPath: NEXTCLOUD_IMAGE.mounts.html!, sizeGb: NEXTCLOUD_HTML_GB, backup: true, stopForBackup: true },
          { name: "data", containerPath: NEXTCLOUD_IMAGE.mounts.data!, sizeGb: dataGb, backup: true, stopForBackup: true },
        ],
        networks: [args.tenantNetwork, args.proxyNetwork],
        healthCheck: {
          test: ["CMD", "curl", "-fsS", "-o", "/dev/null", `http://localhost${NEXTCLOUD_IMAGE.healthPath}`],
          intervalSeconds: 30,
        },
        limits: NEXTCLOUD_LIMITS.app,
      },
      { parent: this, dependsOn: [db, redis] },
    );

    // Background jobs every five minutes: the image's cron.sh in a second container of the same
    // image on the same volumes (nextcloud/docker README "Using the image behind a cron").
    new ContainerService(
      `${name}-cron`,
      {
        ...common,
        command: ["/cron.sh"],
        borrowedVolumes: [
          { volumeName: app.volumes.html!.name, containerPath: NEXTCLOUD_IMAGE.mounts.html!, readOnly: false },
          { volumeName: app.volumes.data!.name, containerPath: NEXTCLOUD_IMAGE.mounts.data!, readOnly: false },
        ],
        networks: [args.tenantNetwork],
        limits: NEXTCLOUD_LIMITS.cron,
      },
      { parent: this, dependsOn: [app] },
    );

    const oidc = new OidcClient(
      `${name}-oidc`,
      {
        realmId: args.keycloak.realmId,
        clientId: name,
        name: `Nextcloud — ${args.slug}`,
        redirectUris: [`https://${args.hostname}/apps/user_oidc/code`],
        baseUrl: `https://${args.hostname}/`,
        ...(args.keycloak.gate ? { gate: args.keycloak.gate } : {}),
      },
      { parent: this },
    );

    new ProxyRoute(
      `${name}-route`,
      {
        host: args.proxy.host,
        routesDir: args.proxy.routesDir,
        name,
        hostnames: [args.hostname],
        upstream: app.internalUrl(NEXTCLOUD_IMAGE.port),
        publicIp: args.proxy.publicIp,
        probe: { path: NEXTCLOUD_IMAGE.healthPath },
      },
      { parent: this, dependsOn: [app] },
    );

    // The office server lets this suite in through the tenant's own fragment (a tenant change touches one stack).
    const officeAccess = office
      ? new OfficeAccess(
          `${name}-office`,
          {
            host: office.host,
            fragmentsDir: office.fragmentsDir,
            name: args.slug,
            wopiHosts: [`https://${args.hostname}`],
            url: office.url,
          },
          { parent: this },
        )
      : undefined;

    new AppSetup(
      `${name}-setup`,
      {
        host: args.host,
        container: app.containerName,
        containerId: app.container.id,
        user: NEXTCLOUD_IMAGE.user,
        script: appScript(NEXTCLOUD_IMAGE.setupScript),
        args: [
          args.hostname,
          args.keycloak.issuerUrl,
          name,
          nextcloudGroupRegex(args.slug),
          `${dataGb} GB`,
          officeAccess?.wopiUrl ?? "",
          wanted.join(" "),
          extensionPins(NEXTCLOUD_IMAGE, args.version).join(" "),
          nextcloudMemberArgs(args.members).join(" "),
        ],
        secrets: [oidc.clientSecret, adminPassword.result],
      },
      { parent: this, dependsOn: [app, oidc] },
    );

    this.url = pulumi.output(`https://${args.hostname}`);
    this.clientId = oidc.clientId;
    this.registerOutputs({ url: this.url, clientId: this.clientId, quota });
  }
}
