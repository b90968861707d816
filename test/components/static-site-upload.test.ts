/**
 * A tenant's upload, as docs/operations.md "Uploading a static site" tells it: the upload key the
 * site's script printed, the S3 endpoint, region `garage` (Garage's s3_region), path-style
 * addressing, bucket `site-<slug>`. The AWS SDK signs and sends the same S3 requests as the AWS CLI
 * and rclone's S3 backend do; the Garage fake (test/helpers/garage-fake.ts) checks the signature
 * and the key's rights as Garage does, then serves the site through its web endpoint by domain.
 */
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { needTools } from "../helpers/debian-tools";
import { provisionSite, s3Client, s3Error, type UploadKey } from "../helpers/garage-clients";
import { type GarageFake, httpGet, startGarageFake } from "../helpers/garage-fake";

const TOKEN = "upload-test-admin-token";

/** The client a tenant configures: endpoint, region garage (as docs/operations.md says), path-style, the upload key. */
const tenantClient = (fake: GarageFake, key: UploadKey) => s3Client(fake, key, "garage");

/** The site's script, the admin token on stdin; the key of its one JSON line of output. */
async function provision(fake: GarageFake, slug: string, domains: string[], gb: number): Promise<UploadKey> {
  const run = await provisionSite(fake, TOKEN, slug, domains, gb);
  if (run.code !== 0) throw new Error(`site script failed: ${run.stderr}`);
  const out = JSON.parse(run.stdout) as UploadKey;
  return { accessKeyId: out.accessKeyId, secretAccessKey: out.secretAccessKey };
}

describe("a tenant uploads a static site with the key the script printed", () => {
  needTools("dash", "curl", "jq");
  let fake: GarageFake;
  let key: UploadKey;
  let otherKey: UploadKey;
  let s3: S3Client;
  const page = (domain: string, path: string, method = "GET") => httpGet(`${fake.webUrl}${path}`, { host: domain, method });

  beforeAll(async () => {
    fake = await startGarageFake({ adminToken: TOKEN });
    key = await provision(fake, "acme", ["acme.org", "www.acme.org"], 1);
    otherKey = await provision(fake, "other", ["other.org"], 1);
    s3 = tenantClient(fake, key);
  });
  afterAll(() => fake.stop());

  it("puts the pages, a file in a folder, lists them, overwrites the home page", async () => {
    const put = (Key: string, Body: string, ContentType = "text/html") =>
      s3.send(new PutObjectCommand({ Bucket: "site-acme", Key, Body, ContentType }));
    await put("index.html", "<h1>Acme</h1>");
    await put("404.html", "<h1>Not here</h1>");
    await put("docs/index.html", "<h1>Docs</h1>");
    await put("docs/style.css", "h1 { color: teal }", "text/css");

    const all = await s3.send(new ListObjectsV2Command({ Bucket: "site-acme" }));
    expect(all.Contents?.map((o) => o.Key)).toEqual(["404.html", "docs/index.html", "docs/style.css", "index.html"]);
    expect(all.Contents?.find((o) => o.Key === "index.html")?.Size).toBe("<h1>Acme</h1>".length);
    const docs = await s3.send(new ListObjectsV2Command({ Bucket: "site-acme", Prefix: "docs/" }));
    expect(docs.Contents?.map((o) => o.Key)).toEqual(["docs/index.html", "docs/style.css"]);
    const top = await s3.send(new ListObjectsV2Command({ Bucket: "site-acme", Delimiter: "/" }));
    expect(top.CommonPrefixes?.map((p) => p.Prefix)).toEqual(["docs/"]);

    await put("index.html", "<h1>Acme, new</h1>");
    const got = await s3.send(new GetObjectCommand({ Bucket: "site-acme", Key: "index.html" }));
    expect(await got.Body?.transformToString()).toBe("<h1>Acme, new</h1>");
    expect(got.ContentType).toBe("text/html");
  });

  it("serves the site by its domains: / and /docs/ by the index document", async () => {
    for (const domain of ["acme.org", "www.acme.org"]) {
      const home = await page(domain, "/");
      expect(home).toMatchObject({ status: 200, body: "<h1>Acme, new</h1>" });
      expect(home.headers["content-type"]).toBe("text/html");
    }
    expect(await page("acme.org", "/docs/")).toMatchObject({ status: 200, body: "<h1>Docs</h1>" });
    const css = await page("acme.org", "/docs/style.css");
    expect(css).toMatchObject({ status: 200, body: "h1 { color: teal }" });
    expect(css.headers["content-type"]).toBe("text/css");
  });

  it("answers a missing page with the 404 document and status 404, as Garage does", async () => {
    const missing = await page("acme.org", "/no/such/page.html");
    expect(missing).toMatchObject({ status: 404, body: "<h1>Not here</h1>" });
    expect((await page("acme.org", "/no/such/page.html", "HEAD")).status).toBe(404);
    // A domain no site claims: Garage's own 404 page.
    expect((await page("nobody.org", "/")).status).toBe(404);
  });

  it("deletes files the way sync tools do (DeleteObjects), the rest is still served", async () => {
    await s3.send(new PutObjectCommand({ Bucket: "site-acme", Key: "old.html", Body: "old", ContentType: "text/html" }));
    expect((await page("acme.org", "/old.html")).status).toBe(200);
    await s3.send(new DeleteObjectsCommand({ Bucket: "site-acme", Delete: { Objects: [{ Key: "old.html" }] } }));
    expect(await page("acme.org", "/old.html")).toMatchObject({ status: 404, body: "<h1>Not here</h1>" });
    expect((await page("acme.org", "/")).status).toBe(200);
  });

  it("cannot write nor read another tenant's bucket (403 AccessDenied), nor reach a bucket that does not exist (404)", async () => {
    expect(await s3Error(s3.send(new PutObjectCommand({ Bucket: "site-other", Key: "index.html", Body: "defaced" })))).toEqual({
      status: 403,
      code: "AccessDenied",
    });
    expect(await s3Error(s3.send(new ListObjectsV2Command({ Bucket: "site-other" })))).toEqual({ status: 403, code: "AccessDenied" });
    // Nor by the other tenant's domain, which is a global alias of its bucket.
    expect(await s3Error(s3.send(new PutObjectCommand({ Bucket: "other.org", Key: "x", Body: "x" })))).toEqual({
      status: 403,
      code: "AccessDenied",
    });
    expect(await s3Error(s3.send(new PutObjectCommand({ Bucket: "site-nobody", Key: "x", Body: "x" })))).toEqual({
      status: 404,
      code: "NoSuchBucket",
    });
    // The other tenant's own key writes there; its site is untouched by acme's attempts.
    await tenantClient(fake, otherKey).send(
      new PutObjectCommand({ Bucket: "site-other", Key: "index.html", Body: "other", ContentType: "text/html" }),
    );
    expect(await page("other.org", "/")).toMatchObject({ status: 200, body: "other" });
  });

  it("refuses an upload past the bucket's quota (Garage: 403 AccessDenied)", async () => {
    // The tier is 1 GB = 2^30 bytes; lower the bucket's quota to a few bytes through the admin API to see the refusal.
    const info = await fetch(`${fake.adminUrl}/v2/GetBucketInfo?globalAlias=site-acme`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const { id, bytes } = (await info.json()) as { id: string; bytes: number };
    const update = await fetch(`${fake.adminUrl}/v2/UpdateBucket?id=${id}`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ quotas: { maxSize: bytes + 4 } }),
    });
    expect(update.status).toBe(200);
    await s3.send(new PutObjectCommand({ Bucket: "site-acme", Key: "a.txt", Body: "abcd" }));
    expect(await s3Error(s3.send(new PutObjectCommand({ Bucket: "site-acme", Key: "b.txt", Body: "e" })))).toEqual({
      status: 403,
      code: "AccessDenied",
    });
  });
});
