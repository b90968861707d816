import { describe, expect, it } from "vitest";
import { KEYCLOAK_IMAGE, keycloakEnv, keycloakHostname } from "../../components/platform/keycloak";

describe("keycloakEnv", () => {
  const env = keycloakEnv({ baseDomain: "example.org", dbHost: "kc-db", dbName: "keycloak", dbUser: "keycloak" });

  it("renders the 26.x environment, sorted, without secrets", () => {
    expect(env).toEqual({
      KC_BOOTSTRAP_ADMIN_USERNAME: "alacarte-bootstrap",
      KC_DB: "postgres",
      KC_DB_URL_DATABASE: "keycloak",
      KC_DB_URL_HOST: "kc-db",
      KC_DB_USERNAME: "keycloak",
      KC_HEALTH_ENABLED: "true",
      KC_HOSTNAME: "https://sso.example.org",
      KC_HTTP_ENABLED: "true",
      KC_METRICS_ENABLED: "true",
      KC_PROXY_HEADERS: "xforwarded",
    });
    expect(Object.keys(env)).toEqual(Object.keys(env).sort());
  });

  it("never carries a password or the retired KC_PROXY / KEYCLOAK_ADMIN names", () => {
    for (const key of Object.keys(env)) expect(key).not.toMatch(/PASSWORD|SECRET|^KC_PROXY$|^KEYCLOAK_ADMIN/);
  });

  it("derives the public hostname", () => expect(keycloakHostname("chatons.example")).toBe("sso.chatons.example"));

  it("pins an exact 26.x image", () => expect(KEYCLOAK_IMAGE).toMatch(/^quay\.io\/keycloak\/keycloak:26\.\d+\.\d+$/));
});

describe("Keycloak under mocks", () => {
  const host = { name: "idp", address: "idp.infra.example.org", user: "deploy" };
  const invoked: Record<string, any>[] = [];

  it("runs pinned Keycloak on its own Postgres and manages the realm, /tenants and the tenants' client", async () => {
    const { installMocks, one, byType, promiseOf, secretOf, settle } = await import("../helpers/mocks.js");
    const { optionsRecorder, plain, isSecretInput } = await import("../helpers/options.js");
    installMocks({
      calls: {
        "keycloak:openid/getClient:getClient": (inputs) => {
          invoked.push(inputs);
          return { id: "realm-management-uuid", clientId: inputs.clientId, realmId: inputs.realmId };
        },
      },
      state: (type, name) => (type === "keycloak:openid/client:Client" ? { serviceAccountUserId: `${name}-sa-user` } : undefined),
    });
    const mod = await import("../../components/platform/keycloak.js");
    const rec = optionsRecorder();
    const kc = new mod.Keycloak(
      "kc",
      {
        host,
        baseDomain: "example.org",
        network: "proxy",
        smtp: { host: "mail.example.org", from: "noreply@example.org", username: "kc", password: "smtp-pw" },
      },
      { transformations: [rec.transformation] },
    );

    expect(kc.url).toBe("https://sso.example.org");
    expect(kc.realm).toBe("alacarte");
    expect(await promiseOf(kc.realmId)).toBe("kc-realm-id");
    expect(await promiseOf(kc.tenantsGroupId)).toBe("kc-tenants-group-id");
    expect(await promiseOf(kc.adminClientId)).toBe("alacarte-tenants");
    expect(await promiseOf(kc.adminClientSecret)).toBe("mock-secret-kc-tenants-client");
    expect(await secretOf(kc.adminClientSecret)).toBe(true);
    await settle();

    // Database and container.
    expect(one("alacarte:block:Database", "kc-db").custom).toBe(false);
    expect(rec.get("kc-db").opts.parent).toBe(kc);
    expect(rec.get("kc-server").opts.parent).toBe(kc);
    const image = byType("docker:index/remoteImage:RemoteImage").map((r) => r.inputs.name);
    expect(image).toContain("quay.io/keycloak/keycloak:26.7.2");
    const container = one("docker:index/container:Container", "kc-server-container");
    expect(plain(container.inputs.command)).toEqual(["start"]);
    // The passwords reach the container only as secrets (ContainerService makes the env list secret when one entry is).
    const raw = container.inputs.envs;
    const envs = plain(raw) as string[];
    const secretKeys = (isSecretInput(raw) ? envs : ((raw as unknown[]).filter(isSecretInput).map(plain) as string[])).map(
      (e) => e.split("=")[0],
    );
    expect(secretKeys).toEqual(expect.arrayContaining(["KC_BOOTSTRAP_ADMIN_PASSWORD", "KC_DB_PASSWORD"]));
    expect(envs).toContain("KC_BOOTSTRAP_ADMIN_PASSWORD=mock-password-kc-bootstrap-admin-password");
    const plainEntries = isSecretInput(raw) ? [] : ((raw as unknown[]).filter((e) => !isSecretInput(e)) as string[]);
    for (const e of plainEntries) expect(e).not.toMatch(/PASSWORD|mock-password/);
    expect(
      envs
        .filter((e) => /mock-password/.test(e))
        .map((e) => e.split("=")[0])
        .sort(),
    ).toEqual(["KC_BOOTSTRAP_ADMIN_PASSWORD", "KC_DB_PASSWORD"]);
    expect(envs).toContain("KC_HOSTNAME=https://sso.example.org");
    const labels = Object.fromEntries(plain(container.inputs.labels).map((l: any) => [l.label, l.value]));
    expect(labels["traefik.http.routers.kc-server-0.rule"]).toBe("Host(`sso.example.org`)");
    expect(labels["traefik.http.routers.kc-server-0.tls.certresolver"]).toBe("le");
    expect(labels["traefik.http.services.kc-server-0.loadbalancer.server.port"]).toBe("8080");

    // Provider: bootstrap admin, lazy login.
    const provider = one("pulumi:providers:keycloak", "kc-provider");
    expect(plain(provider.inputs)).toMatchObject({
      url: "https://sso.example.org",
      basePath: "",
      clientId: "admin-cli",
      realm: "master",
      username: "alacarte-bootstrap",
      password: "mock-password-kc-bootstrap-admin-password",
    });
    expect(JSON.parse(provider.inputs.initialLogin)).toBe(false);
    expect(isSecretInput(provider.inputs.password)).toBe(true);

    // Realm: self-registration with verified email, kept on delete.
    const realm = one("keycloak:index/realm:Realm", "kc-realm");
    expect(plain(realm.inputs)).toMatchObject({
      realm: "alacarte",
      registrationAllowed: true,
      verifyEmail: true,
      resetPasswordAllowed: true,
      loginWithEmailAllowed: true,
      sslRequired: "external",
      smtpServer: { host: "mail.example.org", port: "587", starttls: true, auth: { username: "kc", password: "smtp-pw" } },
    });
    expect(isSecretInput(realm.inputs.smtpServer) || isSecretInput(realm.inputs.smtpServer?.auth?.password)).toBe(true);
    expect(rec.get("kc-realm").opts.protect).toBe(true);
    expect(rec.get("kc-realm").opts.retainOnDelete).toBe(true);
    expect(rec.get("kc-realm").opts.provider).toBe(kc.provider);

    expect(plain(one("keycloak:index/group:Group", "kc-tenants-group").inputs)).toMatchObject({ realmId: "kc-realm-id", name: "tenants" });
    expect(plain(one("keycloak:openid/client:Client", "kc-tenants-client").inputs)).toMatchObject({
      clientId: "alacarte-tenants",
      accessType: "CONFIDENTIAL",
      serviceAccountsEnabled: true,
      standardFlowEnabled: false,
    });
    expect(rec.get("kc-tenants-client").opts.provider).toBe(kc.provider);

    // realm-management roles for the service account, looked up in the realm.
    expect(invoked).toEqual([expect.objectContaining({ realmId: "kc-realm-id", clientId: "realm-management" })]);
    const roles = byType("keycloak:openid/clientServiceAccountRole:ClientServiceAccountRole");
    expect(roles.map((r) => r.inputs.role).sort()).toEqual(["manage-clients", "manage-realm", "manage-users", "view-realm"]);
    for (const r of roles) {
      expect(r.inputs).toMatchObject({
        realmId: "kc-realm-id",
        clientId: "realm-management-uuid",
        serviceAccountUserId: "kc-tenants-client-sa-user",
      });
      expect(rec.get(r.name).opts.parent).toBe(kc);
    }
  });
});
