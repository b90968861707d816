import { describe, expect, it } from "vitest";
import {
  GARAGE_IMAGE,
  garageBootstrapScript,
  parseGarageKeyInfo,
  renderGarageToml,
} from "../../components/platform/object-storage";

const RPC = "ab".repeat(32);

describe("renderGarageToml", () => {
  it("renders a single-node Garage 2 config", () => {
    expect(renderGarageToml({ rpcSecret: RPC, adminToken: "tok3n", baseDomain: "example.org" })).toBe(
      [
        'metadata_dir = "/var/lib/garage/meta"',
        'data_dir = "/var/lib/garage/data"',
        'db_engine = "lmdb"',
        'metadata_auto_snapshot_interval = "6h"',
        "",
        "replication_factor = 1",
        "",
        'rpc_bind_addr = "[::]:3901"',
        'rpc_public_addr = "127.0.0.1:3901"',
        `rpc_secret = "${RPC}"`,
        "",
        "[s3_api]",
        's3_region = "garage"',
        'api_bind_addr = "[::]:3900"',
        'root_domain = ".s3.example.org"',
        "",
        "[s3_web]",
        'bind_addr = "[::]:3902"',
        'root_domain = ".web.example.org"',
        'index = "index.html"',
        "",
        "[admin]",
        'api_bind_addr = "[::]:3903"',
        'admin_token = "tok3n"',
        "",
      ].join("\n"),
    );
  });

  it("uses the region given", () =>
    expect(renderGarageToml({ rpcSecret: RPC, adminToken: "t", baseDomain: "e.org", region: "eu-asso" })).toContain(
      's3_region = "eu-asso"',
    ));

  it("rejects a malformed rpc secret or token without echoing them", () => {
    expect(() => renderGarageToml({ rpcSecret: "abc", adminToken: "t", baseDomain: "e.org" })).toThrow(
      "Garage rpc_secret must be 64 lowercase hex characters",
    );
    expect(() => renderGarageToml({ rpcSecret: RPC, adminToken: 'a"b', baseDomain: "e.org" })).toThrow(/admin_token/);
  });
});

describe("garageBootstrapScript", () => {
  const script = garageBootstrapScript("p-storage-garage", 200);

  it("assigns the layout once, creates the key once and prints it", () => {
    expect(script).toContain("docker exec 'p-storage-garage' /garage layout assign -z dc1 -c 200G \"$node\"");
    expect(script).toContain("layout apply --version 1");
    expect(script).toContain("/garage key info 'alacarte-admin' >/dev/null 2>&1 || docker exec 'p-storage-garage' /garage key create 'alacarte-admin'");
    expect(script).toContain("/garage key allow --create-bucket 'alacarte-admin'");
    expect(script.split("\n").at(-1)).toBe("docker exec 'p-storage-garage' /garage key info --show-secret 'alacarte-admin'");
  });
});

describe("parseGarageKeyInfo", () => {
  const id = "GK31c2f218a2e44f485b94239e";
  const secret = "b892c0665f0ada8a4755dae98baa3b133590e11dae3bcc1f9d769d67f16c3835";

  it("reads the key id and secret of `garage key info --show-secret`", () => {
    const out = [
      "==== ACCESS KEY INFORMATION ====",
      `Key ID:              ${id}`,
      "Key name:            alacarte-admin",
      `Secret key:          ${secret}`,
      "Created:             2026-11-20 10:00:00.000 +00:00",
      "Can create buckets:  true",
    ].join("\n");
    expect(parseGarageKeyInfo(out)).toEqual({ accessKeyId: id, secretAccessKey: secret });
  });

  it("fails without echoing the output", () => {
    expect(() => parseGarageKeyInfo(`Key ID: ${id}\nSecret key: (redacted)`)).toThrow(
      "garage key info printed no key id and secret key",
    );
  });

  it("pins Garage", () => expect(GARAGE_IMAGE).toBe("dxflrs/garage:v2.1.0"));
});
