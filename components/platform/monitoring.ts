import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import { ContainerService } from "../blocks/container-service";
import { HostFile } from "../blocks/host-file";
import { shellQuote } from "../blocks/shell";
import {
  type AlertThresholds,
  MONITORING_IMAGES,
  MONITORING_PORTS,
  alertRules,
  alertmanagerConfig,
  blackboxConfig,
  prometheusConfig,
} from "./monitoring-config";
import type { HostConnection } from "./outputs";

export * from "./monitoring-config";

/** Type token of {@link Monitoring}; ends up in URNs, never rename it without an alias. */
export const MONITORING_TYPE = "alacarte:platform:Monitoring";

/** Folder of the monitoring's files on the monitoring host. */
export const DEFAULT_MONITORING_DIR = "/srv/alacarte/monitoring";

/** Folder of every host where its jobs (the backups) write metrics in the textfile format, `*.prom` (docs/services/monitoring.md "Metric contract"). */
export const DEFAULT_TEXTFILE_DIR = "/srv/alacarte/metrics";

/** Where the folders are mounted in the containers. */
export const MONITORING_CONTAINER_DIRS = {
  prometheus: "/etc/alacarte/prometheus",
  targets: "/etc/alacarte/targets",
  alertmanager: "/etc/alacarte/alertmanager",
  blackbox: "/etc/alacarte/blackbox",
  /** The host's root, for node exporter's `--path.rootfs` (github.com/prometheus/node_exporter README "Docker"). */
  hostRoot: "/host",
} as const;

/** A mail channel of the alerts. */
export interface AlertMailArgs {
  /** Smarthost name. @example "mail.example.org" */
  host: string;
  /** Smarthost port: 587 (submission with STARTTLS) or 465 (implicit TLS). @default 587 */
  port?: number;
  /** Login. */
  username: string;
  /** Password (secret): written to a secret host file Alertmanager reads, never into its configuration. */
  password: pulumi.Input<string>;
  /** Sender. @default the username */
  from?: string;
  /** Recipient(s), comma-separated. */
  to: string;
  /** Require STARTTLS before the login (ignored on 465, TLS from the start). @default true */
  requireTls?: boolean;
}

export interface MonitoringArgs {
  /** The monitoring host: Prometheus, Alertmanager and the blackbox exporter run there. It must be one of `hosts`. */
  host: HostConnection;
  /** Every host, each with its own Docker provider: a node exporter runs on each. */
  hosts: { host: HostConnection; provider: docker.Provider }[];
  /** The platform's mail server, its submission port: the first channel. */
  platformMail: AlertMailArgs;
  /** A relay outside the platform (another provider's account): the second channel, which a mail outage does not silence. */
  outside: AlertMailArgs;
  /** Thresholds and `for` durations of the alerts. @default alertRuleList's */
  thresholds?: AlertThresholds;
  /** Seconds between scrapes. @default 60 */
  scrapeIntervalSeconds?: number;
  /** Seconds between rule evaluations. @default 60 */
  evaluationIntervalSeconds?: number;
  /** Alertmanager's grouping, in seconds. @default 30, 300 and 14400 */
  notifications?: { groupWaitSeconds?: number; groupIntervalSeconds?: number; repeatIntervalSeconds?: number };
  /** Days of metrics kept. @default 30 */
  retentionDays?: number;
  /** Quota of Prometheus's data volume, in GB (2^30 bytes). @default 10 */
  tsdbGb?: number;
  /** Folder of the monitoring's files on the monitoring host. @default "/srv/alacarte/monitoring" */
  configDir?: string;
  /** Folder of the textfile metrics on every host. @default "/srv/alacarte/metrics" */
  textfileDir?: string;
  /** Protect the data volumes against deletion. @default true */
  protect?: boolean;
}

const reload = (container: string) =>
  // SIGHUP makes each of them re-read its configuration; the first write comes before the container exists.
  `docker kill -s HUP ${shellQuote(container)} >/dev/null 2>&1 || true`;

/** Publishes a container's port on the host's loopback only: ops reach it through `ssh -L`, nothing else does. */
const loopbackOnly = (args: docker.ContainerArgs): docker.ContainerArgs => ({
  ...args,
  ports: pulumi.output(args.ports ?? []).apply((ports) => (ports ?? []).map((p) => ({ ...p, ip: "127.0.0.1" }))),
});

/**
 * Prometheus, Alertmanager and the blackbox exporter on the monitoring host, a node exporter on
 * every host (docs/services/monitoring.md). Probe targets are file_sd files in one folder: the
 * platform's `platform.json` here, each tenant stack's own file beside it; Prometheus picks a new
 * file up without a reload. Alerts go by mail through two channels, the platform's mail server and
 * an outside relay; their passwords are secret files Alertmanager reads at each mail.
 */
export class Monitoring extends pulumi.ComponentResource {
  /** Host folder of the probe files, where tenant stacks write `tenant-<slug>.json`. */
  readonly targetsDir: string;
  /** Host folder of the textfile metrics on every host. */
  readonly textfileDir: string;
  /** Prometheus on the monitoring network. @example "http://platform-monitoring-prometheus:9090" */
  readonly prometheusUrl: pulumi.Output<string>;
  /** The monitoring's Docker network, which a container joins to query Prometheus. */
  readonly networkName: pulumi.Output<string>;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super(MONITORING_TYPE, name, {}, opts);
    const protect = args.protect ?? true;
    const base = (args.configDir ?? DEFAULT_MONITORING_DIR).replace(/\/+$/, "");
    const textfileDir = (args.textfileDir ?? DEFAULT_TEXTFILE_DIR).replace(/\/+$/, "");
    const dirs = {
      prometheus: `${base}/prometheus`,
      targets: `${base}/targets`,
      alertmanager: `${base}/alertmanager`,
      blackbox: `${base}/blackbox`,
    };
    const inside = MONITORING_CONTAINER_DIRS;
    const names = new Set(args.hosts.map((h) => h.host.name));
    if (names.size !== args.hosts.length) throw new Error("Monitoring: a host is listed twice in hosts");
    const home = args.hosts.find((h) => h.host.name === args.host.name);
    if (!home) throw new Error(`Monitoring: the monitoring host "${args.host.name}" is not among hosts`);
    const here = { parent: this, providers: { docker: home.provider } };
    const c = { prometheus: `${name}-prometheus`, alertmanager: `${name}-alertmanager`, blackbox: `${name}-blackbox` };

    const network = new docker.Network(`${name}-network`, { name: `${name}`, driver: "bridge" }, { parent: this, provider: home.provider });
    this.networkName = network.name;

    // Prometheus's own configuration and rules.
    const promConfig = new HostFile(
      `${name}-prometheus-config`,
      {
        host: args.host,
        path: `${dirs.prometheus}/prometheus.yml`,
        content: prometheusConfig({
          targetsDir: inside.targets,
          ruleFiles: [`${inside.prometheus}/rules.yml`],
          blackboxAddress: `${c.blackbox}:${MONITORING_PORTS.blackboxExporter}`,
          alertmanagerAddress: `${c.alertmanager}:${MONITORING_PORTS.alertmanager}`,
          nodeExporters: args.hosts.map((h) => ({ host: h.host.name, address: `${h.host.address}:${MONITORING_PORTS.nodeExporter}` })),
          scrapeIntervalSeconds: args.scrapeIntervalSeconds,
          evaluationIntervalSeconds: args.evaluationIntervalSeconds,
        }),
        mode: "0644",
        afterWrite: reload(c.prometheus),
      },
      { parent: this },
    );
    const rules = new HostFile(
      `${name}-rules`,
      {
        host: args.host,
        path: `${dirs.prometheus}/rules.yml`,
        content: alertRules(args.thresholds),
        mode: "0644",
        afterWrite: reload(c.prometheus),
      },
      { parent: this },
    );
    // The probe files of the targets folder, platform.json included, are each stack's own
    // (infra/program/stack-inventory.ts), read by file_sd as soon as they change
    // (https://prometheus.io/docs/guide/file-sd/): none is written here.

    // The blackbox exporter.
    const blackboxFile = new HostFile(
      `${name}-blackbox-config`,
      { host: args.host, path: `${dirs.blackbox}/blackbox.yml`, content: blackboxConfig(), mode: "0644", afterWrite: reload(c.blackbox) },
      { parent: this },
    );

    // Alertmanager: its configuration names the password files; the passwords are secret files.
    const channel = (mail: AlertMailArgs, file: string) => ({
      host: mail.host,
      port: mail.port ?? 587,
      username: mail.username,
      from: mail.from ?? mail.username,
      to: mail.to,
      requireTls: mail.requireTls,
      passwordFile: `${inside.alertmanager}/${file}`,
    });
    const passwordFiles = (
      [
        ["platform-mail", args.platformMail],
        ["outside", args.outside],
      ] as const
    ).map(
      ([role, mail]) =>
        new HostFile(
          `${name}-${role}-password`,
          // Exactly the password, no newline: Alertmanager 0.25 reads the file without trimming it (github.com/prometheus/alertmanager notify/email/email.go, getPassword).
          { host: args.host, path: `${dirs.alertmanager}/${role}.password`, content: mail.password, mode: "0600", secret: true },
          { parent: this },
        ),
    );
    const amFile = new HostFile(
      `${name}-alertmanager-config`,
      {
        host: args.host,
        path: `${dirs.alertmanager}/alertmanager.yml`,
        content: alertmanagerConfig({
          platformMail: channel(args.platformMail, "platform-mail.password"),
          outside: channel(args.outside, "outside.password"),
          ...args.notifications,
        }),
        mode: "0644",
        afterWrite: reload(c.alertmanager),
      },
      { parent: this },
    );

    const prometheus = new ContainerService(
      c.prometheus,
      {
        image: MONITORING_IMAGES.prometheus,
        host: args.host,
        command: [
          `--config.file=${inside.prometheus}/prometheus.yml`,
          "--storage.tsdb.path=/prometheus",
          `--storage.tsdb.retention.time=${args.retentionDays ?? 30}d`,
        ],
        // Not backed up: the metrics are rebuilt by the next scrapes, losing their history loses
        // no member's data, and a copy of a live TSDB is no consistent snapshot anyway.
        volumes: [{ name: "data", containerPath: "/prometheus", sizeGb: args.tsdbGb ?? 10, backup: false }],
        // The folders, not the files: a file is replaced by a rename, which a file's bind mount would not see.
        hostPaths: [
          { hostPath: dirs.prometheus, containerPath: inside.prometheus, readOnly: true },
          { hostPath: dirs.targets, containerPath: inside.targets, readOnly: true },
        ],
        ports: [{ internal: MONITORING_PORTS.prometheus, external: MONITORING_PORTS.prometheus }],
        networks: [network.name],
        limits: { memoryMb: 1024, cpus: 1 },
        protect,
        transform: { container: loopbackOnly },
      },
      { ...here, dependsOn: [promConfig, rules] },
    );

    new ContainerService(
      c.alertmanager,
      {
        image: MONITORING_IMAGES.alertmanager,
        host: args.host,
        // One instance: no cluster to gossip with (https://github.com/prometheus/alertmanager#high-availability).
        command: [`--config.file=${inside.alertmanager}/alertmanager.yml`, "--storage.path=/alertmanager", "--cluster.listen-address="],
        // Silences and the notification log: small, and silences are decisions of ops worth keeping.
        volumes: [{ name: "data", containerPath: "/alertmanager", sizeGb: 1, backup: true }],
        hostPaths: [{ hostPath: dirs.alertmanager, containerPath: inside.alertmanager, readOnly: true }],
        ports: [{ internal: MONITORING_PORTS.alertmanager, external: MONITORING_PORTS.alertmanager }],
        networks: [network.name],
        limits: { memoryMb: 128, cpus: 0.25 },
        protect,
        // As root: the password files are the deploy user's, mode 0600; the image's user nobody
        // could not read them, and a file readable by all would give the passwords to every account of the host.
        transform: { container: (a) => ({ ...loopbackOnly(a), user: "0" }) },
      },
      { ...here, dependsOn: [amFile, ...passwordFiles] },
    );

    new ContainerService(
      c.blackbox,
      {
        image: MONITORING_IMAGES.blackboxExporter,
        host: args.host,
        command: [`--config.file=${inside.blackbox}/blackbox.yml`],
        hostPaths: [{ hostPath: dirs.blackbox, containerPath: inside.blackbox, readOnly: true }],
        networks: [network.name],
        limits: { memoryMb: 64, cpus: 0.25 },
      },
      { ...here, dependsOn: [blackboxFile] },
    );

    for (const { host, provider } of args.hosts) {
      new ContainerService(
        `${name}-node-${host.name}`,
        {
          image: MONITORING_IMAGES.nodeExporter,
          host,
          // The host's root read-only, as node exporter's README "Docker" runs it; the textfile folder seen through it.
          command: [`--path.rootfs=${inside.hostRoot}`, `--collector.textfile.directory=${inside.hostRoot}${textfileDir}`],
          hostPaths: [{ hostPath: "/", containerPath: inside.hostRoot, readOnly: true }],
          // Published on the host's addresses, for Prometheus on the monitoring host; the hosts'
          // firewalls open 9100 to the monitoring host only (docs/services/monitoring.md "Hosts").
          ports: [{ internal: MONITORING_PORTS.nodeExporter, external: MONITORING_PORTS.nodeExporter }],
          limits: { memoryMb: 64, cpus: 0.25 },
        },
        { parent: this, providers: { docker: provider } },
      );
    }

    this.targetsDir = dirs.targets;
    this.textfileDir = textfileDir;
    this.prometheusUrl = prometheus.internalUrl(MONITORING_PORTS.prometheus);
    this.registerOutputs({ targetsDir: this.targetsDir, textfileDir: this.textfileDir, prometheusUrl: this.prometheusUrl });
  }
}
