import type { AppImageTable, PinnedExtension } from "../blocks/app-image";

/**
 * The Nextcloud image's table (docs/services/app-setup.md "Image tables"), and the pure pieces of
 * the suite's configuration. No registry or app store can be reached here: each pin says where it
 * was read (docs/services/nextcloud.md "Pins").
 */

/** The docker image's versions file at the commit that bumped 33.0.7 and 34.0.2 (2026-07-23). */
const DOCKER_VERSIONS = "https://github.com/nextcloud/docker/blob/2e5d1c32c8e94dd87113402edcd8b5ff91dc3df5/versions.json";

/**
 * An app of the app store, at the release its `appinfo/info.xml` declares compatible with the
 * Nextcloud majors it is used with; the archive is the release asset the app store serves (each
 * app's `.github/workflows/appstore-build-publish.yml`: `<app>-v<version>.tar.gz` on
 * nextcloud-releases/<app>).
 */
function storeApp(id: string, version: string, compatible: string): PinnedExtension {
  return {
    version,
    url: `https://github.com/nextcloud-releases/${id}/releases/download/v${version}/${id}-v${version}.tar.gz`,
    seen: `nextcloud/${id}@v${version}:appinfo/info.xml (Nextcloud ${compatible})`,
  };
}

export const NEXTCLOUD_IMAGE = {
  images: {
    "33.0.7": {
      image: "nextcloud:33.0.7-apache",
      seen: DOCKER_VERSIONS,
      // Released per major: the newest release for 33 only.
      extensions: { deck: storeApp("deck", "1.17.4", "33–33"), richdocuments: storeApp("richdocuments", "10.3.0", "33–33") },
    },
    "34.0.2": {
      image: "nextcloud:34.0.2-apache",
      seen: DOCKER_VERSIONS,
      extensions: { deck: storeApp("deck", "1.18.3", "34–34"), richdocuments: storeApp("richdocuments", "11.1.0", "34–34") },
    },
  },
  port: 80,
  // JSON with installed and maintenance (nextcloud/server status.php).
  healthPath: "/status.php",
  // The data folder outside the web root, on a volume of its own: the tier's size (NEXTCLOUD_DATA_DIR, nextcloud/docker README).
  mounts: { html: "/var/www/html", data: "/var/www/data" },
  // The image's PHP limits (nextcloud/docker 34/apache/Dockerfile ENV), raised for uploads through the proxy.
  env: { PHP_MEMORY_LIMIT: "512M", PHP_UPLOAD_LIMIT: "1G" },
  // Apache and occ run as www-data (nextcloud/docker entrypoint.sh run_as).
  user: "www-data",
  setupScript: "nextcloud-setup.sh",
  extensions: {
    user_oidc: storeApp("user_oidc", "8.10.1", "29–34"),
    forms: storeApp("forms", "5.3.5", "32–34"),
    polls: storeApp("polls", "9.2.0", "31–34"),
    calendar: storeApp("calendar", "6.6.0", "32–35"),
    contacts: storeApp("contacts", "8.7.6", "33–34"),
    notes: storeApp("notes", "6.0.2", "33–35"),
    // Tasks publishes no app-store workflow at v0.18.1 (its Makefile builds tasks.tar.gz and signs
    // it by hand): the asset name below follows its past releases and is unchecked.
    tasks: {
      version: "0.18.1",
      url: "https://github.com/nextcloud/tasks/releases/download/v0.18.1/tasks.tar.gz",
      seen: "nextcloud/tasks@v0.18.1:appinfo/info.xml (Nextcloud 31–35); asset name unchecked",
    },
  },
} as const satisfies AppImageTable;

/**
 * Redis's table, for Nextcloud's file locking and distributed cache (nextcloud/docker
 * config/redis.config.php reads REDIS_HOST). The newest tag seen in a stored copy, older than
 * the rest of the pins: check for a newer patch before deploying.
 */
export const REDIS = {
  image: "redis:7.4.1",
  seen: "redis/docker-library-redis@e5650da9:versions.json",
  port: 6379,
  // A cache and the locks: nothing to keep across a restart (redis.conf "save" and "appendonly").
  command: ["redis-server", "--save", "", "--appendonly", "no"],
  healthCheck: ["CMD", "redis-cli", "ping"],
} as const;

/**
 * The bootstrap administrator the image installs Nextcloud with. It starts with `_`, which no
 * tenant username can (^[a-z][a-z0-9._-]{1,31}$, infra/contract/names.ts): no member can take it.
 * Nobody signs in with it: the post-install script uses it for the user_oidc OCS API only.
 */
export const NEXTCLOUD_ADMIN_USER = "_alacarte";

/** Size of the volume holding Nextcloud's code, config and downloaded apps, in GB (2^30 bytes): part of the tier. */
export const NEXTCLOUD_HTML_GB = 2;

/**
 * Memory (MB) and CPUs of the suite's containers; their sum is the offer table's sizing
 * (infra/model/offers.ts `nextcloud`), which the host load counts.
 */
export const NEXTCLOUD_LIMITS = {
  app: { memoryMb: 768, cpus: 0.75 },
  cron: { memoryMb: 128, cpus: 0.15 },
  redis: { memoryMb: 128, cpus: 0.1 },
} as const;

/**
 * Where the reverse proxy's requests come from: Docker's private address pools
 * (docs/services/docker-hosts.md), so that Nextcloud reads the client's address from
 * X-Forwarded-For (nextcloud/docker config/reverse-proxy.config.php TRUSTED_PROXIES).
 */
export const TRUSTED_PROXY_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] as const;

/** The tenant file's app names and the Nextcloud app each installs. */
export const CONTRACT_APPS: Readonly<Record<string, string>> = {
  forms: "forms",
  polls: "polls",
  calendar: "calendar",
  contacts: "contacts",
  deck: "deck",
  notes: "notes",
  tasks: "tasks",
  office: "richdocuments",
};

/**
 * Pure: the Nextcloud apps a suite runs: user_oidc (sign-in through Keycloak) and one per app of
 * the tenant file, sorted.
 * @throws Error for an app the contract does not know.
 */
export function nextcloudAppIds(apps: readonly string[]): string[] {
  return [
    "user_oidc",
    ...apps.map((a) => {
      const id = CONTRACT_APPS[a];
      if (!id) throw new Error(`unknown Nextcloud app "${a}"`);
      return id;
    }),
  ].sort();
}

/**
 * Pure: user_oidc's group whitelist, matching the tenant's group path `/tenants/<slug>` exactly
 * (not a subgroup, not another tenant whose slug starts the same). user_oidc wraps a pattern that
 * does not start with `/` in `/…/` (lib/Service/ProvisioningService.php getGroupWhitelistRegex),
 * so each `/` of the path is escaped.
 */
export function nextcloudGroupRegex(slug: string): string {
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(slug)) throw new Error(`invalid slug "${slug}"`);
  return `^\\/tenants\\/${slug}$`;
}

/** Pure: the members as the setup script takes them, `username|1` for an admin, `username|0` otherwise, sorted. */
export function nextcloudMemberArgs(members: readonly { username: string; admin: boolean }[]): string[] {
  return [...members]
    .sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0))
    .map((m) => `${m.username}|${m.admin ? 1 : 0}`);
}
