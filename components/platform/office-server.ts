import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { ContainerService } from "../blocks/container-service";
import { HostFile } from "../blocks/host-file";
import { NGINX_IMAGE } from "./mail-well-known";
import {
  assembleOfficeCommand,
  DEFAULT_OFFICE_DIR,
  officeFolders,
  PLATFORM_OFFICE_FRAGMENT,
  REMOTE_CONFIG_PATH,
  renderOfficeFragment,
} from "./office-fragments";
import {
  OFFICE_ADMIN_PASSWORD_LENGTH,
  OFFICE_ADMIN_USERNAME_LENGTH,
  OFFICE_SERVER_IMAGE_TABLE,
  officeServerImage,
} from "./office-server-image";
import type { HostConnection } from "./outputs";

export * from "./office-fragments";
export * from "./office-server-image";

/** Type token of {@link OfficeServer}; ends up in URNs, never rename it without an alias. */
export const OFFICE_SERVER_TYPE = "alacarte:platform:OfficeServer";

/** Default size of the office server (docs/services/office.md "Sizing"). */
export const DEFAULT_OFFICE_SIZE = { memoryMb: 2048, cpus: 2 } as const;

/**
 * The source ranges the configuration route answers: the private IPv4 ranges Docker gives its
 * bridge networks (docs/services/docker-hosts.md), where coolwsd's request to the public name comes
 * from once the host sends it back to Traefik. No client on the Internet has such an address.
 */
export const INTERNAL_CLIENT_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] as const;

/** Where the official nginx image's default server serves files from (docker-library/docs nginx, "Hosting some simple static content": the folder mounted at /usr/share/nginx/html). */
export const NGINX_HTML_DIR = "/usr/share/nginx/html";

/** Port of the nginx image's default server (the same page: `-p 8080:80`). */
export const CONFIG_SERVER_PORT = 80;

/** Pure: the office server's public hostname. @example officeHostname("example.org") → "office.example.org" */
export function officeHostname(baseDomain: string): string {
  return `office.${baseDomain}`;
}

/**
 * Pure: the environment of the coolwsd container (its secrets apart): the table's fixed values,
 * and what the deployment computes from the public hostname.
 */
export function officeServerEnv(hostname: string): Record<string, string> {
  const table = OFFICE_SERVER_IMAGE_TABLE;
  const env: Record<string, string> = {
    extra_params: table.env.extra_params.value,
    dictionaries: table.env.dictionaries.value,
    server_name: hostname,
    aliasgroup1: `https://${hostname}:443`,
    remoteconfigurl: `https://${hostname}${REMOTE_CONFIG_PATH}`,
  };
  for (const key of Object.keys(env)) {
    if (!(key in table.env) && !(key in table.derivedEnv)) throw new Error(`office server: env ${key} is not in the image table`);
  }
  return env;
}

export interface OfficeServerArgs {
  /** The proxy's host: its routes are Docker labels, which Traefik reads there only (docs/services/traefik.md). */
  host: HostConnection;
  /** Docker network shared with Traefik. */
  network: pulumi.Input<string>;
  /** Public hostname, routed with TLS. @example "office.example.org" */
  hostname: string;
  /** Memory and CPU limits of coolwsd. @default {@link DEFAULT_OFFICE_SIZE} */
  size?: { memoryMb: number; cpus: number };
  /** Folder of the office server's files on the host (fragments, assembled configuration). @default "/srv/alacarte/office" */
  officeDir?: string;
}

/**
 * The shared office document server (docs/services/office.md): Collabora Online (CODE) behind the
 * reverse proxy, and a small nginx that serves it the list of allowed WOPI hosts, assembled on the
 * host from one fragment per tenant (OfficeAccess) and polled by coolwsd every minute. So a tenant
 * is allowed or removed by its own stack, with no platform change and no restart. It keeps no
 * data of its own: documents stay in each Nextcloud, hence no volume and no backup.
 */
export class OfficeServer extends pulumi.ComponentResource {
  /** Public URL, for the Nextclouds' `wopi_url`. @example "https://office.example.org" */
  readonly url: string;
  /** Folder where tenant stacks write their fragments. */
  readonly fragmentsDir: string;
  /** The admin console's user and password (secrets). */
  readonly adminUsername: pulumi.Output<string>;
  readonly adminPassword: pulumi.Output<string>;

  constructor(name: string, args: OfficeServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super(OFFICE_SERVER_TYPE, name, {}, opts);
    const folders = officeFolders(args.officeDir ?? DEFAULT_OFFICE_DIR);
    const size = args.size ?? DEFAULT_OFFICE_SIZE;
    const table = OFFICE_SERVER_IMAGE_TABLE;

    // A RandomPassword for the user too: its result is a secret in the state, where a RandomString's is not.
    const username = new random.RandomPassword(
      `${name}-admin-username`,
      { length: OFFICE_ADMIN_USERNAME_LENGTH, special: false, upper: false },
      { parent: this },
    );
    const password = new random.RandomPassword(
      `${name}-admin-password`,
      { length: OFFICE_ADMIN_PASSWORD_LENGTH, special: false },
      { parent: this },
    );

    // The platform's own group, the office server's name, which serves no WOPI: the list is never
    // empty, since an empty one leaves coolwsd on its start-up groups (RemoteConfigPoll::fetchAliasGroups).
    const own = new HostFile(
      `${name}-platform-fragment`,
      {
        host: args.host,
        path: `${folders.fragmentsDir}/${PLATFORM_OFFICE_FRAGMENT}`,
        content: renderOfficeFragment("the platform", [`https://${args.hostname}`]),
        mode: "0644",
        afterWrite: assembleOfficeCommand(folders),
      },
      { parent: this },
    );

    const configServer = new ContainerService(
      `${name}-config`,
      {
        image: NGINX_IMAGE,
        host: args.host,
        hostPaths: [{ hostPath: folders.publicDir, containerPath: NGINX_HTML_DIR, readOnly: true }],
        networks: [args.network],
        routes: [
          {
            hostnames: [args.hostname],
            port: CONFIG_SERVER_PORT,
            pathPrefixes: [REMOTE_CONFIG_PATH],
            clientIps: [...INTERNAL_CLIENT_RANGES],
            probe: false,
          },
        ],
        limits: { memoryMb: 32, cpus: 0.1 },
      },
      { parent: this, dependsOn: [own] },
    );

    new ContainerService(
      `${name}-collabora`,
      {
        image: officeServerImage(),
        host: args.host,
        env: officeServerEnv(args.hostname),
        secretEnv: { username: username.result, password: password.result },
        networks: [args.network],
        routes: [{ hostnames: [args.hostname], port: table.port.value, probe: { path: table.healthPath.value } }],
        limits: { memoryMb: size.memoryMb, cpus: size.cpus },
      },
      { parent: this, dependsOn: [configServer] },
    );

    this.url = `https://${args.hostname}`;
    this.fragmentsDir = folders.fragmentsDir;
    this.adminUsername = pulumi.secret(username.result);
    this.adminPassword = pulumi.secret(password.result);
    this.registerOutputs({ url: this.url, fragmentsDir: this.fragmentsDir });
  }
}
