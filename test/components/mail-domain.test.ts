import { beforeAll, describe, expect, it } from "vitest";
import * as mocks from "../helpers/mocks";
import * as options from "../helpers/options";
import { assembleCommand } from "../../components/platform/mail-server";
import { renderRouteFragment } from "../../components/blocks/proxy-route";
import { wellKnownRouteName } from "../../components/platform/mail-well-known-config";

const mailHost = { name: "mail1", address: "mail1.infra.example.org", user: "deploy" };
const mail = { host: mailHost, fragmentsDir: "/srv/alacarte/mail/fragments", hostname: "mail.example.org" };
const proxyHost = { name: "h1", address: "h1.infra.example.org", user: "deploy" };
const wellKnown = {
  upstream: "http://platform-mail-well-known-nginx:8080",
  proxy: { host: proxyHost, routesDir: "/srv/alacarte/routes", publicIp: "203.0.113.10" },
  tlsReportAddress: "postmaster@example.org",
};
const targets = { mailHostname: "mail.example.org", proxyIp: "203.0.113.10", tlsReportAddress: "postmaster@example.org" };

describe("MailDomain under mocks", () => {
  let mod: typeof import("../../components/tenant/mail-domain");

  beforeAll(async () => {
    mocks.installMocks();
    mod = await import("../../components/tenant/mail-domain.js");
  });

  async function build(name: string, args: Partial<import("../../components/tenant/mail-domain").MailDomainArgs> = {}) {
    mocks.reset();
    const rec = options.optionsRecorder();
    const domain = new mod.MailDomain(
      name,
      {
        slug: "amis-du-velo",
        domain: "AmisDuVelo.org",
        shared: false,
        mailboxes: [
          { address: "alice@amisduvelo.org", quotaGb: 5, owner: "alice" },
          { address: "contact@amisduvelo.org", quotaGb: 2, sharedWith: ["alice", "bruno"] },
        ],
        redirections: [{ from: "bureau@amisduvelo.org", to: ["alice@amisduvelo.org", "bruno@example.net"] }],
        mail,
        wellKnown,
        ...args,
      },
      { transformations: [rec.transformation] },
    );
    await mocks.promiseOf(domain.dnsRecords);
    await mocks.settle();
    return { domain, rec };
  }

  const commands = () => mocks.byType("command:remote:Command");
  /** The fragment's write (a custom domain also writes its route fragment on the proxy host). */
  const theCommand = () => {
    const found = commands().filter((c) => c.name.endsWith("-fragment-write") && !c.name.includes("-well-known-"));
    expect(found).toHaveLength(1);
    return found[0]!;
  };

  it("writes one fragment file for the tenant and domain, its kinds as sections, assembled after the write", async () => {
    const { domain, rec } = await build("amis-mail");
    expect(mocks.byType("alacarte:block:HostFile")).toEqual([]);
    expect(domain.fragmentPath).toBe("/srv/alacarte/mail/fragments/amis-du-velo--amisduvelo.org.mail");
    const write = theCommand();
    expect(write.name).toBe("amis-mail-fragment-write");
    expect(options.plain(write.inputs.stdin)).toBe(
      "#> domains\namisduvelo.org OK\n" +
        "#> mailboxes\nalice@amisduvelo.org OK\ncontact@amisduvelo.org OK\n" +
        `#> users\nalice@amisduvelo.org:::::::userdb_quota_rule=*:bytes=${5 * 2 ** 30}\ncontact@amisduvelo.org:::::::userdb_quota_rule=*:bytes=${2 * 2 ** 30}\n` +
        "#> senders\nalice@amisduvelo.org alice@amisduvelo.org,alice\ncontact@amisduvelo.org contact@amisduvelo.org,alice,bruno\n" +
        "#> logins\nalice@amisduvelo.org owner alice\ncontact@amisduvelo.org shared alice\ncontact@amisduvelo.org shared bruno\n" +
        "#> redirections\nbureau@amisduvelo.org alice@amisduvelo.org,bruno@example.net\n",
    );
    expect(options.plain(write.inputs.connection)).toMatchObject({ host: "mail1.infra.example.org", user: "deploy" });
    expect(write.inputs.create).toContain(assembleCommand({ fragmentsDir: mail.fragmentsDir }));
    expect(write.inputs.delete).toContain(assembleCommand({ fragmentsDir: mail.fragmentsDir }));
    expect(write.inputs.create).toContain("'/srv/alacarte/mail/fragments/amis-du-velo--amisduvelo.org.mail'");
    // The HostFile, itself the Command, is parented to the component.
    const hostFiles = rec.seen.filter((r) => r.type === "command:remote:Command" && r.name === "amis-mail-fragment-write");
    expect(hostFiles).toHaveLength(1);
    expect(hostFiles[0]!.opts.parent).toBe(domain);
  });

  it("is exactly 4 resources for a custom domain whatever the number of mailboxes and redirections", async () => {
    const signature = () =>
      mocks
        .resources()
        .filter((r) => !r.type.startsWith("pulumi:providers:"))
        .map((r) => `${r.type} ${r.name}`)
        .sort();
    await build("amis-mail", { mailboxes: [], redirections: [] });
    const empty = signature();
    await build("amis-mail", { mailboxes: [{ address: "m0@amisduvelo.org", quotaGb: 1 }], redirections: [] });
    expect(signature()).toEqual(empty);
    await build("amis-mail", {
      mailboxes: Array.from({ length: 200 }, (_, i) => ({ address: `m${i}@amisduvelo.org`, quotaGb: 1, sharedWith: ["alice"] })),
      redirections: Array.from({ length: 1600 }, (_, i) => ({ from: `r${i}@amisduvelo.org`, to: [`t${i}@example.net`] })),
    });
    expect(signature()).toEqual(empty);
    expect(empty).toEqual([
      "alacarte:block:ProxyRoute amis-mail-well-known",
      "alacarte:tenant:MailDomain amis-mail",
      "command:remote:Command amis-mail-fragment-write",
      "command:remote:Command amis-mail-well-known-fragment-write",
    ]);
    // 6 markers + the domain + 1600 redirections + 200 × (mailbox, user, sender, login) + the final empty split.
    expect(options.plain(theCommand().inputs.stdin).split("\n")).toHaveLength(6 + 1 + 1600 + 800 + 1);
  });

  it("routes a custom domain's well-known names to the platform's service once their DNS points at the proxy", async () => {
    const { domain, rec } = await build("amis-mail");
    const route = mocks.one("alacarte:block:ProxyRoute", "amis-mail-well-known");
    expect(rec.get(route.name).opts.parent).toBe(domain);
    const write = mocks.one("command:remote:Command", "amis-mail-well-known-fragment-write");
    expect(options.plain(write.inputs.connection)).toMatchObject({ host: "h1.infra.example.org" });
    const routeName = wellKnownRouteName("amis-du-velo", "amisduvelo.org");
    // requireDns: the pending copy, promoted by hostname once its A record is the proxy's.
    expect(write.inputs.create).toContain(`/srv/alacarte/routes/pending/${routeName}.yml.pending`);
    expect(write.inputs.create).toContain("203.0.113.10");
    expect(options.plain(write.inputs.stdin)).toBe(
      renderRouteFragment({
        name: routeName,
        hostnames: ["autoconfig.amisduvelo.org", "autodiscover.amisduvelo.org", "mta-sts.amisduvelo.org"],
        upstream: wellKnown.upstream,
      }),
    );
  });

  it("routes nothing for a shared domain: the platform routes its names", async () => {
    await build("solo-mail", {
      slug: "solo",
      domain: "membres.example.org",
      shared: true,
      mailboxes: [{ address: "solo@membres.example.org", quotaGb: 1 }],
      redirections: [],
    });
    expect(mocks.byType("alacarte:block:ProxyRoute")).toEqual([]);
    expect(mocks.resources().filter((r) => !r.type.startsWith("pulumi:providers:"))).toHaveLength(2);
  });

  it("gives the mail records of a custom domain: MX, SPF, DMARC and the clients' SRV records", async () => {
    const { domain } = await build("amis-mail");
    expect(await mocks.promiseOf(domain.domain)).toBe("amisduvelo.org");
    const records = await mocks.promiseOf(domain.dnsRecords);
    expect(records).toEqual(mod.mailDnsRecords("amisduvelo.org", targets));
    expect(records.map((r) => `${r.type} ${r.name}`)).toEqual([
      "MX amisduvelo.org",
      "TXT amisduvelo.org",
      "TXT _dmarc.amisduvelo.org",
      "SRV _imaps._tcp.amisduvelo.org",
      "SRV _submissions._tcp.amisduvelo.org",
      "SRV _submission._tcp.amisduvelo.org",
      "SRV _imap._tcp.amisduvelo.org",
      "A mta-sts.amisduvelo.org",
      "TXT _mta-sts.amisduvelo.org",
      "TXT _smtp._tls.amisduvelo.org",
      "CNAME autoconfig.amisduvelo.org",
      "CNAME autodiscover.amisduvelo.org",
      "SRV _autodiscover._tcp.amisduvelo.org",
    ]);
  });

  it("claims only the listed addresses of a shared domain, without DNS records", async () => {
    const { domain } = await build("solo-mail", {
      slug: "solo",
      domain: "membres.example.org",
      shared: true,
      mailboxes: [{ address: "solo@membres.example.org", quotaGb: 1 }],
      redirections: [],
    });
    expect(await mocks.promiseOf(domain.dnsRecords)).toEqual([]);
    expect(options.plain(theCommand().inputs.stdin)).toBe(
      "#> domains\n#> mailboxes\nsolo@membres.example.org OK\n" +
        `#> users\nsolo@membres.example.org:::::::userdb_quota_rule=*:bytes=${2 ** 30}\n` +
        "#> senders\nsolo@membres.example.org solo@membres.example.org\n#> logins\n#> redirections\n",
    );
    expect(theCommand().inputs.create).toContain("/srv/alacarte/mail/fragments/solo--membres.example.org.mail");
  });

  it("uses the given config folder in the assemble step", async () => {
    await build("amis-mail", { mail: { ...mail, configDir: "/srv/dms/config" } });
    expect(theCommand().inputs.create).toContain(assembleCommand({ fragmentsDir: mail.fragmentsDir, configDir: "/srv/dms/config" }));
  });

  it("rejects an address outside the domain before creating anything", () => {
    mocks.reset();
    expect(
      () =>
        new mod.MailDomain("bad", {
          slug: "acme",
          domain: "acme.org",
          shared: false,
          mailboxes: [{ address: "x@other.org", quotaGb: 1 }],
          redirections: [],
          mail,
          wellKnown,
        }),
    ).toThrow(/not in the domain acme.org/);
  });
});
