import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { DKIM_SELECTOR, MAIL_IMAGE, MAIL_IMAGE_CONTEXT } from "../components/platform/mail-server";
import { assertPinnedImage } from "../components/blocks/image-pin";
import { needTools, requireTool } from "./helpers/debian-tools";
import { folderDigest } from "./helpers/folder-digest";

const CONTEXT = resolve(__dirname, "..", MAIL_IMAGE_CONTEXT);

describe("the mail image built from the repository", () => {
  it("is tagged with the digest of its build folder, so an edit of the folder cannot keep an old tag", () => {
    const digest = folderDigest(CONTEXT).slice(0, 12);
    expect(MAIL_IMAGE, `set MAIL_IMAGE's tag to 1.0.0-${digest} (or bump its version)`).toMatch(
      new RegExp(`^alacarte/mail:\\d+\\.\\d+\\.\\d+-${digest}$`),
    );
    expect(() => assertPinnedImage(MAIL_IMAGE)).not.toThrow();
  });

  it("pins its Debian base to a point release, the one whose Postfix and Dovecot the end-to-end test runs", () => {
    const dockerfile = readFileSync(join(CONTEXT, "Dockerfile"), "utf8");
    const from = /^FROM (\S+)$/m.exec(dockerfile)?.[1];
    expect(from).toMatch(/^debian:12\.\d+-slim$/);
    expect(() => assertPinnedImage(from!)).not.toThrow();
  });

  it("signs with the DKIM selector the stacks publish", () => {
    const entrypoint = readFileSync(join(CONTEXT, "entrypoint.sh"), "utf8");
    expect(/^DKIM_SELECTOR=\$\{DKIM_SELECTOR:-([a-z0-9]+)\}$/m.exec(entrypoint)?.[1]).toBe(DKIM_SELECTOR);
  });

  describe("its entrypoint", () => {
    needTools("shellcheck");
    it("passes shellcheck as bash", () => {
      expect(() =>
        execFileSync(requireTool("shellcheck"), ["-s", "bash", join(CONTEXT, "entrypoint.sh")], { encoding: "utf8" }),
      ).not.toThrow();
    });
  });
});
