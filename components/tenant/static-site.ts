import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import * as s3 from "@pulumi/aws/s3";
import { hostConnection } from "../blocks/host-file";
import { ProxyRoute } from "../blocks/proxy-route";
import type { HostConnection } from "../platform/outputs";
import type { StorageQuota } from "../units";
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
  /** Protect the bucket against deletion (it is retained on delete in any case). @default true */
  protect?: boolean;
}

/**
 * A tenant's static website on the S3-compatible store: the bucket `site-<slug>` and its website
 * configuration through the AWS provider pointed at Garage (the caller passes it as
 * `opts.providers.aws`; only calls Garage implements are used: no ACL, policy, tags or
 * versioning), then the upload key, read/write grant, quota and one global alias per domain
 * through Garage's admin API (a remote command on the storage host, token on stdin), and the
 * TLS route of the domains to Garage's web endpoint.
 */
export class StaticSite extends pulumi.ComponentResource {
  /** Name of the bucket. */
  readonly bucketName: pulumi.Output<string>;
  /** Access key id of the upload key (read/write on the bucket only). Secret. */
  readonly uploadAccessKeyId: pulumi.Output<string>;
  /** Secret access key of the upload key. Secret. */
  readonly uploadSecretAccessKey: pulumi.Output<string>;
  /** Public URLs of the site, one per domain. */
  readonly urls: pulumi.Output<string[]>;

  constructor(name: string, args: StaticSiteArgs, opts?: pulumi.ComponentResourceOptions) {
    // The quota the policy pack checks against the tier paid for (components/units.ts StorageQuota).
    const quota: StorageQuota = { offer: "website", gb: args.storageGb };
    super(STATIC_SITE_TYPE, name, { quota }, opts);
    const plan = staticSitePlan(args.slug, args.domains, args.storageGb);

    const bucket = new s3.Bucket(
      `${name}-bucket`,
      { bucket: plan.bucketName, forceDestroy: false },
      { parent: this, protect: args.protect ?? true, retainOnDelete: true },
    );
    new s3.BucketWebsiteConfiguration(
      `${name}-website`,
      { bucket: bucket.bucket, indexDocument: { suffix: "index.html" }, errorDocument: { key: "404.html" } },
      { parent: this },
    );

    const garage = new command.remote.Command(
      `${name}-garage`,
      {
        connection: hostConnection(args.storage.host),
        create: garageSiteScript(plan, args.storage.adminUrl ?? GARAGE_ADMIN_URL),
        stdin: pulumi.secret(pulumi.interpolate`${args.storage.adminToken}\n`),
        triggers: [plan.bucketName, plan.keyName, plan.quotaBytes, ...plan.domains],
        addPreviousOutputInEnv: false,
        logging: "stderr",
      },
      { parent: this, dependsOn: [bucket], additionalSecretOutputs: ["stdout", "stdin"] },
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

    this.bucketName = bucket.bucket;
    this.uploadAccessKeyId = pulumi.secret(key.apply((k) => k.accessKeyId));
    this.uploadSecretAccessKey = pulumi.secret(key.apply((k) => k.secretAccessKey));
    this.urls = pulumi.output(plan.urls);
    this.registerOutputs({
      bucketName: this.bucketName,
      uploadAccessKeyId: this.uploadAccessKeyId,
      uploadSecretAccessKey: this.uploadSecretAccessKey,
      urls: this.urls,
      quota,
    });
  }
}
