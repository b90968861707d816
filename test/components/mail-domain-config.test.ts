import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { assembleCommand } from "../../components/platform/mail-server";
import { needTools, requireTool } from "../helpers/debian-tools";
import { mailHostname } from "../../components/platform/mail-server";
import { mtaStsPolicy, mtaStsPolicyId } from "../../components/platform/mail-well-known-config";
import {
  MAIL_DOMAIN_FRAGMENT_KINDS,
  mailDnsRecords,
  mailDnsTargets,
  mailFragmentPath,
  zoneLines,
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
  it("renders the sorted maps of the mail image: a redirection only in redirections", () => {
    expect(renderMailFragments(sample)).toEqual({
      domains: "amisduvelo.org OK\n",
      mailboxes: "alice@amisduvelo.org OK\ncontact@amisduvelo.org OK\n",
      users: `alice@amisduvelo.org:::::::userdb_quota_rule=*:bytes=${5 * 2 ** 30}\ncontact@amisduvelo.org:::::::userdb_quota_rule=*:bytes=${2 * 2 ** 30}\n`,
      senders: "alice@amisduvelo.org alice@amisduvelo.org,alice\ncontact@amisduvelo.org contact@amisduvelo.org,alice,bruno\n",
      logins: "alice@amisduvelo.org owner alice\ncontact@amisduvelo.org shared alice\ncontact@amisduvelo.org shared bruno\n",
      redirections: "asso@amisduvelo.org contact@amisduvelo.org\n" + "bureau@amisduvelo.org alice@amisduvelo.org,bruno@example.net\n",
    });
  });

  it("leaves the domain line to the platform for a shared domain", () => {
    expect(renderMailFragments({ ...sample, shared: true }).domains).toBe("");
    expect(renderMailFragments({ ...sample, shared: true }).mailboxes).toBe(renderMailFragments(sample).mailboxes);
  });

  it("gives no second login to an owner who is also listed among the sharers", () => {
    const f = renderMailFragments({
      domain: "x.org",
      mailboxes: [{ address: "a@x.org", quotaGb: 1, owner: "al", sharedWith: ["al", "bo"] }],
      redirections: [],
    });
    expect(f.logins).toBe("a@x.org owner al\na@x.org shared bo\n");
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
      domains: "example.org OK\n",
      mailboxes: "",
      users: "",
      senders: "",
      logins: "",
      redirections: "",
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
    [{ mailboxes: [{ address: "a%b@example.org", quotaGb: 1 }] }, /cannot hold % before the @/],
    [{ redirections: [{ from: "a%b@example.org", to: ["x@y.org"] }] }, /cannot hold % before the @/],
    [{ mailboxes: [{ address: "a@example.org", quotaGb: 0 }] }, /positive whole number/],
    [{ mailboxes: [{ address: "a@example.org", quotaGb: 1.5 }] }, /positive whole number/],
    [{ mailboxes: [{ address: "a@example.org", quotaGb: 1, sharedWith: ["Bad Name"] }] }, /invalid username/],
  ])("rejects %#", (partial, error) => {
    expect(() => renderMailFragments({ domain: "example.org", mailboxes: [], redirections: [], ...partial })).toThrow(error);
  });
});

describe("renderMailFragmentFile", () => {
  it("writes every kind as a section, in a fixed order, every one even when empty", () => {
    expect(MAIL_DOMAIN_FRAGMENT_KINDS).toEqual(["domains", "mailboxes", "users", "senders", "logins", "redirections"]);
    const f = renderMailFragments(sample);
    expect(renderMailFragmentFile(sample)).toBe(MAIL_DOMAIN_FRAGMENT_KINDS.map((k) => `#> ${k}\n${f[k]}`).join(""));
    expect(renderMailFragmentFile({ domain: "example.org", mailboxes: [], redirections: [] })).toBe(
      "#> domains\nexample.org OK\n#> mailboxes\n#> users\n#> senders\n#> logins\n#> redirections\n",
    );
  });

  it("never starts a content line with the section marker: an address starting with # is refused, as validate refuses it", () => {
    const file = renderMailFragmentFile({
      domain: "example.org",
      mailboxes: [{ address: "info@example.org", quotaGb: 1, sharedWith: ["alice"] }],
      redirections: [{ from: "news@example.org", to: ["info@example.org"] }],
    });
    const markers = file.split("\n").filter((l) => l.startsWith("#"));
    expect(markers).toEqual(MAIL_DOMAIN_FRAGMENT_KINDS.map((k) => `#> ${k}`));
    for (const address of ["#info@example.org", "#>x@example.org"]) {
      expect(() =>
        renderMailFragmentFile({ domain: "example.org", mailboxes: [], redirections: [{ from: address, to: ["a@b.org"] }] }),
      ).toThrow(/invalid email address/);
    }
  });
});

describe("generated virtual map with the real postfix", () => {
  needTools("postmap", "sh", "awk", "flock", "openssl");
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
    execFileSync("sh", ["-c", assembleCommand({ fragmentsDir: fragments, configDir: dir, passwordsDir: join(dir, "app-passwords") })]);
    const map = join(dir, "redirections");
    execFileSync(requireTool("postmap"), ["-c", dir, `hash:${map}`]);

    expect(query(map, "bureau@amisduvelo.org")).toBe("alice@amisduvelo.org,bruno@example.net");
    expect(query(map, "asso@amisduvelo.org")).toBe("contact@amisduvelo.org");
    expect(query(map, "list199@amisduvelo.org")).toBe("m199@example.net,n199@example.net");
    expect(query(map, "BUREAU@AmisDuVelo.org")).toBe("alice@amisduvelo.org,bruno@example.net");
    expect(query(map, "alice@amisduvelo.org")).toBeUndefined();
    expect(query(map, "nobody@amisduvelo.org")).toBeUndefined();
  });
});

const SRV = (name: string, port: number) => ({ name, type: "SRV", priority: 0, value: `1 ${port} mail.example.org.` });
const targets = mailDnsTargets("example.org", "203.0.113.10");

describe("mailDnsTargets", () => {
  it("points at the platform's mail server, its proxy, and sends TLS reports to the base domain's postmaster", () => {
    expect(targets).toEqual({ mailHostname: "mail.example.org", proxyIp: "203.0.113.10", tlsReportAddress: "postmaster@example.org" });
    expect(targets.mailHostname).toBe(mailHostname("example.org"));
  });
});

describe("mailDnsRecords", () => {
  it("gives MX, SPF, DMARC, the clients' SRV records, MTA-STS, TLS reporting and the autoconfiguration names", () => {
    const policyId = mtaStsPolicyId(mtaStsPolicy("mail.example.org"));
    expect(mailDnsRecords("AmisDuVelo.org", targets)).toEqual([
      { name: "amisduvelo.org", type: "MX", value: "mail.example.org.", priority: 10 },
      { name: "amisduvelo.org", type: "TXT", value: "v=spf1 mx -all" },
      { name: "_dmarc.amisduvelo.org", type: "TXT", value: "v=DMARC1; p=quarantine; adkim=s; aspf=s" },
      SRV("_imaps._tcp.amisduvelo.org", 993),
      SRV("_submissions._tcp.amisduvelo.org", 465),
      SRV("_submission._tcp.amisduvelo.org", 587),
      { name: "_imap._tcp.amisduvelo.org", type: "SRV", priority: 0, value: "0 0 ." },
      { name: "mta-sts.amisduvelo.org", type: "A", value: "203.0.113.10" },
      { name: "_mta-sts.amisduvelo.org", type: "TXT", value: `v=STSv1; id=${policyId}` },
      { name: "_smtp._tls.amisduvelo.org", type: "TXT", value: "v=TLSRPTv1; rua=mailto:postmaster@example.org" },
      { name: "autoconfig.amisduvelo.org", type: "CNAME", value: "mta-sts.amisduvelo.org." },
      { name: "autodiscover.amisduvelo.org", type: "CNAME", value: "mta-sts.amisduvelo.org." },
      { name: "_autodiscover._tcp.amisduvelo.org", type: "SRV", priority: 0, value: "0 443 autodiscover.amisduvelo.org." },
    ]);
    // RFC 8461 §3.1: 1 to 32 letters and digits.
    expect(policyId).toMatch(/^[A-Za-z0-9]{1,32}$/);
  });

  it("changes the _mta-sts id when the policy changes (another MX)", () => {
    const id = (mx: string) =>
      mailDnsRecords("amisduvelo.org", { ...targets, mailHostname: mx }).find((r) => r.name === "_mta-sts.amisduvelo.org")!.value;
    expect(id("mail.example.org")).toBe(id("mail.example.org"));
    expect(id("mail.example.org")).not.toBe(id("mail.example.net"));
  });

  it("refuses a proxy address that is not IPv4", () =>
    expect(() => mailDnsRecords("x.org", { ...targets, proxyIp: "2001:db8::1" })).toThrow(/must be an IPv4 address/));
});

describe("the records as a zone, checked by BIND's named-checkzone (Debian's bind9-utils)", () => {
  needTools("named-checkzone");
  const dir = mkdtempSync(join(tmpdir(), "alacarte-zone-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(["amisduvelo.org", "jardins.xn--p1ai", `${"a".repeat(63)}.example.org`])("loads the records of %s", (domain) => {
    const zone = [
      "$TTL 3600",
      `${domain}. IN SOA ns1.example.net. hostmaster.example.net. 1 3600 900 604800 300`,
      `${domain}. IN NS ns1.example.net.`,
      ...zoneLines(mailDnsRecords(domain, targets)),
      "",
    ].join("\n");
    const file = join(dir, `${domain}.zone`);
    writeFileSync(file, zone);
    const out = execFileSync(requireTool("named-checkzone"), ["-k", "fail", "-n", "fail", domain, file], { encoding: "utf8" });
    expect(out).toMatch(/loaded serial 1\nOK/);
    // The zone as BIND read it (-D: dumped in canonical form, "<name> <ttl> IN <type> <data>" a line).
    const dumped = execFileSync(requireTool("named-checkzone"), ["-q", "-D", "-o", "-", domain, file], { encoding: "utf8" });
    const loaded = dumped
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [name, , , type, ...data] = line.trim().split(/\s+/);
        return `${type} ${name} ${data.join(" ")}`;
      });
    expect(loaded).toEqual(
      expect.arrayContaining([
        `A mta-sts.${domain}. 203.0.113.10`,
        `TXT _mta-sts.${domain}. "v=STSv1; id=${mtaStsPolicyId(mtaStsPolicy("mail.example.org"))}"`,
        `TXT _smtp._tls.${domain}. "v=TLSRPTv1; rua=mailto:postmaster@example.org"`,
        `CNAME autoconfig.${domain}. mta-sts.${domain}.`,
        `CNAME autodiscover.${domain}. mta-sts.${domain}.`,
        `SRV _autodiscover._tcp.${domain}. 0 0 443 autodiscover.${domain}.`,
      ]),
    );
  });

  it("is refused by named-checkzone when a record is broken, so the check can fail", () => {
    const file = join(dir, "broken.zone");
    writeFileSync(
      file,
      [
        "$TTL 3600",
        "x.org. IN SOA ns1.example.net. h.example.net. 1 3600 900 604800 300",
        "x.org. IN NS ns1.example.net.",
        "x.org. 3600 IN MX mail.example.org.",
        "",
      ].join("\n"),
    );
    expect(() => execFileSync(requireTool("named-checkzone"), ["x.org", file], { stdio: "pipe" })).toThrow();
  });

  it("quotes TXT data", () =>
    expect(zoneLines([{ name: "a.org", type: "TXT", value: 'v=x "y"' }])).toEqual(['a.org. 3600 IN TXT "v=x \\"y\\""']));
});

describe("mailFragmentPath", () => {
  it("names a fragment from the slug and the domain", () => {
    expect(mailFragmentPath("/srv/alacarte/mail/fragments/", "amis-du-velo", "AmisDuVelo.org")).toBe(
      "/srv/alacarte/mail/fragments/amis-du-velo--amisduvelo.org.mail",
    );
  });
});
