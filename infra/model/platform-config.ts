import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { PROJECT_ROOT, TENANTS_DIR } from "../contract/paths";
import { emailProblem, HOSTNAME_PATTERN, usernameProblem } from "../contract/names";
import { deepFreeze } from "./deep-freeze";

/** The project root: stacks/, tenants/ and the catalog are found from here, whatever the working folder. */
export { PROJECT_ROOT };
/**
 * The stack settings files: stacks/ of the project, or the folder named by ALACARTE_STACKS_DIR
 * (read once, when this module loads), for the offline commands only: the Pulumi CLI reads
 * Pulumi.yaml's stackConfigDir. The benchmark points the plan at settings of its own this way.
 */
export const STACKS_DIR = process.env.ALACARTE_STACKS_DIR
  ? path.resolve(process.env.ALACARTE_STACKS_DIR)
  : path.join(PROJECT_ROOT, "stacks");
/** Where tenant files are read (infra/contract/paths.ts). */
export { TENANTS_DIR };
export const CONFIG_NAMESPACE = "alacarte";
/** An image pushed to a registry and pinned by digest (components/blocks/image-pin.ts repositoryImage checks its tag). */
const PUSHED_IMAGE_PATTERN = /^[a-z0-9.-]+(:\d+)?\/[a-z0-9._/-]+:[A-Za-z0-9._-]+@sha256:[0-9a-f]{64}$/;

/** The SMTP password of the realm's mail: a config secret, set by ops with `pulumi config set --secret`. */
export const SMTP_PASSWORD_KEY = "smtpPassword";

/** The backup repository's password: a config secret (docs/services/backups.md "Config"). */
export const BACKUP_PASSWORD_KEY = "backupPassword";
/** The S3 backup target's access key id and secret key, when the repository is on S3: config secrets. */
export const BACKUP_S3_KEY_ID_KEY = "backupS3AccessKeyId";
export const BACKUP_S3_SECRET_KEY = "backupS3SecretAccessKey";

/**
 * Config secrets of the platform stack: never in the schema (nor in the repository's settings
 * files in clear); the offline plan stands a placeholder in for each.
 */
/** The outside relay's password, the monitoring's second alert channel: a config secret. */
export const ALERT_RELAY_PASSWORD_KEY = "alertRelayPassword";

export const PLATFORM_CONFIG_SECRETS = [
  SMTP_PASSWORD_KEY,
  BACKUP_PASSWORD_KEY,
  BACKUP_S3_KEY_ID_KEY,
  BACKUP_S3_SECRET_KEY,
  ALERT_RELAY_PASSWORD_KEY,
] as const;

/** Five cron fields (minute hour day month weekday), as busybox's cron reads them, UTC. */
const cronSchedule = z.string().regex(/^[0-9*/,-]+( [0-9*/,-]+){4}$/, 'must be five cron fields, e.g. "17 2 * * *"');

/**
 * The backups (docs/services/backups.md): one restic repository for every host. Its password and
 * an S3 target's keys are config secrets (`alacarte:backupPassword`, `alacarte:backupS3AccessKeyId`,
 * `alacarte:backupS3SecretAccessKey`), never in this file.
 */
const backup = z.strictObject({
  /** restic repository, without credentials. @example "s3:https://s3.example.net/alacarte-backups" */
  repository: z
    .string()
    .min(1)
    .refine((r) => !/\/\/[^/@]*@/.test(r), "must not hold credentials: they are config secrets"),
  /** When each host's job runs (UTC). */
  schedule: cronSchedule.default("17 2 * * *"),
  /** When the retention is applied and unused data pruned (UTC), away from the backups. */
  pruneSchedule: cronSchedule.default("40 5 * * 0"),
  /** The host that prunes. @default the first host by name */
  pruneHost: z.string().optional(),
  /** Snapshots kept per set and host. */
  keep: z
    .strictObject({
      daily: z.number().int().min(1).default(7),
      weekly: z.number().int().min(0).default(5),
      monthly: z.number().int().min(0).default(12),
    })
    .prefault({}),
});

/**
 * What `npm run decommission` keeps (docs/decommission.md): the data it takes out of a stack stays
 * on its host this many days, then the backup job's purge deletes it and its snapshots.
 */
const decommission = z.strictObject({
  retentionDays: z.number().int().min(1).max(3650).default(90),
});

const hostname = z.string().regex(HOSTNAME_PATTERN);
const username = z.string().superRefine((value, ctx) => {
  const problem = usernameProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});
const email = z.string().superRefine((value, ctx) => {
  const problem = emailProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

/** A platform administrator: an account like a member's (the `accounts` command invites it), with realm administration rights. */
const platformAdmin = z.strictObject({ username, email });

/**
 * The realm's mail (verification, password reset, invitations). The password is not here: it is
 * the config secret `alacarte:smtpPassword` (docs/operations.md "Config secrets").
 */
const smtp = z.strictObject({
  host: hostname,
  port: z.number().int().min(1).max(65535).default(587),
  from: email,
  fromDisplayName: z.string().min(1).default("alacarte"),
  /** STARTTLS on `port` (587); false means TLS from the first byte (465). */
  starttls: z.boolean().default(true),
  /** SMTP login; its password is the config secret `alacarte:smtpPassword`. */
  username: z.string().min(1).optional(),
});

/**
 * The monitoring (docs/services/monitoring.md): who is told of an alert, and the outside relay
 * that tells them when the platform's own mail is down. The relay's password is the config secret
 * `alacarte:alertRelayPassword`.
 */
const monitoring = z.strictObject({
  /** Who receives the alerts, through both channels. */
  alertTo: z.array(email).min(1),
  /** A relay outside the platform (another provider's mail account). */
  outsideRelay: z.strictObject({
    host: hostname,
    port: z.number().int().min(1).max(65535).default(587),
    username: z.string().min(1),
    from: email,
  }),
});

const host = z.strictObject({
  /** ssh address of the host. */
  address: z.string().min(1),
  user: z.string().default("deploy"),
  /** Capacity, used by the policy pack's placement check. */
  diskGb: z.number().positive(),
  memoryGb: z.number().positive(),
  cpus: z.number().positive(),
});

/**
 * The platform config of one environment: `alacarte:*` keys of stacks/Pulumi.<env>.yaml.
 * It holds no secret: the platform generates its own and hands them to tenant stacks as secret outputs.
 */
export const platformConfigSchema = z
  .strictObject({
    baseDomain: hostname,
    /** Tenant hostnames are served as `<hostname>.<tenantHostSuffix>` (staging), never the real name. */
    tenantHostSuffix: hostname.optional(),
    /** When set (staging), only these tenants get a stack. */
    tenants: z.array(z.string()).optional(),
    acmeEmail: z.string().email(),
    publicIp: z.string().regex(/^\d{1,3}(\.\d{1,3}){3}$/),
    /** Platform administrators: realm administration rights, second factor required. */
    admins: z.array(platformAdmin).default([]),
    /** Realm SMTP server; without it Keycloak can send no verification, reset or invitation mail. */
    smtp: smtp.optional(),
    /** Self-registered accounts whose email is still unverified after this many days are removed (`npm run accounts -- --prune`). */
    unverifiedAccountDays: z.number().int().positive().default(14),
    sharedMailDomains: z.array(hostname).default([]),
    hosts: z.record(z.string(), host),
    placement: z.strictObject({
      proxy: z.string(),
      keycloak: z.string(),
      mail: z.string(),
      storage: z.string(),
      /** Where tenants' containers run. */
      apps: z.string(),
      /** Where Prometheus and Alertmanager run. @default the proxy's host */
      monitoring: z.string().optional(),
      /** Where the office document server runs: the proxy's host only (docs/services/office.md). @default the proxy's host */
      office: z.string().optional(),
    }),
    /**
     * The repository's images pushed to the forge's registry by the images workflow, each pinned by
     * the digest it printed (`<registry>/<owner>/<image>:<tag>@sha256:<digest>`, docs/pipeline.md
     * "Images"); an image not listed is built on its hosts from images/.
     */
    images: z
      .strictObject({
        mail: z.string().regex(PUSHED_IMAGE_PATTERN, "must be <registry>/<owner>/mail:<tag>@sha256:<64 hex digits>").optional(),
        backup: z.string().regex(PUSHED_IMAGE_PATTERN, "must be <registry>/<owner>/backup:<tag>@sha256:<64 hex digits>").optional(),
      })
      .default({}),
    /** The office document server's size (docs/services/office.md "Sizing"). */
    office: z
      .strictObject({
        /** Memory limit in MB (2^20 bytes). */
        memoryMb: z.number().int().positive().default(2048),
        /** CPU limit (fractions allowed). */
        cpus: z.number().positive().default(2),
      })
      .prefault({}),
    storage: z.strictObject({ metaGb: z.number().positive(), dataGb: z.number().positive() }),
    mail: z.strictObject({
      dataGb: z.number().positive(),
      /** Public IPv4 of the mail host (its A and reverse DNS records). @default publicIp, when the mail host is the proxy's */
      publicIp: z
        .string()
        .regex(/^\d{1,3}(\.\d{1,3}){3}$/)
        .optional(),
      /**
       * Mail for domains the platform does not host: `deliver` sends it out; `discard` drops it, so
       * staging, which runs the real tenant files, never mails their members. @default "deliver"
       */
      outbound: z.enum(["deliver", "discard"]).default("deliver"),
    }),
    /** Where and when the backups go. */
    backup,
    /** Who the alerts reach, and how. */
    monitoring,
    /** How long decommissioned data stays on its host. */
    decommission: decommission.prefault({}),
    /** Where tenants write back to the association (the notices' Reply-To). @default smtp.from */
    contactEmail: email.optional(),
    /** Protect data resources (volumes, databases, buckets) against deletion. */
    protect: z.boolean().default(true),
    /** Disk, memory and CPU may be promised up to capacity × this ratio. */
    overcommit: z.number().positive().default(1.5),
  })
  .superRefine((c, ctx) => {
    if (c.mail.publicIp === undefined && c.placement.mail !== c.placement.proxy) {
      ctx.addIssue({
        code: "custom",
        path: ["mail", "publicIp"],
        message: "is required when the mail host is not the proxy's (its A and reverse DNS records)",
      });
    }
    if (!c.smtp?.username) {
      ctx.addIssue({ code: "custom", path: ["smtp"], message: "with a username is required: the alerts and the notices leave through it" });
    }
    if (c.backup.pruneHost !== undefined && !(c.backup.pruneHost in c.hosts)) {
      ctx.addIssue({ code: "custom", path: ["backup", "pruneHost"], message: `host "${c.backup.pruneHost}" is not in hosts` });
    }
    if (c.placement.office !== undefined && c.placement.office !== c.placement.proxy) {
      ctx.addIssue({
        code: "custom",
        path: ["placement", "office"],
        message: `must be the proxy's host "${c.placement.proxy}": the office server's route is Docker labels, which Traefik reads on its own host only`,
      });
    }
    for (const [role, name] of Object.entries(c.placement)) {
      if (name !== undefined && !(name in c.hosts))
        ctx.addIssue({ code: "custom", path: ["placement", role], message: `host "${name}" is not in hosts` });
    }
  });

export type PlatformConfig = z.infer<typeof platformConfigSchema>;

/** Pure: the host name a role of the placement runs on (the monitoring and the office server default to the proxy's host). */
export function placedHost(config: Pick<PlatformConfig, "placement">, role: keyof PlatformConfig["placement"]): string {
  return config.placement[role] ?? config.placement.proxy;
}

export function stackFile(env: string): string {
  return path.join(STACKS_DIR, `Pulumi.${env}.yaml`);
}

/** The `alacarte:` keys of a stack settings file, without the namespace, as Pulumi passes them to the program. */
export function readStackConfig(file: string): Record<string, unknown> {
  return stackConfigOf(fs.readFileSync(file, "utf8"));
}

function stackConfigOf(text: string): Record<string, unknown> {
  const settings = parse(text) as { config?: Record<string, unknown> } | null;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(settings?.config ?? {})) {
    if (key.startsWith(`${CONFIG_NAMESPACE}:`)) out[key.slice(CONFIG_NAMESPACE.length + 1)] = value;
  }
  return out;
}

export function parsePlatformConfig(raw: Record<string, unknown>, source: string): PlatformConfig {
  const result = platformConfigSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${CONFIG_NAMESPACE}:${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`${source}: invalid platform config\n${lines.join("\n")}`);
  }
  return result.data;
}

/** The last parse of each settings file, with the text it came from. */
const parsedSettings = new Map<string, { text: string; config: Readonly<PlatformConfig> }>();

/**
 * The platform config of an environment, read from its stack settings file. Every tenant stack
 * reads it, so a process planning thousands of them parses it once per content of the file; the
 * result is frozen, being shared.
 */
export function readPlatformConfig(env: string): Readonly<PlatformConfig> {
  const file = stackFile(env);
  if (!fs.existsSync(file))
    throw new ConfigError(`${path.relative(process.cwd(), file)}: no such stack settings file for environment "${env}"`);
  const text = fs.readFileSync(file, "utf8");
  const known = parsedSettings.get(file);
  if (known?.text === text) return known.config;
  const config = deepFreeze(parsePlatformConfig(stackConfigOf(text), path.relative(process.cwd(), file)));
  parsedSettings.set(file, { text, config });
  return config;
}

/** A mistake in a settings file: shown as a message, never a stack trace. */
export class ConfigError extends Error {}
