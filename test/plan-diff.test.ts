/**
 * The stacks a change touches, from two offline plans with digests (infra/plan/plan-diff.ts): pure
 * cases, then the plan engine's digests on programs that differ by one input.
 */
import * as docker from "@pulumi/docker";
import { describe, expect, it } from "vitest";
import { ContainerService } from "../components/blocks/container-service";
import { plan, planProgram, type StackPlan } from "../infra/plan/offline-plan";
import { diffPlans, loweredQuotas, type PlanForDiff } from "../infra/plan/plan-diff";
import { renderSummary, type SummaryPlan } from "../infra/plan/plan-summary";

const r = (type: string, name: string, digest: string) => ({ type, urn: `urn:pulumi:prod::alacarte::${type}::${name}`, digest });

describe("diffPlans (pure)", () => {
  const base: PlanForDiff = {
    stacks: [
      { name: "prod", tenant: null, resources: [r("docker:index/container:Container", "proxy", "a")] },
      {
        name: "prod.amis",
        tenant: "amis",
        resources: [r("docker:index/volume:Volume", "amis-data", "v"), r("command:remote:Command", "amis-route", "1")],
      },
      { name: "prod.gone", tenant: "gone", resources: [r("alacarte:tenant:StaticSite", "gone-website", "s")] },
      { name: "prod.same", tenant: "same", resources: [r("command:remote:Command", "same-route", "x")] },
    ],
  };
  const head: PlanForDiff = {
    stacks: [
      { name: "prod.new", tenant: "new", resources: [r("command:remote:Command", "new-route", "n")] },
      { name: "prod.same", tenant: "same", resources: [r("command:remote:Command", "same-route", "x")] },
      {
        name: "prod.amis",
        tenant: "amis",
        resources: [r("command:remote:Command", "amis-route", "2"), r("command:remote:Command", "amis-probes", "p")],
      },
      { name: "prod", tenant: null, resources: [r("docker:index/container:Container", "proxy", "b")] },
    ],
  };

  it("lists the platform first, then each tenant stack that differs, with what it creates, updates and deletes, and the data it would lose", () => {
    const diff = diffPlans(base, head);
    expect(diff.map((d) => [d.stack, d.status])).toEqual([
      ["prod", "changed"],
      ["prod.amis", "changed"],
      ["prod.gone", "removed"],
      ["prod.new", "added"],
    ]);
    const amis = diff.find((d) => d.stack === "prod.amis")!;
    expect(amis.create.map((c) => c.urn)).toEqual([r("command:remote:Command", "amis-probes", "").urn]);
    expect(amis.update.map((c) => c.urn)).toEqual([r("command:remote:Command", "amis-route", "").urn]);
    expect(amis.dataDeletes.map((c) => c.type)).toEqual(["docker:index/volume:Volume"]);
    expect(diff.find((d) => d.stack === "prod.gone")!.dataDeletes.map((c) => c.type)).toEqual(["alacarte:tenant:StaticSite"]);
    expect(diffPlans(base, base)).toEqual([]);
  });

  it("refuses a plan made without digests, naming the command that makes them", () => {
    const bare: PlanForDiff = { stacks: [{ name: "prod", tenant: null, resources: [{ type: "t", urn: "u" }] }] };
    expect(() => diffPlans(bare, head)).toThrow("npm run plan -- --json --digests");
  });
});

describe("the offline plan's digests", () => {
  const program = (image: string, withCache: boolean) => () => {
    const p = new docker.Provider("docker-h1", { host: "ssh://deploy@h1.example.org" });
    new ContainerService(
      "app",
      {
        image,
        host: { name: "h1", address: "h1.example.org", user: "deploy" },
        limits: { memoryMb: 256, cpus: 0.5 },
        volumes: [
          { name: "data", containerPath: "/data", sizeGb: 5, backup: true },
          ...(withCache ? [{ name: "cache", containerPath: "/cache", sizeGb: 1 }] : []),
        ],
      },
      { providers: { docker: p } },
    );
  };
  const planOf = async (image: string, withCache = false): Promise<PlanForDiff> => {
    const s: StackPlan = await planProgram("prod.amis", program(image, withCache), { digests: true, policies: [] });
    return { stacks: [s] };
  };

  it("are the same for the same program, and mark exactly the resources an input change reaches", async () => {
    const base = await planOf("nginx:1.27.2", true);
    expect(base.stacks[0]!.resources.every((x) => /^[0-9a-f]{64}$/.test(x.digest ?? ""))).toBe(true);
    expect(diffPlans(base, await planOf("nginx:1.27.2", true))).toEqual([]);
    // An image tag: the image and the container change, the volumes do not.
    const [tag] = diffPlans(base, await planOf("nginx:1.27.3", true));
    expect(tag!.update.map((u) => u.type).sort()).toEqual(["docker:index/container:Container", "docker:index/remoteImage:RemoteImage"]);
    expect(tag!.delete).toEqual([]);
    // A volume taken away: its deletion is a data loss the flow must refuse.
    const [cache] = diffPlans(base, await planOf("nginx:1.27.2", false));
    expect(cache!.dataDeletes.map((d) => d.urn)).toEqual([expect.stringMatching(/docker:index\/volume:Volume::app-cache$/)]);
  });
});

describe("the real stacks' plan with digests", () => {
  it("gives every resource of every stack a digest, the same on a second plan: an unchanged tree touches no stack", async () => {
    const first = await plan({ env: "prod", digests: true, policies: false });
    const second = await plan({ env: "prod", digests: true, policies: false });
    expect(first.stacks.length).toBeGreaterThan(1);
    for (const s of first.stacks) for (const res of s.resources) expect(res.digest, res.urn).toMatch(/^[0-9a-f]{64}$/);
    expect(diffPlans(first, second)).toEqual([]);
    // The quotas the summary compares: a tier on its component, a mail domain's mailboxes by a
    // hash of each address, never the address itself.
    const amis = first.stacks.find((st) => st.name === "prod.amis-du-velo")!;
    expect(amis.resources.find((res) => res.type === "alacarte:tenant:NextcloudSuite")?.quotaGb).toBe(20);
    const mail = amis.resources.find((res) => res.type === "alacarte:tenant:MailDomain")!;
    expect(Object.values(mail.mailboxQuotas ?? {}).length).toBeGreaterThan(0);
    expect(JSON.stringify(amis.resources)).not.toMatch(/@amisduvelo\.org/);
  }, 120_000);
});

describe("a lowered quota", () => {
  const suite = (gb: number) => ({ ...r("alacarte:tenant:NextcloudSuite", "amis-nextcloud", `d${gb}`), quotaGb: gb });
  const mail = (gbs: Record<string, number>) => ({
    ...r("alacarte:tenant:MailDomain", "amis-mail-amis.org", JSON.stringify(gbs)),
    mailboxQuotas: gbs,
  });
  const planOf = (...resources: ReturnType<typeof r>[]): SummaryPlan => ({
    stacks: [{ name: "prod.amis", tenant: "amis", yearlyPriceEur: 120, policies: [], resources }],
  });

  it("is found for a tier and for mailboxes, not for a raised or unchanged one", () => {
    const base = planOf(suite(50), mail({ a1: 5, b2: 2, c3: 1 }));
    expect(loweredQuotas(base, planOf(suite(20), mail({ a1: 2, b2: 1, c3: 1 })))).toEqual([
      { stack: "prod.amis", type: "alacarte:tenant:NextcloudSuite", urn: suite(20).urn, fromGb: 50, toGb: 20 },
      { stack: "prod.amis", type: "alacarte:tenant:MailDomain", urn: mail({}).urn, mailboxes: 2 },
    ]);
    expect(loweredQuotas(base, planOf(suite(100), mail({ a1: 5, b2: 2, c3: 1, d4: 1 })))).toEqual([]);
  });

  it("gets a loud line in the summary, with counts and resource names only", () => {
    const text = renderSummary(planOf(suite(50), mail({ a1: 5 })), planOf(suite(20), mail({ a1: 2 })));
    expect(text).toContain("> **⚠ prod.amis lowers a quota**: `amis-nextcloud` from 50 GB to 20 GB.");
    expect(text).toContain("> **⚠ prod.amis lowers the quota of 1 mailbox(es)** of `amis-mail-amis.org`");
    expect(text).not.toContain("a1");
  });
});
