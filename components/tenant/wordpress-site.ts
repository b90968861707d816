import * as pulumi from "@pulumi/pulumi";
import { imageOf } from "../blocks/app-image";
import type { AppMail } from "../blocks/app-mail";
import { AppSetup, appScript } from "../blocks/app-setup";
import { ContainerService } from "../blocks/container-service";
import type { Database } from "../blocks/database";
import { OidcClient } from "../blocks/oidc-client";
import { ProxyRoute } from "../blocks/proxy-route";
import type { SignInGate } from "../blocks/sign-in-gate";
import type { HostConnection } from "../platform/outputs";
import type { StorageQuota } from "../units";
import { WORDPRESS_CLI_IMAGE, WORDPRESS_IMAGE } from "./wordpress-image";
import {
  SECRET_ENV,
  WORDPRESS_LIMITS,
  wordpressConfigExtra,
  wordpressEnv,
  wordpressPlan,
  wordpressSetupArgs,
} from "./wordpress-site-config";

export * from "./wordpress-site-config";

/** Type token of {@link WordpressSite}; ends up in URNs, never rename it without an alias. */
export const WORDPRESS_SITE_TYPE = "alacarte:tenant:WordpressSite";

/** The must-use plugin the setup installs (components/tenant/scripts/). */
export const TENANT_GATE_PLUGIN = "wordpress-tenant-gate.php";

export interface WordpressSiteArgs {
  /** Tenant slug. @example "amis-du-velo" */
  slug: string;
  /** The tenant's name: the site's first title. @example "Les Amis du Vélo" */
  title: string;
  /** Domains of the site; the first is its address (WP_HOME). @example ["amisduvelo.org", "www.amisduvelo.org"] */
  domains: string[];
  /** Storage tier in GB (2^30 bytes): the size of the site's volume. @example 5 */
  storageGb: number;
  /** WordPress version: one of the image table's (the tenant's pin or the catalog's default). @example "7.1.0" */
  version: string;
  /** Members of the tenant; admins become administrators, the others editors. */
  members: readonly { username: string; admin: boolean }[];
  /** Host the containers run on (the Docker provider comes from `opts.providers`). */
  host: HostConnection;
  /** The tenant's own network (its database server's) and the proxy's. */
  networks: { tenant: pulumi.Input<string>; proxy: pulumi.Input<string> };
  /** Makes the site's database on the tenant's MariaDB server, as a child of the site. */
  database: (parent: pulumi.Resource) => Database;
  /** Keycloak: the realm, its issuer URL and the tenant's sign-in gate. */
  identity: { realmId: pulumi.Input<string>; issuerUrl: pulumi.Input<string>; gate: SignInGate };
  /** The platform's SMTP login for the apps. */
  mail: AppMail;
  /** The reverse proxy, as for the static site. */
  proxy: { host: HostConnection; routesDir: string; publicIp: pulumi.Input<string> };
  /** Protect the data (volume, database) against deletion; retained on delete in any case. @default true */
  protect?: boolean;
}

/**
 * A tenant's WordPress site (docs/services/wordpress.md): its database on the tenant's MariaDB
 * server, the Apache container with the site's volume (its size the tier), a wp-cli container on
 * the same volume and environment (the Apache image has no wp-cli; the image's wp-config.php reads
 * its settings from the environment at run time, docker-library/wordpress wp-config-docker.php
 * getenv_docker), the tenant's OIDC client behind its sign-in gate, the setup script run in the
 * wp-cli container on every change, and the DNS-gated route of its domains.
 *
 * The volume and the database are protected (in production) and retained on delete: removing
 * the offer from a tenant file deletes no data, and adding it back finds it again.
 */
export class WordpressSite extends pulumi.ComponentResource {
  /** Public URLs of the site, one per domain. */
  readonly urls: pulumi.Output<string[]>;
  /** Its admin page, on the first domain. */
  readonly adminUrl: pulumi.Output<string>;

  constructor(name: string, args: WordpressSiteArgs, opts?: pulumi.ComponentResourceOptions) {
    const plan = wordpressPlan(args.slug, args.domains, args.storageGb);
    const image = imageOf(WORDPRESS_IMAGE, args.version);
    const protect = args.protect ?? true;
    // The quota the policy pack checks against the tier paid for (components/units.ts).
    const quota: StorageQuota = { offer: "website", gb: args.storageGb };
    super(WORDPRESS_SITE_TYPE, name, { quota }, opts);

    const db = args.database(this);
    const oidc = new OidcClient(
      `${name}-oidc`,
      {
        realmId: args.identity.realmId,
        clientId: plan.clientId,
        name: `Website — ${args.title}`,
        redirectUris: plan.redirectUris,
        baseUrl: `${plan.siteUrl}/`,
        gate: args.identity.gate,
        // The plugin sends no code_challenge at 3.10.3 (oidc-wp/openid-connect-generic@3.10.3:
        // includes/openid-connect-generic-client-wrapper.php get_authentication_url).
        pkce: false,
      },
      { parent: this },
    );

    const env = {
      ...wordpressEnv(plan, { ...args.mail, fromName: args.title }),
      WORDPRESS_DB_HOST: db.hostname,
      WORDPRESS_DB_USER: db.username,
      WORDPRESS_DB_NAME: db.database,
      WORDPRESS_CONFIG_EXTRA: pulumi.output(args.identity.issuerUrl).apply((issuer) => wordpressConfigExtra(plan, issuer)),
    };
    const secretEnv = {
      [SECRET_ENV.dbPassword]: db.password,
      [SECRET_ENV.oidcSecret]: oidc.clientSecret,
      [SECRET_ENV.smtpPassword]: args.mail.password,
    };
    const labels = { "alacarte.tenant": args.slug };
    const html = WORDPRESS_IMAGE.mounts.html!;

    const web = new ContainerService(
      `${name}-web`,
      {
        image,
        host: args.host,
        env,
        secretEnv,
        volumes: [{ name: "html", containerPath: html, sizeGb: args.storageGb, backup: true }],
        networks: [args.networks.tenant, args.networks.proxy],
        // curl is in the php base image (docker-library/php); a redirect counts as up.
        healthCheck: {
          test: ["CMD", "curl", "-fsS", "-o", "/dev/null", `http://127.0.0.1:${WORDPRESS_IMAGE.port}${WORDPRESS_IMAGE.healthPath}`],
        },
        limits: WORDPRESS_LIMITS.web,
        labels,
        protect,
      },
      { parent: this, dependsOn: [db] },
    );

    const cli = new ContainerService(
      `${name}-cli`,
      {
        image: WORDPRESS_CLI_IMAGE.image,
        host: args.host,
        // Kept running for `docker exec`: the image's entrypoint runs a command that is not a wp
        // subcommand as it is (docker-library/wordpress@bf223d1c:cli/php8.3/alpine/docker-entrypoint.sh).
        command: ["tail", "-f", "/dev/null"],
        env,
        secretEnv,
        borrowedVolumes: [{ volumeName: web.volumes.html!.name, containerPath: html, readOnly: false }],
        networks: [args.networks.tenant],
        limits: WORDPRESS_LIMITS.cli,
        labels,
        protect,
      },
      { parent: this, dependsOn: [web] },
    );

    const setup = new AppSetup(
      `${name}-setup`,
      {
        host: args.host,
        container: cli.containerName,
        containerId: cli.container.id,
        user: WORDPRESS_IMAGE.user,
        script: appScript(WORDPRESS_IMAGE.setupScript),
        args: wordpressSetupArgs(plan, {
          title: args.title,
          adminEmail: args.mail.from,
          version: args.version,
          gatePhp: appScript(TENANT_GATE_PLUGIN).text,
          members: args.members,
        }),
      },
      { parent: this, dependsOn: [web, cli] },
    );

    new ProxyRoute(
      `${name}-route`,
      {
        host: args.proxy.host,
        routesDir: args.proxy.routesDir,
        name,
        hostnames: plan.domains,
        upstream: web.internalUrl(WORDPRESS_IMAGE.port),
        publicIp: args.proxy.publicIp,
      },
      { parent: this, dependsOn: [setup] },
    );

    this.urls = pulumi.output(plan.domains.map((d) => `https://${d}/`));
    this.adminUrl = pulumi.output(`${plan.siteUrl}/wp-admin/`);
    this.registerOutputs({ urls: this.urls, adminUrl: this.adminUrl, quota });
  }
}
