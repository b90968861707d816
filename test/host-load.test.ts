import { describe, expect, it } from "vitest";
import { hostLoads } from "../infra/model/host-load";
import { environmentPolicyConfig, plan } from "../infra/plan/offline-plan";
import type { Load } from "../infra/model/host-load";

describe("host load (pure) against what the offline plan really places", () => {
  it("the platform stack's estimated load equals what its containers and volumes place on each host", async () => {
    const config = environmentPolicyConfig("prod");
    const stacks = (config["host-capacity"] as { stacks: Record<string, Record<string, Load>> }).stacks;
    // With no room at all, host-capacity reports each host's real total: the platform's own
    // resources plus the estimate of every other stack (tenant stacks place nothing on hosts yet).
    const tight = await plan({ env: "prod", policyConfig: { "host-capacity": { overcommit: 1e-9 } } });
    const messages = tight.stacks.find((s) => s.name === "prod")!.policies.map((v) => v.message);
    const estimated = hostLoads(stacks);
    for (const [host, load] of Object.entries(estimated)) {
      const r = (n: number) => Math.round(n * 100) / 100;
      expect(messages).toContainEqual(expect.stringContaining(`host "${host}": ${r(load.diskGb)} GB disk placed`));
      expect(messages).toContainEqual(expect.stringContaining(`host "${host}": ${r(load.memoryGb)} GB memory placed`));
      expect(messages).toContainEqual(expect.stringContaining(`host "${host}": ${r(load.cpus)} CPUs placed`));
    }
  });

  it("leaves the stack under review out, so its own resources count once", () => {
    const loads = { prod: { h1: { diskGb: 10, memoryGb: 1, cpus: 1 } }, "prod.a": { h1: { diskGb: 5, memoryGb: 1, cpus: 0.5 } } };
    expect(hostLoads(loads, "prod.a")).toEqual({ h1: { diskGb: 10, memoryGb: 1, cpus: 1 } });
    expect(hostLoads(loads)).toEqual({ h1: { diskGb: 15, memoryGb: 2, cpus: 1.5 } });
  });
});
