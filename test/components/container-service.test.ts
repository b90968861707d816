import { beforeAll, describe, expect, it } from "vitest";
import { installMocks, one, byType, promiseOf, secretOf, settle } from "../helpers/mocks";
import { isSecretInput, optionsRecorder, plain } from "../helpers/options";
import {
  assertPinnedImage,
  containerLabels,
  hostRule,
  routeLabels,
  validateContainerService,
  volumeLabels,
  volumeQuotas,
} from "../../components/blocks/container-service";
import type { ContainerServiceArgs } from "../../components/blocks/container-service";

const host = { name: "h1", address: "h1.infra.example.org", user: "deploy" };

describe("assertPinnedImage", () => {
  it.each([
    "postgres:17.6",
    "traefik:v3.6.25",
    "quay.io/keycloak/keycloak:26.4.5",
    "ghcr.io/docker-mailserver/docker-mailserver:15.1.0",
    "registry.example.org:5000/team/app:1.2.3-alpine",
    `nginx@sha256:${"a".repeat(64)}`,
  ])("accepts %s", (image) => expect(() => assertPinnedImage(image)).not.toThrow());

  it("rejects a missing tag, naming the image", () =>
    expect(() => assertPinnedImage("nginx")).toThrow(
      'Image "nginx" has no tag: pin an exact version tag (e.g. postgres:17.6) or a digest',
    ));
  it("does not take a registry port for a tag", () =>
    expect(() => assertPinnedImage("registry.example.org:5000/app")).toThrow('Image "registry.example.org:5000/app" has no tag'));
  it("rejects latest", () => expect(() => assertPinnedImage("redis:latest")).toThrow('Image "redis:latest" uses the tag "latest"'));
  it.each(["postgres:15", "traefik:v3", "nextcloud:34-apache"])("rejects the bare major %s", (image) =>
    expect(() => assertPinnedImage(image)).toThrow(`Image "${image}" names only a major version`),
  );
  it("rejects a tag without a version", () =>
    expect(() => assertPinnedImage("chocobozzz/peertube:production-trixie")).toThrow(/has a tag without a version/));
});

describe("routeLabels", () => {
  it("limits a route to path prefixes and rate-limits it per address through a middleware of its own", () => {
    const labels = routeLabels("kc", [
      {
        hostnames: ["sso.example.org"],
        port: 8080,
        pathPrefixes: ["/realms/r/login-actions/", "/realms/r/protocol/openid-connect/auth"],
        rateLimit: { average: 60, periodSeconds: 60, burst: 30 },
      },
    ]);
    expect(labels["traefik.http.routers.kc-0.rule"]).toBe(
      "(Host(`sso.example.org`)) && (PathPrefix(`/realms/r/login-actions/`) || PathPrefix(`/realms/r/protocol/openid-connect/auth`))",
    );
    expect(labels["traefik.http.routers.kc-0.middlewares"]).toBe("kc-0-ratelimit");
    expect(labels["traefik.http.middlewares.kc-0-ratelimit.ratelimit.average"]).toBe("60");
    expect(labels["traefik.http.middlewares.kc-0-ratelimit.ratelimit.period"]).toBe("60s");
    expect(labels["traefik.http.middlewares.kc-0-ratelimit.ratelimit.burst"]).toBe("30");
    expect(() => routeLabels("kc", [{ hostnames: ["sso.example.org"], port: 8080, pathPrefixes: ["realms`) || Host(`x"] }])).toThrow(
      'Route 0 of "kc" has an invalid path prefix',
    );
    expect(Object.keys(routeLabels("kc", [{ hostnames: ["sso.example.org"], port: 8080 }])).some((k) => k.includes("middlewares"))).toBe(
      false,
    );
  });

  it("limits a route to client address ranges with Traefik's ClientIP matcher, and refuses what is no IPv4 range", () => {
    const labels = routeLabels("cfg", [
      { hostnames: ["office.example.org"], port: 80, pathPrefixes: ["/alacarte/x.json"], clientIps: ["10.0.0.0/8", "172.16.0.0/12"] },
    ]);
    expect(labels["traefik.http.routers.cfg-0.rule"]).toBe(
      "((Host(`office.example.org`)) && (PathPrefix(`/alacarte/x.json`))) && (ClientIP(`10.0.0.0/8`) || ClientIP(`172.16.0.0/12`))",
    );
    expect(
      routeLabels("cfg", [{ hostnames: ["office.example.org"], port: 80, clientIps: ["192.168.0.0/16"] }])[
        "traefik.http.routers.cfg-0.rule"
      ],
    ).toBe("(Host(`office.example.org`)) && (ClientIP(`192.168.0.0/16`))");
    for (const bad of ["10.0.0.0", "10.0.0.256/8", "10.0.0.0/33", "10.0.0.0/8`) || Host(`x"]) {
      expect(() => routeLabels("cfg", [{ hostnames: ["office.example.org"], port: 80, clientIps: [bad] }])).toThrow(
        `Route 0 of "cfg" has an invalid client range "${bad}"`,
      );
    }
  });

  it("gives each route a TLS router and an explicit service port", () => {
    expect(
      routeLabels("keycloak", [
        { hostnames: ["sso.example.org"], port: 8080 },
        { hostnames: ["a.example.org", "b.example.org"], port: 9000 },
      ]),
    ).toMatchInlineSnapshot(`
      {
        "traefik.enable": "true",
        "traefik.http.routers.keycloak-0.entrypoints": "websecure",
        "traefik.http.routers.keycloak-0.rule": "Host(\`sso.example.org\`)",
        "traefik.http.routers.keycloak-0.service": "keycloak-0",
        "traefik.http.routers.keycloak-0.tls.certresolver": "le",
        "traefik.http.routers.keycloak-1.entrypoints": "websecure",
        "traefik.http.routers.keycloak-1.rule": "Host(\`a.example.org\`) || Host(\`b.example.org\`)",
        "traefik.http.routers.keycloak-1.service": "keycloak-1",
        "traefik.http.routers.keycloak-1.tls.certresolver": "le",
        "traefik.http.services.keycloak-0.loadbalancer.server.port": "8080",
        "traefik.http.services.keycloak-1.loadbalancer.server.port": "9000",
      }
    `);
  });
  it("is sorted by key", () => {
    const keys = Object.keys(routeLabels("x", [{ hostnames: ["x.example.org"], port: 80 }]));
    expect(keys).toEqual([...keys].sort());
  });
  it("is empty without routes (no traefik.enable)", () => expect(routeLabels("x", [])).toEqual({}));
  it("rejects a bad hostname, no hostname, a bad port", () => {
    expect(() => hostRule(["bad host"])).toThrow('Invalid hostname "bad host" in a route');
    expect(() => hostRule([])).toThrow("A route needs at least one hostname");
    expect(() => routeLabels("x", [{ hostnames: ["x.example.org"], port: 0 }])).toThrow('Route 0 of "x" has an invalid port 0');
  });
});

describe("labels", () => {
  it("labels volumes with their backup flag only, and declares their quotas on the service", () => {
    expect(volumeLabels({ backup: true })).toEqual({ "alacarte.backup": "true" });
    expect(volumeLabels({})).toEqual({ "alacarte.backup": "false" });
    expect(
      volumeQuotas("svc", [
        { name: "data", containerPath: "/d", sizeGb: 20, backup: true },
        { name: "cache", containerPath: "/c", sizeGb: 1 },
      ]),
    ).toEqual([
      { name: "svc-data", quotaGb: 20, backup: true },
      { name: "svc-cache", quotaGb: 1, backup: false },
    ]);
    expect(() => volumeQuotas("svc", [{ name: "data", containerPath: "/d", sizeGb: 0 }])).toThrow(
      "Volume size must be a positive number of GB, got 0",
    );
  });
  it("adds extra labels but never lets them override its own", () => {
    expect(containerLabels("svc", [], { "org.example": "1" })).toEqual({ "alacarte.service": "svc", "org.example": "1" });
    expect(() => containerLabels("svc", [{ hostnames: ["s.example.org"], port: 80 }], { "traefik.enable": "false" })).toThrow(
      'Label "traefik.enable" of "svc" is set by ContainerService itself',
    );
  });
});

describe("validateContainerService", () => {
  const base: ContainerServiceArgs = { image: "postgres:17.6", host, limits: { memoryMb: 256, cpus: 0.5 } };
  it("accepts a minimal service", () => expect(() => validateContainerService("db", base)).not.toThrow());
  it.each<[string, Partial<ContainerServiceArgs>, RegExp]>([
    ["limits in MB", { limits: { memoryMb: 0.5, cpus: 1 } }, /memoryMb must be a positive integer/],
    ["cpus", { limits: { memoryMb: 64, cpus: 0 } }, /cpus must be positive/],
    ["volume names", { volumes: [{ name: "Data", containerPath: "/d", sizeGb: 1 }] }, /must be kebab-case/],
    [
      "duplicate volumes",
      {
        volumes: [
          { name: "d", containerPath: "/d", sizeGb: 1 },
          { name: "d", containerPath: "/e", sizeGb: 1 },
        ],
      },
      /listed twice/,
    ],
    ["reserved volume names", { volumes: [{ name: "image", containerPath: "/d", sizeGb: 1 }] }, /reserved/],
    ["env in both", { env: { A: "1" }, secretEnv: { A: "2" } }, /"A" is in both env and secretEnv/],
    ["ports", { ports: [{ internal: 25, external: 70000 }] }, /invalid port 70000/],
    ["the image", { image: "postgres" }, /Image "postgres" has no tag/],
  ])("checks %s", (_, patch, error) => expect(() => validateContainerService("db", { ...base, ...patch })).toThrow(error));
});

describe("ContainerService under mocks", () => {
  let mod: typeof import("../../components/blocks/container-service");
  beforeAll(async () => {
    installMocks();
    mod = await import("../../components/blocks/container-service.js");
  });

  it("creates a pinned image, quota-labelled retained volumes and a limited, routed container", async () => {
    const rec = optionsRecorder();
    const svc = new mod.ContainerService(
      "garage",
      {
        image: "dxflrs/garage:v2.0.0",
        host,
        command: ["/garage", "server"],
        env: { RUST_LOG: "info", B_FIRST: "x" },
        secretEnv: { GARAGE_RPC_SECRET: "very-secret-value" },
        ports: [{ internal: 3901, external: 3901 }],
        volumes: [
          { name: "meta", containerPath: "/var/lib/garage/meta", sizeGb: 1, backup: true },
          { name: "data", containerPath: "/var/lib/garage/data", sizeGb: 20, readOnly: false },
        ],
        hostPaths: [{ hostPath: "/srv/alacarte/garage.toml", containerPath: "/etc/garage.toml", readOnly: true }],
        networks: ["proxy"],
        routes: [{ hostnames: ["s3.example.org"], port: 3900 }],
        healthCheck: { test: ["CMD", "/garage", "status"], intervalSeconds: 10 },
        limits: { memoryMb: 512, cpus: 1.5 },
        labels: { "org.example.team": "ops" },
        protect: false,
      },
      { transformations: [rec.transformation] },
    );
    expect(await promiseOf(svc.containerName)).toBe("garage");
    expect(await promiseOf(svc.internalUrl(3902))).toBe("http://garage:3902");
    await settle();

    const image = one("docker:index/remoteImage:RemoteImage", "garage-image");
    expect(image.inputs).toMatchObject({ name: "dxflrs/garage:v2.0.0", keepLocally: true });

    const vols = byType("docker:index/volume:Volume");
    expect(vols.map((v) => v.name).sort()).toEqual(["garage-data", "garage-meta"]);
    expect(one("docker:index/volume:Volume", "garage-data").inputs).toEqual({
      name: "garage-data",
      labels: [
        { label: "alacarte.backup", value: "false" },
        { label: "alacarte.service", value: "garage" },
      ],
    });
    expect(one("docker:index/volume:Volume", "garage-meta").inputs.labels).toContainEqual({ label: "alacarte.backup", value: "true" });
    for (const v of ["garage-data", "garage-meta"]) {
      expect(rec.get(v).opts).toMatchObject({ parent: svc, protect: false, retainOnDelete: true });
    }

    const c = one("docker:index/container:Container", "garage-container");
    expect(c.inputs.name).toBe("garage");
    expect(c.inputs.image).toBe("dxflrs/garage:v2.0.0");
    expect(c.inputs.restart).toBe("unless-stopped");
    expect(c.inputs.memory).toBe(512);
    expect(c.inputs.cpus).toBe("1.5");
    expect(c.inputs.command).toEqual(["/garage", "server"]);
    expect(c.inputs.ports).toEqual([{ internal: 3901, external: 3901, protocol: "tcp" }]);
    expect(c.inputs.networksAdvanced).toEqual([{ name: "proxy" }]);
    expect(c.inputs.healthcheck).toEqual({ tests: ["CMD", "/garage", "status"], interval: "10s", retries: 3 });
    expect(c.inputs.volumes).toEqual([
      { volumeName: "garage-meta", containerPath: "/var/lib/garage/meta", readOnly: false },
      { volumeName: "garage-data", containerPath: "/var/lib/garage/data", readOnly: false },
      { hostPath: "/srv/alacarte/garage.toml", containerPath: "/etc/garage.toml", readOnly: true },
    ]);
    const labels = Object.fromEntries((c.inputs.labels as { label: string; value: string }[]).map((l) => [l.label, l.value]));
    expect(labels).toMatchObject({
      "traefik.enable": "true",
      "traefik.http.routers.garage-0.rule": "Host(`s3.example.org`)",
      "traefik.http.routers.garage-0.tls.certresolver": "le",
      "traefik.http.routers.garage-0.entrypoints": "websecure",
      "traefik.http.services.garage-0.loadbalancer.server.port": "3900",
      "org.example.team": "ops",
    });

    // The secret env var is secret on the wire; the list is sorted by key.
    expect(isSecretInput(c.inputs.envs)).toBe(true);
    expect(plain(c.inputs.envs)).toEqual(["B_FIRST=x", "GARAGE_RPC_SECRET=very-secret-value", "RUST_LOG=info"]);
    expect(await secretOf(svc.container.envs as any)).toBe(true);

    expect(rec.get("garage-container").opts.parent).toBe(svc);
    expect(rec.get("garage-image").opts.parent).toBe(svc);
    expect(await promiseOf(svc.container.urn)).toContain(
      "alacarte:block:ContainerService$docker:index/container:Container::garage-container",
    );
    expect(await promiseOf(svc.volumes.data!.urn)).toContain("alacarte:block:ContainerService$docker:index/volume:Volume::garage-data");
  });

  it("protects volumes by default and keeps plain env in clear", async () => {
    const rec = optionsRecorder();
    const svc = new mod.ContainerService(
      "web",
      {
        image: "nginx:1.27.3",
        host,
        env: { A: "1" },
        volumes: [{ name: "html", containerPath: "/usr/share/nginx/html", sizeGb: 5 }],
        limits: { memoryMb: 64, cpus: 0.25 },
      },
      { transformations: [rec.transformation] },
    );
    await promiseOf(svc.containerName);
    await settle();
    expect(rec.get("web-html").opts).toMatchObject({ protect: true, retainOnDelete: true });
    const c = one("docker:index/container:Container", "web-container");
    expect(isSecretInput(c.inputs.envs)).toBe(false);
    expect(c.inputs.envs).toEqual(["A=1"]);
    expect(Object.keys(c.inputs).includes("healthcheck") ? c.inputs.healthcheck : undefined).toBeUndefined();
    expect(c.inputs.labels).toEqual([{ label: "alacarte.service", value: "web" }]);
  });

  it("applies the container transform", async () => {
    const svc = new mod.ContainerService("tx", {
      image: "nginx:1.27.3",
      host,
      limits: { memoryMb: 64, cpus: 1 },
      transform: { container: (a) => ({ ...a, user: "101" }) },
    });
    await promiseOf(svc.containerName);
    await settle();
    expect(one("docker:index/container:Container", "tx-container").inputs.user).toBe("101");
  });

  it("refuses an unpinned image before creating anything", () => {
    expect(() => new mod.ContainerService("bad", { image: "nginx:latest", host, limits: { memoryMb: 64, cpus: 1 } })).toThrow(
      /"nginx:latest"/,
    );
  });
});
