import * as pulumi from "@pulumi/pulumi";
import type { HostConnection } from "../platform/outputs";
import { type DeclaredProbes, hostRule, routeProbes } from "./container-service";
import { HostFile } from "./host-file";
import { shellQuote } from "./shell";

export const PROXY_ROUTE_TYPE = "alacarte:block:ProxyRoute";

export interface ProxyRouteArgs {
  /** The reverse proxy's host (where Traefik's file provider folder lives). */
  host: HostConnection;
  /** Folder of Traefik's file provider on that host. @example "/srv/alacarte/routes" */
  routesDir: string;
  /** Stem of the fragment file, router and service name ([a-z0-9-]). @example "amis-du-velo-website" */
  name: string;
  /** Hostnames routed to the upstream. @example ["amisduvelo.org", "www.amisduvelo.org"] */
  hostnames: string[];
  /** URL Traefik forwards to, on the proxy's network. @example "http://garage:3902" */
  upstream: pulumi.Input<string>;
  /** Public IPv4 of the proxy: a hostname goes live once its A record points here. */
  publicIp: pulumi.Input<string>;
  /**
   * Route a hostname only once its A record points at `publicIp`: the full fragment is kept in
   * `<routesDir>/pending/<name>.yml.pending`, and the live `<routesDir>/<name>.yml` lists only the
   * hostnames seen pointing at us (a hostname once live stays live). The promotion runs after each
   * write and from the platform's timer ({@link promoteAllRoutesScript}). @default true
   */
  requireDns?: boolean;
  /**
   * How the monitoring watches each hostname (components/blocks/container-service.ts
   * `ServiceRoute.probe`): a page answering 2xx at `path`, or `"tls"`, the certificate only.
   * @default { path: "/" }
   */
  probe?: { path: string } | "tls";
}

/** Traefik's file provider reads only .yml/.yaml/.toml, recursively: the pending copy must end otherwise. */
export const PENDING_SUFFIX = ".yml.pending";

/** Pure: where a route's files live. */
export function routePaths(routesDir: string, name: string): { live: string; pending: string } {
  const dir = routesDir.replace(/\/+$/, "");
  return { live: `${dir}/${name}.yml`, pending: `${dir}/pending/${name}${PENDING_SUFFIX}` };
}

function assertRouteName(name: string): void {
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(name)) throw new Error(`ProxyRoute name "${name}" must be kebab-case [a-z0-9-]`);
}

/**
 * Pure: Traefik dynamic configuration (YAML) routing the hostnames (sorted, deduplicated) to the
 * upstream: one router and one service named `name`, entry point websecure, TLS by the `le` resolver.
 * @throws Error on a bad name, hostname or upstream URL.
 */
export function renderRouteFragment(route: { name: string; hostnames: string[]; upstream: string }): string {
  assertRouteName(route.name);
  if (!/^https?:\/\/[^\s"]+$/.test(route.upstream))
    throw new Error(`ProxyRoute "${route.name}": upstream must be an http(s) URL, got "${route.upstream}"`);
  const hostnames = [...new Set(route.hostnames)].sort();
  const q = (s: string) => JSON.stringify(s); // a JSON string is a valid YAML double-quoted scalar
  return [
    `# Managed by alacarte (ProxyRoute ${route.name}). Do not edit: the next deployment overwrites it.`,
    "http:",
    "  routers:",
    `    ${route.name}:`,
    `      rule: ${q(hostRule(hostnames))}`,
    "      entryPoints:",
    "        - websecure",
    `      service: ${route.name}`,
    "      tls:",
    "        certResolver: le",
    "  services:",
    `    ${route.name}:`,
    "      loadBalancer:",
    "        servers:",
    `          - url: ${q(route.upstream)}`,
    "",
  ].join("\n");
}

function assertIpv4(ip: string): void {
  const parts = ip.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new Error(`ProxyRoute publicIp must be an IPv4 address, got "${ip}"`);
  }
}

/**
 * The shell function `promote <name>`: rewrites the live fragment from the pending one, keeping in
 * its rule only the hostnames that resolve (getent ahostsv4) to the public IP or are already live;
 * retires the live fragment into `.attic` when the pending one is gone. Writes only on change.
 */
function promoteFunction(routesDir: string, publicIp: string): string {
  assertIpv4(publicIp);
  const dir = shellQuote(routesDir.replace(/\/+$/, ""));
  return [
    "promote() {",
    `  pending=${dir}/pending/"$1"${shellQuote(PENDING_SUFFIX)}`,
    `  live=${dir}/"$1".yml`,
    `  tmp=${dir}/."$1".yml.alacarte-tmp`,
    '  if [ ! -f "$pending" ]; then',
    '    if [ -f "$live" ]; then',
    `      mkdir -p ${dir}/.attic`,
    `      mv "$live" ${dir}/.attic/"$1".yml."$(date -u +%Y%m%dT%H%M%SZ)"`,
    "    fi",
    "    return 0",
    "  fi",
    "  rule=''",
    "  for h in $(grep -o 'Host(`[^`]*`)' \"$pending\" | sed 's/^Host(`//; s/`)$//'); do",
    '    if { [ -f "$live" ] && grep -qF "Host(\\`$h\\`)" "$live"; } ||',
    `      getent ahostsv4 "$h" 2>/dev/null | awk '{ print $1 }' | grep -qxF ${shellQuote(publicIp)}; then`,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template
    '      rule="${rule:+$rule || }Host(\\`$h\\`)"',
    "    fi",
    "  done",
    '  [ -n "$rule" ] || return 0',
    '  sed "s/^      rule: .*/      rule: \\"$rule\\"/" "$pending" > "$tmp"',
    '  chmod 0640 "$tmp"',
    '  if [ -f "$live" ] && cmp -s "$tmp" "$live"; then rm -f "$tmp"; else mv -f "$tmp" "$live"; fi',
    "}",
  ].join("\n");
}

/** Pure: the script that promotes one route (run after its pending fragment is written or retired). */
export function promoteRouteScript(opts: { routesDir: string; name: string; publicIp: string }): string {
  assertRouteName(opts.name);
  return ["set -eu", promoteFunction(opts.routesDir, opts.publicIp), `promote ${shellQuote(opts.name)}`].join("\n");
}

/** Pure: the script a platform timer runs to promote every pending route of the folder. */
export function promoteAllRoutesScript(opts: { routesDir: string; publicIp: string }): string {
  const dir = shellQuote(opts.routesDir.replace(/\/+$/, ""));
  return [
    "set -eu",
    promoteFunction(opts.routesDir, opts.publicIp),
    `for f in ${dir}/pending/*${PENDING_SUFFIX}; do`,
    '  [ -e "$f" ] || continue',
    `  promote "$(basename "$f" ${shellQuote(PENDING_SUFFIX)})"`,
    "done",
  ].join("\n");
}

/**
 * A Traefik file-provider fragment routing hostnames to an upstream URL with TLS (`le` resolver).
 * With `requireDns`, a hostname goes live only once its DNS points at the platform.
 */
export class ProxyRoute extends pulumi.ComponentResource {
  /** Path of the live fragment Traefik reads. */
  readonly livePath: pulumi.Output<string>;
  /** Path of the file this route writes (the pending copy with `requireDns`, else the live one). */
  readonly fragmentPath: pulumi.Output<string>;
  readonly file: HostFile;

  constructor(name: string, args: ProxyRouteArgs, opts?: pulumi.ComponentResourceOptions) {
    // Each hostname, for the monitoring (docs/services/monitoring.md): it answers once its DNS points here.
    const probes: DeclaredProbes = routeProbes([{ hostnames: args.hostnames, port: 443, probe: args.probe ?? { path: "/" } }]);
    super(PROXY_ROUTE_TYPE, name, { probes }, opts);
    const requireDns = args.requireDns ?? true;
    renderRouteFragment({ name: args.name, hostnames: args.hostnames, upstream: "http://check" }); // fail early
    const paths = routePaths(args.routesDir, args.name);
    const content = pulumi
      .output(args.upstream)
      .apply((upstream) => renderRouteFragment({ name: args.name, hostnames: args.hostnames, upstream }));

    this.file = new HostFile(
      `${name}-fragment`,
      requireDns
        ? {
            host: args.host,
            path: paths.pending,
            content,
            afterWrite: pulumi
              .output(args.publicIp)
              .apply((publicIp) => promoteRouteScript({ routesDir: args.routesDir, name: args.name, publicIp })),
          }
        : { host: args.host, path: paths.live, content },
      { parent: this },
    );
    this.livePath = pulumi.output(paths.live);
    this.fragmentPath = this.file.path;
    this.registerOutputs({ livePath: this.livePath, fragmentPath: this.fragmentPath });
  }
}
