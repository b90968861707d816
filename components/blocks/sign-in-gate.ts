import type * as pulumi from "@pulumi/pulumi";
import { buildAuthFlow } from "./auth-flow";
import { browserSignInSteps, directGrantSignInSteps, roleGateSteps } from "./sign-in-steps";

/** What a gated client binds: its browser flow and, for the password grant, its direct-grant flow. */
export interface SignInGate {
  /** Id of the gate's browser flow, resolved once the whole flow exists (components/blocks/auth-flow.ts). */
  browserFlowId: pulumi.Output<string>;
  /** Id of the gate's direct-grant flow; only when the gate was built with `directGrant`. */
  directGrantFlowId?: pulumi.Output<string>;
}

export interface SignInGateArgs {
  realmId: pulumi.Input<string>;
  /** Start of the flows' realm-unique aliases. @example "tenant-acme" → `tenant-acme-browser` */
  alias: string;
  /** The realm role that opens the gated clients, as the role resource's name Output. */
  role: pulumi.Input<string>;
  /** Who the gate lets in, for the flows' descriptions. @example "members of tenant acme" */
  who: string;
  /** What a refused person reads. */
  denyMessage: string;
  /** Also build a direct-grant flow with the same gate (a client using the password grant). @default false */
  directGrant?: boolean;
}

/**
 * Pure: the alias of a gate's browser flow and direct-grant flow.
 * @example gateFlowAliases("tenant-acme") → { browser: "tenant-acme-browser", directGrant: "tenant-acme-direct-grant" }
 */
export function gateFlowAliases(alias: string): { browser: string; directGrant: string } {
  return { browser: `${alias}-browser`, directGrant: `${alias}-direct-grant` };
}

/**
 * A sign-in gate: the browser flow (and on demand the direct-grant flow) that signs a person in,
 * asks the second factor where it is required, then denies whoever lacks `role`. Its resources
 * are `<name>-browser-flow` and `<name>-flow-<part>` (direct grant: `<name>-direct-grant-flow`,
 * `<name>-direct-grant-<part>`), parented to `parent`.
 */
export function createSignInGate(
  name: string,
  args: SignInGateArgs,
  opts: { parent: pulumi.Resource; provider?: pulumi.ProviderResource },
): SignInGate {
  const aliases = gateFlowAliases(args.alias);
  const gate = roleGateSteps(args.role, args.denyMessage);
  const browser = buildAuthFlow(
    { flow: `${name}-browser-flow`, prefix: `${name}-flow` },
    {
      realmId: args.realmId,
      alias: aliases.browser,
      description: `Sign-in for ${args.who} only`,
      steps: [...browserSignInSteps(), ...gate],
    },
    opts,
  );
  if (!args.directGrant) return { browserFlowId: browser.id };
  const directGrant = buildAuthFlow(
    { flow: `${name}-direct-grant-flow`, prefix: `${name}-direct-grant` },
    {
      realmId: args.realmId,
      alias: aliases.directGrant,
      description: `Password grant for ${args.who} only`,
      steps: [...directGrantSignInSteps(), ...gate],
    },
    opts,
  );
  return { browserFlowId: browser.id, directGrantFlowId: directGrant.id };
}
