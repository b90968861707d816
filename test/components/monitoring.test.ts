import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import * as mocks from "../helpers/mocks";
import * as options from "../helpers/options";

const h1 = { name: "h1", address: "h1.infra.example.org", user: "deploy" };
const h2 = { name: "h2", address: "h2.infra.example.org", user: "deploy" };
const PLATFORM_PASSWORD = "platform-mail-password-value";
const OUTSIDE_PASSWORD = "outside-relay-password-value";

const { plainStrings } = options;

describe("Monitoring under mocks", () => {
  let mod: typeof import("../../components/platform/monitoring");
  let docker: typeof import("@pulumi/docker");

  beforeAll(async () => {
    mocks.installMocks();
    docker = await import("@pulumi/docker");
    mod = await import("../../components/platform/monitoring.js");
  });

  async function build(args: Partial<import("../../components/platform/monitoring").MonitoringArgs> = {}) {
    mocks.reset();
    const rec = options.optionsRecorder();
    const hosts = [h1, h2].map((host) => ({
      host,
      provider: new docker.Provider(`docker-${host.name}`, { host: `ssh://deploy@${host.address}` }),
    }));
    const monitoring = new mod.Monitoring(
      "mon",
      {
        host: h1,
        hosts,
        platformMail: {
          host: "mail.example.org",
          username: "alerts@example.org",
          password: pulumi.secret(PLATFORM_PASSWORD),
          to: "admins@example.org",
        },
        outside: {
          host: "smtp.relay.example.net",
          port: 465,
          username: "asso",
          password: pulumi.secret(OUTSIDE_PASSWORD),
          from: "asso@relay.example.net",
          to: "admins@example.net",
        },
        ...args,
      },
      { transformations: [rec.transformation] },
    );
    const url = await mocks.promiseOf(monitoring.prometheusUrl);
    await mocks.settle();
    return { monitoring, url, rec };
  }

  const providerOf = (name: string) => mocks.one("docker:index/container:Container", name).provider ?? "";

  it("runs Prometheus, Alertmanager and the blackbox exporter on the monitoring host, with pinned images", async () => {
    const { monitoring, url } = await build();
    expect(url).toBe("http://mon-prometheus:9090");
    expect(monitoring.targetsDir).toBe("/srv/alacarte/monitoring/targets");
    expect(monitoring.textfileDir).toBe("/srv/alacarte/metrics");
    for (const [service, image] of [
      ["prometheus", mod.MONITORING_IMAGES.prometheus],
      ["alertmanager", mod.MONITORING_IMAGES.alertmanager],
      ["blackbox", mod.MONITORING_IMAGES.blackboxExporter],
    ]) {
      expect(mocks.one("docker:index/remoteImage:RemoteImage", `mon-${service}-image`).inputs.name).toBe(image);
      expect(providerOf(`mon-${service}-container`)).toContain("docker-h1");
      expect(options.plain(mocks.one("docker:index/container:Container", `mon-${service}-container`).inputs.networksAdvanced)).toEqual([
        { name: "mon" },
      ]);
    }
    const prometheus = mocks.one("docker:index/container:Container", "mon-prometheus-container");
    expect(options.plain(prometheus.inputs.command)).toEqual([
      "--config.file=/etc/alacarte/prometheus/prometheus.yml",
      "--storage.tsdb.path=/prometheus",
      "--storage.tsdb.retention.time=30d",
    ]);
    expect(options.plain(prometheus.inputs.volumes)).toEqual([
      { volumeName: "mon-prometheus-data", containerPath: "/prometheus", readOnly: false },
      { hostPath: "/srv/alacarte/monitoring/prometheus", containerPath: "/etc/alacarte/prometheus", readOnly: true },
      { hostPath: "/srv/alacarte/monitoring/targets", containerPath: "/etc/alacarte/targets", readOnly: true },
    ]);
    // Reached by ops through ssh only.
    expect(options.plain(prometheus.inputs.ports)).toEqual([{ internal: 9090, external: 9090, protocol: "tcp", ip: "127.0.0.1" }]);
  });

  it("runs a node exporter on every host, each through its own host's provider, reading the host's root read-only", async () => {
    await build();
    for (const host of [h1, h2]) {
      const container = mocks.one("docker:index/container:Container", `mon-node-${host.name}-container`);
      expect(container.provider).toContain(`docker-${host.name}`);
      expect(mocks.one("docker:index/remoteImage:RemoteImage", `mon-node-${host.name}-image`).provider).toContain(`docker-${host.name}`);
      expect(options.plain(container.inputs.command)).toEqual([
        "--path.rootfs=/host",
        "--collector.textfile.directory=/host/srv/alacarte/metrics",
      ]);
      expect(options.plain(container.inputs.volumes)).toEqual([{ hostPath: "/", containerPath: "/host", readOnly: true }]);
      expect(options.plain(container.inputs.ports)).toEqual([{ internal: 9100, external: 9100, protocol: "tcp" }]);
    }
    const config = mocks.one("command:remote:Command", "mon-prometheus-config-write").inputs.stdin as string;
    expect(config).toContain("h2.infra.example.org:9100");
    expect(config).toContain("mon-blackbox:9115");
    expect(config).toContain("mon-alertmanager:9093");
  });

  it("writes the password files as secrets, never in clear, and names them in Alertmanager's configuration", async () => {
    await build();
    for (const [role, password] of [
      ["platform-mail", PLATFORM_PASSWORD],
      ["outside", OUTSIDE_PASSWORD],
    ]) {
      const write = mocks.one("command:remote:Command", `mon-${role}-password-write`);
      expect(options.isSecretInput(write.inputs.stdin)).toBe(true);
      expect(options.plain(write.inputs.stdin)).toBe(password);
      expect(write.inputs.create).toContain(`'/srv/alacarte/monitoring/alertmanager/${role}.password'`);
      expect(write.inputs.create).toContain("chmod 0600");
    }
    const everything = mocks.resources().flatMap((r) => plainStrings(r.inputs));
    for (const password of [PLATFORM_PASSWORD, OUTSIDE_PASSWORD]) expect(everything.some((s) => s.includes(password))).toBe(false);
    const am = mocks.one("command:remote:Command", "mon-alertmanager-config-write");
    expect(am.inputs.stdin).toContain("auth_password_file: /etc/alacarte/alertmanager/platform-mail.password");
    expect(am.inputs.stdin).toContain("smarthost: mail.example.org:587");
    expect(am.inputs.create).toContain("docker kill -s HUP 'mon-alertmanager' >/dev/null 2>&1 || true");
    const container = mocks.one("docker:index/container:Container", "mon-alertmanager-container");
    expect(container.inputs.user).toBe("0");
  });

  it("leaves every probe file to the stacks' inventories, and reloads Prometheus after its configuration and rules", async () => {
    await build();
    // platform.json is the platform stack's (infra/program/stack-inventory.ts, test/program/stack-inventory.test.ts): one writer per file.
    const writes = mocks.byType("command:remote:Command").map((r) => String(r.inputs.create));
    expect(writes.filter((w) => w.includes("/srv/alacarte/monitoring/targets/"))).toEqual([]);
    for (const file of ["prometheus-config", "rules"]) {
      expect(mocks.one("command:remote:Command", `mon-${file}-write`).inputs.create).toContain("docker kill -s HUP 'mon-prometheus'");
    }
  });

  it("protects the data volumes, Prometheus's out of the backups", async () => {
    const { rec } = await build();
    expect(rec.get("mon-prometheus-data").opts.protect).toBe(true);
    expect(rec.get("mon-alertmanager-data").opts.protect).toBe(true);
    const labels = (name: string) =>
      Object.fromEntries(
        (options.plain(mocks.one("docker:index/volume:Volume", name).inputs.labels) as { label: string; value: string }[]).map((l) => [
          l.label,
          l.value,
        ]),
      );
    expect(labels("mon-prometheus-data")["alacarte.backup"]).toBe("false");
    expect(labels("mon-alertmanager-data")["alacarte.backup"]).toBe("true");
    const unprotected = await build({ protect: false });
    expect(unprotected.rec.get("mon-prometheus-data").opts.protect).toBe(false);
  });

  it("refuses a monitoring host that is not among the hosts", async () => {
    await expect(build({ host: { name: "h3", address: "h3.infra.example.org", user: "deploy" } })).rejects.toThrow(
      /"h3" is not among hosts/,
    );
  });
});
