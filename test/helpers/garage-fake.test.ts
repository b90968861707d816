/**
 * The Garage fake's own rules (test/helpers/garage-fake.ts), each one from Garage's source: what
 * the real server refuses, the fake refuses the same way (status, code), so that a script passing
 * against the fake does not pass only because the fake is lenient.
 */
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { s3Client, s3Error } from "./garage-clients";
import { type GarageFake, httpGet, isValidBucketName, startGarageFake } from "./garage-fake";

const TOKEN = "fake-admin-token";

/** One admin API v2 call: `GET /v2/<name>?query` or `POST /v2/<name>?query` with a JSON body. */
async function admin(
  fake: GarageFake,
  name: string,
  options: { query?: Record<string, string>; body?: unknown; token?: string | null; method?: string } = {},
): Promise<{ status: number; json: any }> {
  const query = options.query ? `?${new URLSearchParams(options.query)}` : "";
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (options.token !== null) headers.authorization = `Bearer ${options.token ?? TOKEN}`;
  const res = await fetch(`${fake.adminUrl}/v2/${name}${query}`, {
    method: options.method ?? (options.body === undefined ? "GET" : "POST"),
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

async function newKey(fake: GarageFake, name: string): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  const { json } = await admin(fake, "CreateKey", { body: { name } });
  return { accessKeyId: json.accessKeyId, secretAccessKey: json.secretAccessKey };
}

describe("Garage fake: names (src/model/bucket_alias_table.rs is_valid_bucket_name)", () => {
  it.each([
    ["abc", true],
    ["ab", false],
    ["a".repeat(63), true],
    ["a".repeat(64), false],
    ["www.example.org", true],
    ["Example.org", false],
    ["-example.org", false],
    ["example.org.", false],
    ["exa_mple.org", false],
    ["192.168.1.1", false],
    ["xn--bcher-kva.example", false],
    ["www.xn--bcher-kva.example", false],
    ["site-s3alias", false],
  ])("%s valid: %s", (name, valid) => {
    expect(isValidBucketName(name, false)).toBe(valid);
  });

  it("accepts punycode labels only with allow_punycode", () => {
    expect(isValidBucketName("xn--bcher-kva.example", true)).toBe(true);
    expect(isValidBucketName("www.xn--bcher-kva.example", true)).toBe(true);
  });
});

describe("Garage fake: admin API v2", () => {
  let fake: GarageFake;
  let punyFake: GarageFake;
  beforeAll(async () => {
    fake = await startGarageFake({ adminToken: TOKEN });
    punyFake = await startGarageFake({ adminToken: TOKEN, allowPunycode: true });
  });
  afterAll(async () => {
    await fake.stop();
    await punyFake.stop();
  });

  it("refuses a missing or wrong token with 403 AccessDenied and Garage's JSON error body (api_server.rs)", async () => {
    const missing = await admin(fake, "ListBuckets", { token: null });
    expect(missing.status).toBe(403);
    expect(missing.json).toEqual({
      code: "AccessDenied",
      message: "Forbidden: Bearer token must be provided in Authorization header",
      region: "garage",
      path: "/v2/ListBuckets",
    });
    const wrong = await admin(fake, "ListBuckets", { token: "nope" });
    expect(wrong.status).toBe(403);
    expect(wrong.json.message).toBe("Forbidden: Invalid bearer token");
  });

  it("answers 400 for an unknown call or a wrong method (router_v2.rs)", async () => {
    expect((await admin(fake, "GetBucket")).status).toBe(400);
    expect((await admin(fake, "CreateBucket", { method: "GET" })).json.code).toBe("InvalidRequest");
  });

  it("refuses an alias too long or in punycode without allow_punycode (CreateBucket: 400 InvalidRequest)", async () => {
    const long = await admin(fake, "CreateBucket", { body: { globalAlias: `${"a".repeat(60)}.org` } });
    expect(long.status).toBe(400);
    expect(long.json.code).toBe("InvalidRequest");
    expect(long.json.message).toMatch(/Invalid bucket name/);
    const puny = await admin(fake, "CreateBucket", { body: { globalAlias: "xn--bcher-kva.example" } });
    expect(puny.status).toBe(400);
    expect(fake.state.buckets.size).toBe(0);
    const allowed = await admin(punyFake, "CreateBucket", { body: { globalAlias: "xn--bcher-kva.example" } });
    expect(allowed.status).toBe(200);
    expect(allowed.json.globalAliases).toEqual(["xn--bcher-kva.example"]);
  });

  it("refuses an invalid alias in AddBucketAlias with 400 InvalidBucketName (helper/locked.rs)", async () => {
    const { json: b } = await admin(fake, "CreateBucket", { body: { globalAlias: "site-names" } });
    const res = await admin(fake, "AddBucketAlias", { body: { bucketId: b.id, globalAlias: "www.xn--bcher-kva.example" } });
    expect(res.status).toBe(400);
    expect(res.json.code).toBe("InvalidBucketName");
  });

  it("gives a bucket a 64-hex id and a key a GK + 24-hex id and a 64-hex secret", async () => {
    const { json: b } = await admin(fake, "CreateBucket", { body: { globalAlias: "site-ids" } });
    expect(b.id).toMatch(/^[0-9a-f]{64}$/);
    expect(b).toMatchObject({ websiteAccess: false, websiteConfig: null, keys: [], quotas: { maxSize: null, maxObjects: null } });
    const key = await newKey(fake, "ids");
    expect(key.accessKeyId).toMatch(/^GK[0-9a-f]{24}$/);
    expect(key.secretAccessKey).toMatch(/^[0-9a-f]{64}$/);
  });

  it("refuses a global alias already taken: 409 on CreateBucket, 400 on AddBucketAlias; the same bucket again is a no-op", async () => {
    const { json: a } = await admin(fake, "CreateBucket", { body: { globalAlias: "taken.example.org" } });
    const again = await admin(fake, "CreateBucket", { body: { globalAlias: "taken.example.org" } });
    expect(again.status).toBe(409);
    expect(again.json.code).toBe("BucketAlreadyExists");
    const { json: b } = await admin(fake, "CreateBucket", { body: { globalAlias: "other.example.org" } });
    const steal = await admin(fake, "AddBucketAlias", { body: { bucketId: b.id, globalAlias: "taken.example.org" } });
    expect(steal.status).toBe(400);
    expect(steal.json.message).toMatch(/already exists and points to different bucket/);
    const same = await admin(fake, "AddBucketAlias", { body: { bucketId: a.id, globalAlias: "taken.example.org" } });
    expect(same.status).toBe(200);
    expect(same.json.globalAliases).toEqual(["taken.example.org"]);
  });

  it("refuses to remove a bucket's last alias (400) and an alias it does not have (500)", async () => {
    const { json: b } = await admin(fake, "CreateBucket", { body: { globalAlias: "site-last" } });
    const last = await admin(fake, "RemoveBucketAlias", { body: { bucketId: b.id, globalAlias: "site-last" } });
    expect(last.status).toBe(400);
    expect(last.json.message).toMatch(/doesn't have other aliases/);
    const absent = await admin(fake, "RemoveBucketAlias", { body: { bucketId: b.id, globalAlias: "never.example.org" } });
    expect(absent.status).toBe(500);
    await admin(fake, "AddBucketAlias", { body: { bucketId: b.id, globalAlias: "last.example.org" } });
    const ok = await admin(fake, "RemoveBucketAlias", { body: { bucketId: b.id, globalAlias: "site-last" } });
    expect(ok.json.globalAliases).toEqual(["last.example.org"]);
  });

  it("looks up ?globalAlias= in global aliases only, and needs exactly one of id, globalAlias, search", async () => {
    const key = await newKey(fake, "local-only");
    const { json: b } = await admin(fake, "CreateBucket", {
      body: { localAlias: { accessKeyId: key.accessKeyId, alias: "mine", allow: { read: true } } },
    });
    expect(b.globalAliases).toEqual([]);
    expect(b.keys).toEqual([
      {
        accessKeyId: key.accessKeyId,
        name: "local-only",
        permissions: { read: true, write: false, owner: false },
        bucketLocalAliases: ["mine"],
      },
    ]);
    const miss = await admin(fake, "GetBucketInfo", { query: { globalAlias: "mine" } });
    expect(miss.status).toBe(404);
    expect(miss.json.code).toBe("NoSuchBucket");
    expect((await admin(fake, "GetBucketInfo", { query: { id: b.id, globalAlias: "mine" } })).status).toBe(400);
    expect((await admin(fake, "GetBucketInfo", { query: { id: "zz" } })).status).toBe(400);
    expect((await admin(fake, "GetBucketInfo", { query: { id: "0".repeat(64) } })).status).toBe(404);
    expect((await admin(fake, "GetBucketInfo", { query: { search: b.id.slice(0, 10) } })).json.id).toBe(b.id);
  });

  it("UpdateBucket: website needs an index document; quotas replace both limits", async () => {
    const { json: b } = await admin(fake, "CreateBucket", { body: { globalAlias: "site-update" } });
    const noIndex = await admin(fake, "UpdateBucket", { query: { id: b.id }, body: { websiteAccess: { enabled: true } } });
    expect(noIndex.status).toBe(400);
    const noId = await admin(fake, "UpdateBucket", { body: { quotas: { maxSize: 1 } } });
    expect(noId.status).toBe(400);
    await admin(fake, "UpdateBucket", { query: { id: b.id }, body: { quotas: { maxSize: 10, maxObjects: 3 } } });
    const { json } = await admin(fake, "UpdateBucket", {
      query: { id: b.id },
      body: { websiteAccess: { enabled: true, indexDocument: "index.html", errorDocument: "404.html" }, quotas: { maxSize: 20 } },
    });
    expect(json).toMatchObject({
      websiteAccess: true,
      websiteConfig: { indexDocument: "index.html", errorDocument: "404.html" },
      quotas: { maxSize: 20, maxObjects: null },
    });
    expect((await admin(fake, "UpdateBucket", { query: { id: b.id }, body: { quotas: { maxSize: -1 } } })).status).toBe(400);
  });

  it("keys: the secret only with showSecretKey=true; unknown id 404 NoSuchAccessKey; ImportKey of an existing id 409", async () => {
    const key = await newKey(fake, "shown");
    const hidden = await admin(fake, "GetKeyInfo", { query: { id: key.accessKeyId } });
    expect(hidden.json).not.toHaveProperty("secretAccessKey");
    const shown = await admin(fake, "GetKeyInfo", { query: { id: key.accessKeyId, showSecretKey: "true" } });
    expect(shown.json.secretAccessKey).toBe(key.secretAccessKey);
    expect((await admin(fake, "GetKeyInfo", { query: { search: "shown" } })).json.accessKeyId).toBe(key.accessKeyId);
    const unknown = await admin(fake, "GetKeyInfo", { query: { id: "GK000000000000000000000000" } });
    expect(unknown.status).toBe(404);
    expect(unknown.json.code).toBe("NoSuchAccessKey");
    const dup = await admin(fake, "ImportKey", { body: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey } });
    expect(dup.status).toBe(409);
    expect(dup.json.code).toBe("KeyAlreadyExists");
    const bad = await admin(fake, "ImportKey", { body: { accessKeyId: "GKshort", secretAccessKey: "0".repeat(64) } });
    expect(bad.status).toBe(400);
    const list = await admin(fake, "ListKeys");
    expect(list.json.map((k: { name: string }) => k.name)).toContain("shown");
  });

  it("AllowBucketKey / DenyBucketKey change only the flags given true; unknown bucket 404", async () => {
    const key = await newKey(fake, "perm");
    const { json: b } = await admin(fake, "CreateBucket", { body: { globalAlias: "site-perm" } });
    await admin(fake, "AllowBucketKey", {
      body: { bucketId: b.id, accessKeyId: key.accessKeyId, permissions: { read: true, write: true } },
    });
    const { json } = await admin(fake, "DenyBucketKey", {
      body: { bucketId: b.id, accessKeyId: key.accessKeyId, permissions: { write: true } },
    });
    expect(json.keys[0].permissions).toEqual({ read: true, write: false, owner: false });
    const unknown = await admin(fake, "AllowBucketKey", {
      body: { bucketId: "0".repeat(64), accessKeyId: key.accessKeyId, permissions: { read: true } },
    });
    expect(unknown.status).toBe(404);
  });
});

describe("Garage fake: S3 API", () => {
  let fake: GarageFake;
  beforeAll(async () => {
    fake = await startGarageFake({ adminToken: TOKEN });
  });
  afterAll(() => fake.stop());

  it("S3 CreateBucket gives only a local alias: the admin API does not find it by name (s3/bucket.rs)", async () => {
    const key = await newKey(fake, "creator");
    await admin(fake, "UpdateKey", { query: { id: key.accessKeyId }, body: { allow: { createBucket: true } } });
    await s3Client(fake, key).send(new CreateBucketCommand({ Bucket: "site-made-by-s3" }));
    const byName = await admin(fake, "GetBucketInfo", { query: { globalAlias: "site-made-by-s3" } });
    expect(byName.status).toBe(404);
    const { json: list } = await admin(fake, "ListBuckets");
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ globalAliases: [], localAliases: [{ accessKeyId: key.accessKeyId, alias: "site-made-by-s3" }] });
    // The creating key reaches it through its local alias, with every permission.
    await s3Client(fake, key).send(new PutObjectCommand({ Bucket: "site-made-by-s3", Key: "a.txt", Body: "a" }));
    // Another key does not see the local alias: no such bucket.
    const other = await newKey(fake, "other");
    expect(await s3Error(s3Client(fake, other).send(new GetObjectCommand({ Bucket: "site-made-by-s3", Key: "a.txt" })))).toEqual({
      status: 404,
      code: "NoSuchBucket",
    });
  });

  it("a key without createBucket cannot create a bucket through S3 (403)", async () => {
    const key = await newKey(fake, "no-create");
    expect(await s3Error(s3Client(fake, key).send(new CreateBucketCommand({ Bucket: "site-refused" })))).toEqual({
      status: 403,
      code: "AccessDenied",
    });
  });

  it("checks the key, the signature, the region and the permissions (signature/payload.rs, s3/api_server.rs)", async () => {
    const key = await newKey(fake, "reader");
    const { json: b } = await admin(fake, "CreateBucket", { body: { globalAlias: "site-perms" } });
    const put = (k: { accessKeyId: string; secretAccessKey: string }, region?: string) =>
      s3Client(fake, k, region).send(new PutObjectCommand({ Bucket: "site-perms", Key: "x.txt", Body: "x" }));
    expect(await s3Error(put({ accessKeyId: "GK000000000000000000000000", secretAccessKey: "0".repeat(64) }))).toEqual({
      status: 403,
      code: "AccessDenied",
    });
    expect(await s3Error(put({ ...key, secretAccessKey: "1".repeat(64) }))).toEqual({ status: 403, code: "AccessDenied" });
    expect(await s3Error(put(key, "us-east-1"))).toEqual({ status: 400, code: "AuthorizationHeaderMalformed" });
    // No permission on an existing bucket: 403; read only: no write.
    expect(await s3Error(put(key))).toEqual({ status: 403, code: "AccessDenied" });
    await admin(fake, "AllowBucketKey", { body: { bucketId: b.id, accessKeyId: key.accessKeyId, permissions: { read: true } } });
    expect(await s3Error(put(key))).toEqual({ status: 403, code: "AccessDenied" });
    expect(await s3Error(s3Client(fake, key).send(new GetObjectCommand({ Bucket: "site-perms", Key: "x.txt" })))).toEqual({
      status: 404,
      code: "NoSuchKey",
    });
    await admin(fake, "AllowBucketKey", { body: { bucketId: b.id, accessKeyId: key.accessKeyId, permissions: { write: true } } });
    await put(key);
    const got = await s3Client(fake, key).send(new GetObjectCommand({ Bucket: "site-perms", Key: "x.txt" }));
    expect(await got.Body?.transformToString()).toBe("x");
  });

  it("decodes an aws-chunked streaming upload and checks the body's checksums (streaming.rs, checksum.rs)", async () => {
    const key = await newKey(fake, "stream");
    const { json: b } = await admin(fake, "CreateBucket", { body: { globalAlias: "site-stream" } });
    await admin(fake, "AllowBucketKey", {
      body: { bucketId: b.id, accessKeyId: key.accessKeyId, permissions: { read: true, write: true } },
    });
    const client = s3Client(fake, key);
    const body = Readable.from([Buffer.from("hello "), Buffer.from("world")]);
    await client.send(new PutObjectCommand({ Bucket: "site-stream", Key: "s.txt", Body: body, ContentLength: 11 }));
    const got = await client.send(new GetObjectCommand({ Bucket: "site-stream", Key: "s.txt" }));
    expect(await got.Body?.transformToString()).toBe("hello world");
    expect(
      await s3Error(client.send(new PutObjectCommand({ Bucket: "site-stream", Key: "bad.txt", Body: "abc", ChecksumCRC32: "AAAAAA==" }))),
    ).toEqual({ status: 400, code: "InvalidDigest" });
  });

  it("refuses an unsigned request: Garage has no anonymous access", async () => {
    const res = await httpGet(`${fake.s3Url}/site-perms/x.txt`);
    expect(res.status).toBe(403);
    expect(res.body).toContain("<Code>AccessDenied</Code>");
  });

  it("enforces maxSize on put against the growth of the bucket (put.rs check_quotas: 403)", async () => {
    const key = await newKey(fake, "quota");
    const { json: b } = await admin(fake, "CreateBucket", { body: { globalAlias: "site-quota" } });
    await admin(fake, "AllowBucketKey", {
      body: { bucketId: b.id, accessKeyId: key.accessKeyId, permissions: { read: true, write: true } },
    });
    await admin(fake, "UpdateBucket", { query: { id: b.id }, body: { quotas: { maxSize: 10 } } });
    const put = (k: string, body: string) => s3Client(fake, key).send(new PutObjectCommand({ Bucket: "site-quota", Key: k, Body: body }));
    await put("a", "12345678");
    expect(await s3Error(put("b", "123"))).toEqual({ status: 403, code: "AccessDenied" });
    // Replacing an object counts only the difference: 8 → 10 bytes fits, and shrinking always does.
    await put("a", "1234567890");
    await put("a", "1");
    await put("b", "123");
    const { json } = await admin(fake, "GetBucketInfo", { query: { id: b.id } });
    expect(json).toMatchObject({ objects: 2, bytes: 4 });
  });
});

describe("Garage fake: web endpoint (web/web_server.rs)", () => {
  let fake: GarageFake;
  let bucketId: string;
  beforeAll(async () => {
    fake = await startGarageFake({ adminToken: TOKEN });
    const key = await newKey(fake, "web");
    const { json: b } = await admin(fake, "CreateBucket", { body: { globalAlias: "site-web" } });
    bucketId = b.id;
    await admin(fake, "AddBucketAlias", { body: { bucketId, globalAlias: "www.web.example" } });
    await admin(fake, "AllowBucketKey", { body: { bucketId, accessKeyId: key.accessKeyId, permissions: { write: true } } });
    const client = s3Client(fake, key);
    for (const [k, v] of Object.entries({ "index.html": "home", "404.html": "missing", "dir/index.html": "dir home" })) {
      await client.send(new PutObjectCommand({ Bucket: "site-web", Key: k, Body: v, ContentType: "text/html" }));
    }
  });
  afterAll(() => fake.stop());

  it("answers 404 while website access is disabled, then serves by global alias, port ignored", async () => {
    expect((await httpGet(`${fake.webUrl}/`, { host: "www.web.example" })).status).toBe(404);
    await admin(fake, "UpdateBucket", { query: { id: bucketId }, body: { websiteAccess: { enabled: true, indexDocument: "index.html" } } });
    const home = await httpGet(`${fake.webUrl}/`, { host: "WWW.web.example:8080" });
    expect(home).toMatchObject({ status: 200, body: "home" });
    expect(home.headers["content-type"]).toBe("text/html");
    // <bucket><root_domain> names the bucket too.
    expect((await httpGet(`${fake.webUrl}/dir/`, { host: `site-web${fake.webRootDomain}` })).body).toBe("dir home");
  });

  it("redirects /dir to /dir/ when dir/index.html exists (path_to_keys)", async () => {
    const res = await httpGet(`${fake.webUrl}/dir`, { host: "www.web.example" });
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe("/dir/");
  });

  it("answers an unknown host with Garage's 404 page", async () => {
    const res = await httpGet(`${fake.webUrl}/`, { host: "nobody.example" });
    expect(res.status).toBe(404);
    expect(res.body).toBe("<title>404 Not Found</title>\n<h1>404 Not Found</h1>");
  });

  it("serves the error document with status 404 for a missing page, or the plain page without one", async () => {
    const plain = await httpGet(`${fake.webUrl}/nothing.html`, { host: "www.web.example" });
    expect(plain.status).toBe(404);
    expect(plain.body).toContain("Code: NoSuchKey");
    await admin(fake, "UpdateBucket", {
      query: { id: bucketId },
      body: { websiteAccess: { enabled: true, indexDocument: "index.html", errorDocument: "404.html" } },
    });
    const doc = await httpGet(`${fake.webUrl}/nothing.html`, { host: "www.web.example" });
    expect(doc).toMatchObject({ status: 404, body: "missing" });
    expect(doc.headers["x-garage-error"]).toBeDefined();
    const head = await httpGet(`${fake.webUrl}/nothing.html`, { host: "www.web.example", method: "HEAD" });
    expect(head.status).toBe(404);
  });
});
