import { describe, expect, it } from "vitest";
import { GARAGE_IMAGE, garageBootstrapScript, parseGarageKeyInfo, renderGarageToml } from "../../components/platform/object-storage";

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
        "allow_punycode = true",
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
    expect(script).toContain("docker exec 'p-storage-garage' /garage layout assign -z dc1 -c 200GiB \"$node\"");
    expect(script).toContain("layout apply --version 1");
    expect(script).toContain(
      "/garage key info 'alacarte-admin' >/dev/null 2>&1 || docker exec 'p-storage-garage' /garage key create 'alacarte-admin'",
    );
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
    expect(() => parseGarageKeyInfo(`Key ID: ${id}\nSecret key: (redacted)`)).toThrow("garage key info printed no key id and secret key");
  });

  it("pins Garage", () => expect(GARAGE_IMAGE).toBe("dxflrs/garage:v2.0.0"));
});

describe("ObjectStorage under mocks", () => {
  const host = { name: "store", address: "store.infra.example.org", user: "deploy" };
  const KEY_ID = "GK0123456789abcdef01234567";
  const SECRET = "cd".repeat(32);

  it("writes a secret garage.toml, runs pinned Garage with its volumes and routes, and reads the key as secrets", async () => {
    const { installMocks, one, promiseOf, secretOf, settle } = await import("../helpers/mocks.js");
    const { optionsRecorder, plain, isSecretInput } = await import("../helpers/options.js");
    installMocks({
      state: (type, name) =>
        type === "command:remote:Command" && name === "os-bootstrap"
          ? { stdout: `==== ACCESS KEY INFORMATION ====\nKey ID:              ${KEY_ID}\nSecret key:          ${SECRET}\n` }
          : undefined,
    });
    const mod = await import("../../components/platform/object-storage.js");
    const rec = optionsRecorder();
    const os = new mod.ObjectStorage(
      "os",
      { host, baseDomain: "example.org", network: "proxy", metaGb: 2, dataGb: 100, protect: false },
      { transformations: [rec.transformation] },
    );

    expect(await promiseOf(os.accessKeyId)).toBe(KEY_ID);
    expect(await promiseOf(os.secretAccessKey)).toBe(SECRET);
    expect(await secretOf(os.accessKeyId)).toBe(true);
    expect(await secretOf(os.secretAccessKey)).toBe(true);
    expect(await secretOf(os.adminToken)).toBe(true);
    expect(await promiseOf(os.webUpstream)).toBe("http://os-garage:3902");
    expect(os.endpoint).toBe("https://s3.example.org");
    expect(os.region).toBe("garage");
    await settle();

    // RPC secret: 32 random bytes as hex; admin token: a random password.
    expect(one("random:index/randomId:RandomId", "os-rpc-secret").inputs.byteLength).toBe(32);
    expect(one("random:index/randomPassword:RandomPassword", "os-admin-token").inputs.special).toBe(false);

    // garage.toml reaches the host on stdin, secret, never in the script.
    const write = one("command:remote:Command", "os-config-write");
    expect(isSecretInput(write.inputs.stdin)).toBe(true);
    expect(plain(write.inputs.stdin)).toContain(`rpc_secret = "${"00".repeat(32)}"`);
    expect(plain(write.inputs.stdin)).toContain('admin_token = "mock-password-os-admin-token"');
    expect(JSON.stringify(write.inputs.create)).not.toContain("mock-password-os-admin-token");
    expect(plain(write.inputs.create)).toContain("'/srv/alacarte/garage/garage.toml'");

    expect(one("docker:index/remoteImage:RemoteImage").inputs.name).toBe("dxflrs/garage:v2.0.0");
    const c = plain(one("docker:index/container:Container").inputs);
    expect(c.name).toBe("os-garage");
    expect(c.ports).toEqual([{ internal: 3903, external: 3903, ip: "127.0.0.1", protocol: "tcp" }]);
    expect(c.volumes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ hostPath: "/srv/alacarte/garage/garage.toml", containerPath: "/etc/garage.toml", readOnly: true }),
        expect.objectContaining({ volumeName: "os-garage-meta", containerPath: "/var/lib/garage/meta" }),
        expect.objectContaining({ volumeName: "os-garage-data", containerPath: "/var/lib/garage/data" }),
      ]),
    );
    const labels = Object.fromEntries(c.labels.map((l: any) => [l.label, l.value]));
    expect(labels["traefik.http.routers.os-garage-0.rule"]).toBe("Host(`s3.example.org`)");
    expect(labels["traefik.http.routers.os-garage-0.tls.certresolver"]).toBe("le");
    expect(labels["traefik.http.services.os-garage-0.loadbalancer.server.port"]).toBe("3900");
    // Quotas are the service's declaration, never a volume label (a label change replaces the volume).
    expect(one("alacarte:block:ContainerService", "os-garage").inputs.volumes).toEqual([
      { name: "os-garage-meta", quotaGb: 2, backup: true },
      { name: "os-garage-data", quotaGb: 100, backup: true },
    ]);
    expect(rec.get("os-garage-meta").opts.protect).toBe(false);
    expect(rec.get("os-garage-meta").opts.retainOnDelete).toBe(true);

    // Bootstrap: no secret in it, stdout kept secret, parented to the component.
    const boot = one("command:remote:Command", "os-bootstrap");
    expect(boot.inputs.create).toBe(mod.garageBootstrapScript("os-garage", 100));
    expect(boot.inputs.environment).toBeUndefined();
    expect(boot.inputs.stdin).toBeUndefined();
    expect(rec.get("os-bootstrap").opts.additionalSecretOutputs).toContain("stdout");
    expect(rec.get("os-bootstrap").opts.parent).toBe(os);
    expect(rec.get("os-config-write").opts.parent).toBe(os);
    expect(rec.get("os-garage").opts.parent).toBe(os);
  });
});
