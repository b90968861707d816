/**
 * The tenant context under Pulumi's mocks: what every offer stands on is made once per tenant
 * stack, only when an offer asks for it, and the database server is the tenant's own.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import * as mocks from "../helpers/mocks";
import { isSecretInput, plain } from "../helpers/options";
import type { TenantPlan } from "../../infra/model/expand";
import { readPlatformConfig } from "../../infra/model/platform-config";
import { hostConnections } from "../../infra/program/platform-stack";
import { platformReference } from "../helpers/platform-outputs";

const config = readPlatformConfig("prod");
const hosts = hostConnections(config);
const plan: TenantPlan = {
  slug: "9-vies",
  members: [{ username: "alice", admin: true, access: [] }],
  mailDomains: [],
  offers: [],
};
const { platform, platformSecrets: secrets } = platformReference(config);

describe("TenantContext", () => {
  let mod: typeof import("../../infra/program/tenant-context");
  beforeAll(async () => {
    mocks.installMocks({ stack: "prod.9-vies" });
    mod = await import("../../infra/program/tenant-context.js");
  });

  const context = () =>
    new mod.TenantContext({
      env: "prod",
      slug: "9-vies",
      config,
      plan,
      hosts,
      platform: pulumi.output(platform),
      secrets: pulumi.secret(secrets),
    });

  it("makes the Keycloak provider and the identity, and nothing an offer has not asked for", async () => {
    mocks.reset();
    context();
    await mocks.settle();
    const types = [...new Set(mocks.resources().map((r) => r.type))];
    expect(types).toContain("pulumi:providers:keycloak");
    expect(types).toContain("alacarte:tenant:Identity");
    for (const absent of [
      "pulumi:providers:docker",
      "pulumi:providers:aws",
      "docker:index/network:Network",
      "alacarte:block:DatabaseServer",
    ]) {
      expect(types).not.toContain(absent);
    }
  });

  it("gives three offers' databases two servers, one per engine, on the tenant's own network through one Docker provider", async () => {
    mocks.reset();
    const ctx = context();
    const parent = new pulumi.ComponentResource("test:offer:Fake", "fake");
    const dbs = [
      ctx.database("wordpress", "mariadb", parent),
      ctx.database("nextcloud", "postgres", parent),
      ctx.database("listmonk", "postgres", parent),
    ];
    expect(ctx.databaseServer("postgres")).toBe(ctx.databaseServer("postgres"));
    expect(await mocks.promiseOf(dbs[1]!.database)).toBe("t_9_vies_nextcloud");
    expect(await mocks.promiseOf(dbs[0]!.hostname)).toBe("9-vies-mariadb-server");
    expect(await mocks.promiseOf(dbs[2]!.hostname)).toBe("9-vies-postgres-server");
    await mocks.settle();

    expect(mocks.byType("pulumi:providers:docker")).toHaveLength(1);
    expect(mocks.one("pulumi:providers:docker").inputs.host).toBe(`ssh://deploy@${config.hosts[config.placement.apps]!.address}`);
    expect(mocks.one("docker:index/network:Network").inputs).toMatchObject({ name: "9-vies-network", driver: "bridge" });
    expect(
      mocks
        .byType("alacarte:block:DatabaseServer")
        .map((r) => r.name)
        .sort(),
    ).toEqual(["9-vies-mariadb", "9-vies-postgres"]);
    for (const server of ["9-vies-mariadb-server-container", "9-vies-postgres-server-container"]) {
      const container = mocks.one("docker:index/container:Container", server);
      // The tenant's network only: never the proxy's, never another tenant's.
      expect(container.inputs.networksAdvanced).toEqual([{ name: "9-vies-network" }]);
      expect(isSecretInput(container.inputs.envs)).toBe(true);
    }
    const creates = mocks.byType("command:remote:Command").filter((c) => c.name.endsWith("-db-create"));
    expect(creates.map((c) => c.name).sort()).toEqual([
      "9-vies-listmonk-db-create",
      "9-vies-nextcloud-db-create",
      "9-vies-wordpress-db-create",
    ]);
    for (const c of creates) {
      expect(isSecretInput(c.inputs.stdin)).toBe(true);
      expect(plain(c.inputs.connection).host).toBe(config.hosts[config.placement.apps]!.address);
      // The password reaches the host on stdin only, never in the script.
      expect(String(plain(c.inputs.create))).not.toContain(String(plain(c.inputs.stdin)).trim());
    }
    expect(mocks.one("alacarte:block:Database", "9-vies-nextcloud-db").inputs.hostData).toEqual({
      kind: "database",
      engine: "postgres",
      name: "t_9_vies_nextcloud",
      protect: true,
      backup: "server-dump",
      madeBy: "9-vies-nextcloud-db-create",
    });
  });

  it("routes containers through the proxy's network only when the apps run on the proxy's host", async () => {
    const ctx = context();
    expect(await mocks.promiseOf(ctx.proxyNetwork)).toBe("proxy");
    const apart = new mod.TenantContext({
      env: "prod",
      slug: "9-vies",
      config: { ...config, placement: { ...config.placement, apps: "h2" } },
      plan,
      hosts,
      platform: pulumi.output(platform),
      secrets: pulumi.secret(secrets),
    });
    expect(() => apart.proxyNetwork).toThrow(/placement.apps \(h2\) must be the proxy's host \(h1\)/);
  });
});
