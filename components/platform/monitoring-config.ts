/**
 * Pure, no Pulumi import: the monitoring's configuration files (docs/services/monitoring.md):
 * Prometheus's scrape configuration and alert rules, the probe target files, Alertmanager's
 * routing to two mail channels and the blackbox exporter's modules.
 *
 * Every file is valid for the production images below and for Debian 12's packages
 * (prometheus 2.42, alertmanager 0.25, blackbox exporter 0.23), which the tests run: only fields
 * both accept are written (no `keep_firing_for`, no `api_version`, no `force_implicit_tls`, no
 * `*_file` field that 0.25 lacks), as checked in each project's source at both tags.
 */
import { isIP } from "node:net";
import { stringify } from "yaml";
import { hostnameProblem, slugProblem } from "../../infra/contract/names";

/**
 * The images, pinned to the newest release tags of each upstream repository (read with
 * `git tag` on github.com/prometheus/<repo>): prometheus v3.14.0 (2026-08-17), alertmanager
 * v0.34.0 (2026-08-16), blackbox_exporter v0.28.0 (2025-12-04), node_exporter v1.12.1
 * (2026-07-14). Their release jobs publish `docker.io/prom/<image>:<git tag>`
 * (github.com/prometheus/promci-images publish_release/action.yml: `make docker-publish
 * DOCKER_IMAGE_TAG="$current_tag" DOCKER_REPO=…/prom`; the image names are each Makefile's
 * DOCKER_IMAGE_NAME). docs/services/monitoring.md "Images".
 */
export const MONITORING_IMAGES = {
  prometheus: "prom/prometheus:v3.14.0",
  alertmanager: "prom/alertmanager:v0.34.0",
  blackboxExporter: "prom/blackbox-exporter:v0.28.0",
  nodeExporter: "prom/node-exporter:v1.12.1",
} as const;

/** The ports each program listens on by default (their `--web.listen-address` defaults). */
export const MONITORING_PORTS = { prometheus: 9090, alertmanager: 9093, blackboxExporter: 9115, nodeExporter: 9100 } as const;

/** The blackbox exporter's modules, chosen per target by the `__param_module` label of its group. */
export const PROBE_MODULES = { http: "http_2xx", tls: "tls_connect" } as const;

/** A page probed over HTTPS: it must answer 2xx, after redirects, over TLS. */
export interface HttpProbe {
  /** @example "https://sso.example.org/" */
  url: string;
  /** What the page belongs to, the `service` label. @example "keycloak" */
  service: string;
  /** The tenant's slug, the `tenant` label; absent for the platform. */
  tenant?: string;
}

/** A TLS port probed for its handshake and certificate (implicit TLS: IMAPS 993, submissions 465). */
export interface TlsProbe {
  /** `host:port`. @example "mail.example.org:993" */
  address: string;
  service: string;
  tenant?: string;
}

export interface ProbeTargets {
  http?: readonly HttpProbe[];
  tls?: readonly TlsProbe[];
}

/** One target group of a file_sd file (https://prometheus.io/docs/guide/file-sd/). */
export interface FileSdGroup {
  targets: string[];
  labels: Record<string, string>;
}

const SERVICE_PATTERN = /^[a-z0-9]+(-[a-z0-9]+)*$/;

function hostProblem(host: string): string | undefined {
  if (isIP(host.replace(/^\[|\]$/g, ""))) return undefined;
  return hostnameProblem(host);
}

function checkedLabels(service: string, tenant: string | undefined, what: string): Record<string, string> {
  if (!SERVICE_PATTERN.test(service)) throw new Error(`${what}: service "${service}" must be kebab-case ([a-z0-9-])`);
  if (tenant === undefined) return { service };
  const bad = slugProblem(tenant);
  if (bad) throw new Error(`${what}: tenant "${tenant}" is not a slug: ${bad}`);
  return { service, tenant };
}

/** Pure: the probe's URL, checked: https only (the platform serves nothing public in clear). @throws Error */
export function checkedProbeUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`HTTP probe "${url}" is not a URL`);
  }
  if (parsed.protocol !== "https:") throw new Error(`HTTP probe "${url}" must be https: every public route has TLS`);
  const bad = hostProblem(parsed.hostname);
  if (bad) throw new Error(`HTTP probe "${url}": its host ${bad}`);
  return parsed.href;
}

/** Pure: the `host:port` of a TLS probe, checked. @throws Error without a port */
export function checkedProbeAddress(address: string): string {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(address);
  if (!m) throw new Error(`TLS probe "${address}" must be host:port (the TLS port, such as 993)`);
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new Error(`TLS probe "${address}": invalid port ${port}`);
  const host = m[1]!.toLowerCase();
  const bad = hostProblem(host);
  if (bad) throw new Error(`TLS probe "${address}": its host ${bad}`);
  return `${host}:${port}`;
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Pure: the target groups of a probe file: one group per module, tenant and service, targets
 * sorted and unique, groups sorted; labels `service`, `tenant` (absent for the platform) and
 * `__param_module`, which Prometheus sends as the `module` parameter of the probe
 * (https://prometheus.io/docs/prometheus/latest/configuration/configuration/#scrape_config:
 * `__param_<name>` labels become URL parameters).
 * @throws Error on a URL that is not https, an address without a port, a bad label.
 */
export function probeTargetGroups(targets: ProbeTargets): FileSdGroup[] {
  const groups = new Map<string, FileSdGroup>();
  const add = (module: string, target: string, labels: Record<string, string>) => {
    const key = JSON.stringify([module, labels.tenant ?? "", labels.service]);
    let group = groups.get(key);
    if (!group) {
      group = { targets: [], labels: { __param_module: module, ...labels } };
      groups.set(key, group);
    }
    if (!group.targets.includes(target)) group.targets.push(target);
  };
  for (const p of targets.http ?? [])
    add(PROBE_MODULES.http, checkedProbeUrl(p.url), checkedLabels(p.service, p.tenant, `HTTP probe "${p.url}"`));
  for (const p of targets.tls ?? [])
    add(PROBE_MODULES.tls, checkedProbeAddress(p.address), checkedLabels(p.service, p.tenant, `TLS probe "${p.address}"`));
  return [...groups.entries()]
    .sort(([a], [b]) => compare(a, b))
    .map(([, g]) => ({
      targets: [...g.targets].sort(compare),
      labels: Object.fromEntries(Object.entries(g.labels).sort(([a], [b]) => compare(a, b))),
    }));
}

/** Pure: a probe file, file_sd's JSON (https://prometheus.io/docs/guide/file-sd/), deterministic. */
export function probeTargetsFile(targets: ProbeTargets): string {
  return `${JSON.stringify(probeTargetGroups(targets), null, 2)}\n`;
}

/** Pure: the name of a tenant's probe file in the targets folder: `tenant-<slug>.json`, never the platform's `platform.json`. */
export function tenantProbeFileName(slug: string): string {
  const bad = slugProblem(slug);
  if (bad) throw new Error(`tenant "${slug}" is not a slug: ${bad}`);
  return `tenant-${slug}.json`;
}

/** The platform's own probe file in the targets folder. */
export const PLATFORM_PROBE_FILE = "platform.json";

/** Pure: a duration in Prometheus's and Alertmanager's notation (`90s`, `5m`, `26h`). @throws Error unless a whole number ≥ 0 */
export function duration(seconds: number): string {
  if (!Number.isInteger(seconds) || seconds < 0) throw new Error(`a duration must be a whole number of seconds, got ${seconds}`);
  if (seconds > 0 && seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds > 0 && seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

function checkedAddress(address: string, what: string): string {
  if (!/^[A-Za-z0-9._-]+:\d{1,5}$/.test(address)) throw new Error(`${what} "${address}" must be host:port`);
  return address;
}

export interface PrometheusSettings {
  /** Folder of the probe files, as Prometheus sees it; every `*.json` in it is read. */
  targetsDir: string;
  /** Rule files, as Prometheus sees them (globs allowed). */
  ruleFiles: string[];
  /** The blackbox exporter, `host:port`. */
  blackboxAddress: string;
  /** Alertmanager, `host:port`. */
  alertmanagerAddress: string;
  /** Prometheus itself, `host:port`. @default "localhost:9090" */
  prometheusAddress?: string;
  /** One node exporter per host, labelled `host`. */
  nodeExporters: readonly { host: string; address: string }[];
  /** Seconds between scrapes. @default 60 */
  scrapeIntervalSeconds?: number;
  /** Seconds between rule evaluations. @default 60 */
  evaluationIntervalSeconds?: number;
  /** Seconds a scrape (and so a probe) may take. @default 10, at most the scrape interval */
  scrapeTimeoutSeconds?: number;
}

/** The probe jobs: the blackbox exporter scrapes on behalf of each target (github.com/prometheus/blackbox_exporter README "Prometheus Configuration"). */
function probeJob(job: string, module: string, targetsDir: string, blackboxAddress: string) {
  return {
    job_name: job,
    metrics_path: "/probe",
    file_sd_configs: [{ files: [`${targetsDir.replace(/\/+$/, "")}/*.json`] }],
    relabel_configs: [
      // Each file holds both kinds; this job keeps its module's groups only.
      { source_labels: ["__param_module"], regex: module, action: "keep" },
      { source_labels: ["__address__"], target_label: "__param_target" },
      { source_labels: ["__param_target"], target_label: "instance" },
      { target_label: "__address__", replacement: blackboxAddress },
    ],
  };
}

/**
 * Pure: prometheus.yml: the HTTP and TLS probes of every file of the targets folder (each tenant
 * stack writes its own file, the platform stack `platform.json`; file_sd watches the folder, so a
 * new file needs no reload), the node exporters, Prometheus, Alertmanager and the blackbox
 * exporter themselves, the rule files and Alertmanager.
 * https://prometheus.io/docs/prometheus/latest/configuration/configuration/
 */
export function prometheusConfig(settings: PrometheusSettings): string {
  const scrape = settings.scrapeIntervalSeconds ?? 60;
  const evaluation = settings.evaluationIntervalSeconds ?? 60;
  const timeout = settings.scrapeTimeoutSeconds ?? Math.min(10, scrape);
  if (!(scrape > 0) || !(evaluation > 0)) throw new Error("scrape and evaluation intervals must be positive");
  // Prometheus refuses a scrape_timeout longer than the scrape_interval.
  if (!(timeout > 0) || timeout > scrape)
    throw new Error(`scrape timeout ${timeout} s must be positive and at most the scrape interval ${scrape} s`);
  if (!settings.targetsDir.startsWith("/")) throw new Error(`targetsDir must be absolute, got "${settings.targetsDir}"`);
  const blackbox = checkedAddress(settings.blackboxAddress, "blackboxAddress");
  const alertmanager = checkedAddress(settings.alertmanagerAddress, "alertmanagerAddress");
  const self = checkedAddress(settings.prometheusAddress ?? `localhost:${MONITORING_PORTS.prometheus}`, "prometheusAddress");
  const hosts = new Set<string>();
  for (const n of settings.nodeExporters) {
    if (hosts.has(n.host)) throw new Error(`node exporter of host "${n.host}" listed twice`);
    hosts.add(n.host);
    checkedAddress(n.address, `node exporter of host "${n.host}"`);
  }
  const config = {
    global: { scrape_interval: duration(scrape), scrape_timeout: duration(timeout), evaluation_interval: duration(evaluation) },
    rule_files: settings.ruleFiles,
    alerting: { alertmanagers: [{ static_configs: [{ targets: [alertmanager] }] }] },
    scrape_configs: [
      probeJob("probe-http", PROBE_MODULES.http, settings.targetsDir, blackbox),
      probeJob("probe-tls", PROBE_MODULES.tls, settings.targetsDir, blackbox),
      {
        job_name: "node",
        static_configs: [...settings.nodeExporters]
          .sort((a, b) => compare(a.host, b.host))
          .map((n) => ({ targets: [n.address], labels: { host: n.host } })),
      },
      { job_name: "prometheus", static_configs: [{ targets: [self] }] },
      { job_name: "alertmanager", static_configs: [{ targets: [alertmanager] }] },
      { job_name: "blackbox", static_configs: [{ targets: [blackbox] }] },
    ],
  };
  return `# Managed by alacarte (Monitoring). Do not edit: the next deployment overwrites it.\n${stringify(config, { aliasDuplicateObjects: false })}`;
}

/** How long each condition must hold before its alert fires, in seconds, and the thresholds. */
export interface AlertThresholds {
  /** A probe failing. @default 300 */
  probeFailingForSeconds?: number;
  /** Days left on a certificate below which it is expiring. @default 14 */
  certificateExpiryDays?: number;
  /** @default 3600 */
  certificateExpiringForSeconds?: number;
  /** A scrape target not answering. @default 300 */
  targetDownForSeconds?: number;
  /** Free share of a host filesystem below which it is filling. @default 0.15 */
  diskFreeRatio?: number;
  /** @default 900 */
  diskFillingForSeconds?: number;
  /** Used share of a tenant volume's quota for the warning. @default 0.9 */
  volumeWarningRatio?: number;
  /** Used share for the critical alert. @default 0.98 */
  volumeCriticalRatio?: number;
  /** @default 900 */
  volumeForSeconds?: number;
  /** Age of the last successful backup beyond which it is stale, in hours. @default 26 (a daily backup, with slack) */
  backupMaxAgeHours?: number;
  /** @default 0 (the metric is written once per run) */
  backupForSeconds?: number;
}

/** The severities, read by the routing and the mails. */
export type Severity = "warning" | "critical" | "none";

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: Severity };
  annotations: { summary: string };
}

/** Host filesystems worth watching: the disks' own (node exporter also reports tmpfs, overlay, …). */
export const REAL_FILESYSTEMS = "ext[234]|xfs|btrfs|zfs";

/** Pure: the alert rules with their defaults, one rule per alert name (docs/services/monitoring.md "Alerts"). */
export function alertRuleList(thresholds: AlertThresholds = {}): Rule[] {
  const t = {
    probeFailingForSeconds: 300,
    certificateExpiryDays: 14,
    certificateExpiringForSeconds: 3600,
    targetDownForSeconds: 300,
    diskFreeRatio: 0.15,
    diskFillingForSeconds: 900,
    volumeWarningRatio: 0.9,
    volumeCriticalRatio: 0.98,
    volumeForSeconds: 900,
    backupMaxAgeHours: 26,
    backupForSeconds: 0,
    ...thresholds,
  };
  for (const r of [t.diskFreeRatio, t.volumeWarningRatio, t.volumeCriticalRatio]) {
    if (!(r > 0 && r < 1)) throw new Error(`a ratio must be between 0 and 1, got ${r}`);
  }
  if (!(t.volumeWarningRatio < t.volumeCriticalRatio)) throw new Error("the volume warning ratio must be below the critical one");
  if (!(t.certificateExpiryDays > 0) || !(t.backupMaxAgeHours > 0)) throw new Error("certificate days and backup hours must be positive");
  const fs = `fstype=~"${REAL_FILESYSTEMS}"`;
  const forOf = (s: number) => (s > 0 ? { for: duration(s) } : {});
  return [
    {
      alert: "ProbeFailing",
      expr: "probe_success == 0",
      ...forOf(t.probeFailingForSeconds),
      labels: { severity: "critical" },
      annotations: { summary: "{{ $labels.job }} {{ $labels.instance }} ({{ $labels.service }}) fails its probe" },
    },
    {
      alert: "CertificateExpiring",
      expr: `probe_ssl_earliest_cert_expiry - time() < ${t.certificateExpiryDays} * 86400`,
      ...forOf(t.certificateExpiringForSeconds),
      labels: { severity: "warning" },
      annotations: { summary: "The certificate of {{ $labels.instance }} expires in {{ $value | humanizeDuration }}" },
    },
    {
      alert: "TargetDown",
      expr: "up == 0",
      ...forOf(t.targetDownForSeconds),
      labels: { severity: "critical" },
      annotations: { summary: "{{ $labels.job }} {{ $labels.instance }} does not answer Prometheus" },
    },
    {
      alert: "HostDiskFilling",
      expr: `node_filesystem_avail_bytes{${fs}} / node_filesystem_size_bytes{${fs}} < ${t.diskFreeRatio}`,
      ...forOf(t.diskFillingForSeconds),
      labels: { severity: "warning" },
      annotations: { summary: "{{ $labels.mountpoint }} on {{ $labels.host }} has {{ $value | humanizePercentage }} free" },
    },
    {
      alert: "VolumeNearQuota",
      expr: `alacarte_volume_used_bytes / alacarte_volume_quota_bytes > ${t.volumeWarningRatio}`,
      ...forOf(t.volumeForSeconds),
      labels: { severity: "warning" },
      annotations: { summary: "Volume {{ $labels.volume }} of {{ $labels.set }} uses {{ $value | humanizePercentage }} of its quota" },
    },
    {
      alert: "VolumeFull",
      expr: `alacarte_volume_used_bytes / alacarte_volume_quota_bytes > ${t.volumeCriticalRatio}`,
      ...forOf(t.volumeForSeconds),
      labels: { severity: "critical" },
      annotations: { summary: "Volume {{ $labels.volume }} of {{ $labels.set }} is full ({{ $value | humanizePercentage }})" },
    },
    {
      alert: "BackupStale",
      expr: `time() - alacarte_backup_last_success_timestamp_seconds > ${t.backupMaxAgeHours} * 3600`,
      ...forOf(t.backupForSeconds),
      labels: { severity: "critical" },
      annotations: { summary: "No successful backup of {{ $labels.set }} on {{ $labels.host }} for {{ $value | humanizeDuration }}" },
    },
    {
      alert: "BackupFailed",
      expr: "alacarte_backup_last_run_ok == 0",
      ...forOf(t.backupForSeconds),
      labels: { severity: "critical" },
      annotations: { summary: "The last backup of {{ $labels.set }} on {{ $labels.host }} failed" },
    },
    {
      // The daily purge of decommissioned data (images/backup/purge.sh, docs/decommission.md) left a record it could not finish.
      alert: "PurgeFailed",
      expr: "alacarte_purge_last_run_ok == 0",
      ...forOf(t.backupForSeconds),
      labels: { severity: "warning" },
      annotations: { summary: "The purge of decommissioned data on {{ $labels.host }} could not finish; see its log" },
    },
    {
      // The dead man's switch: always firing, so its regular mail on the outside channel proves the whole chain works.
      alert: "Watchdog",
      expr: "vector(1)",
      labels: { severity: "none" },
      annotations: { summary: "Monitoring is running: this alert always fires; its absence is the alarm" },
    },
  ];
}

/** Pure: the rule file (https://prometheus.io/docs/prometheus/latest/configuration/alerting_rules/). */
export function alertRules(thresholds: AlertThresholds = {}): string {
  return `# Managed by alacarte (Monitoring). Do not edit: the next deployment overwrites it.\n${stringify({ groups: [{ name: "alacarte", rules: alertRuleList(thresholds) }] }, { aliasDuplicateObjects: false })}`;
}

/** A mail channel Alertmanager sends through. */
export interface MailChannel {
  /** Smarthost name or address. @example "mail.example.org" */
  host: string;
  /** Smarthost port: 587 (submission, STARTTLS) or 465 (implicit TLS). */
  port: number;
  /** Login. @example "alerts@example.org" */
  username: string;
  /** File holding the password, exactly (no newline: Alertmanager 0.25 reads the file without trimming it), as Alertmanager sees it. */
  passwordFile: string;
  /** Sender. @example "alerts@example.org" */
  from: string;
  /** Recipient(s), comma-separated. @example "admins@example.net" */
  to: string;
  /**
   * Require STARTTLS before the login. Go's net/smtp sends a PLAIN login without TLS only to
   * localhost, so only a relay on 127.0.0.1 can do without. Ignored on 465, where the connection
   * is TLS from the start. @default true
   */
  requireTls?: boolean;
}

export interface AlertmanagerSettings {
  /** The platform's own mail server, its submission port. */
  platformMail: MailChannel;
  /** A relay outside the platform: a mail outage is still reported. */
  outside: MailChannel;
  /** Wait before the first mail of a new group, in seconds. @default 30 */
  groupWaitSeconds?: number;
  /** Wait before a mail about changes in a group (new alerts, resolved ones). @default 300 */
  groupIntervalSeconds?: number;
  /** Repeat of a mail about alerts still firing. @default 14400 (4 h) */
  repeatIntervalSeconds?: number;
  /** Repeat of the Watchdog's mail on the outside channel. @default 86400 (a day) */
  watchdogRepeatSeconds?: number;
}

/** The receivers' names. */
export const RECEIVERS = { platformMail: "platform-mail", outside: "outside" } as const;

function emailConfig(channel: MailChannel, what: string) {
  if (!Number.isInteger(channel.port) || channel.port < 1 || channel.port > 65535) throw new Error(`${what}: invalid port ${channel.port}`);
  const bad = hostProblem(channel.host);
  if (bad) throw new Error(`${what}: smarthost ${bad}`);
  if (!channel.passwordFile.startsWith("/")) throw new Error(`${what}: passwordFile must be absolute`);
  for (const [k, v] of Object.entries({ username: channel.username, from: channel.from, to: channel.to })) {
    if (!v || /[\r\n]/.test(v)) throw new Error(`${what}: ${k} must be one line, not empty`);
  }
  return {
    to: channel.to,
    from: channel.from,
    smarthost: channel.host.includes(":") ? `[${channel.host}]:${channel.port}` : `${channel.host}:${channel.port}`,
    auth_username: channel.username,
    // Read at each mail (github.com/prometheus/alertmanager notify/email/email.go, getPassword, at v0.25.0 and v0.34.0): the password stays out of this file.
    auth_password_file: channel.passwordFile,
    // On 465 the connection is TLS already; 0.25 would still ask for STARTTLS inside it when
    // require_tls is true (notify/email/email.go at v0.25.0; v0.34.0 skips it for implicit TLS).
    require_tls: channel.port === 465 ? false : (channel.requireTls ?? true),
    send_resolved: true,
  };
}

/**
 * Pure: alertmanager.yml: every alert to both channels, the Watchdog to the outside one only
 * (https://prometheus.io/docs/alerting/latest/configuration/). No password inside: each channel
 * names its password file (`auth_password_file`, in email_config since before v0.25.0).
 */
export function alertmanagerConfig(settings: AlertmanagerSettings): string {
  const config = {
    route: {
      receiver: RECEIVERS.platformMail,
      group_by: ["alertname", "tenant"],
      group_wait: duration(settings.groupWaitSeconds ?? 30),
      group_interval: duration(settings.groupIntervalSeconds ?? 300),
      repeat_interval: duration(settings.repeatIntervalSeconds ?? 14_400),
      routes: [
        {
          matchers: ['alertname="Watchdog"'],
          receiver: RECEIVERS.outside,
          repeat_interval: duration(settings.watchdogRepeatSeconds ?? 86_400),
        },
        // Child routes without matchers match every alert; `continue` lets the next one see it too.
        { receiver: RECEIVERS.platformMail, continue: true },
        { receiver: RECEIVERS.outside },
      ],
    },
    receivers: [
      { name: RECEIVERS.platformMail, email_configs: [emailConfig(settings.platformMail, "platform mail")] },
      { name: RECEIVERS.outside, email_configs: [emailConfig(settings.outside, "outside relay")] },
    ],
  };
  return `# Managed by alacarte (Monitoring). Do not edit: the next deployment overwrites it.\n${stringify(config, { aliasDuplicateObjects: false })}`;
}

export interface BlackboxOptions {
  /** A CA file the probes trust besides the system's, as the exporter sees it (tests only). @default none */
  caFile?: string;
}

/**
 * Pure: blackbox.yml (the blackbox exporter's config/config.go at v0.23.0 and v0.28.0, docs/services/monitoring.md): `http_2xx`
 * follows redirects, prefers IPv4 and fails a page not served over TLS; `tls_connect` opens a TCP
 * connection with TLS and reports the certificate's expiry.
 */
export function blackboxConfig(options: BlackboxOptions = {}): string {
  const tls = options.caFile ? { tls_config: { ca_file: options.caFile } } : {};
  const config = {
    modules: {
      [PROBE_MODULES.http]: {
        prober: "http",
        http: { preferred_ip_protocol: "ip4", follow_redirects: true, fail_if_not_ssl: true, ...tls },
      },
      [PROBE_MODULES.tls]: { prober: "tcp", tcp: { preferred_ip_protocol: "ip4", tls: true, ...tls } },
    },
  };
  return `# Managed by alacarte (Monitoring). Do not edit: the next deployment overwrites it.\n${stringify(config, { aliasDuplicateObjects: false })}`;
}
