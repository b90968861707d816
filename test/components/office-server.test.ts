import { beforeAll, describe, expect, it } from "vitest";
import * as mocks from "../helpers/mocks";
import * as options from "../helpers/options";

const proxyHost = { name: "h1", address: "h1.infra.example.org", user: "deploy" };
const ADMIN_USER = "mock-password-office-admin-username";
const ADMIN_PASSWORD = "mock-password-office-admin-password";

const labelsOf = (name: string): Record<string, string> =>
  Object.fromEntries(
    (options.plain(mocks.one("docker:index/container:Container", name).inputs.labels) as { label: string; value: string }[]).map((l) => [
      l.label,
      l.value,
    ]),
  );

describe("OfficeServer under mocks", () => {
  let mod: typeof import("../../components/platform/office-server");

  beforeAll(async () => {
    mocks.installMocks();
    mod = await import("../../components/platform/office-server.js");
  });

  async function build(args: Partial<import("../../components/platform/office-server").OfficeServerArgs> = {}) {
    mocks.reset();
    const rec = options.optionsRecorder();
    const office = new mod.OfficeServer(
      "office",
      { host: proxyHost, network: "proxy", hostname: "office.example.org", ...args },
      { transformations: [rec.transformation] },
    );
    const password = await mocks.promiseOf(office.adminPassword);
    await mocks.settle();
    return { office, rec, password };
  }

  it("runs the pinned CODE image from the table, routed with TLS at office.<base domain>, probed at /hosting/discovery", async () => {
    const { office } = await build();
    expect(office.url).toBe("https://office.example.org");
    expect(mod.officeServerImage()).toBe("collabora/code:25.04.9.4.1");
    expect(mocks.one("docker:index/remoteImage:RemoteImage", "office-collabora-image").inputs.name).toBe("collabora/code:25.04.9.4.1");
    expect(labelsOf("office-collabora-container")).toMatchObject({
      "traefik.enable": "true",
      "traefik.http.routers.office-collabora-0.rule": "Host(`office.example.org`)",
      "traefik.http.routers.office-collabora-0.entrypoints": "websecure",
      "traefik.http.routers.office-collabora-0.tls.certresolver": "le",
      "traefik.http.services.office-collabora-0.loadbalancer.server.port": "9980",
    });
    const service = mocks.one("alacarte:block:ContainerService", "office-collabora");
    expect(service.inputs.probes).toEqual({ http: ["https://office.example.org/hosting/discovery"], tls: [] });
    // No data of its own: no volume, so nothing for the backups.
    expect(service.inputs.volumes).toEqual([]);
    expect(mocks.byType("docker:index/volume:Volume")).toEqual([]);
    const container = mocks.one("docker:index/container:Container", "office-collabora-container");
    expect(container.inputs.memory).toBe(2048);
    expect(container.inputs.cpus).toBe("2");
    expect(options.plain(container.inputs.networksAdvanced)).toEqual([{ name: "proxy" }]);
  });

  it("takes its size from the args", async () => {
    await build({ size: { memoryMb: 3072, cpus: 1.5 } });
    const container = mocks.one("docker:index/container:Container", "office-collabora-container");
    expect(container.inputs.memory).toBe(3072);
    expect(container.inputs.cpus).toBe("1.5");
  });

  it("starts coolwsd behind the proxy, in alias-groups mode, polling the assembled list over HTTPS", async () => {
    await build();
    const container = mocks.one("docker:index/container:Container", "office-collabora-container");
    const envs = options.plain(container.inputs.envs) as string[];
    expect(envs).toEqual([
      "aliasgroup1=https://office.example.org:443",
      "dictionaries=fr_FR en_GB en_US de_DE es_ES it",
      "extra_params=--o:ssl.enable=false --o:ssl.termination=true",
      `password=${ADMIN_PASSWORD}`,
      "remoteconfigurl=https://office.example.org/alacarte/wopi-hosts.json",
      "server_name=office.example.org",
      `username=${ADMIN_USER}`,
    ]);
    const service = mocks.one("alacarte:block:ContainerService", "office-collabora");
    expect(service.inputs.secretEnvKeys).toEqual(["password", "username"]);
    // Every variable is an entry of the image table.
    for (const key of [...service.inputs.envKeys, ...service.inputs.secretEnvKeys]) {
      const table = mod.OFFICE_SERVER_IMAGE_TABLE as unknown as Record<string, Record<string, unknown>>;
      expect(key in table.env! || key in table.derivedEnv! || key in table.secretEnv!).toBe(true);
    }
  });

  it("keeps the admin console's user and password secret: random, in the state, the env and its outputs", async () => {
    const { office, password } = await build();
    expect(password).toBe(ADMIN_PASSWORD);
    expect(await mocks.secretOf(office.adminPassword)).toBe(true);
    expect(await mocks.secretOf(office.adminUsername)).toBe(true);
    expect(mocks.one("random:index/randomPassword:RandomPassword", "office-admin-password").inputs).toMatchObject({
      length: mod.OFFICE_ADMIN_PASSWORD_LENGTH,
      special: false,
    });
    const container = mocks.one("docker:index/container:Container", "office-collabora-container");
    expect(options.isSecretInput(container.inputs.envs)).toBe(true);
    for (const r of mocks.resources()) {
      for (const text of options.plainStrings(r.inputs)) {
        expect({ resource: r.name, text }).not.toEqual({ resource: r.name, text: expect.stringContaining(ADMIN_PASSWORD) });
        expect({ resource: r.name, text }).not.toEqual({ resource: r.name, text: expect.stringContaining(ADMIN_USER) });
      }
    }
  });

  it("serves the assembled list to internal clients only, on a longer route of the same name, unprobed", async () => {
    await build();
    expect(mocks.one("docker:index/remoteImage:RemoteImage", "office-config-image").inputs.name).toMatch(/^nginx:\d+\.\d+\.\d+$/);
    const labels = labelsOf("office-config-container");
    expect(labels["traefik.http.routers.office-config-0.rule"]).toBe(
      "((Host(`office.example.org`)) && (PathPrefix(`/alacarte/wopi-hosts.json`))) && " +
        "(ClientIP(`10.0.0.0/8`) || ClientIP(`172.16.0.0/12`) || ClientIP(`192.168.0.0/16`))",
    );
    expect(labels["traefik.http.services.office-config-0.loadbalancer.server.port"]).toBe("80");
    expect(labels["traefik.http.routers.office-config-0.tls.certresolver"]).toBe("le");
    const container = mocks.one("docker:index/container:Container", "office-config-container");
    expect(options.plain(container.inputs.volumes)).toEqual([
      { hostPath: "/srv/alacarte/office/public", containerPath: "/usr/share/nginx/html", readOnly: true },
    ]);
    expect(mocks.one("alacarte:block:ContainerService", "office-config").inputs.probes).toEqual({ http: [], tls: [] });
  });

  it("writes the platform's own group first, then assembles: the list is never empty", async () => {
    await build();
    const write = mocks.one("command:remote:Command", "office-platform-fragment-write");
    expect(write.inputs.create).toContain("'/srv/alacarte/office/fragments/~platform.office'");
    expect(write.inputs.stdin).toBe(mod.renderOfficeFragment("the platform", ["https://office.example.org"]));
    expect(write.inputs.create).toContain(mod.assembleOfficeCommand(mod.officeFolders()));
  });

  it("is ten resources with the component, all under it", async () => {
    const { rec } = await build();
    expect(mocks.registered()).toEqual([
      "alacarte:block:ContainerService office-collabora",
      "alacarte:block:ContainerService office-config",
      "alacarte:platform:OfficeServer office",
      "command:remote:Command office-platform-fragment-write",
      "docker:index/container:Container office-collabora-container",
      "docker:index/container:Container office-config-container",
      "docker:index/remoteImage:RemoteImage office-collabora-image",
      "docker:index/remoteImage:RemoteImage office-config-image",
      "random:index/randomPassword:RandomPassword office-admin-password",
      "random:index/randomPassword:RandomPassword office-admin-username",
    ]);
    for (const child of [
      "office-collabora",
      "office-config",
      "office-platform-fragment-write",
      "office-admin-password",
      "office-admin-username",
    ]) {
      expect(rec.get(child).opts.parent).toBeDefined();
    }
  });
});
