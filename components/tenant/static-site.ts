import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { hostConnection } from "../blocks/host-file";
import { ProxyRoute } from "../blocks/proxy-route";
import type { HostConnection } from "../platform/outputs";
import type { HostData, StorageQuota } from "../units";
import { GARAGE_ADMIN_URL, garageSiteScript, parseUploadKey, staticSitePlan } from "./static-site-config";

export * from "./static-site-config";

/** Type token of {@link StaticSite}; ends up in URNs, never rename it without an alias. */
export const STATIC_SITE_TYPE = "alacarte:tenant:StaticSite";

export interface StaticSiteArgs {
  /** Tenant slug; names the bucket (`site-<slug>`), the upload key and the route. @example "amis-du-velo" */
  slug: string;
  /** Domains serving the site; each route goes live once its DNS points at the proxy. @example ["amisduvelo.org", "www.amisduvelo.org"] */
  domains: string[];
  /** Storage tier in GB (2^30 bytes): the bucket's Garage quota. @example 5 */
  storageGb: number;
  /** The object store (Garage), platform outputs `objectStorage`. */
  storage: {
    /** Host running Garage; the provisioning command runs there. */
    host: HostConnection;
    /** Internal URL of Garage's web endpoint the proxy forwards to. @example "http://garage:3902" */
    webUpstream: pulumi.Input<string>;
    /** Garage admin token (secret); reaches the host on stdin only. */
    adminToken: pulumi.Input<string>;
    /** Garage admin API as seen from the storage host. @default "http://127.0.0.1:3903" */
    adminUrl?: string;
  };
  /** The reverse proxy, platform outputs `proxy` and `publicIp`. */
  proxy: {
    /** Host of the reverse proxy, where the route fragment is written. */
    host: HostConnection;
    /** Traefik file-provider folder. @example "/srv/alacarte/routes" */
    routesDir: string;
    /** Public IPv4 of the proxy: a domain's route goes live once its A record points here. */
    publicIp: pulumi.Input<string>;
  };
  /** Protect the bucket (the command that makes it) against deletion; it is retained on delete in any case. @default true */
  protect?: boolean;
}

/**
 * A tenant's static website on the object store (Garage): the bucket `site-<slug>`, its website
 * settings and quota, one global alias per domain and the tenant's upload key (read and write on
 * this bucket only) are made through Garage's admin API v2 by one idempotent command on the
 * storage host (admin token on stdin, {@link garageSiteScript}), run again on every change; then
 * the TLS route of the domains to Garage's web endpoint. No S3 call makes or reads the bucket:
 * Garage's S3 CreateBucket makes only a key-local alias, and the AWS provider's bucket calls APIs
 * Garage lacks (docs/services/garage.md).
 *
 * The bucket is data a command makes on a host, declared as `hostData`: the command is protected
 * (in production) and retained on delete, and has no delete step, so removing the offer from a
 * tenant file deletes nothing and adding it back finds the bucket and its files again
 * (decommission takes it away, docs/operations.md).
 */
export class StaticSite extends pulumi.ComponentResource {
  /** Name of the bucket (its first global alias). */
  readonly bucketName: pulumi.Output<string>;
  /** Access key id of the upload key (read/write on the bucket only). Secret. */
  readonly uploadAccessKeyId: pulumi.Output<string>;
  /** Secret access key of the upload key. Secret. */
  readonly uploadSecretAccessKey: pulumi.Output<string>;
  /** Public URLs of the site, one per domain. */
  readonly urls: pulumi.Output<string[]>;

  constructor(name: string, args: StaticSiteArgs, opts?: pulumi.ComponentResourceOptions) {
    const plan = staticSitePlan(args.slug, args.domains, args.storageGb);
    const protect = args.protect ?? true;
    // The quota the policy pack checks against the tier paid for, and the bucket as data made on a
    // host (components/units.ts StorageQuota, HostData).
    const quota: StorageQuota = { offer: "website", gb: args.storageGb };
    const hostData: HostData = {
      kind: "bucket",
      name: plan.bucketName,
      engine: "garage",
      protect,
      backup: "object-store",
      madeBy: `${name}-garage`,
    };
    super(STATIC_SITE_TYPE, name, { quota, hostData }, opts);

    const script = garageSiteScript(plan, args.storage.adminUrl ?? GARAGE_ADMIN_URL);
    const garage = new command.remote.Command(
      `${name}-garage`,
      {
        connection: hostConnection(args.storage.host),
        // The same idempotent script on create and update: a change of tier or domain re-runs it
        // in place (no trigger, so never a replacement); nothing runs on delete.
        create: script,
        update: script,
        stdin: pulumi.secret(pulumi.interpolate`${args.storage.adminToken}\n`),
        addPreviousOutputInEnv: false,
        logging: "stderr",
      },
      { parent: this, protect, retainOnDelete: true, additionalSecretOutputs: ["stdout", "stdin"] },
    );
    const key = garage.stdout.apply(parseUploadKey);

    new ProxyRoute(
      `${name}-route`,
      {
        host: args.proxy.host,
        routesDir: args.proxy.routesDir,
        name: plan.routeName,
        hostnames: plan.domains,
        upstream: args.storage.webUpstream,
        publicIp: args.proxy.publicIp,
      },
      { parent: this, dependsOn: [garage] },
    );

    this.bucketName = pulumi.output(plan.bucketName);
    this.uploadAccessKeyId = pulumi.secret(key.apply((k) => k.accessKeyId));
    this.uploadSecretAccessKey = pulumi.secret(key.apply((k) => k.secretAccessKey));
    this.urls = pulumi.output(plan.urls);
    this.registerOutputs({
      bucketName: this.bucketName,
      uploadAccessKeyId: this.uploadAccessKeyId,
      uploadSecretAccessKey: this.uploadSecretAccessKey,
      urls: this.urls,
      quota,
      hostData,
    });
  }
}
