import { createRequire } from "node:module";
import * as path from "node:path";
import type {
  EnforcementLevel, PolicyProviderResource, PolicyResource, PolicyResourceOptions, ResourceValidationPolicy, StackValidationPolicy,
} from "@pulumi/policy";

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

// @pulumi/policy's internals (not in its typings): the same functions its server runs.
const requireHere = createRequire(path.join(__dirname, "policy-eval.ts"));
const { deserializeProperties } = requireHere("@pulumi/policy/deserialize") as {
  deserializeProperties(struct: unknown, proxySecrets: boolean): Record<string, any>;
};
const { unknownCheckingProxy, UnknownValueError } = requireHere("@pulumi/policy/proxy") as {
  unknownCheckingProxy<T extends object>(o: T): T;
  UnknownValueError: new (...args: any[]) => Error;
};
const { isResourcePolicy, isStackPolicy, getPulumiType } = requireHere("@pulumi/policy/policy") as {
  isResourcePolicy(p: unknown): p is ResourceValidationPolicy;
  isStackPolicy(p: unknown): p is StackValidationPolicy;
  getPulumiType(o: unknown): string | undefined;
};

/** One registration as the mock monitor saw it (protobuf Structs as the engine would forward them). */
export interface Registration {
  type: string;
  name: string;
  /** Engine URN. */
  urn: string;
  parent: string | null;
  custom: boolean;
  /** The registration's inputs (`RegisterResourceRequest.object`, a read's properties). */
  inputs: unknown;
  /** What a stack policy sees: a custom resource's planned outputs, a component's registered outputs (none before). */
  outputs?: unknown;
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

/** The CLI's reconciliation of a pack's config: levels (`all`, then per policy) and the schema's defaults. */
export function reconcileConfig(policies: readonly Policy[], config: PolicyPackConfigJson, packLevel: EnforcementLevel = "advisory"): Map<string, Reconciled> {
  const all = typeof config.all === "string" ? (config.all as EnforcementLevel) : undefined;
  const out = new Map<string, Reconciled>();
  for (const p of policies) {
    const own = config[p.name];
    const given = typeof own === "string" ? { enforcementLevel: own } : ((own ?? {}) as Record<string, unknown>);
    const { enforcementLevel, ...props } = given as { enforcementLevel?: EnforcementLevel };
    const defaults = Object.fromEntries(Object.entries(p.configSchema?.properties ?? {})
      .filter(([, s]) => s && typeof s === "object" && "default" in s)
      .map(([k, s]) => [k, structuredClone((s as { default: unknown }).default)]));
    for (const key of p.configSchema?.required ?? []) {
      if (!(key in props) && !(key in defaults)) throw new Error(`policy ${p.name}: the policy pack config lacks the required "${key}"`);
    }
    out.set(p.name, { level: enforcementLevel ?? all ?? p.enforcementLevel ?? packLevel, props: { ...defaults, ...props } });
  }
  return out;
}

/** Freezes a config in place (policies read it, never change it); returns it. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

class NotApplicable extends Error {}
const notApplicable = (reason?: string): never => { throw new NotApplicable(reason ?? "Policy does not apply"); };

function isTypeOf(type: string, resourceClass: unknown): boolean {
  const t = getPulumiType(resourceClass);
  if (t) return t === type;
  const isInstance = (resourceClass as { isInstance?: (o: unknown) => boolean }).isInstance;
  return typeof isInstance === "function" && isInstance({ __pulumiType: type }) === true;
}

export interface EvaluateOptions {
  packName: string;
  packVersion: string;
  /** Level of a policy that sets none. @default "advisory" (@pulumi/policy's default) */
  packLevel?: EnforcementLevel;
}

/** Runs the policies over one stack's registrations. */
export async function evaluatePolicies(
  policies: readonly Policy[], registrations: readonly Registration[], config: PolicyPackConfigJson, options: EvaluateOptions,
): Promise<PolicyViolation[]> {
  const reconciled = reconcileConfig(policies, config, options.packLevel);
  const pack = `'${options.packName}@v${options.packVersion}'`;
  const byUrn = new Map(registrations.map((r) => [r.urn, r]));
  const providerOf = (r: Registration, which: "inputs" | "outputs"): PolicyProviderResource | undefined => {
    const p = r.provider ? byUrn.get(r.provider) : undefined;
    return p ? { type: p.type, urn: p.urn, name: p.name, props: unknownCheckingProxy(p[which] ? deserializeProperties(p[which], false) : {}) } : undefined;
  };
  const violations: PolicyViolation[] = [];
  const levelOf = (p: Policy): PolicyLevel | undefined => {
    const level = reconciled.get(p.name)!.level;
    if (level === "disabled") return undefined;
    return level === "advisory" ? "advisory" : "mandatory"; // remediate downgrades to mandatory when violated
  };
  const reporter = (p: Policy, level: PolicyLevel, defaultUrn: string | null) =>
    (message: string | { message?: string; urn?: string; enforcementLevel?: EnforcementLevel }, urn?: string) => {
      if (typeof message === "object") {
        violations.push({ policy: p.name, level: message.enforcementLevel === "advisory" ? "advisory" : level, urn: message.urn ?? defaultUrn, message: message.message ?? p.description });
      } else {
        violations.push({ policy: p.name, level, urn: urn ?? defaultUrn, message: message || p.description });
      }
    };
  const cantRun = (p: Policy, e: Error, urn: string | null) =>
    violations.push({ policy: p.name, level: "advisory", urn, message: `can't run policy '${p.name}' from policy pack ${pack} during preview: ${e.message}` });
  // One frozen config per policy, shared by every call: copying a config that lists every stack's
  // host load on each call made the plan quadratic in the number of tenants.
  const frozen = new Map([...reconciled].map(([name, r]) => [name, deepFreeze(r.props)]));
  const getConfigOf = (p: Policy) => <T extends object>() => frozen.get(p.name)! as T;

  // Analyze: every registration, in order, each policy in turn.
  for (const r of registrations) {
    for (const p of policies) {
      const level = levelOf(p);
      if (!level || !isResourcePolicy(p) || !p.validateResource) continue;
      if (!Array.isArray(p.validateResource)) {
        const only = getPulumiType(p.validateResource);
        if (only && only !== r.type) continue;
      }
      for (const validate of [p.validateResource].flat()) {
        try {
          const props = unknownCheckingProxy(deserializeProperties(r.inputs, false));
          const provider = providerOf(r, "inputs");
          await validate({
            type: r.type, props, urn: r.urn, name: r.name, opts: r.options, stackTags: new Map(),
            isType: (c: unknown) => isTypeOf(r.type, c),
            asType: ((c: unknown) => (isTypeOf(r.type, c) ? props : undefined)) as never,
            getConfig: getConfigOf(p), notApplicable,
            ...(provider ? { provider } : {}),
          }, reporter(p, level, r.urn));
        } catch (e) {
          if (e instanceof UnknownValueError) cantRun(p, e, r.urn);
          else if (!(e instanceof NotApplicable)) throw new Error(`Error validating resource with policy '${p.name}' from policy pack ${pack}: ${(e as Error).stack}`);
        }
      }
    }
  }

  // AnalyzeStack: once, over every resource's outputs.
  for (const p of policies) {
    const level = levelOf(p);
    if (!level || !isStackPolicy(p)) continue;
    const only = getPulumiType(p.validateStack);
    if (only && !registrations.some((r) => r.type === only)) continue;
    try {
      const resources: PolicyResource[] = registrations.map((r) => {
        const props = unknownCheckingProxy(r.outputs ? deserializeProperties(r.outputs, false) : {});
        const provider = providerOf(r, "outputs");
        return {
          type: r.type, props, urn: r.urn, name: r.name, opts: r.options, dependencies: [], propertyDependencies: {},
          isType: (c: unknown) => isTypeOf(r.type, c),
          asType: ((c: unknown) => (isTypeOf(r.type, c) ? props : undefined)) as never,
          ...(provider ? { provider } : {}),
        };
      });
      const resourceByUrn = new Map(resources.map((x) => [x.urn, x]));
      registrations.forEach((r, i) => {
        const res = resources[i]!;
        const parent = r.parent ? resourceByUrn.get(r.parent) : undefined;
        if (parent) res.parent = parent;
        res.dependencies = r.dependencies.map((d) => resourceByUrn.get(d)).filter((d): d is PolicyResource => !!d);
        for (const [k, v] of Object.entries(r.propertyDependencies)) {
          res.propertyDependencies[k] = v.map((d) => resourceByUrn.get(d)).filter((d): d is PolicyResource => !!d);
        }
      });
      await p.validateStack({ resources, getConfig: getConfigOf(p), stackTags: new Map(), notApplicable }, reporter(p, level, null));
    } catch (e) {
      if (e instanceof UnknownValueError) cantRun(p, e, null);
      else if (!(e instanceof NotApplicable)) throw new Error(`Error validating stack with policy '${p.name}' from policy pack ${pack}: ${(e as Error).stack}`);
    }
  }
  return violations;
}
