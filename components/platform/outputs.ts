/**
 * A host of the association reached over ssh (the deploy user's agent holds the key:
 * SSH_AUTH_SOCK on the machine that runs Pulumi).
 */
export interface HostConnection {
  /** Name of the host in the platform config. @example "h1" */
  name: string;
  /** DNS name or address used for ssh. @example "h1.infra.example.org" */
  address: string;
  /** ssh user allowed to run docker and write under /srv/alacarte. @default "deploy" */
  user: string;
}

/**
 * What the platform stack exports and tenant stacks read through a StackReference.
 * Secret fields stay Pulumi secrets on both sides.
 */
export interface PlatformOutputs {
  environment: string;
  baseDomain: string;
  /** Public IPv4 of the reverse proxy: a tenant domain's route goes live once its DNS points here. */
  publicIp: string;
  hosts: Record<string, HostConnection>;
  proxy: {
    host: HostConnection;
    /** Docker network shared by the proxy and every routed container. */
    network: string;
    /** Folder of Traefik's file provider; one fragment per tenant and offer. */
    routesDir: string;
  };
  keycloak: {
    url: string;
    realm: string;
    /** Id of the top-level `/tenants` group that every tenant group sits under. */
    tenantsGroupId: string;
    /** Client of the tenant stacks' service account. */
    adminClientId: string;
    /** secret */
    adminClientSecret: string;
    /** Client of the `accounts` command's service account (docs/accounts.md). */
    accountsClientId: string;
    /** secret */
    accountsClientSecret: string;
    /** Ids of the realm roles that open the member services, granted to `/tenants/<slug>/git` and `/nextcloud`. */
    memberServiceRoleIds: { git: string; nextcloud: string };
  };
  objectStorage: {
    host: HostConnection;
    /** S3 API endpoint. @example "https://s3.example.org" */
    endpoint: string;
    region: string;
    /** Key allowed to create buckets (secret). */
    accessKeyId: string;
    /** secret */
    secretAccessKey: string;
    /** Internal address of the web endpoint the proxy forwards static sites to. @example "http://garage:3902" */
    webUpstream: string;
  };
  mail: {
    host: HostConnection;
    /** Public name of the mail server (MX target). @example "mail.example.org" */
    hostname: string;
    /** Folder where tenant stacks drop their map fragments. */
    fragmentsDir: string;
    sharedDomains: string[];
    /** The records of the mail host and of the shared domains (docs/services/mail.md "DNS"). */
    dnsRecords: DnsRecord[];
    /**
     * Internal URL of the mail's well-known web service (MTA-STS policy, client autoconfiguration),
     * where a custom domain's route forwards. @example "http://platform-mail-well-known-nginx:8080"
     */
    wellKnownUpstream: string;
  };
  /** The shared office document server (docs/services/office.md). */
  office: {
    /** Public URL, a Nextcloud's richdocuments `wopi_url`. @example "https://office.example.org" */
    url: string;
    /** The host tenant stacks write their fragment on (the proxy's). */
    host: HostConnection;
    /** Folder of the allowed-hosts fragments, one per tenant (OfficeAccess). @example "/srv/alacarte/office/fragments" */
    fragmentsDir: string;
  };
}

/** A DNS record to publish: a mail domain's (MX, TXT, SRV, its web names), the mail host's address and its reverse. */
export interface DnsRecord {
  /** Fully qualified owner name. @example "_dmarc.amisduvelo.org" */
  name: string;
  type: "A" | "CNAME" | "PTR" | "MX" | "TXT" | "SRV";
  /** The record's data as a zone file writes it after the priority: a TXT's text, an SRV's `weight port target.`, a CNAME's `target.`. */
  value: string;
  /** MX preference, SRV priority. */
  priority?: number;
}
