import { describe, expect, it } from "vitest";
import { TRAEFIK_IMAGE, traefikArgs } from "../../components/platform/reverse-proxy";

describe("traefikArgs", () => {
  it("renders the static config, sorted", () => {
    expect(traefikArgs({ acmeEmail: "ops@example.org" })).toEqual([
      "--certificatesresolvers.le.acme.email=ops@example.org",
      "--certificatesresolvers.le.acme.httpchallenge.entrypoint=web",
      "--certificatesresolvers.le.acme.storage=/letsencrypt/acme.json",
      "--entrypoints.web.address=:80",
      "--entrypoints.web.http.redirections.entrypoint.scheme=https",
      "--entrypoints.web.http.redirections.entrypoint.to=websecure",
      "--entrypoints.websecure.address=:443",
      "--global.checknewversion=false",
      "--global.sendanonymoususage=false",
      "--ping=true",
      "--providers.docker.exposedbydefault=false",
      "--providers.docker.network=proxy",
      "--providers.docker=true",
      "--providers.file.directory=/srv/alacarte/routes",
      "--providers.file.watch=true",
    ]);
  });

  it("uses the routes folder and network given", () => {
    const args = traefikArgs({ acmeEmail: "ops@example.org", routesDir: "/data/routes", network: "edge" });
    expect(args).toContain("--providers.file.directory=/data/routes");
    expect(args).toContain("--providers.docker.network=edge");
    expect(args).toEqual([...args].sort());
  });

  it("rejects a bad email or a relative routes folder", () => {
    expect(() => traefikArgs({ acmeEmail: "ops" })).toThrow(/acmeEmail must be an email address, got "ops"/);
    expect(() => traefikArgs({ acmeEmail: "ops@example.org", routesDir: "routes" })).toThrow(/absolute path/);
  });

  it("pins Traefik to an exact v3.6 release at or after v3.6.1", () => {
    const m = /^traefik:v3\.6\.(\d+)$/.exec(TRAEFIK_IMAGE);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThanOrEqual(1);
  });
});

describe("ReverseProxy under mocks", () => {
  const host = { name: "edge", address: "edge.infra.example.org", user: "deploy" };

  it("creates the proxy network and a pinned Traefik on 80/443 with the file provider and docker.sock read-only", async () => {
    const { installMocks, one, byType, promiseOf, settle } = await import("../helpers/mocks.js");
    const { optionsRecorder, plain } = await import("../helpers/options.js");
    installMocks();
    const mod = await import("../../components/platform/reverse-proxy.js");
    const rec = optionsRecorder();
    const proxy = new mod.ReverseProxy("rp", { host, acmeEmail: "ops@example.org" }, { transformations: [rec.transformation] });
    expect(await promiseOf(proxy.networkName)).toBe("proxy");
    expect(await promiseOf(proxy.containerName)).toBe("rp-traefik");
    expect(proxy.routesDir).toBe("/srv/alacarte/routes");
    await settle();

    expect(one("docker:index/network:Network", "rp-network").inputs.name).toBe("proxy");
    expect(one("alacarte:block:ContainerService", "rp-traefik").custom).toBe(false);
    expect(rec.get("rp-network").opts.parent).toBe(proxy);
    expect(rec.get("rp-traefik").opts.parent).toBe(proxy);

    expect(one("docker:index/remoteImage:RemoteImage").inputs.name).toBe("traefik:v3.6.25");
    const c = plain(one("docker:index/container:Container").inputs);
    expect(c.command).toEqual(traefikArgs({ acmeEmail: "ops@example.org" }));
    expect(c.ports.map((p: any) => [p.internal, p.external])).toEqual([[80, 80], [443, 443]]);
    expect(c.volumes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ hostPath: "/srv/alacarte/routes", containerPath: "/srv/alacarte/routes", readOnly: true }),
        expect.objectContaining({ hostPath: "/var/run/docker.sock", containerPath: "/var/run/docker.sock", readOnly: true }),
        expect.objectContaining({ volumeName: "rp-traefik-letsencrypt", containerPath: "/letsencrypt" }),
      ]),
    );
    expect(c.networksAdvanced).toEqual([{ name: "proxy" }]);
    const vols = byType("docker:index/volume:Volume");
    expect(vols.map((v) => v.name)).toEqual(["rp-traefik-letsencrypt"]);
    expect(rec.get("rp-traefik-letsencrypt").opts.protect).toBe(true);
    expect(rec.get("rp-traefik-letsencrypt").opts.retainOnDelete).toBe(true);
  });
});
