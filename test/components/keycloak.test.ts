import { describe, expect, it } from "vitest";
import { shellQuote } from "../../components/blocks/shell";
import { KEYCLOAK_IMAGE, keycloakEnv, keycloakHostname } from "../../components/platform/keycloak";

describe("keycloakEnv", () => {
  const env = keycloakEnv({ baseDomain: "example.org", dbHost: "kc-db", dbName: "keycloak", dbUser: "keycloak" });

  it("renders the 26.x environment, sorted, without secrets", () => {
    expect(env).toEqual({
      KC_BOOTSTRAP_ADMIN_CLIENT_ID: "alacarte-bootstrap",
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

  it("runs pinned Keycloak on its own Postgres, waits for it, sets up the permanent admin, and manages the realm through it", async () => {
    const { installMocks, one, promiseOf, secretOf, settle } = await import("../helpers/mocks.js");
    const { optionsRecorder, plain, isSecretInput } = await import("../helpers/options.js");
    installMocks({
      calls: {
        "keycloak:openid/getClient:getClient": (inputs) => ({
          id: "realm-management-uuid",
          clientId: inputs.clientId,
          realmId: inputs.realmId,
        }),
        "keycloak:index/getRole:getRole": (inputs) => ({ id: `${inputs.name}-uuid`, name: inputs.name }),
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
        admins: ["camille"],
        smtp: { host: "mail.example.org", port: 587, from: "noreply@example.org", fromDisplayName: "alacarte", starttls: true },
      },
      { transformations: [rec.transformation] },
    );

    expect(kc.url).toBe("https://sso.example.org");
    expect(kc.realm).toBe("alacarte");
    expect(await promiseOf(kc.sso.realmId)).toBe("kc-realm-id");
    expect(await promiseOf(kc.sso.tenantsGroupId)).toBe("kc-tenants-group-id");
    expect(await promiseOf(kc.sso.adminClientId)).toBe("alacarte-tenants");
    expect(await secretOf(kc.sso.adminClientSecret)).toBe(true);
    expect(await secretOf(kc.sso.accountsClientSecret)).toBe(true);
    await settle();

    // Database and container.
    expect(one("alacarte:block:Database", "kc-db").custom).toBe(false);
    expect(rec.get("kc-db").opts.parent).toBe(kc);
    const container = one("docker:index/container:Container", "kc-server-container");
    expect(plain(container.inputs.command)).toEqual(["start"]);
    const envs = plain(container.inputs.envs) as string[];
    expect(envs).toContain("KC_BOOTSTRAP_ADMIN_CLIENT_ID=alacarte-bootstrap");
    expect(envs).toContain("KC_BOOTSTRAP_ADMIN_CLIENT_SECRET=mock-password-kc-bootstrap-admin-secret");
    const raw = container.inputs.envs;
    const plainEntries = isSecretInput(raw) ? [] : ((raw as unknown[]).filter((e) => !isSecretInput(e)) as string[]);
    for (const e of plainEntries) expect(e).not.toMatch(/PASSWORD|SECRET=|mock-password/);
    const labels = Object.fromEntries(plain(container.inputs.labels).map((l: any) => [l.label, l.value]));
    expect(labels["traefik.http.routers.kc-server-0.rule"]).toBe("Host(`sso.example.org`)");
    // Sign-in, registration and reset pages are rate-limited per address; the token endpoint is not (apps call it for everyone).
    expect(labels["traefik.http.routers.kc-server-1.rule"]).toBe(
      "(Host(`sso.example.org`)) && (PathPrefix(`/realms/alacarte/login-actions/`) || PathPrefix(`/realms/alacarte/protocol/openid-connect/auth`) || PathPrefix(`/realms/alacarte/protocol/openid-connect/registrations`))",
    );
    expect(labels["traefik.http.routers.kc-server-1.middlewares"]).toBe("kc-server-1-ratelimit");
    expect(labels["traefik.http.routers.kc-server-1.rule"]).not.toContain("token");

    // The readiness wait: on the host, inside the container, re-run for a new container.
    const ready = one("command:remote:Command", "kc-ready");
    expect(plain(ready.inputs.connection)).toMatchObject({ host: "idp.infra.example.org", user: "deploy" });
    expect(ready.inputs.create).toBe(`docker exec kc-server bash -c ${shellQuote(mod.readinessWaitScript(9000, 600))}`);
    expect(ready.inputs.triggers).toEqual(["kc-server-container-id"]);
    expect(rec.get("kc-ready").opts.customTimeouts).toEqual({ create: "660s", update: "660s" });

    // The permanent admin: secrets on stdin only, after the wait.
    const admin = one("command:local:Command", "kc-permanent-admin");
    expect(admin.inputs.create).toMatch(/--import tsx infra\/cli\/keycloak-admin\.ts$/);
    expect(isSecretInput(admin.inputs.stdin)).toBe(true);
    expect(JSON.parse(plain(admin.inputs.stdin))).toEqual({
      url: "https://sso.example.org",
      bootstrapClientId: "alacarte-bootstrap",
      bootstrapSecret: "mock-password-kc-bootstrap-admin-secret",
      adminClientId: "alacarte-admin",
      adminSecret: "mock-password-kc-admin-secret",
    });
    expect(JSON.stringify(admin.inputs.create)).not.toContain("mock-password");
    expect(admin.inputs.environment).toBeUndefined();
    expect(namesOf(rec.get("kc-permanent-admin").opts.dependsOn)).toEqual(["kc-ready"]);

    // The provider: the permanent admin, lazy login, a 60 s timeout, after the admin exists.
    const provider = one("pulumi:providers:keycloak", "kc-provider");
    expect(plain(provider.inputs)).toMatchObject({
      url: "https://sso.example.org",
      basePath: "",
      clientId: "alacarte-admin",
      realm: "master",
      clientSecret: "mock-password-kc-admin-secret",
    });
    expect(provider.inputs.username).toBeUndefined();
    expect(JSON.parse(provider.inputs.initialLogin)).toBe(false);
    expect(JSON.parse(provider.inputs.clientTimeout)).toBe(60);
    expect(isSecretInput(provider.inputs.clientSecret)).toBe(true);
    expect(namesOf(rec.get("kc-provider").opts.dependsOn)).toEqual(["kc-permanent-admin"]);

    // Every realm resource goes through that provider, under the realm component.
    expect(rec.get("kc-sso").opts.provider).toBe(kc.provider);
    expect(rec.get("kc-realm").opts.parent).toBe(kc.sso);
    expect(rec.get("kc-realm").opts.aliases).toEqual([{ parent: kc }]);

    // The mail client: Roundcube's redirect at webmail.<baseDomain>, a confidential client without PKCE (Roundcube 1.6 sends none).
    const mailClient = one("keycloak:openid/client:Client", "kc-mail-oidc-client");
    expect(plain(mailClient.inputs)).toMatchObject({
      clientId: "members-mail",
      accessType: "CONFIDENTIAL",
      validRedirectUris: ["https://webmail.example.org/index.php/login/oauth"],
      baseUrl: "https://webmail.example.org",
      pkceCodeChallengeMethod: "",
    });
  });
});

/** The names of the resources a `dependsOn` option lists. */
function namesOf(dependsOn: unknown): string[] {
  return (dependsOn as { __name: string }[]).map((r) => r.__name);
}
