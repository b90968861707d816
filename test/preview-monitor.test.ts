import * as pulumi from "@pulumi/pulumi";
import * as keycloak from "@pulumi/keycloak";
import { describe, expect, it } from "vitest";
import { planProgram } from "../infra/plan/offline-plan";
import { waitForRPCs } from "../infra/plan/sdk-internals";

/**
 * The plan answers registrations itself (infra/plan/sdk-internals.ts) instead of through Pulumi's
 * MockMonitor round trip: what a program sees of its resources must be what MockMonitor gives.
 */

type Seen = [value: unknown, known: boolean, secret: boolean][];

/** Resources whose outputs mix plain, nested, secret and unknown values, and a StackReference's. */
function program(): pulumi.Output<unknown>[] {
  const group = new keycloak.Group("g", { realmId: "realm", name: "tenant", attributes: { colour: "blue", size: "large" } });
  const members = new keycloak.GroupMemberships("m", { realmId: pulumi.secret("realm"), groupId: group.id, members: ["alice", "bruno"] });
  const platform = new pulumi.StackReference("platform", { name: "organization/alacarte/prod" });
  return [
    group.name,
    group.attributes,
    group.parentId,
    group.id,
    members.groupId,
    members.realmId,
    members.members,
    platform.requireOutput("platform"),
    platform.getOutput("platformSecrets"),
    platform.outputs,
  ];
}

const platformOutputs = {
  platform: { keycloak: { url: "https://sso.example.org", realm: "alacarte" }, hosts: ["h1", "h2"] },
  platformSecrets: { key: "s3cr3t" },
};

async function seenOf(outputs: pulumi.Output<unknown>[]): Promise<Seen> {
  const internal = (o: pulumi.Output<unknown>) =>
    o as unknown as { promise(withUnknowns: boolean): Promise<unknown>; isKnown: Promise<boolean>; isSecret: Promise<boolean> };
  return Promise.all(
    outputs.map(async (o) => [await internal(o).promise(true), await internal(o).isKnown, await internal(o).isSecret] as Seen[number]),
  );
}

describe("the plan's answers to registrations", () => {
  it("give a program the same outputs as Pulumi's MockMonitor, unknowns and secrets included", async () => {
    let outputs: pulumi.Output<unknown>[] = [];
    const planned = await planProgram(
      "prod.check",
      () => {
        outputs = program();
      },
      { platformOutputs, policies: [] },
    );
    expect(planned.problems).toEqual([]);
    const ours = await seenOf(outputs);

    await pulumi.runtime.setMocks(
      {
        newResource: (args) =>
          args.type === "pulumi:pulumi:StackReference"
            ? { id: args.name, state: { name: args.inputs.name, outputs: platformOutputs, secretOutputNames: ["platformSecrets"] } }
            : { id: undefined, state: args.inputs },
        call: () => {
          throw new Error("no call expected");
        },
      },
      "alacarte",
      "prod.check",
      true,
      "organization",
    );
    await pulumi.runtime.runInPulumiStack(async () => {
      outputs = program();
      return {};
    });
    await waitForRPCs();
    const mockMonitor = await seenOf(outputs);

    expect(ours).toEqual(mockMonitor);
    // The program did see each kind of value.
    expect(ours[3]![1]).toBe(false); // the group's id: unknown in a preview
    expect(ours[5]![2]).toBe(true); // a secret input stays secret
    expect(ours[8]).toEqual([{ key: "s3cr3t" }, true, true]);
    expect(ours[1]![0]).toEqual({ colour: "blue", size: "large" });
  });
});
