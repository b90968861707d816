import * as pulumi from "@pulumi/pulumi";
import * as keycloak from "@pulumi/keycloak";
import { slugProblem, usernameProblem } from "../../infra/contract/names";

/** Type token of {@link TenantIdentity}; ends up in URNs, never rename it without an alias. */
export const TENANT_IDENTITY_TYPE = "alacarte:tenant:Identity";

/** Historic member services a member's `access` may list; each one gets a subgroup. */
export type MemberAccess = "git" | "nextcloud";

/** A member as the tenant file lists them (only what identity needs: no email, no name). */
export interface IdentityMember {
  /** Keycloak username (the uid in every app). @example "alice" */
  username: string;
  /** Administers this tenant's apps: member of `/tenants/<slug>/admins`. @default false in the tenant file */
  admin: boolean;
  /** Historic member services: member of `/tenants/<slug>/<service>` for each. @default [] in the tenant file */
  access: MemberAccess[];
}

export interface TenantIdentityArgs {
  /** Tenant slug; names the group, the role and the flow. @example "amis-du-velo" */
  slug: string;
  /** Id of the Keycloak realm (the platform's realm). */
  realmId: pulumi.Input<string>;
  /** Id of the top-level `/tenants` group the tenant group sits under (platform output). */
  tenantsGroupId: pulumi.Input<string>;
  /** Members of the tenant; at least one should be an admin (the tenant schema enforces it). */
  members: IdentityMember[];
  /**
   * Build the tenant's sign-in gate (its role and browser flow). Only a tenant with apps of its
   * own that sign in through Keycloak needs one; without, the gate would cost 14 resources that
   * no client binds (most individual members).
   * @default true
   */
  gate?: boolean;
}

/** Role of a group in {@link identityPlan}: the tenant group itself or one of its subgroups. */
export type IdentityGroupRole = "tenant" | "admins" | MemberAccess;

export interface IdentityGroupPlan {
  role: IdentityGroupRole;
  /** Keycloak group name (`<slug>` for the tenant group, else the role). */
  name: string;
  /** Full group path, as it appears in the `groups` claim. @example "/tenants/acme/admins" */
  path: string;
  /** Sorted, unique usernames: the authoritative membership. */
  members: string[];
}

export interface IdentityPlan {
  /** The tenant group first, then `admins`, then `git` / `nextcloud` when someone's access lists them. */
  groups: IdentityGroupPlan[];
  /** Realm role granted to the tenant group; the gate flow denies users without it. */
  roleName: string;
  /** Alias of the tenant's gate browser flow (realm-unique). */
  flowAlias: string;
}

const ACCESS_ORDER: readonly MemberAccess[] = ["git", "nextcloud"];

function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

/**
 * Pure: the groups, memberships, role and flow alias of a tenant's identity.
 * Usernames are de-duplicated and sorted so the plan (and the resources) are deterministic.
 * @throws Error on an invalid slug or username.
 */
export function identityPlan(slug: string, members: readonly IdentityMember[]): IdentityPlan {
  // The contract's rules (infra/contract/names.ts): never stricter or looser than validate.
  const badSlug = slugProblem(slug);
  if (badSlug) throw new Error(`invalid tenant slug "${slug}": ${badSlug}`);
  for (const m of members) {
    const bad = usernameProblem(m.username);
    if (bad) throw new Error(`tenant ${slug}: invalid username "${m.username}": ${bad}`);
  }
  const base = `/tenants/${slug}`;
  const groups: IdentityGroupPlan[] = [
    { role: "tenant", name: slug, path: base, members: sortedUnique(members.map((m) => m.username)) },
    {
      role: "admins",
      name: "admins",
      path: `${base}/admins`,
      members: sortedUnique(members.filter((m) => m.admin).map((m) => m.username)),
    },
  ];
  for (const access of ACCESS_ORDER) {
    const users = sortedUnique(members.filter((m) => m.access.includes(access)).map((m) => m.username));
    if (users.length > 0) groups.push({ role: access, name: access, path: `${base}/${access}`, members: users });
  }
  return { groups, roleName: `tenant-${slug}`, flowAlias: `tenant-${slug}-browser` };
}

/**
 * A tenant's identity in the platform realm: the group `/tenants/<slug>` and its subgroups with
 * authoritative memberships, the realm role `tenant-<slug>` granted to the tenant group (subgroup
 * members inherit it), and the tenant's gate browser flow that OIDC clients of the tenant bind
 * (`browserFlowId`): sign-in (cookie, or username/password with the user's OTP if configured)
 * then deny access to anyone without the tenant role.
 */
export class TenantIdentity extends pulumi.ComponentResource {
  /** Id of the group `/tenants/<slug>`. */
  readonly groupId: pulumi.Output<string>;
  /** Id of the group `/tenants/<slug>/admins`. */
  readonly adminsGroupId: pulumi.Output<string>;
  /** Ids of the `git` / `nextcloud` subgroups that exist (only those some member's access lists). */
  readonly accessGroupIds: Partial<Record<MemberAccess, pulumi.Output<string>>>;
  /** Realm role every member holds through the tenant group (with the gate). @example "tenant-acme" */
  readonly roleName?: pulumi.Output<string>;
  /** Id of the gate browser flow, for `authenticationFlowBindingOverrides.browserId` (with the gate). */
  readonly browserFlowId?: pulumi.Output<string>;

  constructor(name: string, args: TenantIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    super(TENANT_IDENTITY_TYPE, name, {}, opts);
    const plan = identityPlan(args.slug, args.members);
    const realmId = args.realmId;

    // Groups and their authoritative memberships.
    const groupIds = new Map<IdentityGroupRole, pulumi.Output<string>>();
    let tenantGroup: keycloak.Group | undefined;
    for (const g of plan.groups) {
      const role = g.role === "tenant" ? "group" : g.role;
      const group = new keycloak.Group(
        `${name}-${role}`,
        { realmId, name: g.name, parentId: tenantGroup ? tenantGroup.id : args.tenantsGroupId },
        { parent: this },
      );
      if (!tenantGroup) tenantGroup = group;
      new keycloak.GroupMemberships(`${name}-${role}-members`, { realmId, groupId: group.id, members: g.members }, { parent: this });
      groupIds.set(g.role, group.id);
    }
    if (!tenantGroup) throw new Error("unreachable: identityPlan always yields the tenant group");

    if (args.gate ?? true) {
      // The tenant role, granted to the tenant group only (exhaustive), checked by the gate flow.
      const role = new keycloak.Role(
        `${name}-role`,
        { realmId, name: plan.roleName, description: `Member of tenant ${args.slug}` },
        { parent: this },
      );
      new keycloak.GroupRoles(
        `${name}-group-roles`,
        { realmId, groupId: tenantGroup.id, roleIds: [role.id], exhaustive: true },
        { parent: this },
      );
      this.roleName = role.name;
      this.browserFlowId = this.createGateFlow(name, realmId, plan).id;
    }

    this.groupId = tenantGroup.id;
    this.adminsGroupId = groupIds.get("admins")!;
    this.accessGroupIds = {};
    for (const access of ACCESS_ORDER) {
      const id = groupIds.get(access);
      if (id) this.accessGroupIds[access] = id;
    }
    this.registerOutputs({
      groupId: this.groupId,
      adminsGroupId: this.adminsGroupId,
      accessGroupIds: this.accessGroupIds,
      roleName: this.roleName,
      browserFlowId: this.browserFlowId,
    });
  }

  /**
   * The gate flow:
   * ```
   * tenant-<slug>-browser
   *   login   REQUIRED     (subflow)
   *     auth-cookie                 ALTERNATIVE
   *     forms ALTERNATIVE  (subflow)
   *       auth-username-password-form REQUIRED
   *       otp CONDITIONAL  (subflow: keeps 2FA for users who configured it)
   *         conditional-user-configured REQUIRED
   *         auth-otp-form               REQUIRED
   *   gate    CONDITIONAL  (subflow)
   *     conditional-user-role  REQUIRED (condUserRole tenant-<slug>, negate)
   *     deny-access-authenticator REQUIRED
   * ```
   * The check sits after the REQUIRED login subflow, so it also runs on SSO-cookie logins.
   * Subflow aliases are realm-unique in Keycloak, hence the `<flow alias>-<part>` aliases.
   * Siblings are ordered by `priority` (Keycloak ≥ 25) and also chained with `dependsOn`
   * (creation order is the order on older Keycloak).
   */
  private createGateFlow(name: string, realmId: pulumi.Input<string>, plan: IdentityPlan): keycloak.authentication.Flow {
    // biome-ignore lint/complexity/noUselessThisAlias: `{ parent }` in every child's options reads as what it is
    const parent = this;
    const flow = new keycloak.authentication.Flow(
      `${name}-browser-flow`,
      {
        realmId,
        alias: plan.flowAlias,
        providerId: "basic-flow",
        description: `Sign-in to the apps of ${plan.roleName}: members of the tenant only`,
      },
      { parent },
    );
    const subflow = (role: string, parentFlowAlias: pulumi.Input<string>, requirement: string, priority: number, after?: pulumi.Resource) =>
      new keycloak.authentication.Subflow(
        `${name}-flow-${role}`,
        { realmId, parentFlowAlias, alias: `${plan.flowAlias}-${role}`, providerId: "basic-flow", requirement, priority },
        { parent, dependsOn: after ? [after] : [] },
      );
    const execution = (
      role: string,
      parentFlowAlias: pulumi.Input<string>,
      authenticator: string,
      requirement: string,
      priority: number,
      after?: pulumi.Resource,
    ) =>
      new keycloak.authentication.Execution(
        `${name}-flow-${role}`,
        { realmId, parentFlowAlias, authenticator, requirement, priority },
        { parent, dependsOn: after ? [after] : [] },
      );

    const login = subflow("login", flow.alias, "REQUIRED", 10);
    const cookie = execution("cookie", login.alias, "auth-cookie", "ALTERNATIVE", 10);
    const forms = subflow("forms", login.alias, "ALTERNATIVE", 20, cookie);
    const password = execution("password", forms.alias, "auth-username-password-form", "REQUIRED", 10);
    const otp = subflow("otp", forms.alias, "CONDITIONAL", 20, password);
    const otpConfigured = execution("otp-configured", otp.alias, "conditional-user-configured", "REQUIRED", 10);
    execution("otp-form", otp.alias, "auth-otp-form", "REQUIRED", 20, otpConfigured);

    const gate = subflow("gate", flow.alias, "CONDITIONAL", 20, login);
    const notMember = execution("not-member", gate.alias, "conditional-user-role", "REQUIRED", 10);
    new keycloak.authentication.ExecutionConfig(
      `${name}-flow-not-member-config`,
      {
        realmId,
        executionId: notMember.id,
        alias: `${plan.flowAlias}-not-member`,
        config: { condUserRole: plan.roleName, negate: "true" },
      },
      { parent },
    );
    execution("deny", gate.alias, "deny-access-authenticator", "REQUIRED", 20, notMember);
    return flow;
  }
}
