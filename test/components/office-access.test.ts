import { beforeAll, describe, expect, it } from "vitest";
import * as mocks from "../helpers/mocks";
import * as options from "../helpers/options";

const proxyHost = { name: "h1", address: "h1.infra.example.org", user: "deploy" };

describe("OfficeAccess under mocks", () => {
  let mod: typeof import("../../components/blocks/office-access");
  let fragments: typeof import("../../components/platform/office-fragments");

  beforeAll(async () => {
    mocks.installMocks();
    mod = await import("../../components/blocks/office-access.js");
    fragments = await import("../../components/platform/office-fragments.js");
  });

  async function build(wopiHosts = ["https://cloud.amisduvelo.org"], name = "amis-du-velo") {
    mocks.reset();
    const rec = options.optionsRecorder();
    const access = new mod.OfficeAccess(
      `${name}-office`,
      { host: proxyHost, fragmentsDir: "/srv/alacarte/office/fragments", name, wopiHosts, url: "https://office.example.org" },
      { transformations: [rec.transformation] },
    );
    const url = await mocks.promiseOf(access.wopiUrl);
    await mocks.settle();
    return { access, url, rec };
  }

  it("writes the tenant's fragment on the office host, named from the slug, then rebuilds the list there", async () => {
    const { access, url } = await build();
    expect(url).toBe("https://office.example.org");
    expect(access.fragmentPath).toBe("/srv/alacarte/office/fragments/amis-du-velo.office");
    const write = mocks.one("command:remote:Command", "amis-du-velo-office-fragment-write");
    expect(options.plain(write.inputs.connection)).toMatchObject({ host: "h1.infra.example.org", user: "deploy" });
    expect(write.inputs.create).toContain("'/srv/alacarte/office/fragments/amis-du-velo.office'");
    expect(write.inputs.stdin).toBe(fragments.renderOfficeFragment("amis-du-velo", ["https://cloud.amisduvelo.org"]));
    const assemble = fragments.assembleOfficeCommand(fragments.officeFolders("/srv/alacarte/office"));
    expect(write.inputs.create).toContain(assemble);
    // A removal retires the fragment and rebuilds the list without it.
    expect(write.inputs.delete).toContain(".attic");
    expect(write.inputs.delete).toContain(assemble);
  });

  it("is two resources, the fragment under the component; a domain change rewrites the same file", async () => {
    const { rec } = await build();
    expect(mocks.registered()).toEqual([
      "alacarte:block:OfficeAccess amis-du-velo-office",
      "command:remote:Command amis-du-velo-office-fragment-write",
    ]);
    expect(rec.get("amis-du-velo-office-fragment-write").opts.parent).toBeDefined();
    const before = mocks.one("command:remote:Command", "amis-du-velo-office-fragment-write");
    await build(["https://nuage.amisduvelo.org"]);
    const after = mocks.one("command:remote:Command", "amis-du-velo-office-fragment-write");
    expect(after.inputs.create).toBe(before.inputs.create);
    expect(after.inputs.stdin).not.toBe(before.inputs.stdin);
    expect(after.inputs.stdin).toContain("https://nuage.amisduvelo.org:443");
  });

  it("refuses a bad slug or host before creating anything", async () => {
    mocks.reset();
    const base = { host: proxyHost, fragmentsDir: "/srv/alacarte/office/fragments", url: "https://office.example.org" };
    expect(() => new mod.OfficeAccess("x", { ...base, name: "Bad_Slug", wopiHosts: ["https://cloud.a.org"] })).toThrow(/tenant slug/);
    expect(() => new mod.OfficeAccess("y", { ...base, name: "a", wopiHosts: ["http://cloud.a.org"] })).toThrow(/https URL/);
    expect(() => new mod.OfficeAccess("z", { ...base, name: "a", wopiHosts: [] })).toThrow(/at least one/);
  });
});
