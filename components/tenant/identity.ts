import * as pulumi from "@pulumi/pulumi";
import * as keycloak from "@pulumi/keycloak";
import { slugProblem, usernameProblem } from "../../infra/contract/names";
import { createSignInGate, type SignInGate } from "../blocks/sign-in-gate";
import { SECOND_FACTOR_ATTRIBUTE, SECOND_FACTOR_REQUIRED } from "../blocks/sign-in-steps";

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
   * Ids of the platform's member-service roles (`member-git`, `member-nextcloud`): each access
   * subgroup is granted its service's role, which opens that service's gate (platform output).
   */
  memberServiceRoleIds: Record<MemberAccess, pulumi.Input<string>>;
  /**
   * Build the tenant's sign-in gate (its role and browser flow). Only a tenant with apps of its
   * own that sign in through Keycloak needs one; without, the gate would cost resources that no
   * client binds (most individual members).
   * @default true
   */
  gate?: boolean;
  /** Also build the gate's direct-grant flow, for a tenant client using the password grant. @default false */
  directGrantGate?: boolean;
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
  /** Start of the aliases of the tenant's gate flows (realm-unique). @example "tenant-acme" */
  gateAlias: string;
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
  return { groups, roleName: `tenant-${slug}`, gateAlias: `tenant-${slug}` };
}

/**
 * A tenant's identity in the platform realm: the group `/tenants/<slug>` and its subgroups with
 * authoritative memberships; the admins group carries the second-factor attribute (admins must
 * use a one-time code, docs/services/keycloak.md "Second factor"); each access subgroup gets its
 * member service's role; with the gate, the realm role `tenant-<slug>` granted to the tenant group
 * (subgroup members inherit it) and the gate flows the tenant's OIDC clients bind.
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
  /** The gate the tenant's OIDC clients bind (with the gate). */
  readonly gate?: SignInGate;

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
        {
          realmId,
          name: g.name,
          parentId: tenantGroup ? tenantGroup.id : args.tenantsGroupId,
          ...(g.role === "admins" ? { attributes: { [SECOND_FACTOR_ATTRIBUTE]: SECOND_FACTOR_REQUIRED } } : {}),
        },
        { parent: this },
      );
      if (!tenantGroup) tenantGroup = group;
      new keycloak.GroupMemberships(`${name}-${role}-members`, { realmId, groupId: group.id, members: g.members }, { parent: this });
      if (g.role === "git" || g.role === "nextcloud") {
        new keycloak.GroupRoles(
          `${name}-${role}-roles`,
          { realmId, groupId: group.id, roleIds: [args.memberServiceRoleIds[g.role]], exhaustive: true },
          { parent: this },
        );
      }
      groupIds.set(g.role, group.id);
    }
    if (!tenantGroup) throw new Error("unreachable: identityPlan always yields the tenant group");

    if (args.gate ?? true) {
      // The tenant role, granted to the tenant group only (exhaustive), checked by the gate flows.
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
      this.gate = createSignInGate(
        name,
        {
          realmId,
          alias: plan.gateAlias,
          // The role resource's name: the condition's config waits for the role (it fails open without it).
          role: role.name,
          who: `members of tenant ${args.slug}`,
          denyMessage: "This app is reserved to the members of its organisation.",
          directGrant: args.directGrantGate ?? false,
        },
        { parent: this },
      );
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
      browserFlowId: this.gate?.browserFlowId,
      directGrantFlowId: this.gate?.directGrantFlowId,
    });
  }
}
