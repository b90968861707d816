import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { PROJECT_ROOT, TENANTS_DIR } from "../contract/paths";
import { HOSTNAME_PATTERN } from "../contract/names";
import { deepFreeze } from "./deep-freeze";

/** The project root: stacks/, tenants/ and the catalog are found from here, whatever the working folder. */
export { PROJECT_ROOT };
export const STACKS_DIR = path.join(PROJECT_ROOT, "stacks");
/** Where tenant files are read (infra/contract/paths.ts). */
export { TENANTS_DIR };
export const CONFIG_NAMESPACE = "alacarte";

const hostname = z.string().regex(HOSTNAME_PATTERN);
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
    admins: z.array(z.string()).default([]),
    sharedMailDomains: z.array(hostname).default([]),
    hosts: z.record(z.string(), host),
    placement: z.strictObject({
      proxy: z.string(),
      keycloak: z.string(),
      mail: z.string(),
      storage: z.string(),
      /** Where tenants' containers run. */
      apps: z.string(),
    }),
    storage: z.strictObject({ metaGb: z.number().positive(), dataGb: z.number().positive() }),
    mail: z.strictObject({ dataGb: z.number().positive() }),
    /** Protect data resources (volumes, databases, buckets) against deletion. */
    protect: z.boolean().default(true),
    /** Disk, memory and CPU may be promised up to capacity × this ratio. */
    overcommit: z.number().positive().default(1.5),
  })
  .superRefine((c, ctx) => {
    for (const [role, name] of Object.entries(c.placement)) {
      if (!(name in c.hosts)) ctx.addIssue({ code: "custom", path: ["placement", role], message: `host "${name}" is not in hosts` });
    }
  });

export type PlatformConfig = z.infer<typeof platformConfigSchema>;

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
