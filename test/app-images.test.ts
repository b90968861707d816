/**
 * The image tables of the tenants' apps (docs/services/app-setup.md "Image tables"): every version
 * the catalog offers has a pinned image, the table offers no version the catalog lacks, every
 * extension is pinned with its archive, and each pin says where it was seen.
 */
import { describe, expect, it } from "vitest";
import { type AppImageTable, extensionPins, imageOf } from "../components/blocks/app-image";
import { NEXTCLOUD_IMAGE } from "../components/tenant/nextcloud-image";
import { WORDPRESS_IMAGE } from "../components/tenant/wordpress-image";
import { loadCatalog } from "../infra/catalog/catalog";

const catalog = loadCatalog();
const TABLES: { offer: "website" | "nextcloud"; table: AppImageTable }[] = [
  { offer: "nextcloud", table: NEXTCLOUD_IMAGE },
  { offer: "website", table: WORDPRESS_IMAGE },
];

describe.each(TABLES)("the image table of $offer", ({ offer, table }) => {
  it("has an image for exactly the catalog's versions, each pinned and seen somewhere", () => {
    expect(Object.keys(table.images).sort()).toEqual([...catalog.offers[offer].versions.available].sort());
    for (const [version, entry] of Object.entries(table.images)) {
      expect(() => imageOf(table, version)).not.toThrow();
      expect(entry.image, version).toContain(version);
      expect(entry.seen, version).toMatch(/^https:\/\/|@/);
    }
  });

  it("pins every extension to a version, with an https archive and a source, for every version", () => {
    for (const version of Object.keys(table.images)) {
      for (const pin of extensionPins(table, version)) {
        const [id, pinned, url] = pin.split("|") as [string, string, string];
        expect(pinned, id).toMatch(/^\d+(\.\d+)+$/);
        expect(url, id).toMatch(/^https:\/\/[^\s|]+$/);
        expect(url, id).toContain(pinned);
      }
    }
    for (const ext of Object.values(table.extensions)) expect(ext.seen).not.toBe("");
  });

  it("refuses a version it does not have, naming the ones it has", () => {
    expect(() => imageOf(table, "0.0.1")).toThrow(/no image for version 0\.0\.1 \(the table has /);
  });
});
