/**
 * The catalog's versions of the offers that run an app of their own per tenant (WordPress, Nextcloud,
 * Paheko, Listmonk): what the project's catalog lists, and what the loader refuses, every problem
 * at once with its path (docs/operations.md "Updates").
 */
import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
import { CATALOG_FILE, loadCatalog, offerVersion, parseCatalog } from "../infra/catalog/catalog";
import { compareVersions, VERSION_PATTERN } from "../infra/contract/names";

const catalog = loadCatalog();
const catalogText = fs.readFileSync(CATALOG_FILE, "utf8");
const OFFERS = ["website", "nextcloud", "accounting", "newsletter"] as const;

/** The project's catalog with exact pieces of text replaced; an edit that matches nothing fails the test. */
function edited(...edits: [string, string][]): string {
  let text = catalogText;
  for (const [from, to] of edits) {
    expect(text.split(from), from).toHaveLength(2);
    text = text.replace(from, to);
  }
  return text;
}

/** The message parseCatalog throws for a text, or a failure when it throws nothing. */
function refusal(text: string): string {
  try {
    parseCatalog(text, "test catalog");
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("the catalog was accepted");
}

const nextcloud = catalog.offers.nextcloud.versions;
const nextcloudBlock = `      available: [${nextcloud.available.map((v) => `"${v}"`).join(", ")}]\n      default: "${nextcloud.default}"\n`;

describe("the project's catalog", () => {
  it("lists versions and a default among them for every offer that runs an app, oldest first", () => {
    for (const offer of OFFERS) {
      const { available, default: standard } = catalog.offers[offer].versions;
      expect(available.length, offer).toBeGreaterThan(0);
      expect(available, offer).toContain(standard);
      for (const v of available) expect(v, offer).toMatch(VERSION_PATTERN);
      expect([...available].sort(compareVersions), offer).toEqual(available);
    }
    // The static site and the video channel run no app of their own.
    expect(catalog.offers.video).not.toHaveProperty("versions");
  });

  it("lists exact Nextcloud versions (major.minor.patch) of two consecutive majors at least", () => {
    for (const v of nextcloud.available) expect(v).toMatch(/^\d+\.\d+\.\d+$/);
    const majors = [...new Set(nextcloud.available.map((v) => Number(v.split(".")[0])))];
    expect(majors.length).toBeGreaterThanOrEqual(2);
    expect(majors.some((m) => majors.includes(m + 1))).toBe(true);
  });

  it("gives an offer's version as the pin, else the default", () => {
    expect(offerVersion(catalog, "nextcloud", undefined)).toBe(nextcloud.default);
    expect(offerVersion(catalog, "nextcloud", nextcloud.available[0])).toBe(nextcloud.available[0]);
  });
});

describe("the loader's refusals", () => {
  it("refuses a default that is not one of the list, naming the offer and the list", () => {
    const text = edited([nextcloudBlock, `      available: ["33.0.7", "34.0.2"]\n      default: "35.0.0"\n`]);
    expect(refusal(text)).toBe(
      'test catalog: invalid catalog\n  offers.nextcloud.versions.default: "35.0.0" is not among the available versions (33.0.7, 34.0.2); the default must be one of them',
    );
  });

  it("refuses an unquoted version, which YAML reads as a number", () => {
    const text = edited([nextcloudBlock, `      available: [33.0, "34.0.2"]\n      default: "34.0.2"\n`]);
    expect(refusal(text)).toBe(
      'test catalog: invalid catalog\n  offers.nextcloud.versions.available.0: must be a version in quotes ("7.1.0"), not 33',
    );
  });

  it("refuses a floating tag, a version listed twice and an empty list", () => {
    const text = edited([nextcloudBlock, `      available: ["34.0.2", "latest", "34.0.2"]\n      default: "34.0.2"\n`]);
    expect(refusal(text)).toBe(
      [
        "test catalog: invalid catalog",
        '  offers.nextcloud.versions.available.1: must be a version such as "34.0.2": numbers joined by dots',
        '  offers.nextcloud.versions.available.2: "34.0.2" is listed twice',
      ].join("\n"),
    );
    const empty = edited([nextcloudBlock, `      available: []\n      default: "34.0.2"\n`]);
    expect(refusal(empty)).toBe("test catalog: invalid catalog\n  offers.nextcloud.versions.available: lists no version");
  });

  it("refuses an offer that runs an app without versions, and lists every problem at once", () => {
    const text = edited(
      [nextcloudBlock, `      available: ["34.0.2"]\n      default: "33.0.7"\n`],
      [/ {4}versions:\n {6}available: \["1\.3[^\n]*\n {6}default: [^\n]*\n/.exec(catalogText)![0], ""],
    );
    expect(refusal(text)).toBe(
      [
        "test catalog: invalid catalog",
        '  offers.nextcloud.versions.default: "33.0.7" is not among the available versions (34.0.2); the default must be one of them',
        "  offers.accounting.versions: is required for an offer that runs an app: available: (the versions it may run) and default:",
      ].join("\n"),
    );
  });

  it("orders the versions oldest first by number, whatever the file's order", () => {
    const text = edited([nextcloudBlock, `      available: ["34.0.10", "33.0.7", "34.0.9"]\n      default: "34.0.9"\n`]);
    expect(parseCatalog(text, "test catalog").offers.nextcloud.versions).toEqual({
      available: ["33.0.7", "34.0.9", "34.0.10"],
      default: "34.0.9",
    });
  });
});
