import { beforeAll, describe, expect, it } from "vitest";
import * as mocks from "../helpers/mocks";
import * as options from "../helpers/options";
import { assembleCommand } from "../../components/platform/mail-server";

const mailHost = { name: "mail1", address: "mail1.infra.example.org", user: "deploy" };
const mail = { host: mailHost, fragmentsDir: "/srv/alacarte/mail/fragments", hostname: "mail.example.org" };

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
        ...args,
      },
      { transformations: [rec.transformation] },
    );
    await mocks.promiseOf(domain.dnsRecords);
    await mocks.settle();
    return { domain, rec };
  }

  const commands = () => mocks.byType("command:remote:Command");
  const commandFor = (kind: string) => {
    const found = commands().filter((c) => c.name.endsWith(`-${kind}-write`));
    expect(found).toHaveLength(1);
    return found[0]!;
  };

  it("writes one fragment per kind, named from slug and domain, assembled after each write", async () => {
    const { domain, rec } = await build("amis-mail");
    const files = mocks.byType("alacarte:block:HostFile").map((f) => f.name);
    expect(files).toEqual(["amis-mail-virtual", "amis-mail-accounts", "amis-mail-quotas", "amis-mail-acl"]);
    expect(domain.fragmentPaths).toEqual({
      virtual: "/srv/alacarte/mail/fragments/amis-du-velo--amisduvelo.org.virtual",
      accounts: "/srv/alacarte/mail/fragments/amis-du-velo--amisduvelo.org.accounts",
      quotas: "/srv/alacarte/mail/fragments/amis-du-velo--amisduvelo.org.quotas",
      acl: "/srv/alacarte/mail/fragments/amis-du-velo--amisduvelo.org.acl",
    });
    const quotas = commandFor("quotas");
    expect(options.plain(quotas.inputs.stdin)).toBe("alice@amisduvelo.org:5G\ncontact@amisduvelo.org:2G\n");
    expect(options.plain(quotas.inputs.connection)).toMatchObject({ host: "mail1.infra.example.org", user: "deploy" });
    expect(options.plain(commandFor("virtual").inputs.stdin)).toBe(
      "bureau@amisduvelo.org alice@amisduvelo.org,bruno@example.net\n",
    );
    const assemble = assembleCommand(mail.fragmentsDir);
    for (const c of commands()) {
      expect(c.inputs.create).toContain(assemble);
      expect(c.inputs.create).toContain("/srv/alacarte/mail/fragments/amis-du-velo--amisduvelo.org.");
    }
    // Children: the four HostFiles parented to the component, their commands to them.
    const hostFiles = rec.seen.filter((r) => r.type === "alacarte:block:HostFile");
    for (const f of hostFiles) expect(f.opts.parent, f.name).toBe(domain);
    expect(hostFiles).toHaveLength(4);
  });

  it("keeps the same resources whatever the number of mailboxes and redirections", async () => {
    const signature = () =>
      mocks
        .resources()
        .filter((r) => !r.type.startsWith("pulumi:providers:"))
        .map((r) => `${r.type} ${r.name}`)
        .sort();
    await build("amis-mail", { mailboxes: [], redirections: [] });
    const empty = signature();
    await build("amis-mail", {
      mailboxes: Array.from({ length: 300 }, (_, i) => ({ address: `m${i}@amisduvelo.org`, quotaGb: 1 })),
      redirections: Array.from({ length: 1600 }, (_, i) => ({ from: `r${i}@amisduvelo.org`, to: [`t${i}@example.net`] })),
    });
    expect(signature()).toEqual(empty);
    expect(empty).toHaveLength(1 + 4 + 4); // component, 4 HostFiles, 4 commands
    expect(options.plain(commandFor("virtual").inputs.stdin).split("\n")).toHaveLength(1601);
  });

  it("gives MX, SPF and DMARC records for a custom domain", async () => {
    const { domain } = await build("amis-mail");
    expect(await mocks.promiseOf(domain.domain)).toBe("amisduvelo.org");
    expect(await mocks.promiseOf(domain.dnsRecords)).toEqual([
      { name: "amisduvelo.org", type: "MX", value: "mail.example.org.", priority: 10 },
      { name: "amisduvelo.org", type: "TXT", value: "v=spf1 mx -all" },
      { name: "_dmarc.amisduvelo.org", type: "TXT", value: "v=DMARC1; p=quarantine; adkim=s; aspf=s" },
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
    expect(options.plain(commandFor("accounts").inputs.stdin)).toBe("solo@membres.example.org|{SHA512-CRYPT}!\n");
    expect(commandFor("accounts").inputs.create).toContain("/srv/alacarte/mail/fragments/solo--membres.example.org.accounts");
  });

  it("uses the given config folder in the assemble step", async () => {
    await build("amis-mail", { mail: { ...mail, configDir: "/srv/dms/config" } });
    expect(commandFor("virtual").inputs.create).toContain(assembleCommand(mail.fragmentsDir, "/srv/dms/config"));
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
        }),
    ).toThrow(/not in the domain acme.org/);
  });
});
