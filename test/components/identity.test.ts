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
      flowAlias: "tenant-amis-du-velo-browser",
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

  const members = [
    { username: "bruno", admin: false, access: ["nextcloud" as const] },
    { username: "alice", admin: true, access: ["git" as const, "nextcloud" as const] },
  ];

  async function build(name: string, slug: string, list = members, gate = true) {
    mocks.reset();
    const rec = options.optionsRecorder();
    const identity = new mod.TenantIdentity(
      name,
      { slug, realmId: "realm-id", tenantsGroupId: "tenants-id", members: list, gate },
      { transformations: [rec.transformation] },
    );
    await mocks.promiseOf(identity.groupId);
    if (identity.browserFlowId) await mocks.promiseOf(identity.browserFlowId);
    await mocks.settle();
    return { identity, rec };
  }

  it("builds no role and no gate flow for a tenant without sign-in apps", async () => {
    const { identity, rec } = await build("solo-identity", "solo", [{ username: "dom", admin: true, access: ["git" as const] }], false);
    expect(identity.browserFlowId).toBeUndefined();
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
    ]);
  });

  it("creates the tenant group under /tenants, its subgroups and authoritative memberships", async () => {
    const { identity, rec } = await build("acme-identity", "acme");
    const groups = mocks.byType("keycloak:index/group:Group").map((g) => [g.name, g.inputs.name, g.inputs.parentId]);
    expect(groups).toEqual([
      ["acme-identity-group", "acme", "tenants-id"],
      ["acme-identity-admins", "admins", "acme-identity-group-id"],
      ["acme-identity-git", "git", "acme-identity-group-id"],
      ["acme-identity-nextcloud", "nextcloud", "acme-identity-group-id"],
    ]);
    const memberships = mocks
      .byType("keycloak:index/groupMemberships:GroupMemberships")
      .map((m) => [m.name, m.inputs.groupId, m.inputs.members, m.inputs.realmId]);
    expect(memberships).toEqual([
      ["acme-identity-group-members", "acme-identity-group-id", ["alice", "bruno"], "realm-id"],
      ["acme-identity-admins-members", "acme-identity-admins-id", ["alice"], "realm-id"],
      ["acme-identity-git-members", "acme-identity-git-id", ["alice"], "realm-id"],
      ["acme-identity-nextcloud-members", "acme-identity-nextcloud-id", ["alice", "bruno"], "realm-id"],
    ]);
    expect(await mocks.promiseOf(identity.groupId)).toBe("acme-identity-group-id");
    expect(await mocks.promiseOf(identity.adminsGroupId)).toBe("acme-identity-admins-id");
    expect(await mocks.promiseOf(identity.accessGroupIds.git!)).toBe("acme-identity-git-id");
    // Every child is parented to the component.
    const registered = mocks.resources().filter((r) => !r.type.startsWith("pulumi:providers:") && r.type !== mod.TENANT_IDENTITY_TYPE);
    const children = rec.seen.filter((r) => r.type !== mod.TENANT_IDENTITY_TYPE);
    expect(children.map((r) => r.name).sort()).toEqual(registered.map((r) => r.name).sort());
    expect(children).toHaveLength(22);
    for (const r of children) expect(r.opts.parent, r.name).toBe(identity);
    for (const r of registered) expect(r.name.startsWith("acme-identity-")).toBe(true);
  });

  it("grants the tenant role to the tenant group, exhaustively", async () => {
    const { identity } = await build("acme-identity", "acme");
    const role = mocks.one("keycloak:index/role:Role");
    expect(role.inputs).toMatchObject({ realmId: "realm-id", name: "tenant-acme" });
    expect(mocks.one("keycloak:index/groupRoles:GroupRoles").inputs).toEqual({
      realmId: "realm-id",
      groupId: "acme-identity-group-id",
      roleIds: ["acme-identity-role-id"],
      exhaustive: true,
    });
    expect(await mocks.promiseOf(identity.roleName!)).toBe("tenant-acme");
  });

  it("builds the gate flow: login (cookie | forms) then deny users without the tenant role", async () => {
    const { identity } = await build("acme-identity", "acme");
    const flow = mocks.one("keycloak:authentication/flow:Flow");
    expect(flow.inputs).toMatchObject({ realmId: "realm-id", alias: "tenant-acme-browser", providerId: "basic-flow" });
    expect(await mocks.promiseOf(identity.browserFlowId!)).toBe("acme-identity-browser-flow-id");

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
      "subflow tenant-acme-browser-otp CONDITIONAL",
    ]);
    expect(children("tenant-acme-browser-otp")).toEqual(["conditional-user-configured REQUIRED", "auth-otp-form REQUIRED"]);
    expect(children("tenant-acme-browser-gate")).toEqual(["conditional-user-role REQUIRED", "deny-access-authenticator REQUIRED"]);
    const config = mocks.one("keycloak:authentication/executionConfig:ExecutionConfig");
    expect(config.inputs).toEqual({
      realmId: "realm-id",
      executionId: "acme-identity-flow-not-member-id",
      alias: "tenant-acme-browser-not-member",
      config: { condUserRole: "tenant-acme", negate: "true" },
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
