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
      { transformations: [rec.transformation] },
    );
    await mocks.promiseOf(site.uploadSecretAccessKey);
    await mocks.settle();
    return { site, rec };
  }

  it("makes the bucket through Garage's admin API only: no S3 resource, a protected command retained on delete that deletes nothing", async () => {
    const { site, rec } = await build();
    expect(mocks.resources().filter((r) => r.type.startsWith("aws:") || r.type === "pulumi:providers:aws")).toEqual([]);
    const garage = mocks.one("command:remote:Command", "acme-site-garage");
    expect(rec.get("acme-site-garage").opts).toMatchObject({ protect: true, retainOnDelete: true });
    expect(rec.get("acme-site-garage").opts.parent).toBe(site);
    expect(garage.inputs.delete).toBeUndefined();
    // A change of tier or domain re-runs the same script in place: no trigger would replace it.
    expect(garage.inputs.triggers).toBeUndefined();
    expect(garage.inputs.update).toBe(garage.inputs.create);
    expect(await mocks.promiseOf(site.bucketName)).toBe("site-acme");
    expect(mocks.one("alacarte:tenant:StaticSite").inputs).toEqual({
      quota: { offer: "website", gb: 5 },
      hostData: { kind: "bucket", name: "site-acme", engine: "garage", protect: true, backup: "object-store", madeBy: "acme-site-garage" },
    });
  });

  it("sets the website documents and the bucket's quota in bytes through UpdateBucket", async () => {
    await build();
    const create = mocks.one("command:remote:Command", "acme-site-garage").inputs.create as string;
    expect(create).toContain(
      `{"websiteAccess":{"enabled":true,"indexDocument":"index.html","errorDocument":"404.html"},"quotas":{"maxSize":${5 * 2 ** 30},"maxObjects":null}}`,
    );
    expect(create).toContain("/v2/CreateBucket");
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

  it("serves a punycode domain: its alias in the script, its Host rule in the route", async () => {
    await build({ domains: ["xn--jardins-d1a.xn--p1ai", "www.jardins.xn--p1ai"] });
    const create = mocks.one("command:remote:Command", "acme-site-garage").inputs.create as string;
    expect(create).toContain("DOMAINS='www.jardins.xn--p1ai xn--jardins-d1a.xn--p1ai'");
    const write = mocks.byType("command:remote:Command").find((c) => c.name.startsWith("acme-site-route"))!;
    expect(options.plain(write.inputs.stdin) as string).toContain("Host(`www.jardins.xn--p1ai`) || Host(`xn--jardins-d1a.xn--p1ai`)");
  });

  it("exposes the upload key as secrets", async () => {
    const { site } = await build();
    expect(await mocks.secretOf(site.uploadAccessKeyId)).toBe(true);
    expect(await mocks.secretOf(site.uploadSecretAccessKey)).toBe(true);
    expect(await mocks.promiseOf(site.uploadAccessKeyId)).toBe("GKupload");
    expect(await mocks.promiseOf(site.uploadSecretAccessKey)).toBe("upload-secret");
  });

  it("lets the caller turn protection off (staging), and retains the bucket on delete still", async () => {
    const { rec } = await build({ protect: false });
    expect(rec.get("acme-site-garage").opts).toMatchObject({ protect: false, retainOnDelete: true });
    expect(mocks.one("alacarte:tenant:StaticSite").inputs.hostData.protect).toBe(false);
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
