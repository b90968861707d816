import { beforeAll, describe, expect, it } from "vitest";
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { OidcClient } from "../components/blocks/oidc-client";
import { SsoRealm } from "../components/platform/sso-realm";
import { TenantIdentity } from "../components/tenant/identity";
import { planProgram } from "../infra/plan/offline-plan";

/**
 * The planned resources of the platform realm and of a tenant with an app, read the way Keycloak
 * will: for each kind of client, which flow it signs in through, which role that flow requires and
 * which group holds the role; that each binding waits for a complete flow; and which clients the
 * realm's registration and reset flows refuse. Planned through the offline plan (preview
 * semantics: ids unknown, dependencies as the engine records them).
 */

type Resources = readonly PolicyResource[];

let planned: Resources = [];

const capture: StackValidationPolicy = {
  name: "capture",
  description: "keeps the planned resources for the test",
  enforcementLevel: "advisory",
  validateStack: (args) => {
    planned = args.resources;
  },
};

function ofType(type: string): PolicyResource[] {
  return planned.filter((r) => r.type === type);
}

function named(name: string): PolicyResource {
  const found = planned.filter((r) => r.name === name);
  if (found.length !== 1) throw new Error(`expected one resource named ${name}, found ${found.length}`);
  return found[0]!;
}

/** Every resource of the flow with this alias: the flow, its subflows at any depth, their executions and configs. */
function flowParts(alias: string): PolicyResource[] {
  const flow = ofType("keycloak:authentication/flow:Flow").find((f) => f.props.alias === alias);
  if (!flow) throw new Error(`no flow ${alias}`);
  const parts: PolicyResource[] = [flow];
  const walk = (parentAlias: string) => {
    for (const s of ofType("keycloak:authentication/subflow:Subflow").filter((s) => s.props.parentFlowAlias === parentAlias)) {
      parts.push(s);
      walk(s.props.alias);
    }
    for (const e of ofType("keycloak:authentication/execution:Execution").filter((e) => e.props.parentFlowAlias === parentAlias)) {
      parts.push(e);
      parts.push(
        ...ofType("keycloak:authentication/executionConfig:ExecutionConfig").filter((c) => c.propertyDependencies.executionId?.includes(e)),
      );
    }
  };
  walk(alias);
  return parts;
}

/** The configs of a flow's executions of one authenticator. */
function configsOf(alias: string, authenticator: string): Record<string, string>[] {
  const parts = flowParts(alias);
  return parts
    .filter((p) => p.type === "keycloak:authentication/execution:Execution" && p.props.authenticator === authenticator)
    .map((e) =>
      parts.find(
        (c) => c.type === "keycloak:authentication/executionConfig:ExecutionConfig" && c.propertyDependencies.executionId?.includes(e),
      ),
    )
    .map((c) => c?.props.config);
}

/** The flow a client's browser (or direct-grant) binding names, found by the resource its id comes from. */
function boundFlow(client: PolicyResource, binding: "browserId" | "directGrantId"): string | undefined {
  const overrides = client.props.authenticationFlowBindingOverrides as Record<string, unknown> | undefined;
  if (!overrides || !(binding in overrides)) return undefined;
  const flows = (client.propertyDependencies.authenticationFlowBindingOverrides ?? []).filter(
    (d) => d.type === "keycloak:authentication/flow:Flow",
  );
  const flow = flows.find((f) => {
    const parts = flowParts(f.props.alias);
    return parts.every((p) => client.propertyDependencies.authenticationFlowBindingOverrides!.includes(p));
  });
  return flow?.props.alias;
}

/** Who a flow lets in: the role its gate requires and the groups granted that role, or anyone. */
function openedBy(alias: string | undefined): string {
  if (!alias) return "anyone with an account (the realm's flow)";
  const gate = configsOf(alias, "conditional-user-role");
  if (gate.length === 0) return "anyone with an account";
  const roleName = gate[0]!.condUserRole;
  const role = ofType("keycloak:index/role:Role").find((r) => r.props.name === roleName)!;
  const groups = ofType("keycloak:index/groupRoles:GroupRoles")
    .filter((g) => g.propertyDependencies.roleIds?.includes(role))
    .map((g) => g.propertyDependencies.groupId!.find((d) => d.type === "keycloak:index/group:Group")!)
    .map((g) => groupPath(g))
    .sort();
  return `role ${roleName}, granted to ${groups.join(" and ")}`;
}

function groupPath(group: PolicyResource): string {
  const parent = group.propertyDependencies.parentId?.find((d) => d.type === "keycloak:index/group:Group");
  return parent ? `${groupPath(parent)}/${group.props.name}` : `/${group.props.name}`;
}

describe("who may sign in where (planned resources)", () => {
  beforeAll(async () => {
    const run = await planProgram(
      "prod.acme",
      () => {
        const sso = new SsoRealm("kc", {
          realm: "alacarte",
          baseDomain: "example.org",
          keycloakUrl: "https://sso.example.org",
          admins: ["camille"],
          webmailHostname: "webmail.example.org",
          protect: false,
        });
        const tenants = new TenantIdentity("acme-identity", {
          slug: "acme",
          realmId: sso.realmId,
          tenantsGroupId: sso.tenantsGroupId,
          memberServiceRoleIds: sso.memberServiceRoleIds,
          members: [
            { username: "alice", admin: true, access: ["git"] },
            { username: "bruno", admin: false, access: ["nextcloud"] },
          ],
          directGrantGate: true,
        });
        new OidcClient("acme-app", {
          realmId: sso.realmId,
          clientId: "acme-app",
          name: "App (acme)",
          redirectUris: ["https://app.acme.org/callback"],
          gate: tenants.gate!,
          directGrant: true,
        });
        new OidcClient("pads", {
          realmId: sso.realmId,
          clientId: "pads",
          name: "Pads",
          redirectUris: ["https://pads.example.org/callback"],
        });
      },
      { policies: [capture], policyConfig: {} },
    );
    if (run.problems.length) throw new Error(run.problems.map((p) => p.message).join("\n"));
  });

  it("opens each kind of client to its role's groups, for the browser and the password grant", () => {
    const client = (clientId: string) => ofType("keycloak:openid/client:Client").find((c) => c.props.clientId === clientId)!;
    const table = Object.fromEntries(
      ["acme-app", "members-git", "members-mail", "members-nextcloud", "pads"].map((id) => [
        id,
        { browser: openedBy(boundFlow(client(id), "browserId")), directGrant: openedBy(boundFlow(client(id), "directGrantId")) },
      ]),
    );
    expect(table).toEqual({
      "acme-app": {
        browser: "role tenant-acme, granted to /tenants/acme",
        directGrant: "role tenant-acme, granted to /tenants/acme",
      },
      "members-git": {
        browser: "role member-git, granted to /tenants/acme/git",
        directGrant: "role member-git, granted to /tenants/acme/git",
      },
      "members-mail": {
        browser: "role member-mail, granted to /tenants",
        directGrant: "role member-mail, granted to /tenants",
      },
      "members-nextcloud": {
        browser: "role member-nextcloud, granted to /tenants/acme/nextcloud",
        directGrant: "role member-nextcloud, granted to /tenants/acme/nextcloud",
      },
      pads: { browser: "anyone with an account (the realm's flow)", directGrant: "anyone with an account (the realm's flow)" },
    });
  });

  it("binds every client and the realm only to complete flows: each binding depends on every part of its flow", () => {
    const bindings = [
      ...ofType("keycloak:openid/client:Client").flatMap((c) => ["browserId", "directGrantId"].map((b) => [c, b] as const)),
    ];
    let checked = 0;
    for (const [client, binding] of bindings) {
      const overrides = client.props.authenticationFlowBindingOverrides as Record<string, unknown> | undefined;
      if (!overrides || !(binding in overrides)) continue;
      expect(boundFlow(client, binding as "browserId" | "directGrantId"), `${client.name} ${binding}`).toBeDefined();
      checked++;
    }
    expect(checked).toBe(8);
    // The realm's bindings: each alias is unknown until its flow is complete, then names that flow.
    const realmBindings = named("kc-flow-bindings");
    for (const [property, alias] of [
      ["browserFlow", "alacarte-browser"],
      ["directGrantFlow", "alacarte-direct-grant"],
      ["registrationFlow", "alacarte-registration"],
      ["resetCredentialsFlow", "alacarte-reset-credentials"],
    ] as const) {
      expect(() => realmBindings.props[property], property).toThrow("can't be known during preview");
      const deps = realmBindings.propertyDependencies[property] ?? [];
      expect(deps.filter((d) => d.type === "keycloak:authentication/flow:Flow").map((f) => f.props.alias)).toEqual([alias]);
      for (const part of flowParts(alias)) expect(deps, `${property}: ${part.name}`).toContain(part);
    }
  });

  it("makes each gate's role condition wait for its role, and the registration and reset refusals wait for the gated scope", () => {
    const conditions = ofType("keycloak:authentication/executionConfig:ExecutionConfig").filter((c) => "condUserRole" in c.props.config);
    expect(conditions.length).toBe(8);
    for (const c of conditions) {
      const role = ofType("keycloak:index/role:Role").find((r) => r.props.name === c.props.config.condUserRole)!;
      expect(c.propertyDependencies.config, c.name).toContain(role);
    }
    const scope = ofType("keycloak:openid/clientScope:ClientScope").find((s) => s.props.name === "alacarte-gated")!;
    for (const property of ["registrationFlow", "resetCredentialsFlow"]) {
      expect(named("kc-flow-bindings").propertyDependencies[property]).toContain(scope);
    }
  });

  it("refuses registration and reset from every gated client, not from a free service", () => {
    for (const alias of ["alacarte-registration", "alacarte-reset-credentials"]) {
      expect(configsOf(alias, "conditional-client-scope")).toEqual([{ client_scope: "alacarte-gated", negate: "false" }]);
      const first = ofType("keycloak:authentication/subflow:Subflow").find(
        (s) => s.props.parentFlowAlias === alias && s.props.priority === 10,
      )!;
      expect(first.props.alias, alias).toBe(`${alias}-gated-client`);
    }
    const scopesOf = (clientId: string) => {
      const client = ofType("keycloak:openid/client:Client").find((c) => c.props.clientId === clientId)!;
      return ofType("keycloak:openid/clientDefaultScopes:ClientDefaultScopes").find((s) =>
        s.propertyDependencies.clientId?.includes(client),
      )?.props.defaultScopes;
    };
    for (const gated of ["acme-app", "members-git", "members-mail", "members-nextcloud"])
      expect(scopesOf(gated), gated).toContain("alacarte-gated");
    expect(scopesOf("pads")).toBeUndefined();
  });

  it("asks a second factor of the platform administrators and of each tenant's admins, in every sign-in flow", () => {
    const marked = ofType("keycloak:index/group:Group")
      .filter((g) => g.props.attributes?.["alacarte-second-factor"] === "required")
      .map(groupPath)
      .sort();
    expect(marked).toEqual(["/platform-admins", "/tenants/acme/admins"]);
    const flows = ofType("keycloak:authentication/flow:Flow")
      .map((f) => f.props.alias as string)
      .filter((a) => !a.includes("registration") && !a.includes("reset"));
    expect(flows.length).toBe(10);
    for (const alias of flows) {
      expect(configsOf(alias, "conditional-user-attribute"), alias).toContainEqual({
        attribute_name: "alacarte-second-factor",
        attribute_expected_value: "required",
        include_group_attributes: "true",
        not: "false",
      });
    }
  });
});
