import { execFile } from "node:child_process";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { garageSiteScript, parseUploadKey, staticSitePlan } from "../../components/tenant/static-site-config";
import { needTools } from "../helpers/debian-tools";

describe("staticSitePlan", () => {
  it("derives names from the slug and the quota in 2^30-byte GB", () => {
    expect(staticSitePlan("amis-du-velo", ["www.AmisDuVelo.org", "amisduvelo.org", "amisduvelo.org"], 5)).toEqual({
      bucketName: "site-amis-du-velo",
      quotaBytes: 5 * 1024 ** 3,
      keyName: "site-amis-du-velo",
      domains: ["amisduvelo.org", "www.amisduvelo.org"],
      routeName: "amis-du-velo-website",
      urls: ["https://amisduvelo.org/", "https://www.amisduvelo.org/"],
    });
  });

  it("keeps the bucket name when the domains or the tier change", () => {
    expect(staticSitePlan("acme", ["a.org"], 5).bucketName).toBe(staticSitePlan("acme", ["b.org"], 20).bucketName);
  });

  it.each([
    ["Acme", ["a.org"], 5, /invalid tenant slug/],
    ["acme", [], 5, /at least one domain/],
    ["acme", ["not a domain"], 5, /invalid domain/],
    ["acme", ["a.org'; rm -rf /"], 5, /invalid domain/],
    ["acme", ["a.org"], 0, /positive whole number/],
    ["acme", ["a.org"], 2.5, /positive whole number/],
  ])("rejects %s %j %d", (slug, domains, gb, error) => {
    expect(() => staticSitePlan(slug as string, domains as string[], gb as number)).toThrow(error as RegExp);
  });
});

describe("parseUploadKey", () => {
  it("reads the script output and tolerates unknown output", () => {
    expect(parseUploadKey('{"accessKeyId":"GK1","secretAccessKey":"s"}')).toEqual({ accessKeyId: "GK1", secretAccessKey: "s" });
    expect(parseUploadKey("{}")).toEqual({ accessKeyId: "", secretAccessKey: "" });
    expect(parseUploadKey(undefined)).toEqual({ accessKeyId: "", secretAccessKey: "" });
  });
});

/** A fake Garage admin API v2 holding one bucket, enough for the site script. */
class FakeGarage {
  readonly token = "admin-token-not-in-argv";
  readonly calls: string[] = [];
  keys: { id: string; name: string; secret: string }[] = [{ id: "GKother", name: "site-acme-corp", secret: "x" }];
  bucket = { id: "b1", globalAliases: ["site-acme", "old.example.org"], quotas: {} as unknown, grants: [] as unknown[] };
  server!: Server;

  url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async start(): Promise<void> {
    this.server = createServer(async (req, res) => {
      const body = await read(req);
      const u = new URL(req.url ?? "/", "http://x");
      this.calls.push(`${req.method} ${u.pathname}${u.search}${body ? ` ${body}` : ""}`);
      const send = (status: number, value: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(value));
      };
      if (req.headers.authorization !== `Bearer ${this.token}`) return send(403, { code: "Forbidden" });
      const json = body ? (JSON.parse(body) as Record<string, any>) : {};
      const bucketInfo = () => ({ id: this.bucket.id, globalAliases: [...this.bucket.globalAliases], quotas: this.bucket.quotas });
      switch (u.pathname) {
        case "/v2/GetBucketInfo":
          if (u.searchParams.get("globalAlias") === "site-acme" || u.searchParams.get("id") === "b1") return send(200, bucketInfo());
          return send(404, { code: "NoSuchBucket" });
        case "/v2/ListKeys":
          return send(
            200,
            this.keys.map((k) => ({ id: k.id, name: k.name })),
          );
        case "/v2/CreateKey": {
          const key = { id: `GK${this.keys.length}`, name: json.name, secret: `secret-${this.keys.length}` };
          this.keys.push(key);
          return send(200, { accessKeyId: key.id, name: key.name, secretAccessKey: key.secret });
        }
        case "/v2/GetKeyInfo": {
          const key = this.keys.find((k) => k.id === u.searchParams.get("id"));
          if (!key) return send(404, {});
          const show = u.searchParams.get("showSecretKey") === "true";
          return send(200, { accessKeyId: key.id, name: key.name, secretAccessKey: show ? key.secret : null });
        }
        case "/v2/AllowBucketKey":
          this.bucket.grants.push(json);
          return send(200, bucketInfo());
        case "/v2/UpdateBucket":
          this.bucket.quotas = json.quotas;
          return send(200, bucketInfo());
        case "/v2/AddBucketAlias":
          this.bucket.globalAliases.push(json.globalAlias);
          return send(200, bucketInfo());
        case "/v2/RemoveBucketAlias":
          this.bucket.globalAliases = this.bucket.globalAliases.filter((a) => a !== json.globalAlias);
          return send(200, bucketInfo());
        default:
          return send(400, { code: "InvalidRequest" });
      }
    });
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
  }
}

function read(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let data = "";
    req.on("data", (c) => (data += c));
    req.on("end", () => resolve(data));
  });
}

/** Runs the script with dash (POSIX sh), the token on stdin only, with an empty environment but PATH. */
function runScript(script: string, stdin: string): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    const child = execFile("dash", ["-c", script], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } }, (error, stdout, stderr) =>
      resolve({ stdout, stderr, code: error ? ((error as { code?: number }).code ?? 1) : 0 }),
    );
    child.stdin?.end(stdin);
  });
}

describe("garageSiteScript against a fake Garage admin API", () => {
  needTools("dash", "curl", "jq");
  const garage = new FakeGarage();
  beforeAll(() => garage.start());
  afterAll(() => new Promise<void>((resolve) => garage.server.close(() => resolve())));

  const plan = staticSitePlan("acme", ["www.acme.org", "acme.org"], 5);

  it("never holds the token in its text", () => {
    expect(garageSiteScript(plan)).not.toContain(garage.token);
  });

  it("creates the key, grants read/write, sets the quota and the domain aliases", async () => {
    const result = await runScript(garageSiteScript(plan, garage.url()), `${garage.token}\n`);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ accessKeyId: "GK1", secretAccessKey: "secret-1" });
    expect(garage.keys.map((k) => k.name)).toEqual(["site-acme-corp", "site-acme"]);
    expect(garage.bucket.grants).toEqual([{ bucketId: "b1", accessKeyId: "GK1", permissions: { read: true, write: true, owner: false } }]);
    expect(garage.bucket.quotas).toEqual({ maxSize: 5 * 2 ** 30, maxObjects: null });
    expect([...garage.bucket.globalAliases].sort()).toEqual(["acme.org", "site-acme", "www.acme.org"]);
  });

  it("is idempotent: a second run reuses the key and adds no alias", async () => {
    const before = garage.calls.length;
    const result = await runScript(garageSiteScript(plan, garage.url()), `${garage.token}\n`);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ accessKeyId: "GK1", secretAccessKey: "secret-1" });
    const calls = garage.calls.slice(before);
    expect(calls.some((c) => c.includes("CreateKey") || c.includes("AddBucketAlias") || c.includes("RemoveBucketAlias"))).toBe(false);
    expect(garage.keys).toHaveLength(2);
  });

  it("removes the alias of a domain no longer listed", async () => {
    const fewer = staticSitePlan("acme", ["acme.org"], 5);
    const result = await runScript(garageSiteScript(fewer, garage.url()), `${garage.token}\n`);
    expect(result.code).toBe(0);
    expect([...garage.bucket.globalAliases].sort()).toEqual(["acme.org", "site-acme"]);
  });

  it("fails without printing a key when the token is wrong", async () => {
    const result = await runScript(garageSiteScript(plan, garage.url()), "wrong\n");
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe("");
  });
});
