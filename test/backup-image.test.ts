import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { assertPinnedImage } from "../components/blocks/image-pin";
import { BACKUP_IMAGE, BACKUP_IMAGE_CONTEXT } from "../components/platform/backups";
import { folderDigest } from "./helpers/folder-digest";

const CONTEXT = resolve(__dirname, "..", BACKUP_IMAGE_CONTEXT);
const dockerfile = readFileSync(join(CONTEXT, "Dockerfile"), "utf8");

describe("the backup image built from the repository", () => {
  it("is tagged with the digest of its build folder, so an edit of the folder cannot keep an old tag", () => {
    const digest = folderDigest(CONTEXT).slice(0, 12);
    expect(BACKUP_IMAGE, `set BACKUP_IMAGE's tag to 1.0.0-${digest} (or bump its version)`).toMatch(
      new RegExp(`^alacarte/backup:\\d+\\.\\d+\\.\\d+-${digest}$`),
    );
    expect(() => assertPinnedImage(BACKUP_IMAGE)).not.toThrow();
  });

  it("pins its Debian base to a point release, the one whose restic the end-to-end test runs, and Docker's CLI to a release", () => {
    const from = /^FROM (\S+)$/m.exec(dockerfile)?.[1];
    expect(from).toMatch(/^debian:12\.\d+-slim$/);
    expect(() => assertPinnedImage(from!)).not.toThrow();
    expect(dockerfile).toMatch(/^ARG DOCKER_CLI_VERSION=\d+\.\d+\.\d+$/m);
  });

  it("copies every script of the folder, and its entrypoint runs each job by name (the lib-* scripts are sourced by the jobs)", () => {
    const scripts = readdirSync(CONTEXT)
      .filter((f) => f.endsWith(".sh") && f !== "entrypoint.sh")
      .sort();
    const copied = /^COPY (.+) \/usr\/local\/lib\/alacarte-backup\/$/m.exec(dockerfile)?.[1]?.split(" ").sort();
    expect(copied).toEqual(scripts);
    const entrypoint = readFileSync(join(CONTEXT, "entrypoint.sh"), "utf8");
    const jobs = /^ {2}([a-z |]+)\)\n {4}job=\$1$/m.exec(entrypoint)?.[1]?.split(" | ").sort();
    expect(jobs?.map((j) => `${j}.sh`)).toEqual(scripts.filter((s) => !s.startsWith("lib-")));
  });
});
