/**
 * The pull request's summary from two plans (infra/plan/plan-summary.ts), against a golden file:
 * the counts, prices and revenue, policy results by count, the loud warnings for a stack taken
 * away and for data deleted; and long lists cut with the number left out, the counts exact.
 */
import { describe, expect, it } from "vitest";
import { renderSummary, type SummaryPlan } from "../infra/plan/plan-summary";

const res = (stack: string, type: string, name: string, digest: string) => ({
  type,
  urn: `urn:pulumi:${stack}::alacarte::${type}::${name}`,
  digest,
});

const base: SummaryPlan = {
  stacks: [
    {
      name: "prod",
      tenant: null,
      yearlyPriceEur: null,
      policies: [],
      resources: [res("prod", "docker:index/container:Container", "platform-proxy-traefik-container", "a")],
    },
    {
      name: "prod.amis",
      tenant: "amis",
      yearlyPriceEur: 90,
      policies: [],
      resources: [
        res("prod.amis", "alacarte:tenant:StaticSite", "amis-website", "s1"),
        res("prod.amis", "command:remote:Command", "amis-website-garage", "g1"),
      ],
    },
    {
      name: "prod.gone",
      tenant: "gone",
      yearlyPriceEur: 30,
      policies: [],
      resources: [res("prod.gone", "command:remote:Command", "gone-notices-write", "n")],
    },
    {
      name: "prod.same",
      tenant: "same",
      yearlyPriceEur: 30,
      policies: [],
      resources: [res("prod.same", "command:remote:Command", "same-notices-write", "x")],
    },
  ],
};

const head: SummaryPlan = {
  stacks: [
    {
      name: "prod",
      tenant: null,
      yearlyPriceEur: null,
      policies: [],
      resources: [res("prod", "docker:index/container:Container", "platform-proxy-traefik-container", "b")],
    },
    {
      name: "prod.amis",
      tenant: "amis",
      yearlyPriceEur: 30,
      // A message may name a member's address: the summary counts results, it never prints them.
      policies: [
        { policy: "membership-paid", level: "advisory", message: 'tenant "amis": alice@amis.example was…' } as never,
        { policy: "data-backed-up", level: "mandatory" },
        { policy: "data-backed-up", level: "mandatory" },
      ],
      resources: [res("prod.amis", "command:remote:Command", "amis-notices-write", "n2")],
    },
    {
      name: "prod.same",
      tenant: "same",
      yearlyPriceEur: 30,
      policies: [],
      resources: [res("prod.same", "command:remote:Command", "same-notices-write", "x")],
    },
    {
      name: "prod.new",
      tenant: "new",
      yearlyPriceEur: 60,
      policies: [],
      resources: [res("prod.new", "command:remote:Command", "new-notices-write", "w")],
    },
  ],
};

describe("the review summary", () => {
  it("matches the golden file: counts, prices, revenue, policy counts and the data warnings", async () => {
    const text = renderSummary(base, head);
    await expect(text).toMatchFileSnapshot("golden/summary.md");
    expect(text).not.toContain("alice@amis.example");
  });

  it("cuts long lists with the number left out, keeps the counts exact, and stays under the comment's limit", () => {
    const many = (digest: string): SummaryPlan => ({
      stacks: [
        {
          name: "prod.big",
          tenant: "big",
          yearlyPriceEur: 30,
          policies: [],
          resources: Array.from({ length: 500 }, (_, i) =>
            res("prod.big", "command:remote:Command", `big-file-${String(i).padStart(3, "0")}`, `${digest}${i}`),
          ),
        },
      ],
    });
    const text = renderSummary(many("a"), many("b"), { listMax: 10 });
    expect(text).toContain("1 stack(s) touched: 0 to create, 500 to update, 0 to delete.");
    expect(text).toContain("<details><summary>prod.big (500)</summary>");
    expect(text).toContain("- … and 490 more");
    expect(text.match(/^- update /gm)).toHaveLength(10);
    const small = renderSummary(many("a"), many("b"), { limit: 2000 });
    expect(small.length).toBeLessThanOrEqual(2000);
    expect(small).toContain("500 to update");
  });
});
