import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { promoteAllRoutesScript } from "../../components/blocks/proxy-route";
import { TRAEFIK_IMAGE, promoterCronCommands, traefikArgs } from "../../components/platform/reverse-proxy";
import { needTools } from "../helpers/debian-tools";

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

describe("promoterCronCommands", () => {
  needTools("sh");
  const { create, delete: remove } = promoterCronCommands("/srv/alacarte/bin/promote-routes.sh", "/srv/alacarte/routes/");

  it("installs one crontab line, keeps the others, and removes only its own", () => {
    // A fake `crontab` keeping the table in a file, so the real scripts run.
    const root = mkdtempSync(join(tmpdir(), "alacarte-cron-"));
    const table = join(root, "table");
    writeFileSync(
      join(root, "crontab"),
      `#!/bin/sh\nif [ "$1" = "-l" ]; then [ -f '${table}' ] && cat '${table}' || exit 1; else t=$(cat); printf '%s\\n' "$t" > '${table}'; fi\n`,
    );
    chmodSync(join(root, "crontab"), 0o755);
    const sh = (script: string) => execFileSync("sh", ["-c", script], { env: { ...process.env, PATH: `${root}:${process.env.PATH}` } });
    const line =
      "* * * * * flock -n /srv/alacarte/routes/.promote.lock /srv/alacarte/bin/promote-routes.sh >/dev/null 2>&1 # alacarte-promote-routes\n";

    sh(create); // no crontab yet
    expect(readFileSync(table, "utf8")).toBe(line);
    writeFileSync(table, `0 3 * * * backup\n${line}`);
    sh(create); // idempotent
    expect(readFileSync(table, "utf8")).toBe(`0 3 * * * backup\n${line}`);
    sh(remove);
    expect(readFileSync(table, "utf8")).toBe("0 3 * * * backup\n");
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
    expect(c.ports.map((p: any) => [p.internal, p.external])).toEqual([
      [80, 80],
      [443, 443],
    ]);
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
    // Without a public IP there is no route promoter.
    expect(byType("command:remote:Command")).toEqual([]);
  });

  it("installs the route promoter when given the public IP", async () => {
    const { installMocks, one, promiseOf, settle } = await import("../helpers/mocks.js");
    const { optionsRecorder } = await import("../helpers/options.js");
    installMocks();
    const mod = await import("../../components/platform/reverse-proxy.js");
    const rec = optionsRecorder();
    const proxy = new mod.ReverseProxy(
      "rp",
      { host, acmeEmail: "ops@example.org", publicIp: "203.0.113.10" },
      { transformations: [rec.transformation] },
    );
    await promiseOf(proxy.containerName);
    await settle();
    const script = one("command:remote:Command", "rp-promoter-script-write");
    expect(script.inputs.stdin).toBe(
      `#!/bin/sh\n${promoteAllRoutesScript({ routesDir: "/srv/alacarte/routes", publicIp: "203.0.113.10" })}\n`,
    );
    expect(script.inputs.create).toContain("chmod 0750");
    const cron = one("command:remote:Command", "rp-promoter-cron");
    expect(cron.inputs.create).toBe(promoterCronCommands("/srv/alacarte/bin/promote-routes.sh", "/srv/alacarte/routes").create);
    expect(rec.get("rp-promoter-cron").opts.parent).toBe(proxy);
    expect(rec.get("rp-promoter-script-write").opts.parent).toBe(proxy);
  });
});
