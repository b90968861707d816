/**
 * The repository's images (images/mail, images/backup): built on their hosts from the folder, or
 * pulled from the forge's registry pinned by the digest the images workflow printed, of the
 * program's own tag only (components/blocks/image-pin.ts, docs/pipeline.md "Images").
 */
import { describe, expect, it } from "vitest";
import { imageRegistry, repositoryImage } from "../components/blocks/image-pin";
import { parsePlatformConfig, readPlatformConfig } from "../infra/model/platform-config";

const TAG = "alacarte/mail:1.1.0-47f9a8bd8daf";
const DIGEST = `sha256:${"0123456789abcdef".repeat(4)}`;

describe("repositoryImage", () => {
  it("builds from the folder without a pushed image", () => {
    expect(repositoryImage(TAG, "/srv/checkout/images/mail", undefined)).toEqual({
      image: TAG,
      build: { context: "/srv/checkout/images/mail" },
    });
  });

  it("pulls a push of the program's tag by its digest, whatever the forge's owner and port", () => {
    for (const pushed of [
      `forge.example.org/alacarte/mail:1.1.0-47f9a8bd8daf@${DIGEST}`,
      `git.asso.fr:3000/ops/mail:1.1.0-47f9a8bd8daf@${DIGEST}`,
    ]) {
      expect(repositoryImage(TAG, "/x", pushed)).toEqual({ image: pushed });
    }
    expect(imageRegistry(`git.asso.fr:3000/ops/mail:1.1.0-47f9a8bd8daf@${DIGEST}`)).toBe("git.asso.fr:3000");
  });

  it("refuses a push of another tag, another image, or a reference without a digest", () => {
    expect(() => repositoryImage(TAG, "/x", `forge.example.org/alacarte/mail:1.0.0-80f74f20cb0c@${DIGEST}`)).toThrow(
      /is not a push of alacarte\/mail:1\.1\.0-47f9a8bd8daf/,
    );
    expect(() => repositoryImage(TAG, "/x", `forge.example.org/alacarte/backup:1.1.0-47f9a8bd8daf@${DIGEST}`)).toThrow(/is not a push of/);
    expect(() => repositoryImage(TAG, "/x", "forge.example.org/alacarte/mail:1.1.0-47f9a8bd8daf")).toThrow(/@sha256:<64 hex digits>/);
  });
});

describe("the platform config's images", () => {
  const base = () => structuredClone(readPlatformConfig("prod")) as unknown as Record<string, unknown>;

  it("are optional: nothing listed, everything built on the hosts", () => {
    expect(readPlatformConfig("prod").images).toEqual({});
  });

  it("refuse a reference that is not pinned by digest, naming the key", () => {
    expect(() =>
      parsePlatformConfig({ ...base(), images: { mail: "forge.example.org/alacarte/mail:latest" } }, "stacks/Pulumi.prod.yaml"),
    ).toThrow(/images\.mail/);
    expect(parsePlatformConfig({ ...base(), images: { backup: `forge.example.org/a/backup:1.0.0-x@${DIGEST}` } }, "s").images.backup).toBe(
      `forge.example.org/a/backup:1.0.0-x@${DIGEST}`,
    );
  });
});
