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
