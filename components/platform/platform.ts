import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import { issuerUrl, tokenEndpoints } from "../blocks/oidc-client";
import { Backups, type BackupsArgs } from "./backups";
import { type AlertMailArgs, Monitoring } from "./monitoring";
import { Keycloak } from "./keycloak";
import { LETS_ENCRYPT_DIRECTORY, type MailOutbound, MailServer, mailHostname } from "./mail-server";
import { GARAGE_PORTS, ObjectStorage } from "./object-storage";
import { OfficeServer, officeHostname } from "./office-server";
import { imageRegistry } from "../blocks/image-pin";
import { MailWellKnown } from "./mail-well-known";
import { mailDnsRecords, mailDnsTargets, type MailDnsTargets } from "../tenant/mail-domain-config";
import type { DnsRecord, HostConnection, PlatformOutputs } from "./outputs";
import { ReverseProxy } from "./reverse-proxy";
import type { SsoRealmSmtp } from "./sso-realm";
import { Webmail, webmailHostname } from "./webmail";

export const PLATFORM_TYPE = "alacarte:platform:Platform";

/** Which host (a key of `hosts`) runs each platform service. */
export interface PlatformPlacement {
  /** Host of the reverse proxy (the public IP points at it). */
  proxy: string;
  /** Host of Keycloak and its database. */
  keycloak: string;
  /** Host of the mail server. */
  mail: string;
  /** Host of the object storage (Garage). */
  storage: string;
  /** Host of Prometheus and Alertmanager. @default the proxy's host */
  monitoring?: string;
  /** Host of the office document server; the proxy's only (its route is Docker labels). @default the proxy's host */
  office?: string;
}

export interface PlatformArgs {
  /** Base domain of the platform services (`sso.`, `s3.`, `mail.` …). @example "example.org" */
  baseDomain: string;
  /** Email of the Let's Encrypt account. */
  acmeEmail: string;
  /** Public IPv4 of the reverse proxy. */
  publicIp: string;
  /** Hosts by name, reached over ssh. */
  hosts: Record<string, HostConnection>;
  /** Host name of each service; each must be a key of `hosts`. */
  placement: PlatformPlacement;
  /** The platform's shared mail domains (tenants claim single addresses in them). */
  sharedMailDomains: string[];
  /** Object storage volumes, in GB (2^30 bytes). */
  storage: { metaGb: number; dataGb: number };
  /** Mail volume, in GB (2^30 bytes), the mail host's public IPv4 (default: publicIp), and whether mail leaves (default: deliver). */
  mail: { dataGb: number; publicIp?: string; outbound?: MailOutbound };
  /** Protect every data resource against deletion. @default true */
  protect?: boolean;
  /** Environment name exported to tenant stacks. @default the stack name */
  environment?: string;
  /** Keycloak realm name. @default "alacarte" */
  realm?: string;
  /** Realm SMTP server for Keycloak's mails. */
  smtp?: SsoRealmSmtp;
  /** Usernames of the platform administrators. @default [] */
  admins?: string[];
  /** The backups: a job on every host (`pruneHost` defaults to the first host by name). */
  backup: Omit<BackupsArgs, "hosts" | "pruneHost" | "notices"> & { pruneHost?: string };
  /**
   * The repository's images pushed to the forge's registry, each pinned by the digest the images
   * workflow printed (docs/pipeline.md "Images"). @default each built on its hosts from images/
   */
  images?: { mail?: string; backup?: string };
  /** Memory (MB, 2^20 bytes) and CPUs of the office document server. @default 2048 MB, 2 CPUs */
  office?: { memoryMb: number; cpus: number };
  /**
   * Who the alerts reach: through the platform's mail (the realm's SMTP login, `smtp`) and through
   * a relay outside the platform, which a mail outage does not silence.
   */
  monitoring: { alertTo: string[]; outsideRelay: Omit<AlertMailArgs, "to"> };
}

/** `T` with every leaf allowed to be an Output: one secret leaf stays the only secret when exported. */
export type OutputsOf<T> = T extends string | number | boolean
  ? pulumi.Input<T>
  : T extends (infer U)[]
    ? pulumi.Input<U[]>
    : { [K in keyof T]: OutputsOf<T[K]> };

/**
 * What the platform exports, leaf by leaf (export it as a stack output as is: `pulumi.output(outputs)`
 * resolves to `PlatformOutputs`; only the secret leaves are secret in the stack).
 */
export type PlatformOutputValues = OutputsOf<PlatformOutputs> & {
  objectStorage: {
    /** Garage admin API token (secret): tenant stacks pass it on stdin to create keys and quotas. */
    adminToken: pulumi.Input<string>;
  };
};

/** Name of the local Docker network created on a placed host other than the proxy host. */
export const LOCAL_NETWORK = "alacarte";

/**
 * Pure: the host of each placed service and the distinct hosts that need a Docker engine provider,
 * sorted by name. Keycloak, the object storage and the office server are reached through Traefik's Docker labels,
 * which Traefik reads only from its own host's engine: they must sit on the proxy host.
 * @throws Error naming the service and the unknown host, or the service placed away from the proxy.
 */
export function resolvePlacement(
  hosts: Record<string, HostConnection>,
  placement: PlatformPlacement,
): { byService: Record<keyof PlatformPlacement, HostConnection>; hostNames: string[] } {
  const services = ["proxy", "keycloak", "mail", "storage"] as const;
  const byService = {} as Record<keyof PlatformPlacement, HostConnection>;
  for (const service of services) {
    const hostName = placement[service];
    const host = hosts[hostName];
    if (!host) {
      const known = Object.keys(hosts).sort().join(", ") || "none";
      throw new Error(`Platform placement.${service}: unknown host "${hostName}" (hosts: ${known})`);
    }
    byService[service] = host;
  }
  byService.office = byService.proxy;
  for (const service of ["keycloak", "storage", "office"] as const) {
    if ((placement[service] ?? placement.proxy) !== placement.proxy) {
      throw new Error(
        `Platform placement.${service}: "${placement[service]}" is not the proxy host "${placement.proxy}"; ` +
          "its HTTPS route comes from Docker labels, which Traefik reads only on its own host",
      );
    }
  }
  const hostNames = [...new Set(services.map((s) => placement[s]))].sort();
  return { byService, hostNames };
}

/**
 * Pure: the DNS records the platform's mail needs: the mail host's name at its address `mailIp`
 * and its reverse (PTR, set at the hosting provider), then each shared domain's mail records, as a
 * custom domain's.
 */
export function platformMailRecords(
  targets: MailDnsTargets,
  mailIp: string,
  sharedDomains: readonly string[],
  webmail: string,
): DnsRecord[] {
  const hostname = targets.mailHostname;
  const reverse = `${mailIp.split(".").reverse().join(".")}.in-addr.arpa`;
  return [
    { name: hostname, type: "A", value: mailIp },
    { name: reverse, type: "PTR", value: `${hostname}.` },
    // The webmail is served by the proxy.
    { name: webmail, type: "A", value: targets.proxyIp },
    ...[...new Set(sharedDomains)].sort().flatMap((d) => mailDnsRecords(d, targets)),
  ];
}

/** Pure: the name of the MailWellKnown component of a Platform named `name`. */
export function mailWellKnownComponentName(name: string): string {
  return `${name}-mail-well-known`;
}

/** Pure: the name of the Webmail component of a Platform named `name`. */
export function webmailComponentName(name: string): string {
  return `${name}-webmail`;
}

/** Pure: the name of the OfficeServer component of a Platform named `name`. */
export function officeComponentName(name: string): string {
  return `${name}-office`;
}

/** Pure: the name of the MailServer component of a Platform named `name`. */
export function mailComponentName(name: string): string {
  return `${name}-mail`;
}

/** Pure: the Docker engine address of a host, over ssh. */
export function dockerHostUrl(host: HostConnection): string {
  return `ssh://${host.user}@${host.address}`;
}

/**
 * The shared platform, minimal: reverse proxy, Keycloak, object storage and mail server (with its
 * well-known web service and the webmail on the proxy host), each on the host its placement names,
 * through one Docker provider per host.
 */
export class Platform extends pulumi.ComponentResource {
  readonly proxy: ReverseProxy;
  readonly keycloak: Keycloak;
  readonly objectStorage: ObjectStorage;
  readonly mail: MailServer;
  /** The mail's well-known web service (MTA-STS, client autoconfiguration), on the proxy host. */
  readonly mailWellKnown: MailWellKnown;
  /** Roundcube, signing in through Keycloak, on the proxy host. */
  readonly webmail: Webmail;
  /** The backup job of every host. */
  readonly backups: Backups;
  /** Prometheus, Alertmanager, the probes and a node exporter on every host. */
  readonly monitoring: Monitoring;
  /** The office document server (Collabora Online), on the proxy host. */
  readonly office: OfficeServer;
  /** Docker providers by host name. */
  readonly dockerProviders: Record<string, docker.Provider>;
  /** What tenant stacks read through a StackReference. */
  readonly outputs: PlatformOutputValues;

  constructor(name: string, args: PlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super(PLATFORM_TYPE, name, {}, opts);
    const protect = args.protect ?? true;
    const { byService, hostNames } = resolvePlacement(args.hosts, args.placement);

    const registries = [...new Set(Object.values(args.images ?? {}).map(imageRegistry))].sort();
    // Every host, placed services or not: each runs its backup job, and tenants' apps may run there.
    const providers: Record<string, docker.Provider> = {};
    for (const hostName of Object.keys(args.hosts).sort()) {
      const host = args.hosts[hostName]!;
      providers[hostName] = new docker.Provider(
        `${name}-docker-${hostName}`,
        {
          host: dockerHostUrl(host),
          sshOpts: ["-o", "BatchMode=yes"],
          // The forge's registry of the pushed images: its login comes from DOCKER_REGISTRY_USER and
          // DOCKER_REGISTRY_PASS where Pulumi runs (@pulumi/docker ProviderRegistryAuth), never the state.
          ...(registries.length ? { registryAuth: registries.map((address) => ({ address })) } : {}),
        },
        { parent: this },
      );
    }
    const on = (service: Exclude<keyof PlatformPlacement, "monitoring" | "office">): pulumi.ComponentResourceOptions => ({
      parent: this,
      providers: { docker: providers[args.placement[service]]! },
    });

    this.proxy = new ReverseProxy(
      `${name}-proxy`,
      { host: byService.proxy, acmeEmail: args.acmeEmail, publicIp: args.publicIp, protect },
      on("proxy"),
    );
    // The proxy network exists on the proxy host only; a service elsewhere joins its host's local network.
    const networks: Record<string, pulumi.Output<string>> = { [args.placement.proxy]: this.proxy.networkName };
    for (const hostName of hostNames) {
      if (hostName === args.placement.proxy) continue;
      networks[hostName] = new docker.Network(
        `${name}-network-${hostName}`,
        { name: LOCAL_NETWORK, driver: "bridge", attachable: true },
        { parent: this, provider: providers[hostName]! },
      ).name;
    }
    const network = this.proxy.networkName;

    this.keycloak = new Keycloak(
      `${name}-keycloak`,
      {
        host: byService.keycloak,
        baseDomain: args.baseDomain,
        network,
        ...(args.realm !== undefined ? { realm: args.realm } : {}),
        ...(args.smtp !== undefined ? { smtp: args.smtp } : {}),
        ...(args.admins !== undefined ? { admins: args.admins } : {}),
        protect,
      },
      on("keycloak"),
    );

    this.objectStorage = new ObjectStorage(
      `${name}-storage`,
      {
        host: byService.storage,
        baseDomain: args.baseDomain,
        network,
        metaGb: args.storage.metaGb,
        dataGb: args.storage.dataGb,
        protect,
      },
      on("storage"),
    );

    this.mail = new MailServer(
      mailComponentName(name),
      {
        host: byService.mail,
        hostname: mailHostname(args.baseDomain),
        network: networks[args.placement.mail]!,
        sharedDomains: args.sharedMailDomains,
        dataGb: args.mail.dataGb,
        ...(args.mail.outbound ? { outbound: args.mail.outbound } : {}),
        // On the proxy's host the certificate comes from Traefik's store; elsewhere from the image's
        // own ACME client (docs/services/mail.md "Certificate").
        ...(args.placement.mail === args.placement.proxy
          ? { acmeVolumeName: this.proxy.acmeVolumeName }
          : { acmeClient: { acmeDirectory: LETS_ENCRYPT_DIRECTORY, email: args.acmeEmail } }),
        keycloak: {
          // By the public URL: the mail host may be another host than Keycloak's.
          ...tokenEndpoints(this.keycloak.url, this.keycloak.realm),
          clientId: this.keycloak.sso.mailClient.clientId,
          clientSecret: this.keycloak.sso.mailClient.clientSecret,
        },
        protect,
        ...(args.images?.mail ? { pushedImage: args.images.mail } : {}),
      },
      on("mail"),
    );

    // On the proxy host: its routes are Docker labels, which Traefik reads there only.
    this.mailWellKnown = new MailWellKnown(
      mailWellKnownComponentName(name),
      {
        host: byService.proxy,
        network,
        mailHostname: mailHostname(args.baseDomain),
        sharedDomains: args.sharedMailDomains,
        // Traefik can hold the mail server's certificate only where the mail server's name resolves to the proxy.
        routeMailHostname: args.placement.mail === args.placement.proxy,
      },
      on("proxy"),
    );

    // On the proxy host too (its route is Docker labels); it reaches the mail server by its public name.
    this.webmail = new Webmail(
      webmailComponentName(name),
      {
        host: byService.proxy,
        network,
        hostname: webmailHostname(args.baseDomain),
        mailHostname: mailHostname(args.baseDomain),
        issuerUrl: issuerUrl(this.keycloak.url, this.keycloak.realm),
        client: { clientId: this.keycloak.sso.mailClient.clientId, clientSecret: this.keycloak.sso.mailClient.clientSecret },
        protect,
      },
      on("proxy"),
    );

    // On the proxy host (resolvePlacement): its route is Docker labels, which Traefik reads there only.
    this.office = new OfficeServer(
      officeComponentName(name),
      {
        host: byService.proxy,
        network,
        hostname: officeHostname(args.baseDomain),
        ...(args.office !== undefined ? { size: args.office } : {}),
      },
      on("proxy"),
    );

    const allHosts = Object.keys(args.hosts)
      .sort()
      .map((hostName) => ({ host: args.hosts[hostName]!, provider: providers[hostName]! }));
    const monitoringHost = args.placement.monitoring ?? args.placement.proxy;
    if (!args.hosts[monitoringHost]) throw new Error(`Platform placement.monitoring: unknown host "${monitoringHost}"`);
    const smtp = args.smtp;
    if (!smtp?.auth) throw new Error("Platform: the alerts and the notices leave through the realm's SMTP login (smtp.auth)");
    const alertTo = args.monitoring.alertTo.join(", ");
    this.monitoring = new Monitoring(
      `${name}-monitoring`,
      {
        host: args.hosts[monitoringHost]!,
        hosts: allHosts,
        platformMail: {
          host: smtp.host,
          port: smtp.port,
          username: smtp.auth.username,
          password: smtp.auth.password,
          from: smtp.from,
          to: alertTo,
        },
        outside: { ...args.monitoring.outsideRelay, to: alertTo },
        protect,
      },
      { parent: this },
    );
    this.backups = new Backups(
      `${name}-backups`,
      {
        ...args.backup,
        pruneHost: args.backup.pruneHost ?? allHosts[0]!.host.name,
        ...(args.images?.backup ? { pushedImage: args.images.backup } : {}),
        hosts: allHosts,
        notices: {
          host: monitoringHost,
          prometheusUrl: this.monitoring.prometheusUrl,
          network: this.monitoring.networkName,
          smtp: {
            url: `${smtp.starttls ? "smtp" : "smtps"}://${smtp.host}:${smtp.port}`,
            starttls: smtp.starttls,
            username: smtp.auth.username,
            password: smtp.auth.password,
          },
        },
        objectStore: {
          host: args.placement.storage,
          network,
          adminUrl: this.objectStorage.containerName.apply((c) => `http://${c}:${GARAGE_PORTS.admin}`),
          s3Url: this.objectStorage.containerName.apply((c) => `http://${c}:${GARAGE_PORTS.s3}`),
          region: this.objectStorage.region,
          adminToken: this.objectStorage.adminToken,
        },
      },
      { parent: this },
    );

    this.dockerProviders = providers;
    this.outputs = {
      environment: args.environment ?? pulumi.getStack(),
      baseDomain: args.baseDomain,
      publicIp: args.publicIp,
      hosts: args.hosts,
      proxy: { host: byService.proxy, network: this.proxy.networkName, routesDir: this.proxy.routesDir },
      keycloak: {
        url: this.keycloak.url,
        realm: this.keycloak.realm,
        tenantsGroupId: this.keycloak.sso.tenantsGroupId,
        adminClientId: this.keycloak.sso.adminClientId,
        adminClientSecret: this.keycloak.sso.adminClientSecret,
        accountsClientId: this.keycloak.sso.accountsClientId,
        accountsClientSecret: this.keycloak.sso.accountsClientSecret,
        memberServiceRoleIds: this.keycloak.sso.memberServiceRoleIds,
      },
      objectStorage: {
        host: byService.storage,
        endpoint: this.objectStorage.endpoint,
        region: this.objectStorage.region,
        accessKeyId: this.objectStorage.accessKeyId,
        secretAccessKey: this.objectStorage.secretAccessKey,
        webUpstream: this.objectStorage.webUpstream,
        adminToken: this.objectStorage.adminToken,
      },
      mail: {
        host: byService.mail,
        hostname: this.mail.hostname,
        fragmentsDir: this.mail.fragmentsDir,
        sharedDomains: [...args.sharedMailDomains].sort(),
        dnsRecords: platformMailRecords(
          mailDnsTargets(args.baseDomain, args.publicIp),
          args.mail.publicIp ?? args.publicIp,
          args.sharedMailDomains,
          webmailHostname(args.baseDomain),
        ),
        wellKnownUpstream: this.mailWellKnown.upstream,
      },
      office: { url: this.office.url, host: byService.proxy, fragmentsDir: this.office.fragmentsDir },
    };
    this.registerOutputs({ outputs: this.outputs });
  }
}
