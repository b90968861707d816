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
