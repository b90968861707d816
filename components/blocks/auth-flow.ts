import * as pulumi from "@pulumi/pulumi";
import * as keycloak from "@pulumi/keycloak";

/** What Keycloak accepts as an execution's or subflow's requirement. */
export type Requirement = "REQUIRED" | "ALTERNATIVE" | "CONDITIONAL" | "DISABLED";

/** One authenticator of a flow, with its config when it takes one (a condition's role, say). */
export interface AuthExecution {
  kind: "execution";
  /** Names the resources and the config alias; unique within the flow. */
  part: string;
  /** Keycloak's provider id. @example "auth-cookie" */
  authenticator: string;
  requirement: Requirement;
  /** The execution's config, values as Keycloak stores them (strings). */
  config?: Record<string, pulumi.Input<string>>;
}

/** A subflow and what it holds, in order. */
export interface AuthSubflow {
  kind: "subflow";
  part: string;
  requirement: Requirement;
  /** `form-flow` for a registration form, else a plain `basic-flow`. @default "basic-flow" */
  providerId?: "basic-flow" | "form-flow";
  /** The form authenticator of a `form-flow`. @example "registration-page-form" */
  authenticator?: string;
  steps: AuthStep[];
}

export type AuthStep = AuthExecution | AuthSubflow;

export interface AuthFlowArgs {
  realmId: pulumi.Input<string>;
  /** Realm-unique alias; each subflow's is `<alias>-<part>` (subflow aliases are realm-unique too). */
  alias: string;
  description: string;
  steps: AuthStep[];
}

/** A built flow: the id a binding takes, resolved only once every part of the flow exists. */
export interface BuiltAuthFlow {
  flow: keycloak.authentication.Flow;
  /**
   * The flow's id, carrying a dependency on every subflow, execution and config: a client or a
   * realm binding that takes it waits for the whole flow. Bound earlier, an incomplete flow fails
   * open: "Condition - user role" without its config is false and its deny step is skipped
   * (docs/services/keycloak.md "The per-client sign-in gate").
   */
  id: pulumi.Output<string>;
  /** Every resource of the flow, the flow first. */
  parts: pulumi.CustomResource[];
}

/** Priorities leave room between siblings; Keycloak ≥ 25 orders by them. */
const PRIORITY_STEP = 10;

/**
 * Pure: every `part` of a flow, depth first. @throws Error on a part used twice (two resources
 * would take one name).
 */
export function flowParts(steps: readonly AuthStep[]): string[] {
  const seen: string[] = [];
  const walk = (list: readonly AuthStep[]) => {
    for (const step of list) {
      if (seen.includes(step.part)) throw new Error(`authentication flow: part "${step.part}" is used twice`);
      seen.push(step.part);
      if (step.kind === "subflow") walk(step.steps);
    }
  };
  walk(steps);
  return seen;
}

/**
 * An authentication flow from its steps: the flow `<name>-flow`… as resources named
 * `<prefix>-<part>` (and `<prefix>-<part>-config` for a config), all parented to `parent`.
 * Siblings are ordered by `priority` and also chained with `dependsOn`, since creation order is
 * the order on Keycloak before 25 (the Pulumi Execution docs).
 */
export function buildAuthFlow(
  names: { flow: string; prefix: string },
  args: AuthFlowArgs,
  opts: { parent: pulumi.Resource; provider?: pulumi.ProviderResource },
): BuiltAuthFlow {
  flowParts(args.steps);
  const { realmId } = args;
  const options = { parent: opts.parent, ...(opts.provider ? { provider: opts.provider } : {}) };
  const flow = new keycloak.authentication.Flow(
    names.flow,
    { realmId, alias: args.alias, providerId: "basic-flow", description: args.description },
    options,
  );
  const parts: pulumi.CustomResource[] = [flow];
  const build = (steps: readonly AuthStep[], parentFlowAlias: pulumi.Input<string>) => {
    let previous: pulumi.Resource | undefined;
    steps.forEach((step, index) => {
      const priority = (index + 1) * PRIORITY_STEP;
      const after = { ...options, dependsOn: previous ? [previous] : [] };
      if (step.kind === "subflow") {
        const subflow = new keycloak.authentication.Subflow(
          `${names.prefix}-${step.part}`,
          {
            realmId,
            parentFlowAlias,
            alias: `${args.alias}-${step.part}`,
            providerId: step.providerId ?? "basic-flow",
            ...(step.authenticator ? { authenticator: step.authenticator } : {}),
            requirement: step.requirement,
            priority,
          },
          after,
        );
        parts.push(subflow);
        build(step.steps, subflow.alias);
        previous = subflow;
        return;
      }
      const execution = new keycloak.authentication.Execution(
        `${names.prefix}-${step.part}`,
        { realmId, parentFlowAlias, authenticator: step.authenticator, requirement: step.requirement, priority },
        after,
      );
      parts.push(execution);
      if (step.config) {
        parts.push(
          new keycloak.authentication.ExecutionConfig(
            `${names.prefix}-${step.part}-config`,
            { realmId, executionId: execution.id, alias: `${args.alias}-${step.part}`, config: step.config },
            options,
          ),
        );
      }
      previous = execution;
    });
  };
  build(args.steps, flow.alias);
  const id = pulumi.all(parts.map((p) => p.id)).apply(([flowId]) => flowId as string);
  return { flow, id, parts };
}
