import { assertPinnedImage } from "./image-pin";

/**
 * Where a tag or a version was seen. No registry can be reached from where the plan runs, so
 * every pin says where it was read: a release page, a tag, a versions file at a commit.
 */
export interface Seen {
  /** @example "https://github.com/nextcloud/docker/blob/4de1eed6/versions.json" */
  seen: string;
}

/** An extension (plugin, app) installed at run time, pinned, with where its archive comes from. */
export interface PinnedExtension extends Seen {
  version: string;
  /** Its archive; absent for an extension the image ships. */
  url?: string;
}

/**
 * One table per image: everything a component needs to run an app of that image and configure
 * it, each pin with its source (docs/services/app-setup.md "Image tables"). The versions are the
 * catalog's (`offers.<offer>.versions.available`); a test keeps the two the same.
 */
export interface AppImageTable {
  /**
   * The image of each upstream version the catalog offers, and the extensions whose pin differs
   * for that version (an app released per Nextcloud major).
   */
  images: Readonly<Record<string, { image: string; extensions?: Readonly<Record<string, PinnedExtension>> } & Seen>>;
  /** HTTP port inside the container. */
  port: number;
  /** A path that answers 200 once the app is up (the health check and the monitoring's probe). */
  healthPath: string;
  /** Mount points inside the container, by volume role. */
  mounts: Readonly<Record<string, string>>;
  /** Environment every container of the app gets, whatever the tenant (no secret here). */
  env: Readonly<Record<string, string>>;
  /** The user the app and its post-install script run as. @example "www-data" */
  user: string;
  /** The post-install script, a file of components/tenant/scripts/. */
  setupScript: string;
  /** Extensions installed at run time, by id. */
  extensions: Readonly<Record<string, PinnedExtension>>;
}

/**
 * Pure: the image of an upstream version, pinned.
 * @throws Error naming the versions the table knows, for a version it lacks.
 */
export function imageOf(table: AppImageTable, version: string): string {
  const entry = table.images[version];
  if (!entry) throw new Error(`no image for version ${version} (the table has ${Object.keys(table.images).sort().join(", ")})`);
  assertPinnedImage(entry.image);
  return entry.image;
}

/**
 * Pure: `id|version|url` of each extension of the table for an app version (its own pins first),
 * sorted by id, for a setup script's arguments.
 */
export function extensionPins(table: AppImageTable, version: string): string[] {
  const pins = { ...table.extensions, ...(table.images[version]?.extensions ?? {}) };
  return Object.keys(pins)
    .sort()
    .map((id) => {
      const ext = pins[id]!;
      return [id, ext.version, ext.url ?? ""].join("|");
    });
}
