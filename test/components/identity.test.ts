import { beforeAll, describe, expect, it } from "vitest";
import { identityPlan } from "../../components/tenant/identity";
import * as mocks from "../helpers/mocks";
import * as options from "../helpers/options";

describe("identityPlan", () => {
  it("plans groups, sorted memberships, role and flow alias", () => {
    expect(
      identityPlan("amis-du-velo", [
        { username: "bruno", admin: false, access: ["nextcloud"] },
        { username: "alice", admin: true, access: ["git", "nextcloud"] },
        { username: "chloe", admin: true, access: [] },
      ]),
    ).toEqual({
      groups: [
        { role: "tenant", name: "amis-du-velo", path: "/tenants/amis-du-velo", members: ["alice", "bruno", "chloe"] },
        { role: "admins", name: "admins", path: "/tenants/amis-du-velo/admins", members: ["alice", "chloe"] },
        { role: "git", name: "git", path: "/tenants/amis-du-velo/git", members: ["alice"] },
        { role: "nextcloud", name: "nextcloud", path: "/tenants/amis-du-velo/nextcloud", members: ["alice", "bruno"] },
      ],
      roleName: "tenant-amis-du-velo",
      gateAlias: "tenant-amis-du-velo",
    });
  });

  it("creates no access subgroup nobody's access lists", () => {
    const plan = identityPlan("acme", [{ username: "alice", admin: true, access: [] }]);
    expect(plan.groups.map((g) => g.path)).toEqual(["/tenants/acme", "/tenants/acme/admins"]);
  });

  it("lists a username once", () => {
    const plan = identityPlan("acme", [
      { username: "alice", admin: true, access: ["git"] },
      { username: "alice", admin: false, access: ["git"] },
    ]);
    expect(plan.groups.map((g) => g.members)).toEqual([["alice"], ["alice"], ["alice"]]);
  });

  it("rejects an invalid slug or username", () => {
    expect(() => identityPlan("Acme", [])).toThrow(/invalid tenant slug "Acme"/);
    expect(() => identityPlan("acme", [{ username: "Al ice", admin: true, access: [] }])).toThrow(/tenant acme: invalid username "Al ice"/);
  });
});

describe("TenantIdentity under mocks", () => {
  let mod: typeof import("../../components/tenant/identity");

  beforeAll(async () => {
    mocks.installMocks();
    mod = await import("../../components/tenant/identity.js");
  });

  const ROLE_IDS = { git: "member-git-id", nextcloud: "member-nextcloud-id" };
  const members = [
    { username: "bruno", admin: false, access: ["nextcloud" as const] },
    { username: "alice", admin: true, access: ["git" as const, "nextcloud" as const] },
  ];

  async function build(name: string, slug: string, list = members, gate = true) {
    mocks.reset();
    const rec = options.optionsRecorder();
    const identity = new mod.TenantIdentity(
      name,
      { slug, realmId: "realm-id", tenantsGroupId: "tenants-id", memberServiceRoleIds: ROLE_IDS, members: list, gate },
      { transformations: [rec.transformation] },
    );
    await mocks.promiseOf(identity.groupId);
    if (identity.gate) await mocks.promiseOf(identity.gate.browserFlowId);
    await mocks.settle();
    return { identity, rec };
  }

  it("builds no role and no gate flow for a tenant without sign-in apps", async () => {
    const { identity, rec } = await build("solo-identity", "solo", [{ username: "dom", admin: true, access: ["git" as const] }], false);
    expect(identity.gate).toBeUndefined();
    expect(identity.roleName).toBeUndefined();
    const types = rec.seen
      .filter((r) => r.type !== mod.TENANT_IDENTITY_TYPE)
      .map((r) => r.type)
      .sort();
    expect(types).toEqual([
      "keycloak:index/group:Group",
      "keycloak:index/group:Group",
      "keycloak:index/group:Group",
      "keycloak:index/groupMemberships:GroupMemberships",
      "keycloak:index/groupMemberships:GroupMemberships",
      "keycloak:index/groupMemberships:GroupMemberships",
      "keycloak:index/groupRoles:GroupRoles",
    ]);
  });

  it("creates the tenant group under /tenants, its subgroups and authoritative memberships", async () => {
    const { identity, rec } = await build("acme-identity", "acme");
    const groups = mocks
      .byType("keycloak:index/group:Group")
      .map((g) => [g.name, g.inputs.name, g.inputs.parentId])
      .sort();
    expect(groups).toEqual([
      ["acme-identity-admins", "admins", "acme-identity-group-id"],
      ["acme-identity-git", "git", "acme-identity-group-id"],
      ["acme-identity-group", "acme", "tenants-id"],
      ["acme-identity-nextcloud", "nextcloud", "acme-identity-group-id"],
    ]);
    const memberships = mocks
      .byType("keycloak:index/groupMemberships:GroupMemberships")
      .map((m) => [m.name, m.inputs.groupId, m.inputs.members, m.inputs.realmId])
      .sort();
    expect(memberships).toEqual([
      ["acme-identity-admins-members", "acme-identity-admins-id", ["alice"], "realm-id"],
      ["acme-identity-git-members", "acme-identity-git-id", ["alice"], "realm-id"],
      ["acme-identity-group-members", "acme-identity-group-id", ["alice", "bruno"], "realm-id"],
      ["acme-identity-nextcloud-members", "acme-identity-nextcloud-id", ["alice", "bruno"], "realm-id"],
    ]);
    expect(await mocks.promiseOf(identity.groupId)).toBe("acme-identity-group-id");
    expect(await mocks.promiseOf(identity.adminsGroupId)).toBe("acme-identity-admins-id");
    expect(await mocks.promiseOf(identity.accessGroupIds.git!)).toBe("acme-identity-git-id");
    // Every child is parented to the component.
    const registered = mocks.resources().filter((r) => !r.type.startsWith("pulumi:providers:") && r.type !== mod.TENANT_IDENTITY_TYPE);
    const children = rec.seen.filter((r) => r.type !== mod.TENANT_IDENTITY_TYPE);
    expect(children.map((r) => r.name).sort()).toEqual(registered.map((r) => r.name).sort());
    expect(children).toHaveLength(31);
    for (const r of children) expect(r.opts.parent, r.name).toBe(identity);
    for (const r of registered) expect(r.name.startsWith("acme-identity-")).toBe(true);
  });

  it("grants the tenant role to the tenant group and each member service's role to its access subgroup, exhaustively", async () => {
    const { identity } = await build("acme-identity", "acme");
    const role = mocks.one("keycloak:index/role:Role");
    expect(role.inputs).toMatchObject({ realmId: "realm-id", name: "tenant-acme" });
    const grants = mocks
      .byType("keycloak:index/groupRoles:GroupRoles")
      .map((r) => [r.name, r.inputs] as const)
      .sort(([a], [b]) => a.localeCompare(b));
    expect(grants).toEqual([
      ["acme-identity-git-roles", { realmId: "realm-id", groupId: "acme-identity-git-id", roleIds: ["member-git-id"], exhaustive: true }],
      [
        "acme-identity-group-roles",
        { realmId: "realm-id", groupId: "acme-identity-group-id", roleIds: ["acme-identity-role-id"], exhaustive: true },
      ],
      [
        "acme-identity-nextcloud-roles",
        { realmId: "realm-id", groupId: "acme-identity-nextcloud-id", roleIds: ["member-nextcloud-id"], exhaustive: true },
      ],
    ]);
    expect(await mocks.promiseOf(identity.roleName!)).toBe("tenant-acme");
  });

  it("marks the admins group, and only it, as needing a second factor", async () => {
    await build("acme-identity", "acme");
    const attributes = mocks
      .byType("keycloak:index/group:Group")
      .map((g) => [g.inputs.name, g.inputs.attributes])
      .sort();
    expect(attributes).toEqual([
      ["acme", undefined],
      ["admins", { "alacarte-second-factor": "required" }],
      ["git", undefined],
      ["nextcloud", undefined],
    ]);
  });

  it("builds the gate flow: login (cookie | forms with the second factor) then deny users without the tenant role", async () => {
    const { identity } = await build("acme-identity", "acme");
    const flow = mocks.one("keycloak:authentication/flow:Flow");
    expect(flow.inputs).toMatchObject({ realmId: "realm-id", alias: "tenant-acme-browser", providerId: "basic-flow" });
    expect(await mocks.promiseOf(identity.gate!.browserFlowId)).toBe("acme-identity-browser-flow-id");
    expect(identity.gate!.directGrantFlowId).toBeUndefined();

    const steps = [
      ...mocks.byType("keycloak:authentication/subflow:Subflow").map((s) => ({
        parent: s.inputs.parentFlowAlias,
        step: `subflow ${s.inputs.alias}`,
        requirement: s.inputs.requirement,
        priority: s.inputs.priority,
      })),
      ...mocks.byType("keycloak:authentication/execution:Execution").map((e) => ({
        parent: e.inputs.parentFlowAlias,
        step: e.inputs.authenticator,
        requirement: e.inputs.requirement,
        priority: e.inputs.priority,
      })),
    ];
    const children = (alias: string) =>
      steps
        .filter((s) => s.parent === alias)
        .sort((a, b) => a.priority - b.priority)
        .map((s) => `${s.step} ${s.requirement}`);
    expect(children("tenant-acme-browser")).toEqual([
      "subflow tenant-acme-browser-login REQUIRED",
      "subflow tenant-acme-browser-gate CONDITIONAL",
    ]);
    expect(children("tenant-acme-browser-login")).toEqual(["auth-cookie ALTERNATIVE", "subflow tenant-acme-browser-forms ALTERNATIVE"]);
    expect(children("tenant-acme-browser-forms")).toEqual([
      "auth-username-password-form REQUIRED",
      "subflow tenant-acme-browser-second-factor CONDITIONAL",
      "subflow tenant-acme-browser-otp CONDITIONAL",
    ]);
    expect(children("tenant-acme-browser-second-factor")).toEqual(["conditional-user-attribute REQUIRED", "auth-otp-form REQUIRED"]);
    expect(children("tenant-acme-browser-otp")).toEqual([
      "conditional-user-configured REQUIRED",
      "conditional-user-attribute REQUIRED",
      "auth-otp-form REQUIRED",
    ]);
    expect(children("tenant-acme-browser-gate")).toEqual(["conditional-user-role REQUIRED", "deny-access-authenticator REQUIRED"]);
    const configs = Object.fromEntries(
      mocks
        .byType("keycloak:authentication/executionConfig:ExecutionConfig")
        .map((c) => [c.inputs.alias, [c.inputs.executionId, c.inputs.config]]),
    );
    const secondFactor = {
      attribute_name: "alacarte-second-factor",
      attribute_expected_value: "required",
      include_group_attributes: "true",
    };
    expect(configs).toEqual({
      "tenant-acme-browser-second-factor-required": ["acme-identity-flow-second-factor-required-id", { ...secondFactor, not: "false" }],
      "tenant-acme-browser-otp-not-required": ["acme-identity-flow-otp-not-required-id", { ...secondFactor, not: "true" }],
      "tenant-acme-browser-not-member": ["acme-identity-flow-not-member-id", { condUserRole: "tenant-acme", negate: "true" }],
      "tenant-acme-browser-deny": [
        "acme-identity-flow-deny-id",
        { denyErrorMessage: "This app is reserved to the members of its organisation." },
      ],
    });
    expect(mocks.one("keycloak:authentication/execution:Execution", "acme-identity-flow-not-member").inputs.authenticator).toBe(
      "conditional-user-role",
    );
  });

  it("creates no access subgroup when no member lists it", async () => {
    await build("solo-identity", "solo", [{ username: "alice", admin: true, access: [] }]);
    expect(mocks.byType("keycloak:index/group:Group").map((g) => g.inputs.name)).toEqual(["solo", "admins"]);
    expect(mocks.byType("keycloak:index/groupMemberships:GroupMemberships")).toHaveLength(2);
  });
});
