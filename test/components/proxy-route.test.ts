import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { installMocks, one, promiseOf, settle } from "../helpers/mocks";
import { optionsRecorder } from "../helpers/options";
import { needTools } from "../helpers/debian-tools";
import { hostFileCommands } from "../../components/blocks/host-file";
import { promoteAllRoutesScript, promoteRouteScript, renderRouteFragment, routePaths } from "../../components/blocks/proxy-route";

const host = { name: "proxy", address: "proxy.infra.example.org", user: "deploy" };
const IP = "203.0.113.7";

describe("renderRouteFragment", () => {
  const yml = renderRouteFragment({
    name: "acme-website",
    hostnames: ["www.acme.org", "acme.org", "acme.org"],
    upstream: "http://garage:3902",
  });

  it("renders one TLS router and one service, hostnames sorted and deduplicated", () => {
    expect(yml).toMatchInlineSnapshot(`
      "# Managed by alacarte (ProxyRoute acme-website). Do not edit: the next deployment overwrites it.
      http:
        routers:
          acme-website:
            rule: "Host(\`acme.org\`) || Host(\`www.acme.org\`)"
            entryPoints:
              - websecure
            service: acme-website
            tls:
              certResolver: le
        services:
          acme-website:
            loadBalancer:
              servers:
                - url: "http://garage:3902"
      "
    `);
  });

  it("is valid YAML with Traefik's structure", () => {
    expect(parse(yml)).toEqual({
      http: {
        routers: {
          "acme-website": {
            rule: "Host(`acme.org`) || Host(`www.acme.org`)",
            entryPoints: ["websecure"],
            service: "acme-website",
            tls: { certResolver: "le" },
          },
        },
        services: { "acme-website": { loadBalancer: { servers: [{ url: "http://garage:3902" }] } } },
      },
    });
  });

  it("rejects bad names, hostnames and upstreams", () => {
    expect(() => renderRouteFragment({ name: "Acme", hostnames: ["a.org"], upstream: "http://x" })).toThrow(
      'ProxyRoute name "Acme" must be kebab-case',
    );
    expect(() => renderRouteFragment({ name: "a", hostnames: ["a.org`) || Host(`evil.org"], upstream: "http://x" })).toThrow(
      /Invalid hostname/,
    );
    expect(() => renderRouteFragment({ name: "a", hostnames: [], upstream: "http://x" })).toThrow(/at least one hostname/);
    expect(() => renderRouteFragment({ name: "a", hostnames: ["a.org"], upstream: "garage:3902" })).toThrow(
      /upstream must be an http\(s\) URL/,
    );
  });

  it("keeps the pending copy out of Traefik's reach (not .yml) and the live one in", () => {
    expect(routePaths("/srv/alacarte/routes/", "acme-website")).toEqual({
      live: "/srv/alacarte/routes/acme-website.yml",
      pending: "/srv/alacarte/routes/pending/acme-website.yml.pending",
    });
  });

  it("rejects a public IP that is not IPv4", () => {
    expect(() => promoteRouteScript({ routesDir: "/r", name: "a", publicIp: "not-an-ip" })).toThrow(
      'ProxyRoute publicIp must be an IPv4 address, got "not-an-ip"',
    );
  });
});

describe("promotion run by a real shell, with a stub getent", () => {
  needTools("sh", "awk");
  const root = mkdtempSync(join(tmpdir(), "routes-"));
  const routes = join(root, "routes");
  const bin = join(root, "bin");
  const dns = join(root, "dns");
  mkdirSync(bin);
  writeFileSync(
    join(bin, "getent"),
    `#!/bin/sh\n[ "$1" = ahostsv4 ] || exit 1\nawk -v h="$2" '$1 == h { print $2 "  STREAM " h; found = 1 } END { exit found ? 0 : 2 }' "${dns}"\n`,
  );
  chmodSync(join(bin, "getent"), 0o755);
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
  const setDns = (records: Record<string, string>) =>
    writeFileSync(
      dns,
      Object.entries(records)
        .map(([h, ip]) => `${h} ${ip}\n`)
        .join(""),
    );
  const paths = routePaths(routes, "acme-website");
  const fragment = renderRouteFragment({ name: "acme-website", hostnames: ["acme.org", "www.acme.org"], upstream: "http://garage:3902" });
  const promote = promoteRouteScript({ routesDir: routes, name: "acme-website", publicIp: IP });
  const write = hostFileCommands({ path: paths.pending, afterWrite: promote });
  const sh = (script: string, input = "") => execFileSync("sh", ["-c", script], { input, env });
  const liveRule = () => parse(readFileSync(paths.live, "utf8")).http.routers["acme-website"].rule;

  it("writes the pending fragment and routes nothing while no hostname points at us", () => {
    setDns({ "acme.org": "198.51.100.1" });
    sh(write.write, fragment);
    expect(readFileSync(paths.pending, "utf8")).toBe(fragment);
    expect(existsSync(paths.live)).toBe(false);
  });

  it("routes only the hostnames whose A record points at us", () => {
    setDns({ "acme.org": IP, "www.acme.org": "198.51.100.1" });
    sh(promote);
    expect(liveRule()).toBe("Host(`acme.org`)");
    const live = parse(readFileSync(paths.live, "utf8"));
    expect(live.http.routers["acme-website"].tls).toEqual({ certResolver: "le" });
    expect(live.http.services["acme-website"].loadBalancer.servers).toEqual([{ url: "http://garage:3902" }]);
  });

  it("adds a hostname once it points at us, and keeps a live one through a DNS failure", () => {
    setDns({ "www.acme.org": IP });
    sh(promote);
    expect(liveRule()).toBe("Host(`acme.org`) || Host(`www.acme.org`)");
    expect(readFileSync(paths.live, "utf8")).toBe(fragment);
  });

  it("does not rewrite an unchanged live fragment and leaves no temporary file", () => {
    const before = statSync(paths.live).mtimeMs;
    sh(promote);
    expect(statSync(paths.live).mtimeMs).toBe(before);
    expect(readdirSync(routes).sort()).toEqual(["acme-website.yml", "pending"]);
  });

  it("carries an upstream change to the live fragment, keeping live hostnames", () => {
    setDns({});
    const moved = renderRouteFragment({ name: "acme-website", hostnames: ["acme.org", "www.acme.org"], upstream: "http://garage2:3902" });
    sh(write.write, moved);
    expect(readFileSync(paths.live, "utf8")).toBe(moved);
  });

  it("the timer script promotes every pending route", () => {
    const other = routePaths(routes, "bob-website");
    writeFileSync(other.pending, renderRouteFragment({ name: "bob-website", hostnames: ["bob.org"], upstream: "http://garage:3902" }));
    setDns({ "bob.org": IP });
    sh(promoteAllRoutesScript({ routesDir: routes, publicIp: IP }));
    expect(parse(readFileSync(other.live, "utf8")).http.routers["bob-website"].rule).toBe("Host(`bob.org`)");
    rmSync(other.pending);
    rmSync(other.live);
  });

  it("retires the live fragment with the pending one on delete", () => {
    sh(hostFileCommands({ path: paths.pending, afterWrite: promote }).retire);
    expect(existsSync(paths.pending)).toBe(false);
    expect(existsSync(paths.live)).toBe(false);
    expect(readdirSync(join(routes, ".attic"))).toEqual([expect.stringMatching(/^acme-website\.yml\.\d{8}T\d{6}Z$/)]);
    expect(readdirSync(join(routes, "pending", ".attic"))).toEqual([expect.stringMatching(/^acme-website\.yml\.pending\.\d{8}T\d{6}Z$/)]);
  });
});

describe("generated scripts pass shellcheck (Debian's shellcheck, installed by test/setup-debian.sh)", () => {
  needTools("shellcheck");
  it.each([
    [
      "write",
      hostFileCommands({
        path: "/srv/alacarte/routes/pending/a.yml.pending",
        afterWrite: promoteRouteScript({ routesDir: "/srv/alacarte/routes", name: "a", publicIp: IP }),
      }).write,
    ],
    [
      "retire",
      hostFileCommands({
        path: "/srv/alacarte/routes/pending/a.yml.pending",
        afterWrite: promoteRouteScript({ routesDir: "/srv/alacarte/routes", name: "a", publicIp: IP }),
      }).retire,
    ],
    ["promote all", promoteAllRoutesScript({ routesDir: "/srv/alacarte/routes", publicIp: IP })],
  ])("%s", (_, script) => {
    // Severity warning: the info notes (single-quoted backticks, word-splitting hostnames) are intended.
    expect(() => execFileSync("shellcheck", ["-s", "sh", "--severity=warning", "-"], { input: script, encoding: "utf8" })).not.toThrow();
  });
});

describe("ProxyRoute under mocks", () => {
  let mod: typeof import("../../components/blocks/proxy-route");
  beforeAll(async () => {
    installMocks();
    mod = await import("../../components/blocks/proxy-route.js");
  });

  it("writes the pending fragment through a HostFile whose afterWrite promotes it", async () => {
    const rec = optionsRecorder();
    const route = new mod.ProxyRoute(
      "acme-route",
      {
        host,
        routesDir: "/srv/alacarte/routes",
        name: "acme-website",
        hostnames: ["acme.org"],
        upstream: "http://garage:3902",
        publicIp: IP,
      },
      { transformations: [rec.transformation] },
    );
    expect(await promiseOf(route.fragmentPath)).toBe("/srv/alacarte/routes/pending/acme-website.yml.pending");
    expect(await promiseOf(route.livePath)).toBe("/srv/alacarte/routes/acme-website.yml");
    await promiseOf(route.file.stdout);
    await settle();
    const cmd = one("command:remote:Command", "acme-route-fragment-write");
    expect(cmd.inputs.stdin).toBe(renderRouteFragment({ name: "acme-website", hostnames: ["acme.org"], upstream: "http://garage:3902" }));
    const promote = promoteRouteScript({ routesDir: "/srv/alacarte/routes", name: "acme-website", publicIp: IP });
    expect(cmd.inputs.create).toBe(
      hostFileCommands({ path: "/srv/alacarte/routes/pending/acme-website.yml.pending", afterWrite: promote }).write,
    );
    // The file is the route's only child and is the Command itself, parented to the route.
    expect(rec.seen.map((r) => `${r.type} ${r.name}`)).toEqual([
      "alacarte:block:ProxyRoute acme-route",
      "command:remote:Command acme-route-fragment-write",
    ]);
    expect(rec.get("acme-route-fragment-write").opts.parent).toBe(route);
    expect(rec.get("acme-route-fragment-write").type).toBe("command:remote:Command");
    // The mock monitor puts only the parent's type in a URN.
    expect(await promiseOf(route.file.urn)).toMatch(/::alacarte:block:ProxyRoute\$command:remote:Command::acme-route-fragment-write$/);
    expect(rec.get("acme-route-fragment-write").opts.aliases ?? []).toEqual([]);
  });

  it("writes the live fragment directly without requireDns", async () => {
    const route = new mod.ProxyRoute("plat-route", {
      host,
      routesDir: "/srv/alacarte/routes",
      name: "platform-sso",
      hostnames: ["sso.example.org"],
      upstream: "http://keycloak:8080",
      publicIp: IP,
      requireDns: false,
    });
    expect(await promiseOf(route.fragmentPath)).toBe("/srv/alacarte/routes/platform-sso.yml");
    await promiseOf(route.file.stdout);
    await settle();
    const cmd = one("command:remote:Command", "plat-route-fragment-write");
    expect(cmd.inputs.create).toBe(hostFileCommands({ path: "/srv/alacarte/routes/platform-sso.yml" }).write);
  });

  it("fails at construction on a bad hostname", () => {
    expect(
      () => new mod.ProxyRoute("bad", { host, routesDir: "/r", name: "x", hostnames: ["not a host"], upstream: "http://x", publicIp: IP }),
    ).toThrow(/Invalid hostname/);
  });
});
