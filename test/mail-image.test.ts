import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { DKIM_SELECTOR, MAIL_IMAGE, MAIL_IMAGE_CONTEXT, type MailOutbound, mailServerEnv } from "../components/platform/mail-server";
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

  describe("its mail for other domains", () => {
    needTools("bash", "postconf");
    /** Renders the image's configuration as the entrypoint does at start, and reads a parameter back with Postfix's postconf. */
    function rendered(outbound: MailOutbound, parameter: string): string {
      const dir = mkdtempSync(join(tmpdir(), "alacarte-mail-render-"));
      try {
        const at = (name: string) => join(dir, name);
        execFileSync(requireTool("bash"), [join(CONTEXT, "entrypoint.sh"), "render"], {
          env: {
            PATH: `${process.env.PATH}:/usr/local/sbin:/usr/sbin:/sbin`,
            ...mailServerEnv({ hostname: "mail.example.org", outbound }),
            TEMPLATES: CONTEXT,
            ...Object.fromEntries(
              ["POSTFIX_CONF", "DOVECOT_CONF", "POSTFIX_QUEUE", "POSTFIX_DATA", "DOVECOT_RUN", "DOVECOT_STATE", "MAIL_MAPS", "MAIL_ROOT"]
                .concat(["OPENDKIM_CONF", "OPENDKIM_RUN", "RSPAMD_CONF", "RSPAMD_RUN", "RSPAMD_DB", "RATE_DIR"])
                .map((name) => [name, at(name.toLowerCase())]),
            ),
            VMAIL_USER: "nobody",
            VMAIL_GROUP: "nogroup",
            RSPAMD_USER: "nobody",
            RSPAMD_GROUP: "nogroup",
            RSPAMD_DNS_SERVERS: "127.0.0.1",
          },
          stdio: ["ignore", "pipe", "pipe"],
        });
        return execFileSync(requireTool("postconf"), ["-c", at("postfix_conf"), "-h", parameter], { encoding: "utf8" }).trim();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }

    it("leaves by SMTP by default", () => {
      expect(rendered("deliver", "default_transport")).toBe("smtp");
    });

    it("is discarded where the environment keeps its mail in, while the hosted mailboxes still receive over LMTP", () => {
      expect(rendered("discard", "default_transport")).toBe("discard:outbound-mail-off");
      expect(rendered("discard", "virtual_transport")).toBe("lmtp:unix:private/dovecot-lmtp");
    });
  });
});
