/**
 * The monitoring's generated configuration run end to end with Debian's Prometheus 2.42,
 * Alertmanager 0.25 and blackbox exporter 0.23: a page probed over HTTPS fails, both mail
 * channels get the alert, the page recovers, both get the resolution; a tenant's probe file
 * added while Prometheus runs is probed without a restart; and every alert rule, run by
 * `promtool test rules` on series of the metric contract (docs/services/monitoring.md).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import * as https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  PLATFORM_PROBE_FILE,
  alertRules,
  alertmanagerConfig,
  blackboxConfig,
  probeTargetsFile,
  prometheusConfig,
  tenantProbeFileName,
} from "../components/platform/monitoring-config";
import { needTools, requireTool } from "./helpers/debian-tools";
import { freePort, waitForPort } from "./helpers/loopback";
import { runProcess } from "./helpers/run-process";
import { type SmtpSink, type SunkMessage, startSmtpSink } from "./helpers/smtp-sink";

const TOOLS = ["prometheus", "promtool", "prometheus-alertmanager", "amtool", "prometheus-blackbox-exporter", "openssl"] as const;

describe("monitoring with Debian's Prometheus, Alertmanager and blackbox exporter", () => {
  needTools("prometheus", "promtool", "prometheus-alertmanager", "amtool", "prometheus-blackbox-exporter", "openssl");
  const dir = mkdtempSync(join(tmpdir(), "alacarte-monitoring-"));
  const targetsDir = join(dir, "targets");
  const files = {
    prometheus: join(dir, "prometheus.yml"),
    rules: join(dir, "rules.yml"),
    alertmanager: join(dir, "alertmanager.yml"),
    blackbox: join(dir, "blackbox.yml"),
    platformPassword: join(dir, "platform-mail.password"),
    outsidePassword: join(dir, "outside.password"),
    cert: join(dir, "cert.pem"),
    key: join(dir, "key.pem"),
  };
  const platformLogin = { username: "alerts@platform.test", password: "platform secret" };
  // A password with a space and a quote: it reaches the relay only as the file holds it.
  const outsideLogin = { username: "outside-alerts", password: "o'utside pa55" };
  const children: ChildProcess[] = [];
  const logs: string[] = [];
  let status = 500;
  let site: https.Server | undefined;
  let sitePort = 0;
  let promPort = 0;
  let platformSink: SmtpSink | undefined;
  let outsideSink: SmtpSink | undefined;

  /** Writes a file by a rename, as HostFile does, so a watcher never sees half of it. */
  const writeAtomic = (path: string, text: string) => {
    writeFileSync(`${path}.tmp`, text);
    renameSync(`${path}.tmp`, path);
  };

  const start = (tool: (typeof TOOLS)[number], args: string[]) => {
    const child = spawn(requireTool(tool), args, { stdio: ["ignore", "pipe", "pipe"] });
    const keep = (d: Buffer) => {
      logs.push(`${tool}: ${d.toString("utf8")}`);
    };
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    children.push(child);
  };

  /** The mails of a sink whose subject is `[<status>…] <alert>`, waiting for one up to `seconds`. */
  async function mailsOf(sink: SmtpSink, state: "FIRING" | "RESOLVED", alert: string, seconds: number): Promise<SunkMessage[]> {
    const subject = new RegExp(`^Subject: \\[${state}(:\\d+)?\\] ${alert}\\b`, "m");
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
      const found = sink.messages.filter((m) => subject.test(m.data));
      if (found.length > 0) return found;
      if (Date.now() > deadline) {
        const seen = sink.messages.map((m) => /^Subject: .*$/m.exec(m.data)?.[0]).join("; ");
        throw new Error(`no ${state} ${alert} mail after ${seconds} s (seen: ${seen})\n${logs.slice(-20).join("")}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  async function query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const res = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    return body.data.result;
  }

  beforeAll(async () => {
    for (const tool of TOOLS) requireTool(tool);
    mkdirSync(targetsDir);
    // The probed page over HTTPS, its certificate trusted by the probes through the module's CA file (tests only).
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        files.key,
        "-out",
        files.cert,
        "-days",
        "30",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
      ],
      { stdio: "ignore" },
    );
    site = https.createServer({ cert: readFileSync(files.cert), key: readFileSync(files.key) }, (_req, res) => {
      res.writeHead(status, { "content-type": "text/plain" });
      res.end(status === 200 ? "ok\n" : "broken\n");
    });
    await new Promise<void>((resolve) => site!.listen(0, "127.0.0.1", resolve));
    sitePort = (site.address() as { port: number }).port;

    platformSink = await startSmtpSink(platformLogin);
    outsideSink = await startSmtpSink(outsideLogin);
    writeFileSync(files.platformPassword, platformLogin.password);
    writeFileSync(files.outsidePassword, outsideLogin.password);

    const [bbPort, amPort] = [await freePort(), await freePort()];
    promPort = await freePort();
    writeFileSync(files.blackbox, blackboxConfig({ caFile: files.cert }));
    writeFileSync(
      files.alertmanager,
      alertmanagerConfig({
        // The test relays speak no TLS; they are on 127.0.0.1, where Go's net/smtp sends a PLAIN login without it.
        platformMail: {
          host: "127.0.0.1",
          port: platformSink.port,
          username: platformLogin.username,
          passwordFile: files.platformPassword,
          from: platformLogin.username,
          to: "admins@platform.test",
          requireTls: false,
        },
        outside: {
          host: "127.0.0.1",
          port: outsideSink.port,
          username: outsideLogin.username,
          passwordFile: files.outsidePassword,
          from: "alerts@outside.test",
          to: "admins@outside.test",
          requireTls: false,
        },
        groupWaitSeconds: 1,
        groupIntervalSeconds: 1,
        repeatIntervalSeconds: 3600,
      }),
    );
    writeFileSync(files.rules, alertRules({ probeFailingForSeconds: 2 }));
    writeFileSync(
      files.prometheus,
      prometheusConfig({
        targetsDir,
        ruleFiles: [files.rules],
        blackboxAddress: `127.0.0.1:${bbPort}`,
        alertmanagerAddress: `127.0.0.1:${amPort}`,
        prometheusAddress: `127.0.0.1:${promPort}`,
        nodeExporters: [],
        scrapeIntervalSeconds: 1,
        evaluationIntervalSeconds: 1,
      }),
    );
    writeAtomic(
      join(targetsDir, PLATFORM_PROBE_FILE),
      probeTargetsFile({ http: [{ url: `https://127.0.0.1:${sitePort}/`, service: "portal" }] }),
    );

    start("prometheus-blackbox-exporter", [`--config.file=${files.blackbox}`, `--web.listen-address=127.0.0.1:${bbPort}`]);
    start("prometheus-alertmanager", [
      `--config.file=${files.alertmanager}`,
      `--storage.path=${join(dir, "alertmanager")}`,
      `--web.listen-address=127.0.0.1:${amPort}`,
      "--cluster.listen-address=",
    ]);
    await Promise.all([waitForPort(bbPort, 20), waitForPort(amPort, 20)]);
    start("prometheus", [
      `--config.file=${files.prometheus}`,
      `--storage.tsdb.path=${join(dir, "prometheus")}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      // The Watchdog fires at the first evaluation, before Prometheus has found Alertmanager; it is
      // sent again after this delay (a minute by default, which production keeps).
      "--rules.alert.resend-delay=2s",
    ]);
    await waitForPort(promPort, 20);
  });

  afterAll(async () => {
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode !== null || child.pid === undefined) return;
        const closed = new Promise((resolve) => child.once("close", resolve));
        child.kill("SIGTERM");
        await closed;
      }),
    );
    await platformSink?.close();
    await outsideSink?.close();
    await new Promise((resolve) => (site ? site.close(resolve) : resolve(undefined)));
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes files promtool, amtool and the blackbox exporter accept", async () => {
    const config = await runProcess(requireTool("promtool"), ["check", "config", files.prometheus]);
    expect(config.code, config.stdout + config.stderr).toBe(0);
    expect(config.stdout).toContain("SUCCESS: 1 rule files found");
    const rules = await runProcess(requireTool("promtool"), ["check", "rules", files.rules]);
    expect(rules.code, rules.stdout + rules.stderr).toBe(0);
    expect(rules.stdout).toContain("SUCCESS: 10 rules found");
    const am = await runProcess(requireTool("amtool"), ["check-config", files.alertmanager]);
    expect(am.code, am.stdout + am.stderr).toBe(0);
    expect(am.stdout).toContain("2 receivers");
    const bb = await runProcess(requireTool("prometheus-blackbox-exporter"), [`--config.file=${files.blackbox}`, "--config.check"]);
    expect(bb.code, bb.stdout + bb.stderr).toBe(0);
  });

  it("mails a failing page through both channels, each signed in with its password file", async () => {
    const [platform, outside] = await Promise.all([
      mailsOf(platformSink!, "FIRING", "ProbeFailing", 30),
      mailsOf(outsideSink!, "FIRING", "ProbeFailing", 30),
    ]);
    expect(platform[0]!.login).toBe(platformLogin.username);
    expect(platform[0]!.to).toEqual(["admins@platform.test"]);
    expect(outside[0]!.login).toBe(outsideLogin.username);
    expect(outside[0]!.from).toBe("alerts@outside.test");
    // The dead man's switch reaches the outside channel only.
    await mailsOf(outsideSink!, "FIRING", "Watchdog", 10);
    expect(platformSink!.messages.some((m) => /^Subject: .*Watchdog/m.test(m.data))).toBe(false);
    const failing = await query('probe_success{job="probe-http",service="portal"}');
    expect(failing.map((r) => [r.metric.instance, r.value[1]])).toEqual([[`https://127.0.0.1:${sitePort}/`, "0"]]);
  });

  it("mails the resolution through both channels once the page answers 200", async () => {
    status = 200;
    await Promise.all([mailsOf(platformSink!, "RESOLVED", "ProbeFailing", 30), mailsOf(outsideSink!, "RESOLVED", "ProbeFailing", 30)]);
    const ok = await query('probe_success{job="probe-http",service="portal"}');
    expect(ok.map((r) => r.value[1])).toEqual(["1"]);
  });

  it("probes a tenant's file added while Prometheus runs, with its tenant label, without a restart", async () => {
    expect(await query('probe_success{tenant="amis-du-velo"}')).toEqual([]);
    writeAtomic(
      join(targetsDir, tenantProbeFileName("amis-du-velo")),
      probeTargetsFile({ tls: [{ address: `127.0.0.1:${sitePort}`, service: "nextcloud", tenant: "amis-du-velo" }] }),
    );
    const deadline = Date.now() + 20_000;
    let result: Awaited<ReturnType<typeof query>> = [];
    while (Date.now() < deadline) {
      result = await query('probe_success{tenant="amis-du-velo"}');
      if (result.length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(result.map((r) => [r.metric.job, r.metric.service, r.metric.instance, r.value[1]])).toEqual([
      ["probe-tls", "nextcloud", `127.0.0.1:${sitePort}`, "1"],
    ]);
    // The certificate's expiry is measured: 30 days ahead, well over the 14 days of the alert.
    const expiry = await query(`probe_ssl_earliest_cert_expiry{tenant="amis-du-velo"} - time()`);
    expect(Number(expiry[0]?.value[1]) / 86400).toBeGreaterThan(29);
  });
});

describe("the alert rules under promtool test rules (Debian's Prometheus 2.42)", () => {
  needTools("promtool");

  it("fires each alert on the metrics it watches, after its for:, and only there", async () => {
    const dir = mkdtempSync(join(tmpdir(), "alacarte-rules-"));
    try {
      writeFileSync(join(dir, "rules.yml"), alertRules());
      const node = (name: string, labels: string) => `${name}{job="node",instance="h1.infra.example.org:9100",host="h1",${labels}}`;
      const probe = 'job="probe-tls",instance="mail.example.org:993",service="mail"';
      const vol = (v: string) => `set="amis-du-velo",volume="amis-du-velo-wordpress-${v}"`;
      const alert = (labels: Record<string, string>, summary: string) => ({ exp_labels: labels, exp_annotations: { summary } });
      const common = { job: "node", instance: "h1.infra.example.org:9100", host: "h1" };
      const tests = {
        rule_files: ["rules.yml"],
        evaluation_interval: "1m",
        tests: [
          {
            interval: "1m",
            input_series: [
              { series: `probe_success{${probe}}`, values: "0x20" },
              // Ten days left on one certificate, sixty on another (time() starts at 0 in promtool's tests).
              { series: `probe_ssl_earliest_cert_expiry{${probe}}`, values: `${10 * 86400}x200` },
              {
                series: 'probe_ssl_earliest_cert_expiry{job="probe-http",instance="https://sso.example.org/",service="keycloak"}',
                values: `${60 * 86400}x200`,
              },
              { series: 'up{job="blackbox",instance="mon-blackbox:9115"}', values: "0x20" },
              { series: node("node_filesystem_avail_bytes", 'device="/dev/sda1",fstype="ext4",mountpoint="/"'), values: "10x20" },
              { series: node("node_filesystem_size_bytes", 'device="/dev/sda1",fstype="ext4",mountpoint="/"'), values: "100x20" },
              // A full tmpfs is no disk: no alert.
              { series: node("node_filesystem_avail_bytes", 'device="tmpfs",fstype="tmpfs",mountpoint="/run"'), values: "0x20" },
              { series: node("node_filesystem_size_bytes", 'device="tmpfs",fstype="tmpfs",mountpoint="/run"'), values: "100x20" },
              { series: node("alacarte_volume_used_bytes", vol("data")), values: "95x20" },
              { series: node("alacarte_volume_quota_bytes", vol("data")), values: "100x20" },
              { series: node("alacarte_volume_used_bytes", vol("db")), values: "99x20" },
              { series: node("alacarte_volume_quota_bytes", vol("db")), values: "100x20" },
              { series: node("alacarte_backup_last_run_ok", 'set="amis-du-velo"'), values: "1 1 0" },
            ],
            alert_rule_test: [
              { eval_time: "4m", alertname: "ProbeFailing", exp_alerts: [] },
              {
                eval_time: "6m",
                alertname: "ProbeFailing",
                exp_alerts: [
                  alert(
                    { severity: "critical", job: "probe-tls", instance: "mail.example.org:993", service: "mail" },
                    "probe-tls mail.example.org:993 (mail) fails its probe",
                  ),
                ],
              },
              { eval_time: "59m", alertname: "CertificateExpiring", exp_alerts: [] },
              {
                eval_time: "61m",
                alertname: "CertificateExpiring",
                exp_alerts: [
                  alert(
                    { severity: "warning", job: "probe-tls", instance: "mail.example.org:993", service: "mail" },
                    "The certificate of mail.example.org:993 expires in 9d 22h 59m 0s",
                  ),
                ],
              },
              {
                eval_time: "6m",
                alertname: "TargetDown",
                exp_alerts: [
                  alert(
                    { severity: "critical", job: "blackbox", instance: "mon-blackbox:9115" },
                    "blackbox mon-blackbox:9115 does not answer Prometheus",
                  ),
                ],
              },
              { eval_time: "14m", alertname: "HostDiskFilling", exp_alerts: [] },
              {
                eval_time: "16m",
                alertname: "HostDiskFilling",
                exp_alerts: [
                  alert({ severity: "warning", ...common, device: "/dev/sda1", fstype: "ext4", mountpoint: "/" }, "/ on h1 has 10% free"),
                ],
              },
              {
                eval_time: "16m",
                alertname: "VolumeNearQuota",
                exp_alerts: [
                  alert(
                    { severity: "warning", ...common, set: "amis-du-velo", volume: "amis-du-velo-wordpress-data" },
                    "Volume amis-du-velo-wordpress-data of amis-du-velo uses 95% of its quota",
                  ),
                  alert(
                    { severity: "warning", ...common, set: "amis-du-velo", volume: "amis-du-velo-wordpress-db" },
                    "Volume amis-du-velo-wordpress-db of amis-du-velo uses 99% of its quota",
                  ),
                ],
              },
              {
                eval_time: "16m",
                alertname: "VolumeFull",
                exp_alerts: [
                  alert(
                    { severity: "critical", ...common, set: "amis-du-velo", volume: "amis-du-velo-wordpress-db" },
                    "Volume amis-du-velo-wordpress-db of amis-du-velo is full (99%)",
                  ),
                ],
              },
              { eval_time: "1m", alertname: "BackupFailed", exp_alerts: [] },
              {
                eval_time: "2m",
                alertname: "BackupFailed",
                exp_alerts: [
                  alert({ severity: "critical", ...common, set: "amis-du-velo" }, "The last backup of amis-du-velo on h1 failed"),
                ],
              },
              {
                eval_time: "0m",
                alertname: "Watchdog",
                exp_alerts: [alert({ severity: "none" }, "Monitoring is running: this alert always fires; its absence is the alarm")],
              },
            ],
          },
          {
            interval: "1h",
            input_series: [{ series: node("alacarte_backup_last_success_timestamp_seconds", 'set="platform"'), values: "0x30" }],
            alert_rule_test: [
              { eval_time: "26h", alertname: "BackupStale", exp_alerts: [] },
              {
                eval_time: "27h",
                alertname: "BackupStale",
                exp_alerts: [
                  alert({ severity: "critical", ...common, set: "platform" }, "No successful backup of platform on h1 for 1d 3h 0m 0s"),
                ],
              },
            ],
          },
        ],
      };
      writeFileSync(join(dir, "tests.yml"), JSON.stringify(tests));
      const run = await runProcess(requireTool("promtool"), ["test", "rules", "tests.yml"], { cwd: dir });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toContain("SUCCESS");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
