import * as pulumi from "@pulumi/pulumi";
import { HostFile } from "../blocks/host-file";
import { ProxyRoute } from "../blocks/proxy-route";
import { wellKnownHostnames, wellKnownRouteName } from "../platform/mail-well-known-config";
import { assembleCommand, dkimRecordOf, printDkimRecord } from "../platform/mail-server";
import type { HostConnection } from "../platform/outputs";
import type { StorageQuota } from "../units";
import {
  mailDnsRecords,
  mailFragmentPath,
  normalizeDomain,
  renderMailFragmentFile,
  type DnsRecord,
  type MailboxSpec,
  type RedirectionSpec,
} from "./mail-domain-config";

export * from "./mail-domain-config";

/** Type token of {@link MailDomain}; ends up in URNs, never rename it without an alias. */
export const MAIL_DOMAIN_TYPE = "alacarte:tenant:MailDomain";

export interface MailDomainArgs {
  /** Tenant slug; prefixes the fragment files. @example "amis-du-velo" */
  slug: string;
  /** The mail domain. @example "amisduvelo.org" */
  domain: string;
  /**
   * A shared domain of the platform: the tenant claims only the addresses it lists, and the
   * domain's DNS (MX, SPF, DMARC, DKIM) belongs to the platform, so `dnsRecords` is empty.
   */
  shared: boolean;
  /** Mailboxes of the domain (quota in GB of 2^30 bytes each). @default [] in the tenant file */
  mailboxes: MailboxSpec[];
  /** Redirections (aliases) of the domain. @default [] in the tenant file */
  redirections: RedirectionSpec[];
  /** The platform's mail server (platform outputs `mail`). */
  mail: {
    /** Host of the mail server, where the fragments are written. */
    host: HostConnection;
    /** Folder of the fragments on that host. @example "/srv/alacarte/mail/fragments" */
    fragmentsDir: string;
    /** Public name of the mail server: the MX target. @example "mail.example.org" */
    hostname: string;
    /** The mail server's maps folder on that host. @default the `config` sibling of fragmentsDir */
    configDir?: string;
  };
  /**
   * The platform's mail well-known web service (MTA-STS policy, client autoconfiguration) and the
   * reverse proxy in front of it: a custom domain routes its `mta-sts.`, `autoconfig.` and
   * `autodiscover.` names there, each live once its DNS points at the proxy.
   */
  wellKnown: {
    /** Internal URL of the service (platform outputs `mail.wellKnownUpstream`). @example "http://platform-mail-well-known-nginx:8080" */
    upstream: pulumi.Input<string>;
    /** The reverse proxy: its host, Traefik's file-provider folder and its public IPv4 (the domain's A record). */
    proxy: { host: HostConnection; routesDir: string; publicIp: string };
    /** Mailbox of the TLS reports of RFC 8460. @example "postmaster@example.org" */
    tlsReportAddress: string;
  };
}

/**
 * One mail domain of a tenant: its mailboxes, quotas, redirections and who opens each mailbox, as
 * one fragment file on the mail host (`<fragmentsDir>/<slug>--<domain>.mail`, a section per kind,
 * see renderMailFragmentFile), split into the mail server's maps after each write (assembleCommand);
 * a custom domain also routes its well-known names to the platform's service (one ProxyRoute).
 * A fixed number of resources whatever the number of mailboxes and redirections, so the stack
 * stays small: a shared domain is the component and one HostFile (itself the remote Command), a
 * custom domain adds the ProxyRoute and its HostFile, four in all.
 */
export class MailDomain extends pulumi.ComponentResource {
  /** The domain, lower-cased. */
  readonly domain: pulumi.Output<string>;
  /** Records to publish for a custom domain (mailDnsRecords; DKIM comes from the mail host). Empty for a shared domain. */
  readonly dnsRecords: pulumi.Output<DnsRecord[]>;
  /** Path of the fragment file on the mail host. */
  readonly fragmentPath: string;
  /** The DKIM record of a custom domain, known once the fragment is written (its key is made on the mail host). */
  readonly dkimRecord: pulumi.Output<DnsRecord | undefined>;

  constructor(name: string, args: MailDomainArgs, opts?: pulumi.ComponentResourceOptions) {
    // Every mailbox's quota, for the policy pack (components/units.ts StorageQuota).
    const quota: StorageQuota = { offer: "mail", mailboxes: args.mailboxes.map((m) => ({ address: m.address, gb: m.quotaGb })) };
    super(MAIL_DOMAIN_TYPE, name, { quota }, opts);
    const domain = normalizeDomain(args.domain);
    const content = renderMailFragmentFile({ domain, shared: args.shared, mailboxes: args.mailboxes, redirections: args.redirections });
    const folders = { fragmentsDir: args.mail.fragmentsDir, ...(args.mail.configDir ? { configDir: args.mail.configDir } : {}) };
    // A custom domain's write ends by printing its DKIM record, which the domain exports.
    const afterWrite = args.shared ? assembleCommand(folders) : `${assembleCommand(folders)}\n${printDkimRecord(folders, domain)}`;
    const fragmentPath = mailFragmentPath(args.mail.fragmentsDir, args.slug, domain);

    const write = new HostFile(
      `${name}-fragment`,
      { host: args.mail.host, path: fragmentPath, content, mode: "0640", afterWrite },
      { parent: this },
    );

    const targets = {
      mailHostname: args.mail.hostname,
      proxyIp: args.wellKnown.proxy.publicIp,
      tlsReportAddress: args.wellKnown.tlsReportAddress,
    };
    const records = args.shared ? [] : mailDnsRecords(domain, targets);
    if (!args.shared) {
      // The same kind of route as a static site's: live only once the names point at the proxy.
      new ProxyRoute(
        `${name}-well-known`,
        {
          host: args.wellKnown.proxy.host,
          routesDir: args.wellKnown.proxy.routesDir,
          name: wellKnownRouteName(args.slug, domain),
          hostnames: wellKnownHostnames(domain),
          upstream: args.wellKnown.upstream,
          publicIp: args.wellKnown.proxy.publicIp,
          requireDns: true,
          // Each name serves its own documents only (its `/` is a 404): its certificate is watched.
          probe: "tls",
        },
        { parent: this },
      );
    }

    this.domain = pulumi.output(domain);
    this.dnsRecords = pulumi.output(records);
    this.dkimRecord = args.shared ? pulumi.output(undefined) : write.stdout.apply((out) => dkimRecordOf(out, domain));
    this.fragmentPath = fragmentPath;
    this.registerOutputs({
      domain: this.domain,
      dnsRecords: this.dnsRecords,
      dkimRecord: this.dkimRecord,
      fragmentPath: this.fragmentPath,
      quota,
    });
  }
}
