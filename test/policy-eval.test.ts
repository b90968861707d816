import * as structproto from "google-protobuf/google/protobuf/struct_pb";
import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import { evaluatePolicies, type PolicyPackConfigJson, type Registration } from "../infra/plan/policy-eval";

/** @pulumi/policy's sentinel for a string unknown during preview. */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const options = { packName: "test", packVersion: "0.0.1" };
const urnOf = (type: string, name: string) => `urn:pulumi:prod::alacarte::${type}::${name}`;

function registration(type: string, name: string, props: Record<string, unknown>, extra: Partial<Registration> = {}): Registration {
  const struct = structproto.Struct.fromJavaScript(props as Record<string, structproto.JavaScriptValue>);
  return {
    type,
    name,
    urn: urnOf(type, name),
    parent: null,
    custom: true,
    inputs: struct,
    outputs: struct,
    options: {
      protect: false,
      ignoreChanges: [],
      aliases: [],
      customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
      additionalSecretOutputs: [],
    },
    dependencies: [],
    propertyDependencies: {},
    ...extra,
  };
}

const provider = registration("pulumi:providers:docker", "h1", { host: "ssh://h1.example.org" });
const site = registration(
  "docker:index/container:Container",
  "site",
  { spec: { name: "web", image: UNKNOWN } },
  { provider: provider.urn },
);
const volume = registration("docker:index/volume:Volume", "data", { size: 2 }, { parent: site.urn, dependencies: [site.urn] });
const registrations = [provider, site, volume];

describe("evaluatePolicies", () => {
  it("gives every policy the registration's props, nested unknowns still reported to each", async () => {
    const reads = (name: string): ResourceValidationPolicy => ({
      name,
      description: name,
      enforcementLevel: "mandatory",
      validateResource: (args, report) => {
        if (args.type !== site.type) return;
        report(`${args.props.spec.name} on ${args.provider?.props.host}`);
        report(`image ${args.props.spec.image}`); // unknown during preview
      },
    });
    const violations = await evaluatePolicies([reads("first"), reads("second")], registrations, {}, options);
    expect(violations.map((v) => [v.policy, v.level, v.message])).toEqual(
      ["first", "second"].flatMap((name) => [
        [name, "mandatory", "web on ssh://h1.example.org"],
        [
          name,
          "advisory",
          `can't run policy '${name}' from policy pack 'test@v0.0.1' during preview: string value at .spec.image can't be known during preview`,
        ],
      ]),
    );
  });

  it("gives every stack policy the same resources, linked, and refuses a policy that reorders them", async () => {
    const seen: string[][] = [];
    const lists: StackValidationPolicy = {
      name: "lists",
      description: "lists",
      enforcementLevel: "mandatory",
      validateStack: (args) => {
        const link = (r: PolicyResource) =>
          `${r.name}<${r.parent?.name ?? ""}>[${r.dependencies.map((d) => d.name).join()}]${String(r.props.size ?? "")}`;
        seen.push(args.resources.map(link));
      },
    };
    await evaluatePolicies([lists, { ...lists, name: "again" }], registrations, {}, options);
    expect(seen).toEqual([
      ["h1<>[]", "site<>[]", "data<site>[site]2"],
      ["h1<>[]", "site<>[]", "data<site>[site]2"],
    ]);

    const sorts: StackValidationPolicy = {
      ...lists,
      name: "sorts",
      validateStack: (args) => {
        args.resources.sort((a, b) => a.name.localeCompare(b.name));
      },
    };
    await expect(evaluatePolicies([sorts, lists], registrations, {}, options)).rejects.toThrow(
      /Error validating stack with policy 'sorts'/,
    );
  });

  it("gives the same results for the same config object, and follows a config changed in place", async () => {
    const limited: ResourceValidationPolicy = {
      name: "limited",
      description: "limited",
      enforcementLevel: "advisory",
      configSchema: { properties: { max: { type: "number", default: 1 } } },
      validateResource: (args, report) => {
        const { max } = args.getConfig<{ max: number }>();
        if (args.type === volume.type && args.props.size > max) report(`size ${args.props.size} above ${max}`);
      },
    };
    const pack = [limited];
    const config: PolicyPackConfigJson = {};
    const first = await evaluatePolicies(pack, registrations, config, options);
    expect(first).toEqual([{ policy: "limited", level: "advisory", urn: volume.urn, message: "size 2 above 1" }]);
    expect(await evaluatePolicies(pack, registrations, config, options)).toEqual(first);

    config.all = "mandatory";
    expect((await evaluatePolicies(pack, registrations, config, options)).map((v) => v.level)).toEqual(["mandatory"]);
    config.limited = { max: 5 };
    expect(await evaluatePolicies(pack, registrations, config, options)).toEqual([]);
    (config.limited as Record<string, unknown>).max = 0;
    expect((await evaluatePolicies(pack, registrations, config, options)).map((v) => v.message)).toEqual(["size 2 above 0"]);
    config.limited = "disabled";
    expect(await evaluatePolicies(pack, registrations, config, options)).toEqual([]);
  });

  it("deserialises a resource's props only when a policy reads them, and gives the same props to asType", async () => {
    // A Struct that cannot be read: any eager deserialisation of it fails the evaluation.
    const unreadable = {
      toJavaScript: () => {
        throw new Error("props read");
      },
      getFieldsMap: () => {
        throw new Error("props read");
      },
    };
    const opaque = registration("keycloak:index/group:Group", "g", {}, { inputs: unreadable, outputs: unreadable, provider: provider.urn });
    const typesOnly: ResourceValidationPolicy = {
      name: "types-only",
      description: "types-only",
      enforcementLevel: "mandatory",
      validateResource: (args, report) => {
        if (args.type === "docker:index/volume:Volume" && !("props" in args)) report("no props");
      },
    };
    const stackTypes: StackValidationPolicy = {
      name: "stack-types",
      description: "stack-types",
      enforcementLevel: "mandatory",
      validateStack: (args, report) => {
        const v = args.resources.find((r) => r.type === volume.type)!;
        if (!Object.isFrozen(v) || v.asType({ __pulumiType: volume.type } as never) !== v.props || v.props.size !== 2)
          report("volume view");
        const { props } = v;
        if (props.size !== 2) report("destructured props");
      },
    };
    expect(await evaluatePolicies([typesOnly, stackTypes], [...registrations, opaque], {}, options)).toEqual([]);
    const reader: ResourceValidationPolicy = {
      ...typesOnly,
      name: "reader",
      validateResource: (args) => {
        void args.props;
      },
    };
    await expect(evaluatePolicies([reader], [opaque], {}, options)).rejects.toThrow(/props read/);
  });
});
