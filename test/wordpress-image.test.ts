/** The WordPress image table (components/tenant/wordpress-image.ts) against the catalog and the pin rules. */
import { describe, expect, it } from "vitest";
import { assertPinnedImage } from "../components/blocks/image-pin";
import { imageOf } from "../components/blocks/app-image";
import { OIDC_PLUGIN, WORDPRESS_CLI_IMAGE, WORDPRESS_IMAGE } from "../components/tenant/wordpress-image";
import { loadCatalog } from "../infra/catalog/catalog";

describe("the WordPress image table", () => {
  it("has an image for exactly the versions the catalog offers, each the Apache image of that version on PHP 8.3", () => {
    const catalog = loadCatalog();
    expect(Object.keys(WORDPRESS_IMAGE.images).sort()).toEqual([...catalog.offers.website.versions!.available].sort());
    for (const [version, entry] of Object.entries(WORDPRESS_IMAGE.images)) {
      expect(entry.image).toBe(`wordpress:${version}-php8.3-apache`);
      expect(entry.seen).toMatch(/^https:\/\/github\.com\/docker-library\/wordpress\/blob\/[0-9a-f]{40}\/versions\.json$/);
    }
  });

  it("pins every image, the CLI's included", () => {
    for (const image of [...Object.values(WORDPRESS_IMAGE.images).map((e) => e.image), WORDPRESS_CLI_IMAGE.image])
      expect(() => assertPinnedImage(image)).not.toThrow();
    expect(() => imageOf(WORDPRESS_IMAGE, "6.9")).toThrow("no image for version 6.9 (the table has 7.0.4, 7.1.0)");
  });

  it("pins the OIDC plugin to a version, with its archive of that version", () => {
    const plugin = WORDPRESS_IMAGE.extensions[OIDC_PLUGIN]!;
    expect(plugin.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(plugin.url).toBe(`https://downloads.wordpress.org/plugin/${OIDC_PLUGIN}.${plugin.version}.zip`);
  });
});
