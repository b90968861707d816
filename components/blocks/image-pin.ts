/** Pure, no Pulumi import: the policy pack loads it too. */

/**
 * Pure: fails unless the image is pinned: a digest (`@sha256:…`), or a tag that holds a version
 * and is neither `latest` nor a bare major (`15`, `v3`, `34-apache`).
 * @throws Error naming the image.
 */
export function assertPinnedImage(image: string): void {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return;
  const lastSlash = image.lastIndexOf("/");
  const colon = image.indexOf(":", lastSlash + 1);
  const tag = colon >= 0 ? image.slice(colon + 1) : "";
  const fix = "pin an exact version tag (e.g. postgres:17.6) or a digest";
  if (!tag) throw new Error(`Image "${image}" has no tag: ${fix}`);
  if (tag === "latest") throw new Error(`Image "${image}" uses the tag "latest": ${fix}`);
  if (/^v?\d+([-_].*)?$/.test(tag)) throw new Error(`Image "${image}" names only a major version: ${fix}`);
  if (!/\d/.test(tag)) throw new Error(`Image "${image}" has a tag without a version: ${fix}`);
}

/** A pushed image: `<registry>/<path>:<tag>@sha256:<digest>`. */
const PUSHED_IMAGE = /^([a-z0-9.-]+(?::\d+)?)\/([a-z0-9._/-]+:[A-Za-z0-9._-]+)@sha256:[0-9a-f]{64}$/;

/**
 * Pure: how a service runs an image of the repository's `images/` (docs/pipeline.md "Images"):
 * built on its host from the folder and run by the program's tag, or, once the images workflow has
 * pushed that tag to the forge's registry, pulled from there pinned by the digest the workflow
 * printed. The pushed reference must carry the program's tag: a digest of an older build of the
 * folder is refused.
 * @throws Error naming both tags, or the form expected.
 */
export function repositoryImage(
  programImage: string,
  context: string,
  pushed: string | undefined,
): { image: string; build?: { context: string } } {
  if (pushed === undefined) return { image: programImage, build: { context } };
  const m = PUSHED_IMAGE.exec(pushed);
  if (!m) throw new Error(`image "${pushed}" is not <registry>/<path>:<tag>@sha256:<64 hex digits>, the form the images workflow prints`);
  // The registry's path starts with the forge's owner; the image's own name and tag are the program's.
  if (m[2]!.split("/").pop() !== programImage.split("/").pop())
    throw new Error(
      `image "${pushed}" is not a push of ${programImage}, the image the program builds from ${context}: pin the digest the images workflow printed for it`,
    );
  return { image: pushed };
}

/** Pure: the registry a pushed image is pulled from (its first part). @example "forge.example.org" */
export function imageRegistry(pushed: string): string {
  const m = PUSHED_IMAGE.exec(pushed);
  if (!m) throw new Error(`image "${pushed}" is not <registry>/<path>:<tag>@sha256:<64 hex digits>`);
  return m[1]!;
}
