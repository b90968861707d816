import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { assembleCommand } from "../../components/platform/mail-server";
import { needTools, requireTool } from "../helpers/debian-tools";
import {
  LOCKED_HASH,
  MAIL_DOMAIN_FRAGMENT_KINDS,
  mailDnsRecords,
  mailFragmentPath,
  renderMailFragmentFile,
  renderMailFragments,
} from "../../components/tenant/mail-domain-config";

const sample = {
  domain: "AmisDuVelo.org",
  mailboxes: [
    { address: "contact@amisduvelo.org", quotaGb: 2, sharedWith: ["bruno", "alice"] },
    { address: "Alice@AmisDuVelo.org", quotaGb: 5, owner: "alice" },
  ],
  redirections: [
    { from: "bureau@amisduvelo.org", to: ["bruno@example.net", "alice@amisduvelo.org"] },
    { from: "asso@amisduvelo.org", to: ["contact@amisduvelo.org"] },
  ],
};

describe("renderMailFragments", () => {
  it("renders sorted docker-mailserver fragments", () => {
    expect(renderMailFragments(sample)).toEqual({
      virtual: "asso@amisduvelo.org contact@amisduvelo.org\n" + "bureau@amisduvelo.org alice@amisduvelo.org,bruno@example.net\n",
      accounts: `alice@amisduvelo.org|${LOCKED_HASH}\ncontact@amisduvelo.org|${LOCKED_HASH}\n`,
      quotas: "alice@amisduvelo.org:5G\ncontact@amisduvelo.org:2G\n",
      acl: "contact@amisduvelo.org user=alice lrwstipekx\n" + "contact@amisduvelo.org user=bruno lrwstipekx\n",
    });
  });

  it("does not depend on the order of the input", () => {
    const reversed = {
      ...sample,
      mailboxes: [...sample.mailboxes].reverse(),
      redirections: [...sample.redirections].reverse().map((r) => ({ ...r, to: [...r.to].reverse() })),
    };
    expect(renderMailFragments(reversed)).toEqual(renderMailFragments(sample));
  });

  it("renders empty files for a domain without entries", () => {
    expect(renderMailFragments({ domain: "example.org", mailboxes: [], redirections: [] })).toEqual({
      virtual: "",
      accounts: "",
      quotas: "",
      acl: "",
    });
  });

  it.each([
    [{ mailboxes: [{ address: "a@other.org", quotaGb: 1 }] }, /not in the domain example.org/],
    [{ redirections: [{ from: "a@other.org", to: ["b@example.org"] }] }, /not in the domain/],
    [
      {
        mailboxes: [
          { address: "a@example.org", quotaGb: 1 },
          { address: "A@example.org", quotaGb: 2 },
        ],
      },
      /duplicate mailbox/,
    ],
    [
      {
        redirections: [
          { from: "r@example.org", to: ["x@y.org"] },
          { from: "r@example.org", to: ["z@y.org"] },
        ],
      },
      /duplicate redirection/,
    ],
    [
      { mailboxes: [{ address: "a@example.org", quotaGb: 1 }], redirections: [{ from: "a@example.org", to: ["x@y.org"] }] },
      /also a mailbox/,
    ],
    [{ redirections: [{ from: "r@example.org", to: [] }] }, /at least one target/],
    [{ redirections: [{ from: "r@example.org", to: ["x@y.org\nevil@example.org root"] }] }, /invalid email address/],
    [{ redirections: [{ from: "r@example.org", to: ["a@b.org,c@d.org"] }] }, /invalid email address/],
    [{ mailboxes: [{ address: "a b@example.org", quotaGb: 1 }] }, /invalid email address/],
    [{ mailboxes: [{ address: "a@example.org", quotaGb: 0 }] }, /positive whole number/],
    [{ mailboxes: [{ address: "a@example.org", quotaGb: 1.5 }] }, /positive whole number/],
    [{ mailboxes: [{ address: "a@example.org", quotaGb: 1, sharedWith: ["Bad Name"] }] }, /invalid username/],
  ])("rejects %#", (partial, error) => {
    expect(() => renderMailFragments({ domain: "example.org", mailboxes: [], redirections: [], ...partial })).toThrow(error);
  });
});

describe("renderMailFragmentFile", () => {
  it("writes every kind as a section, in a fixed order, all four even when empty", () => {
    expect(MAIL_DOMAIN_FRAGMENT_KINDS).toEqual(["virtual", "accounts", "quotas", "acl"]);
    expect(renderMailFragmentFile(sample)).toBe(
      "#> virtual\n" +
        "asso@amisduvelo.org contact@amisduvelo.org\n" +
        "bureau@amisduvelo.org alice@amisduvelo.org,bruno@example.net\n" +
        "#> accounts\n" +
        `alice@amisduvelo.org|${LOCKED_HASH}\ncontact@amisduvelo.org|${LOCKED_HASH}\n` +
        "#> quotas\n" +
        "alice@amisduvelo.org:5G\ncontact@amisduvelo.org:2G\n" +
        "#> acl\n" +
        "contact@amisduvelo.org user=alice lrwstipekx\ncontact@amisduvelo.org user=bruno lrwstipekx\n",
    );
    expect(renderMailFragmentFile({ domain: "example.org", mailboxes: [], redirections: [] })).toBe(
      "#> virtual\n#> accounts\n#> quotas\n#> acl\n",
    );
  });

  it("never starts a content line with the section marker: an address starting with # is refused, as validate refuses it", () => {
    const file = renderMailFragmentFile({
      domain: "example.org",
      mailboxes: [{ address: "info@example.org", quotaGb: 1, sharedWith: ["alice"] }],
      redirections: [{ from: "news@example.org", to: ["info@example.org"] }],
    });
    const markers = file.split("\n").filter((l) => l.startsWith("#"));
    expect(markers).toEqual(["#> virtual", "#> accounts", "#> quotas", "#> acl"]);
    for (const address of ["#info@example.org", "#>x@example.org"]) {
      expect(() =>
        renderMailFragmentFile({ domain: "example.org", mailboxes: [], redirections: [{ from: address, to: ["a@b.org"] }] }),
      ).toThrow(/invalid email address/);
    }
  });
});

describe("generated virtual map with the real postfix", () => {
  needTools("postmap", "sh", "awk", "flock");
  const dir = mkdtempSync(join(tmpdir(), "alacarte-postmap-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const query = (map: string, address: string): string | undefined => {
    try {
      return execFileSync(requireTool("postmap"), ["-c", dir, "-q", address, `hash:${map}`], { encoding: "utf8" }).trim();
    } catch (error) {
      if ((error as { status?: number }).status === 1) return undefined; // not found
      throw error;
    }
  };

  it("postmap builds the table and resolves redirections, not mailboxes", () => {
    // Minimal main.cf so postmap needs no system configuration (-c dir).
    writeFileSync(join(dir, "main.cf"), "compatibility_level = 3.6\n");
    const many = Array.from({ length: 200 }, (_, i) => ({
      from: `list${i}@amisduvelo.org`,
      to: [`m${i}@example.net`, `n${i}@example.net`],
    }));
    // Through the mail host's path: the tenant's .mail fragment, split by the real assemble script.
    const fragments = join(dir, "fragments");
    mkdirSync(fragments);
    writeFileSync(
      mailFragmentPath(fragments, "amis-du-velo", sample.domain),
      renderMailFragmentFile({ ...sample, redirections: [...sample.redirections, ...many] }),
    );
    execFileSync("sh", ["-c", assembleCommand(fragments, dir)]);
    const map = join(dir, "postfix-virtual.cf");
    execFileSync(requireTool("postmap"), ["-c", dir, `hash:${map}`]);

    expect(query(map, "bureau@amisduvelo.org")).toBe("alice@amisduvelo.org,bruno@example.net");
    expect(query(map, "asso@amisduvelo.org")).toBe("contact@amisduvelo.org");
    expect(query(map, "list199@amisduvelo.org")).toBe("m199@example.net,n199@example.net");
    expect(query(map, "BUREAU@AmisDuVelo.org")).toBe("alice@amisduvelo.org,bruno@example.net");
    expect(query(map, "alice@amisduvelo.org")).toBeUndefined();
    expect(query(map, "nobody@amisduvelo.org")).toBeUndefined();
  });
});

describe("locked accounts hash with the real dovecot", () => {
  needTools("doveadm");
  const verify = (hash: string, password: string) => {
    try {
      execFileSync("doveadm", ["pw", "-t", hash, "-p", password], { encoding: "utf8", stdio: "pipe" });
      return "verified";
    } catch (error) {
      return String((error as { stderr?: string }).stderr);
    }
  };

  it("no password matches the hash of the accounts fragment", () => {
    const hash = renderMailFragments({ domain: "example.org", mailboxes: [{ address: "a@example.org", quotaGb: 1 }], redirections: [] })
      .accounts.trim()
      .split("|")[1]!;
    expect(hash).toBe(LOCKED_HASH);
    for (const password of ["", "!", "secret", "*"]) expect(verify(hash, password)).toMatch(/Password mismatch/);
  });

  it("while a real SHA512-CRYPT hash does verify (doveadm works here)", () => {
    const real = execFileSync("doveadm", ["pw", "-s", "SHA512-CRYPT", "-p", "secret"], { encoding: "utf8" }).trim();
    expect(verify(real, "secret")).toBe("verified");
  });
});

describe("mailDnsRecords", () => {
  it("gives MX, SPF and DMARC for a custom domain", () => {
    expect(mailDnsRecords("AmisDuVelo.org", "mail.example.org")).toEqual([
      { name: "amisduvelo.org", type: "MX", value: "mail.example.org.", priority: 10 },
      { name: "amisduvelo.org", type: "TXT", value: "v=spf1 mx -all" },
      { name: "_dmarc.amisduvelo.org", type: "TXT", value: "v=DMARC1; p=quarantine; adkim=s; aspf=s" },
    ]);
  });
});

describe("mailFragmentPath", () => {
  it("names a fragment from the slug and the domain", () => {
    expect(mailFragmentPath("/srv/alacarte/mail/fragments/", "amis-du-velo", "AmisDuVelo.org")).toBe(
      "/srv/alacarte/mail/fragments/amis-du-velo--amisduvelo.org.mail",
    );
  });
});
