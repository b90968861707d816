import { Provider as AwsProvider } from "@pulumi/aws/provider";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import * as mocks from "../helpers/mocks";
import * as options from "../helpers/options";

const storageHost = { name: "s1", address: "s1.infra.example.org", user: "deploy" };
const proxyHost = { name: "p1", address: "p1.infra.example.org", user: "deploy" };
const ADMIN_TOKEN = "garage-admin-token-value";

describe("StaticSite under mocks", () => {
  let mod: typeof import("../../components/tenant/static-site");

  beforeAll(async () => {
    mocks.installMocks({
      // What the Garage script prints: the upload key.
      state: (type, name) =>
        type === "command:remote:Command" && name === "acme-site-garage"
          ? { stdout: '{"accessKeyId":"GKupload","secretAccessKey":"upload-secret"}' }
          : undefined,
    });
    mod = await import("../../components/tenant/static-site.js");
  });

  async function build(overrides: Partial<import("../../components/tenant/static-site").StaticSiteArgs> = {}) {
    mocks.reset();
    const rec = options.optionsRecorder();
    const aws = new AwsProvider("garage", {
      region: "garage",
      skipCredentialsValidation: true,
      skipRequestingAccountId: true,
      skipMetadataApiCheck: true,
      skipRegionValidation: true,
      s3UsePathStyle: true,
      endpoints: [{ s3: "https://s3.example.org" }],
    });
    const site = new mod.StaticSite(
      "acme-site",
      {
        slug: "acme",
        domains: ["www.acme.org", "acme.org"],
        storageGb: 5,
        storage: {
          host: storageHost,
          webUpstream: "http://garage:3902",
          adminToken: pulumi.secret(ADMIN_TOKEN),
        },
        proxy: { host: proxyHost, routesDir: "/srv/alacarte/routes", publicIp: "203.0.113.10" },
        ...overrides,
      },
      { providers: { aws }, transformations: [rec.transformation] },
    );
    await mocks.promiseOf(site.uploadSecretAccessKey);
    await mocks.settle();
    return { site, rec };
  }

  it("creates the bucket from the slug, protected and retained, through the given aws provider", async () => {
    const { site, rec } = await build();
    const bucket = mocks.one("aws:s3/bucket:Bucket");
    expect(bucket.name).toBe("acme-site-bucket");
    expect(options.plain(bucket.inputs)).toEqual({ bucket: "site-acme", forceDestroy: false });
    expect(bucket.provider).toMatch(/pulumi:providers:aws::garage::/);
    expect(rec.get("acme-site-bucket").opts).toMatchObject({ protect: true, retainOnDelete: true });
    expect(rec.get("acme-site-bucket").opts.parent).toBe(site);
    expect(await mocks.promiseOf(site.bucketName)).toBe("site-acme");
  });

  it("sets no bucket call Garage answers 501 to", async () => {
    await build();
    const inputs = mocks.one("aws:s3/bucket:Bucket").inputs;
    for (const field of ["acl", "policy", "tags", "versioning", "grants", "objectLockEnabled", "serverSideEncryptionConfiguration"]) {
      expect(inputs[field], field).toBeUndefined();
    }
  });

  it("configures the website documents", async () => {
    await build();
    const website = mocks.one("aws:s3/bucketWebsiteConfiguration:BucketWebsiteConfiguration");
    expect(options.plain(website.inputs)).toEqual({
      bucket: "site-acme",
      indexDocument: { suffix: "index.html" },
      errorDocument: { key: "404.html" },
    });
    expect(website.provider).toMatch(/pulumi:providers:aws::garage::/);
  });

  it("provisions key, quota (GB × 2^30) and domain aliases with the admin token on stdin only", async () => {
    const { rec } = await build();
    const garage = mocks.one("command:remote:Command", "acme-site-garage");
    const create = garage.inputs.create as string;
    expect(create).toContain(`"maxSize":${5 * 2 ** 30}`);
    expect(create).toContain("KEY_NAME='site-acme'");
    expect(create).toContain("BUCKET='site-acme'");
    expect(create).toContain("DOMAINS='acme.org www.acme.org'");
    expect(create).toContain("API='http://127.0.0.1:3903'");
    expect(options.isSecretInput(garage.inputs.stdin)).toBe(true);
    expect(options.plain(garage.inputs.stdin)).toBe(`${ADMIN_TOKEN}\n`);
    expect(options.plain(garage.inputs.connection)).toMatchObject({ host: "s1.infra.example.org", user: "deploy" });
    expect(rec.get("acme-site-garage").opts.additionalSecretOutputs).toEqual(expect.arrayContaining(["stdout"]));
    expect(garage.inputs.logging).toBe("stderr");
    // The token is in no command's create/update/delete string, environment or triggers.
    for (const c of mocks.byType("command:remote:Command")) {
      const visible = JSON.stringify(options.plain({ ...c.inputs, stdin: undefined }));
      expect(visible, c.name).not.toContain(ADMIN_TOKEN);
      expect(c.inputs.environment, c.name).toBeUndefined();
    }
  });

  it("routes the domains to Garage's web endpoint with TLS, once their DNS points at the proxy", async () => {
    const { site, rec } = await build();
    const route = mocks.one("alacarte:block:ProxyRoute");
    expect(route.name).toBe("acme-site-route");
    expect(rec.get("acme-site-route").opts.parent).toBe(site);
    const write = mocks.byType("command:remote:Command").find((c) => c.name.startsWith("acme-site-route"))!;
    const fragment = options.plain(write.inputs.stdin) as string;
    expect(fragment).toContain("Host(`acme.org`) || Host(`www.acme.org`)");
    expect(fragment).toContain("certResolver: le");
    expect(fragment).toContain("http://garage:3902");
    expect(write.inputs.create).toContain("/srv/alacarte/routes/pending/acme-website.yml.pending");
    expect(write.inputs.create).toContain("203.0.113.10");
    expect(options.plain(write.inputs.connection)).toMatchObject({ host: "p1.infra.example.org" });
    expect(await mocks.promiseOf(site.urls)).toEqual(["https://acme.org/", "https://www.acme.org/"]);
  });

  it("exposes the upload key as secrets", async () => {
    const { site } = await build();
    expect(await mocks.secretOf(site.uploadAccessKeyId)).toBe(true);
    expect(await mocks.secretOf(site.uploadSecretAccessKey)).toBe(true);
    expect(await mocks.promiseOf(site.uploadAccessKeyId)).toBe("GKupload");
    expect(await mocks.promiseOf(site.uploadSecretAccessKey)).toBe("upload-secret");
  });

  it("lets the caller turn protection off (staging)", async () => {
    const { rec } = await build({ protect: false });
    expect(rec.get("acme-site-bucket").opts).toMatchObject({ protect: false, retainOnDelete: true });
  });

  it("rejects a bad storage size before creating anything", () => {
    expect(
      () =>
        new mod.StaticSite("bad", {
          slug: "acme",
          domains: ["acme.org"],
          storageGb: 0,
          storage: { host: storageHost, webUpstream: "http://garage:3902", adminToken: "x" },
          proxy: { host: proxyHost, routesDir: "/srv/alacarte/routes", publicIp: "203.0.113.10" },
        }),
    ).toThrow(/storageGb must be a positive whole number/);
  });
});
