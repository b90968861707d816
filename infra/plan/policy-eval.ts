import type {
  EnforcementLevel,
  PolicyProviderResource,
  PolicyResource,
  PolicyResourceOptions,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "@pulumi/policy";
import { deepFreeze } from "../model/deep-freeze";
import {
  deserializePolicyProperties,
  getPulumiType,
  isResourcePolicy,
  isStackPolicy,
  unknownCheckingProxy,
  UnknownValueError,
  type Struct,
} from "./sdk-internals";

/**
 * Evaluates a policy array over what the offline plan recorded, the way `pulumi preview
 * --policy-pack` does (@pulumi/policy 1.21 server.js `makeAnalyzeRpcFun`, `makeAnalyzeStackRpcFun`):
 * per-resource policies on each registration's inputs, stack policies on every resource's outputs
 * with parents and dependencies linked; enforcement levels from the config (`all`, then per
 * policy), config properties with the schema's defaults (as the CLI fills them before `Configure`);
 * @pulumi/policy's own deserialisation (secrets unwrapped) and unknown-checking proxy, so a policy
 * that reads a value unknown during preview is reported the same "can't run … during preview"
 * advisory. Disabled policies do not run; `notApplicable()` reports nothing.
 */

/** One registration as the mock monitor saw it (protobuf Structs as the engine would forward them). */
export interface Registration {
  type: string;
  name: string;
  /** Engine URN. */
  urn: string;
  parent: string | null;
  custom: boolean;
  /** The registration's inputs (`RegisterResourceRequest.object`, a read's properties). */
  inputs: Struct | undefined;
  /** What a stack policy sees: a custom resource's planned outputs, a component's registered outputs (none before). */
  outputs?: Struct | undefined;
  options: PolicyResourceOptions;
  /** Engine URN of the explicit provider. */
  provider?: string;
  dependencies: string[];
  propertyDependencies: Record<string, string[]>;
}

export type PolicyLevel = "mandatory" | "advisory";

export interface PolicyViolation {
  policy: string;
  level: PolicyLevel;
  /** The resource concerned, or null for a stack-wide finding. */
  urn: string | null;
  message: string;
}

/** `--policy-pack-config` JSON: `{"all": level, "<policy>": level | {enforcementLevel?, ...props}}`. */
export type PolicyPackConfigJson = Record<string, unknown>;

type Policy = ResourceValidationPolicy | StackValidationPolicy;

interface Reconciled {
  level: EnforcementLevel;
  props: Record<string, unknown>;
}

/**
 * The level of a policy that sets none: policies/index.ts gives its PolicyPack none, so
 * @pulumi/policy's default (pulumi/pulumi-policy sdk/nodejs/policy/policy.ts defaultEnforcementLevel).
 */
const PACK_LEVEL: EnforcementLevel = "advisory";

/** The CLI's reconciliation of a pack's config: levels (`all`, then per policy) and the schema's defaults. */
function reconcileConfig(policies: readonly Policy[], config: PolicyPackConfigJson): Map<string, Reconciled> {
  const all = typeof config.all === "string" ? (config.all as EnforcementLevel) : undefined;
  const out = new Map<string, Reconciled>();
  for (const p of policies) {
    const own = config[p.name];
    const given = typeof own === "string" ? { enforcementLevel: own } : ((own ?? {}) as Record<string, unknown>);
    const { enforcementLevel, ...props } = given as { enforcementLevel?: EnforcementLevel };
    const defaults = Object.fromEntries(
      Object.entries(p.configSchema?.properties ?? {})
        .filter(([, s]) => s && typeof s === "object" && "default" in s)
        .map(([k, s]) => [k, structuredClone((s as { default: unknown }).default)]),
    );
    for (const key of p.configSchema?.required ?? []) {
      if (!(key in props) && !(key in defaults)) throw new Error(`policy ${p.name}: the policy pack config lacks the required "${key}"`);
    }
    out.set(p.name, { level: enforcementLevel ?? all ?? p.enforcementLevel ?? PACK_LEVEL, props: { ...defaults, ...props } });
  }
  return out;
}

class NotApplicable extends Error {}
const notApplicable = (reason?: string): never => {
  throw new NotApplicable(reason ?? "Policy does not apply");
};

function isTypeOf(type: string, resourceClass: unknown): boolean {
  const t = getPulumiType(resourceClass);
  if (t) return t === type;
  const isInstance = (resourceClass as { isInstance?: (o: unknown) => boolean }).isInstance;
  return typeof isInstance === "function" && isInstance({ __pulumiType: type }) === true;
}

// A policy's type checks, made by functions rather than written inline in each object: under tsx
// (esbuild's keepNames) every inline closure is named by a defineProperty, per registration and policy.
const isTypeFor = (type: string) => (resourceClass: unknown) => isTypeOf(type, resourceClass);

/**
 * What a policy reads of one resource, its `props` deserialised on first read: most policies look
 * at a few types only, and deserialising every registration's props for each of them (the server
 * does it eagerly) was most of the evaluation. A getter on the prototype: the same `props` to a
 * read, `in` or destructuring; a class rather than defineProperty, which left every object slow.
 */
class PropsView {
  readonly #load: () => Record<string, any>;
  #props: Record<string, any> | undefined;
  constructor(load: () => Record<string, any>) {
    this.#load = load;
  }
  get props(): Record<string, any> {
    return (this.#props ??= this.#load());
  }
}

class ProviderView extends PropsView implements PolicyProviderResource {
  constructor(
    readonly type: string,
    readonly urn: string,
    readonly name: string,
    load: () => Record<string, any>,
  ) {
    super(load);
  }
}

/** A resource policy's arguments for one registration. */
class ResourceArgsView extends PropsView implements ResourceValidationArgs {
  readonly type: string;
  readonly urn: string;
  readonly name: string;
  readonly opts: PolicyResourceOptions;
  provider?: PolicyProviderResource;
  constructor(
    r: Registration,
    load: () => Record<string, any>,
    readonly isType: ResourceValidationArgs["isType"],
    readonly getConfig: ResourceValidationArgs["getConfig"],
    readonly stackTags: Map<string, string>,
  ) {
    super(load);
    this.type = r.type;
    this.urn = r.urn;
    this.name = r.name;
    this.opts = r.options;
  }
  readonly asType = ((resourceClass: unknown) =>
    isTypeOf(this.type, resourceClass) ? this.props : undefined) as ResourceValidationArgs["asType"];
  readonly notApplicable = notApplicable;
}

/** A stack policy's view of one resource (its outputs); parent and dependencies are linked once all are built. */
class StackResourceView extends PropsView implements PolicyResource {
  readonly type: string;
  readonly urn: string;
  readonly name: string;
  readonly opts: PolicyResourceOptions;
  readonly isType: PolicyResource["isType"];
  provider?: PolicyProviderResource;
  parent?: PolicyResource;
  dependencies: PolicyResource[] = [];
  propertyDependencies: Record<string, PolicyResource[]> = {};
  constructor(r: Registration, load: () => Record<string, any>) {
    super(load);
    this.type = r.type;
    this.urn = r.urn;
    this.name = r.name;
    this.opts = r.options;
    this.isType = isTypeFor(r.type);
  }
  readonly asType = ((resourceClass: unknown) => (isTypeOf(this.type, resourceClass) ? this.props : undefined)) as PolicyResource["asType"];
}

export interface EvaluateOptions {
  packName: string;
  packVersion: string;
}

type ResourceValidation = Extract<NonNullable<ResourceValidationPolicy["validateResource"]>, (...args: never[]) => unknown>;

/** A policy that runs, with what does not depend on the stack: its level, its config, its validations. */
interface Prepared {
  policy: Policy;
  level: PolicyLevel;
  getConfig: <T extends object>() => T;
  /** The only type it applies to (a single validation with an attached Pulumi type). */
  only: string | undefined;
}

interface PreparedPack {
  /** Everything the preparation read from the policies and the config, compared by identity. */
  signature: unknown[];
  resourcePolicies: (Prepared & { validations: ResourceValidation[] })[];
  stackPolicies: (Prepared & { policy: StackValidationPolicy })[];
}

function signatureOf(policies: readonly Policy[], config: PolicyPackConfigJson): unknown[] {
  const signature: unknown[] = [config.all, policies.length];
  for (const p of policies) {
    const own = config[p.name];
    signature.push(
      p,
      p.name,
      p.enforcementLevel,
      p.configSchema,
      (p as ResourceValidationPolicy).validateResource,
      (p as StackValidationPolicy).validateStack,
      own,
    );
    if (own && typeof own === "object") for (const k of Object.keys(own)) signature.push(k, (own as Record<string, unknown>)[k]);
  }
  return signature;
}

const sameSignature = (a: unknown[], b: unknown[]) => a.length === b.length && a.every((x, i) => Object.is(x, b[i]));

function preparePack(policies: readonly Policy[], config: PolicyPackConfigJson, signature: unknown[]): PreparedPack {
  const reconciled = reconcileConfig(policies, config);
  // One frozen config per policy, shared by every call: copying a config that lists every stack's
  // host load on each call made the plan quadratic in the number of tenants.
  const frozen = new Map([...reconciled].map(([name, r]) => [name, deepFreeze(r.props)]));
  const pack: PreparedPack = { signature, resourcePolicies: [], stackPolicies: [] };
  for (const policy of policies) {
    const level = reconciled.get(policy.name)!.level;
    if (level === "disabled") continue;
    const config = frozen.get(policy.name)!;
    const prepared = {
      policy,
      getConfig: <T extends object>() => config as T,
      level: level === "advisory" ? ("advisory" as const) : ("mandatory" as const), // remediate downgrades to mandatory when violated
    };
    if (isResourcePolicy(policy) && policy.validateResource) {
      const v = policy.validateResource;
      pack.resourcePolicies.push({ ...prepared, validations: [v].flat(), only: Array.isArray(v) ? undefined : getPulumiType(v) });
    }
    if (isStackPolicy(policy)) pack.stackPolicies.push({ ...prepared, policy, only: getPulumiType(policy.validateStack) });
  }
  return pack;
}

/**
 * The offline plan evaluates every stack with the same policies and the same config object (which
 * lists every host's load): reconciling and freezing that config once per stack was a large part of
 * each evaluation. The cache is checked against what the preparation read, so a config changed in
 * place between two calls is prepared again.
 */
const packs = new WeakMap<PolicyPackConfigJson, WeakMap<readonly Policy[], PreparedPack>>();

function preparedPack(policies: readonly Policy[], config: PolicyPackConfigJson): PreparedPack {
  let byPolicies = packs.get(config);
  if (!byPolicies) packs.set(config, (byPolicies = new WeakMap()));
  const signature = signatureOf(policies, config);
  let pack = byPolicies.get(policies);
  if (!pack || !sameSignature(pack.signature, signature)) byPolicies.set(policies, (pack = preparePack(policies, config, signature)));
  return pack;
}

/** Runs the policies over one stack's registrations. */
export async function evaluatePolicies(
  policies: readonly Policy[],
  registrations: readonly Registration[],
  config: PolicyPackConfigJson,
  options: EvaluateOptions,
): Promise<PolicyViolation[]> {
  const { resourcePolicies, stackPolicies } = preparedPack(policies, config);
  const pack = `'${options.packName}@v${options.packVersion}'`;
  const byUrn = new Map(registrations.map((r) => [r.urn, r]));

  // Each registration's inputs and outputs are deserialised once, on first use, and every policy
  // reads that one copy through its own unknown-checking proxy (@pulumi/policy's server deserialises
  // again for each policy). So policies must not change the props they are given: the next policy
  // would see the change. Freezing the copy is no guard: the proxy hands out a frozen property's
  // value unwrapped (a proxy's get must), so unknowns below the top level would go unreported.
  const deserialized = new Map<Struct, Record<string, any>>();
  const propsOf = (struct: Struct): Record<string, any> => {
    let props = deserialized.get(struct);
    if (!props) deserialized.set(struct, (props = deserializePolicyProperties(struct, false)));
    return props;
  };
  const providerOf = (r: Registration, which: "inputs" | "outputs"): PolicyProviderResource | undefined => {
    const p = r.provider ? byUrn.get(r.provider) : undefined;
    return p ? new ProviderView(p.type, p.urn, p.name, () => unknownCheckingProxy(p[which] ? propsOf(p[which]) : {})) : undefined;
  };
  const stackTags = new Map<string, string>();
  const violations: PolicyViolation[] = [];
  const reporter =
    (p: Policy, level: PolicyLevel, defaultUrn: string | null) =>
    (message: string | { message?: string; urn?: string; enforcementLevel?: EnforcementLevel }, urn?: string) => {
      if (typeof message === "object") {
        violations.push({
          policy: p.name,
          level: message.enforcementLevel === "advisory" ? "advisory" : level,
          urn: message.urn ?? defaultUrn,
          message: message.message ?? p.description,
        });
      } else {
        violations.push({ policy: p.name, level, urn: urn ?? defaultUrn, message: message || p.description });
      }
    };
  const cantRun = (p: Policy, e: Error, urn: string | null) =>
    violations.push({
      policy: p.name,
      level: "advisory",
      urn,
      message: `can't run policy '${p.name}' from policy pack ${pack} during preview: ${e.message}`,
    });

  // Analyze: every registration, in order, each policy in turn.
  for (const r of registrations) {
    const isType = isTypeFor(r.type);
    for (const { policy: p, level, getConfig, only, validations } of resourcePolicies) {
      if (only && only !== r.type) continue;
      for (const validate of validations) {
        try {
          const args = new ResourceArgsView(r, () => unknownCheckingProxy(r.inputs ? propsOf(r.inputs) : {}), isType, getConfig, stackTags);
          const provider = providerOf(r, "inputs");
          if (provider) args.provider = provider;
          await validate(args, reporter(p, level, r.urn));
        } catch (e) {
          if (e instanceof UnknownValueError) cantRun(p, e, r.urn);
          else if (!(e instanceof NotApplicable))
            throw new Error(`Error validating resource with policy '${p.name}' from policy pack ${pack}: ${(e as Error).stack}`);
        }
      }
    }
  }

  // AnalyzeStack: once, over every resource's outputs. The resources are built once and every
  // stack policy gets the same ones (the server builds them again for each policy): they are
  // frozen, so a policy that sorts or edits them fails instead of changing what the next one sees.
  let resources: readonly PolicyResource[] | undefined;
  const stackResources = (): readonly PolicyResource[] => {
    if (resources) return resources;
    const built = registrations.map((r): PolicyResource => {
      const resource = new StackResourceView(r, () => unknownCheckingProxy(r.outputs ? propsOf(r.outputs) : {}));
      const provider = providerOf(r, "outputs");
      if (provider) resource.provider = provider;
      return resource;
    });
    const resourceByUrn = new Map(built.map((x) => [x.urn, x]));
    registrations.forEach((r, i) => {
      const res = built[i]!;
      const parent = r.parent ? resourceByUrn.get(r.parent) : undefined;
      if (parent) res.parent = parent;
      res.dependencies = r.dependencies.map((d) => resourceByUrn.get(d)).filter((d): d is PolicyResource => !!d);
      for (const [k, v] of Object.entries(r.propertyDependencies)) {
        res.propertyDependencies[k] = v.map((d) => resourceByUrn.get(d)).filter((d): d is PolicyResource => !!d);
      }
    });
    for (const res of built) {
      Object.freeze(res.dependencies);
      for (const deps of Object.values(res.propertyDependencies)) Object.freeze(deps);
      Object.freeze(res.propertyDependencies);
      if (res.provider) Object.freeze(res.provider);
      Object.freeze(res);
    }
    return (resources = Object.freeze(built));
  };
  for (const { policy: p, level, getConfig, only } of stackPolicies) {
    if (only && !registrations.some((r) => r.type === only)) continue;
    try {
      await p.validateStack(
        { resources: stackResources() as PolicyResource[], getConfig, stackTags: new Map(), notApplicable },
        reporter(p, level, null),
      );
    } catch (e) {
      if (e instanceof UnknownValueError) cantRun(p, e, null);
      else if (!(e instanceof NotApplicable))
        throw new Error(`Error validating stack with policy '${p.name}' from policy pack ${pack}: ${(e as Error).stack}`);
    }
  }
  return violations;
}
