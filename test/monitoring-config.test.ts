import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  MONITORING_IMAGES,
  alertRuleList,
  alertRules,
  alertmanagerConfig,
  blackboxConfig,
  duration,
  probeTargetGroups,
  probeTargetsFile,
  prometheusConfig,
  tenantProbeFileName,
} from "../components/platform/monitoring-config";
import { assertPinnedImage } from "../components/blocks/image-pin";

describe("MONITORING_IMAGES", () => {
  it("pins each image to an exact release tag of the prom organisation", () => {
    for (const image of Object.values(MONITORING_IMAGES)) {
      expect(image).toMatch(/^prom\/[a-z-]+:v\d+\.\d+\.\d+$/);
      expect(() => assertPinnedImage(image)).not.toThrow();
    }
    expect(Object.keys(MONITORING_IMAGES).sort()).toEqual(["alertmanager", "blackboxExporter", "nodeExporter", "prometheus"]);
  });
});

describe("probeTargetsFile", () => {
  it("groups the probes by module, tenant (the platform first) and service, sorted, with their labels and module", () => {
    const file = probeTargetsFile({
      http: [
        { url: "https://www.amisduvelo.org/", service: "website", tenant: "amis-du-velo" },
        { url: "https://sso.example.org", service: "keycloak" },
        { url: "https://amisduvelo.org/", service: "website", tenant: "amis-du-velo" },
        { url: "https://amisduvelo.org/", service: "website", tenant: "amis-du-velo" },
      ],
      tls: [{ address: "Mail.Example.org:993", service: "mail" }],
    });
    expect(JSON.parse(file)).toEqual([
      { targets: ["https://sso.example.org/"], labels: { __param_module: "http_2xx", service: "keycloak" } },
      {
        targets: ["https://amisduvelo.org/", "https://www.amisduvelo.org/"],
        labels: { __param_module: "http_2xx", service: "website", tenant: "amis-du-velo" },
      },
      { targets: ["mail.example.org:993"], labels: { __param_module: "tls_connect", service: "mail" } },
    ]);
    expect(file.endsWith("]\n")).toBe(true);
  });

  it("is the same text whatever the order of the probes", () => {
    const probes = [
      { url: "https://b.example.org/", service: "b" },
      { url: "https://a.example.org/", service: "a" },
    ];
    expect(probeTargetsFile({ http: probes })).toBe(probeTargetsFile({ http: [...probes].reverse() }));
    expect(probeTargetsFile({})).toBe("[]\n");
  });

  it.each([
    [{ http: [{ url: "http://example.org/", service: "web" }] }, 'HTTP probe "http://example.org/" must be https'],
    [{ http: [{ url: "example.org", service: "web" }] }, 'HTTP probe "example.org" is not a URL'],
    [{ tls: [{ address: "mail.example.org", service: "mail" }] }, 'TLS probe "mail.example.org" must be host:port'],
    [{ tls: [{ address: "mail.example.org:99999", service: "mail" }] }, "invalid port 99999"],
    [{ tls: [{ address: "mail.example.org:993", service: "Mail" }] }, 'service "Mail" must be kebab-case'],
    [{ tls: [{ address: "mail.example.org:993", service: "mail", tenant: "Amis" }] }, 'tenant "Amis" is not a slug'],
  ])("refuses %j", (targets, message) => expect(() => probeTargetGroups(targets)).toThrow(message));

  it("names a tenant's file apart from the platform's", () => {
    expect(tenantProbeFileName("platform")).toBe("tenant-platform.json");
    expect(() => tenantProbeFileName("../x")).toThrow(/not a slug/);
  });
});

describe("prometheusConfig", () => {
  const settings = {
    targetsDir: "/etc/alacarte/targets/",
    ruleFiles: ["/etc/alacarte/prometheus/rules.yml"],
    blackboxAddress: "mon-blackbox:9115",
    alertmanagerAddress: "mon-alertmanager:9093",
    nodeExporters: [
      { host: "h2", address: "h2.infra.example.org:9100" },
      { host: "h1", address: "h1.infra.example.org:9100" },
    ],
  };
  const config = parse(prometheusConfig(settings));

  it("scrapes and evaluates every 60 s by default, and sends to Alertmanager", () => {
    expect(config.global).toEqual({ scrape_interval: "1m", scrape_timeout: "10s", evaluation_interval: "1m" });
    expect(config.rule_files).toEqual(["/etc/alacarte/prometheus/rules.yml"]);
    expect(config.alerting).toEqual({ alertmanagers: [{ static_configs: [{ targets: ["mon-alertmanager:9093"] }] }] });
    expect(parse(prometheusConfig({ ...settings, scrapeIntervalSeconds: 1, evaluationIntervalSeconds: 2 })).global).toEqual({
      scrape_interval: "1s",
      scrape_timeout: "1s",
      evaluation_interval: "2s",
    });
  });

  it("probes every file of the folder through the blackbox exporter, one job per module", () => {
    const jobs = Object.fromEntries(config.scrape_configs.map((j: { job_name: string }) => [j.job_name, j]));
    expect(Object.keys(jobs)).toEqual(["probe-http", "probe-tls", "node", "prometheus", "alertmanager", "blackbox"]);
    for (const [job, module] of [
      ["probe-http", "http_2xx"],
      ["probe-tls", "tls_connect"],
    ]) {
      expect(jobs[job!]).toEqual({
        job_name: job,
        metrics_path: "/probe",
        file_sd_configs: [{ files: ["/etc/alacarte/targets/*.json"] }],
        relabel_configs: [
          { source_labels: ["__param_module"], regex: module, action: "keep" },
          { source_labels: ["__address__"], target_label: "__param_target" },
          { source_labels: ["__param_target"], target_label: "instance" },
          { target_label: "__address__", replacement: "mon-blackbox:9115" },
        ],
      });
    }
    expect(jobs.node.static_configs).toEqual([
      { targets: ["h1.infra.example.org:9100"], labels: { host: "h1" } },
      { targets: ["h2.infra.example.org:9100"], labels: { host: "h2" } },
    ]);
    expect(jobs.prometheus.static_configs).toEqual([{ targets: ["localhost:9090"] }]);
    expect(jobs.alertmanager.static_configs).toEqual([{ targets: ["mon-alertmanager:9093"] }]);
  });

  it.each([
    [{ scrapeIntervalSeconds: 5, scrapeTimeoutSeconds: 6 }, /at most the scrape interval/],
    [{ targetsDir: "targets" }, /must be absolute/],
    [{ blackboxAddress: "mon-blackbox" }, /must be host:port/],
    [{ nodeExporters: [settings.nodeExporters[0]!, settings.nodeExporters[0]!] }, /listed twice/],
  ])("refuses %j", (change, message) => expect(() => prometheusConfig({ ...settings, ...change })).toThrow(message));
});

describe("alertRules", () => {
  const byName = Object.fromEntries(alertRuleList().map((r) => [r.alert, r]));

  it("has the production thresholds and durations by default", () => {
    expect(Object.fromEntries(Object.values(byName).map((r) => [r.alert, [r.expr, r.for, r.labels.severity]]))).toEqual({
      ProbeFailing: ["probe_success == 0", "5m", "critical"],
      CertificateExpiring: ["probe_ssl_earliest_cert_expiry - time() < 14 * 86400", "1h", "warning"],
      TargetDown: ["up == 0", "5m", "critical"],
      HostDiskFilling: [
        'node_filesystem_avail_bytes{fstype=~"ext[234]|xfs|btrfs|zfs"} / node_filesystem_size_bytes{fstype=~"ext[234]|xfs|btrfs|zfs"} < 0.15',
        "15m",
        "warning",
      ],
      VolumeNearQuota: ["alacarte_volume_used_bytes / alacarte_volume_quota_bytes > 0.9", "15m", "warning"],
      VolumeFull: ["alacarte_volume_used_bytes / alacarte_volume_quota_bytes > 0.98", "15m", "critical"],
      BackupStale: ["time() - alacarte_backup_last_success_timestamp_seconds > 26 * 3600", undefined, "critical"],
      BackupFailed: ["alacarte_backup_last_run_ok == 0", undefined, "critical"],
      PurgeFailed: ["alacarte_purge_last_run_ok == 0", undefined, "warning"],
      Watchdog: ["vector(1)", undefined, "none"],
    });
  });

  it("takes every duration and threshold from its settings", () => {
    const rules = Object.fromEntries(
      alertRuleList({
        probeFailingForSeconds: 2,
        targetDownForSeconds: 90,
        volumeWarningRatio: 0.8,
        backupMaxAgeHours: 50,
        backupForSeconds: 7200,
      }).map((r) => [r.alert, r]),
    );
    expect(rules.ProbeFailing!.for).toBe("2s");
    expect(rules.TargetDown!.for).toBe("90s");
    expect(rules.VolumeNearQuota!.expr).toContain("> 0.8");
    expect(rules.BackupStale!.expr).toContain("> 50 * 3600");
    expect(rules.BackupFailed!.for).toBe("2h");
    expect(rules.PurgeFailed!.for).toBe("2h");
  });

  it("is one group in a rule file", () => {
    const file = parse(alertRules());
    expect(file.groups.map((g: { name: string }) => g.name)).toEqual(["alacarte"]);
    expect(file.groups[0].rules).toHaveLength(10);
  });

  it.each([
    [{ diskFreeRatio: 15 }, /between 0 and 1/],
    [{ volumeWarningRatio: 0.99 }, /below the critical one/],
    [{ probeFailingForSeconds: 1.5 }, /whole number of seconds/],
  ])("refuses %j", (change, message) => expect(() => alertRuleList(change)).toThrow(message));
});

describe("alertmanagerConfig", () => {
  const platformMail = {
    host: "mail.example.org",
    port: 587,
    username: "alerts@example.org",
    passwordFile: "/etc/alacarte/alertmanager/platform-mail.password",
    from: "alerts@example.org",
    to: "admins@example.org",
  };
  const outside = {
    host: "smtp.relay.example.net",
    port: 465,
    username: "asso",
    passwordFile: "/etc/alacarte/alertmanager/outside.password",
    from: "asso@relay.example.net",
    to: "admins@example.net",
  };
  const text = alertmanagerConfig({ platformMail, outside });
  const config = parse(text);

  it("sends every alert to both channels, and the Watchdog to the outside one only", () => {
    expect(config.route).toEqual({
      receiver: "platform-mail",
      group_by: ["alertname", "tenant"],
      group_wait: "30s",
      group_interval: "5m",
      repeat_interval: "4h",
      routes: [
        { matchers: ['alertname="Watchdog"'], receiver: "outside", repeat_interval: "24h" },
        { receiver: "platform-mail", continue: true },
        { receiver: "outside" },
      ],
    });
  });

  it("names the password files, never a password, and tells the resolution", () => {
    expect(config.receivers).toEqual([
      {
        name: "platform-mail",
        email_configs: [
          {
            to: "admins@example.org",
            from: "alerts@example.org",
            smarthost: "mail.example.org:587",
            auth_username: "alerts@example.org",
            auth_password_file: "/etc/alacarte/alertmanager/platform-mail.password",
            require_tls: true,
            send_resolved: true,
          },
        ],
      },
      {
        name: "outside",
        email_configs: [
          {
            to: "admins@example.net",
            from: "asso@relay.example.net",
            smarthost: "smtp.relay.example.net:465",
            auth_username: "asso",
            auth_password_file: "/etc/alacarte/alertmanager/outside.password",
            // Implicit TLS on 465: no STARTTLS to ask for.
            require_tls: false,
            send_resolved: true,
          },
        ],
      },
    ]);
    expect(text).not.toMatch(/auth_password:/);
  });

  it("takes its timings and STARTTLS from its settings", () => {
    const c = parse(
      alertmanagerConfig({
        platformMail: { ...platformMail, requireTls: false },
        outside,
        groupWaitSeconds: 1,
        groupIntervalSeconds: 2,
        repeatIntervalSeconds: 60,
      }),
    );
    expect([c.route.group_wait, c.route.group_interval, c.route.repeat_interval]).toEqual(["1s", "2s", "1m"]);
    expect(c.receivers[0].email_configs[0].require_tls).toBe(false);
  });

  it.each([
    [{ platformMail: { ...platformMail, port: 0 } }, /platform mail: invalid port 0/],
    [{ outside: { ...outside, to: "a@example.org\nBcc: x@example.org" } }, /outside relay: to must be one line/],
    [{ outside: { ...outside, passwordFile: "outside.password" } }, /passwordFile must be absolute/],
  ])("refuses %j", (change, message) => expect(() => alertmanagerConfig({ platformMail, outside, ...change })).toThrow(message));
});

describe("blackboxConfig", () => {
  it("follows redirects over IPv4 and fails a page without TLS; tls_connect is TCP with TLS", () => {
    expect(parse(blackboxConfig())).toEqual({
      modules: {
        http_2xx: { prober: "http", http: { preferred_ip_protocol: "ip4", follow_redirects: true, fail_if_not_ssl: true } },
        tls_connect: { prober: "tcp", tcp: { preferred_ip_protocol: "ip4", tls: true } },
      },
    });
  });

  it("trusts a CA file when given one, in both modules, without YAML aliases", () => {
    const text = blackboxConfig({ caFile: "/ca.pem" });
    const c = parse(text);
    expect(c.modules.http_2xx.http.tls_config).toEqual({ ca_file: "/ca.pem" });
    expect(c.modules.tls_connect.tcp.tls_config).toEqual({ ca_file: "/ca.pem" });
    expect(text).not.toMatch(/[&*]a\d/);
  });
});

describe("duration", () => {
  it("writes whole hours, minutes or seconds", () => {
    expect([duration(0), duration(2), duration(90), duration(300), duration(93_600)]).toEqual(["0s", "2s", "90s", "5m", "26h"]);
    expect(() => duration(-1)).toThrow(/whole number/);
  });
});
