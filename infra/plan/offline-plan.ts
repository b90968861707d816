import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { DnsRecord } from "../../components/platform/outputs";
import { policies as packPolicies, POLICY_PACK_NAME } from "../../policies/policies";
import { loadCatalog, type Catalog } from "../catalog/catalog";
import { expandTenant } from "../model/expand";
import { policyConfig } from "../model/policy-config";
import { evaluatePolicies, type PolicyPackConfigJson, type PolicyViolation, type Registration } from "./policy-eval";
import { platformStackName, tenantStackName } from "../model/naming";
import {
  CONFIG_NAMESPACE,
  PLATFORM_CONFIG_SECRETS,
  PROJECT_ROOT,
  readPlatformConfig,
  readStackConfig,
  stackFile,
  type PlatformConfig,
} from "../model/platform-config";
import { quoteTenant } from "../catalog/pricing";
import { buildStack } from "../program/program";
import { formatProblem, type Problem } from "../contract/load";
import type { Tenant } from "../contract/tenant";
import { startPlanValidation } from "./plan-validation";
import { startPlanWorkers, type PlanWorker } from "./plan-workers";
import { validateTenants, type ValidateResult } from "../contract/validate";
import { rememberValidated, type ValidatedTenant } from "../contract/validated-tenants";
import {
  answerAsPreview,
  StackReferenceAnswers,
  turnOffDebuggingAids,
  valueWithUnknowns,
  waitForRPCs,
  type Answered,
} from "./sdk-internals";

/**
 * The offline plan: the real program under Pulumi's mock runtime, with preview semantics, for the
 * platform stack and every tenant stack of an environment. No CLI, no cloud, no servers.
 */

const PROJECT = "alacarte";
/** What the DIY backend calls every organization (docs/pulumi.md "DIY backend names"). */
const ORGANIZATION = "organization";
/** What a tenant stack's StackReference reads when the plan gives it no platform outputs. */
const NO_OUTPUTS = {};
/** The platform stack's outputs that tenant stacks see as secret (platform-stack.ts splitPlatformOutputs, and the office server's admin login). */
const SECRET_OUTPUT_NAMES = ["platformSecrets", "officeAdmin"];
const stackReferences = new StackReferenceAnswers();
const ROOT_STACK = "pulumi:pulumi:Stack";

export interface PlannedResource {
  type: string;
  name: string;
  urn: string;
  /** URN of the parent, or null for the stack's root. */
  parent: string | null;
  /**
   * With `digests`: SHA-256 of the resource's inputs and protection, in a canonical form (keys
   * sorted), so that comparing two plans finds every resource whose inputs changed
   * (infra/plan/plan-diff.ts). Unknown values of a preview are one fixed marker, so it is stable.
   */
  digest?: string;
  /** With `digests`: the tier a component declares as its quota, in GB. */
  quotaGb?: number;
  /** With `digests`: a mail domain's mailbox quotas in GB, by a hash of each address. */
  mailboxQuotas?: Record<string, number>;
}

export interface PlanProblem {
  /** Stack the problem belongs to, or null when it concerns the tenant files as a whole. */
  stack: string | null;
  severity: "error" | "warning";
  message: string;
}

export interface StackPlan {
  name: string;
  /** The tenant's slug, or null for the platform stack. */
  tenant: string | null;
  resources: PlannedResource[];
  /** Yearly price of the decided lines (null for the platform). */
  yearlyPriceEur: number | null;
  /** Lines whose price is not decided yet. */
  undecided: string[];
  problems: PlanProblem[];
  /** What the policy pack reports on this stack (empty when the plan runs without the pack). */
  policies: PolicyViolation[];
  /** The DNS records the stack's mail needs, from its outputs (a tenant's custom domains; the platform's mail host and shared domains). */
  dnsRecords: DnsRecord[];
}

/** The DNS records in a stack's outputs: a tenant's `mailDns` (by domain), the platform's `platform.mail.dnsRecords`. */
function dnsRecordsOf(outputs: Record<string, unknown> | undefined): DnsRecord[] {
  const tenant = outputs?.mailDns as Record<string, DnsRecord[]> | undefined;
  if (tenant) return Object.values(tenant).flat();
  const platform = (outputs?.platform as { mail?: { dnsRecords?: DnsRecord[] } } | undefined)?.mail?.dnsRecords;
  return platform ?? [];
}

export interface PlanResult {
  environment: string;
  stacks: StackPlan[];
  problems: PlanProblem[];
}

export interface PlanOptions {
  env?: string;
  /** Plan these tenants' stacks only (the platform is still run, for its outputs). @default every tenant */
  tenants?: string[];
  /** Include the platform stack in the result. @default true when no tenant is named */
  includePlatform?: boolean;
  today?: string;
  /** Folder of the tenant files to validate first. @default tenants/ */
  tenantsDir?: string;
  /** The validation of the tenant files, when already started (plan-validation.ts). @default started here */
  validation?: Promise<ValidateResult>;
  /** The worker processes, when already started (plan-workers.ts); the plan stops them. @default started here */
  workerProcesses?: readonly PlanWorker[];
  /** Evaluate the policy pack on every stack. @default true */
  policies?: boolean;
  /** Record each resource's digest (`PlannedResource.digest`), for comparing two plans. @default false */
  digests?: boolean;
  /**
   * Merged over the policy config computed from the tenant files (what `npm run policy-config`
   * writes), policy by policy: `{ "<policy>": { ...settings } }` or `{ "all": "advisory" }`.
   */
  policyConfig?: PolicyPackConfigJson;
  /**
   * Processes that plan tenant stacks side by side (this one included). Only worth its start-up
   * cost (a process importing the program) for many stacks.
   * @default the available cores (at most 4) from 2,000 tenant stacks on, else 1 (plan-workers.ts)
   */
  workers?: number;
}

/** The pack's version, as the CLI's runner reads it from policies/package.json. */
export const POLICY_PACK_VERSION: string = (
  JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "policies", "package.json"), "utf8")) as { version: string }
).version;

/** `override`'s settings over `base`'s, policy by policy. */
export function mergePolicyConfig(base: PolicyPackConfigJson, override: PolicyPackConfigJson = {}): PolicyPackConfigJson {
  const out: PolicyPackConfigJson = { ...base };
  for (const [k, v] of Object.entries(override)) {
    const b = out[k];
    out[k] = v && typeof v === "object" && b && typeof b === "object" ? { ...(b as object), ...(v as object) } : v;
  }
  return out;
}

/** Pulumi passes config to a program as strings: objects and lists as JSON. */
function configStrings(values: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values).map(([k, v]) => [`${CONFIG_NAMESPACE}:${k}`, typeof v === "string" ? v : JSON.stringify(v)]),
  );
}

/** A config secret's stand-in: ops set the real value after merge, and the plan never needs it. */
const CONFIG_SECRET_PLACEHOLDER = "(config secret, set by ops)";
const SECRET_CONFIG_KEYS = new Set<string>(PLATFORM_CONFIG_SECRETS.map((key) => `${CONFIG_NAMESPACE}:${key}`));

/** The platform stack's config as the plan hands it over: each config secret a placeholder, whatever the file holds. */
function platformConfigStrings(values: Record<string, unknown>): Record<string, string> {
  const strings = configStrings(values);
  for (const key of SECRET_CONFIG_KEYS) strings[key] = CONFIG_SECRET_PLACEHOLDER;
  return strings;
}

/** Replaces what a preview leaves unknown, so a tenant stack sees the platform outputs a real preview would. */
function fillUnknowns(value: unknown): unknown {
  if (value === undefined) return "(known after the platform is applied)";
  if (Array.isArray(value)) return value.map(fillUnknowns);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillUnknowns(v)]));
  return value;
}

/**
 * The known part of a stack's outputs. The stack's own output is unknown as a whole as soon as one
 * leaf is (a preview), so the leaves are read one by one.
 */
async function resolveKnown(value: unknown): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) return resolveKnown(await valueWithUnknowns(value));
  if (pulumi.isUnknown(value)) return undefined;
  if (value instanceof Promise) return resolveKnown(await value);
  if (Array.isArray(value)) return Promise.all(value.map(resolveKnown));
  if (value && typeof value === "object" && !pulumi.Resource.isInstance(value)) {
    const entries = await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await resolveKnown(v)] as const));
    return Object.fromEntries(entries);
  }
  return value;
}

/**
 * The engine's URN (pulumi/pulumi sdk/go/common/resource/urn/urn.go `New`): the parent's whole
 * qualified type chain, except when the parent is the root stack.
 */
function engineUrn(stack: string, type: string, name: string, parent: string | null): string {
  const parentType = parent ? parent.split("::")[2] : undefined;
  const qualified = parentType && parentType !== ROOT_STACK ? `${parentType}$${type}` : type;
  return `urn:pulumi:${stack}::${PROJECT}::${qualified}::${name}`;
}

/** Seconds of a Go duration string such as "5m" or "1h30m" (custom timeouts); 0 when unset. */
function durationSeconds(value: string | undefined): number {
  if (!value) return 0;
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };
  let total = 0;
  for (const m of value.matchAll(/([\d.]+)(h|ms|m|s)/g)) total += Number(m[1]) * units[m[2]!]!;
  return total;
}

/**
 * One registration as the engine would hand it to an analyzer: inputs; planned outputs (preview:
 * a custom resource's inputs, unknowns included, or a read's state; a component's registered
 * outputs replace them once registerOutputs arrives); the options the analyzer protocol carries.
 */
function registrationOf(answer: Answered, urn: string, parent: string | null, engineUrns: Map<string, string>): Registration {
  const toEngine = (u: string) => engineUrns.get(u) ?? u;
  const req = answer.request;
  // A read carries none of a registration's options.
  const registered = answer.read ? undefined : answer.request;
  const providerRef = req.getProvider();
  const provider = providerRef ? toEngine(providerRef.slice(0, providerRef.lastIndexOf("::"))) : undefined;
  const timeouts = registered?.getCustomtimeouts();
  const propertyDependencies: Record<string, string[]> = {};
  registered?.getPropertydependenciesMap().forEach((v, k) => {
    propertyDependencies[k] = v.getUrnsList().map(toEngine);
  });
  const inputs = answer.read ? answer.request.getProperties() : answer.request.getObject();
  const custom = answer.read || answer.request.getCustom();
  return {
    type: req.getType(),
    name: req.getName(),
    urn,
    parent,
    custom,
    inputs,
    // A component has no outputs until registerOutputs.
    outputs: answer.read ? answer.response.getProperties() : custom ? inputs : undefined,
    options: {
      protect: registered?.getProtect() ?? false,
      ignoreChanges: registered?.getIgnorechangesList() ?? [],
      aliases: registered?.getAliasurnsList() ?? [],
      customTimeouts: {
        createSeconds: durationSeconds(timeouts?.getCreate()),
        updateSeconds: durationSeconds(timeouts?.getUpdate()),
        deleteSeconds: durationSeconds(timeouts?.getDelete()),
      },
      additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
      ...(registered?.getDeletebeforereplacedefined() ? { deleteBeforeReplace: registered.getDeletebeforereplace() } : {}),
      ...(parent ? { parent } : {}),
    },
    ...(provider ? { provider } : {}),
    dependencies: req.getDependenciesList().map(toEngine),
    propertyDependencies,
  };
}

interface StackRun {
  resources: PlannedResource[];
  /** Every registration with its inputs, outputs and options, for the policy pack. */
  registrations: Registration[];
  /** What the program logged (warnings such as an offer not built yet). */
  logs: string[];
  outputs: Record<string, unknown> | undefined;
  error?: string;
}

/**
 * Runs `work` without the SDK's debugging aids, which the plan never shows and which were most of
 * its time (bench/, profiles): a stack trace for every promise the SDK awaits, two more promises
 * around each for its leak report, and a full stack trace (unbounded, each frame mapped through
 * source maps) for every resource's source position; policies' notApplicable() errors capture
 * traces too. Everything comes back afterwards.
 */
async function untraced<T>(work: () => Promise<T>): Promise<T> {
  const traceLimit = Error.stackTraceLimit;
  const sourceMaps = process.sourceMapsEnabled;
  Error.stackTraceLimit = 0;
  process.setSourceMapsEnabled(false);
  const turnOnDebuggingAids = turnOffDebuggingAids();
  try {
    return await work();
  } finally {
    Error.stackTraceLimit = traceLimit;
    process.setSourceMapsEnabled(sourceMaps);
    turnOnDebuggingAids();
  }
}

/** Canonical JSON: object keys sorted at every depth, so equal values give equal text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/**
 * The checkout's own folder written as one marker: inputs that name a path in it (an image's build
 * context, a local command's folder) are the same change wherever the repository is checked out.
 */
function withoutCheckoutPath(value: unknown): unknown {
  if (typeof value === "string") return value.split(PROJECT_ROOT).join("<checkout>");
  if (Array.isArray(value)) return value.map(withoutCheckoutPath);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutCheckoutPath(v)]));
  return value;
}

/**
 * What two plans are compared on (infra/plan/plan-diff.ts): the digest of what the registration
 * asks of its provider (its type, inputs and protection), and the quota a component declares
 * (components/units.ts StorageQuota: a tier in GB, or a mail domain's mailboxes by a hash of each
 * address) for the summary's warning on a lowered quota. The inputs are read once for both.
 */
function comparedFields(r: Registration): Pick<PlannedResource, "digest" | "quotaGb" | "mailboxQuotas"> {
  const js = r.inputs ? (r.inputs.toJavaScript() as Record<string, unknown>) : null;
  const digest = createHash("sha256")
    .update(canonicalJson({ type: r.type, inputs: js ? withoutCheckoutPath(js) : null, protect: r.options.protect }))
    .digest("hex");
  const quota = js?.quota as { gb?: unknown; mailboxes?: { address: string; gb: number }[] } | undefined;
  if (typeof quota?.gb === "number") return { digest, quotaGb: quota.gb };
  if (Array.isArray(quota?.mailboxes)) {
    const hashed = quota.mailboxes.map((m) => [createHash("sha256").update(m.address).digest("hex").slice(0, 16), m.gb]);
    return { digest, mailboxQuotas: Object.fromEntries(hashed) };
  }
  return { digest };
}

/** Runs one stack of the program under fresh mocks: the SDK's per-stack state is reset by setMocks. */
function runStack(
  stack: string,
  config: Record<string, string>,
  platformOutputs?: Record<string, unknown>,
  program: () => Record<string, unknown> | void = () => buildStack(stack),
  digests = false,
): Promise<StackRun> {
  return untraced(() => runStackUntraced(stack, config, platformOutputs, program, digests));
}

async function runStackUntraced(
  stack: string,
  config: Record<string, string>,
  platformOutputs: Record<string, unknown> | undefined,
  program: () => Record<string, unknown> | void,
  digests = false,
): Promise<StackRun> {
  const resources: PlannedResource[] = [];
  const registrations: Registration[] = [];
  const outputsOfReference = platformOutputs ?? NO_OUTPUTS;
  await stackReferences.prepare(outputsOfReference);
  await pulumi.runtime.setMocks(
    {
      // Preview semantics: a new resource knows only its inputs; everything else is unknown. Below,
      // registrations and StackReference reads are answered that way without the mocks' round trip.
      newResource: (args) => ({ id: undefined, state: args.inputs }),
      call(args) {
        throw new Error(`the offline plan has no answer for the data source ${args.token}`);
      },
    },
    PROJECT,
    stack,
    true,
    ORGANIZATION,
  );
  // Every registration is recorded as the monitor answers it (a StackReference is a read): that
  // counts exactly what the SDK registered. The mock monitor's URNs differ from the engine's (it
  // keeps only the parent's last type and includes the root stack's type): the plan reports the
  // engine's, which `pulumi preview` shows.
  const engineUrns = new Map<string, string>();
  answerAsPreview({
    stackReferences,
    outputs: outputsOfReference,
    secretOutputNames: SECRET_OUTPUT_NAMES,
    answered(answer) {
      const req = answer.request;
      const parent: string | null = req.getParent() ? (engineUrns.get(req.getParent()) ?? req.getParent()) : null;
      const urn = engineUrn(stack, req.getType(), req.getName(), parent);
      engineUrns.set(answer.response.getUrn(), urn);
      const registration = registrationOf(answer, urn, parent, engineUrns);
      resources.push({
        type: req.getType(),
        name: req.getName(),
        urn,
        parent,
        ...(digests ? comparedFields(registration) : {}),
      });
      registrations.push(registration);
    },
    // A component's outputs (what stack policies see of it) arrive with registerOutputs.
    outputsRegistered(monitorUrn, outputs) {
      const urn = engineUrns.get(monitorUrn);
      const registration = registrations.find((r) => r.urn === urn);
      if (registration && !registration.custom && outputs) registration.outputs = outputs;
    },
  });
  pulumi.runtime.setAllConfig(
    config,
    Object.keys(config).filter((key) => SECRET_CONFIG_KEYS.has(key)),
  );

  // Without an engine the SDK prints the program's warnings; the plan reports them per stack instead.
  const logged: string[] = [];
  const { warn, error: printError } = console;
  console.warn = (...args: unknown[]) => {
    logged.push(args.map(String).join(" "));
  };
  console.error = (...args: unknown[]) => {
    logged.push(args.map(String).join(" "));
  };
  const failures: string[] = [];
  const onRejection = (reason: unknown) => {
    failures.push(reason instanceof Error ? reason.message : String(reason));
  };
  process.on("unhandledRejection", onRejection);
  process.on("uncaughtException", onRejection);

  let raw: Record<string, unknown> | undefined;
  let error: string | undefined;
  try {
    // A program error is caught inside the stack's init: escaping it, the SDK would rethrow it
    // later as an uncaught exception and end the whole plan.
    await pulumi.runtime.runInPulumiStack(async () => {
      try {
        raw = program() ?? {};
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
      }
      return {};
    });
  } catch (e) {
    error = e instanceof pulumi.RunError || e instanceof Error ? e.message : String(e);
  }
  try {
    await waitForRPCs();
  } catch (e) {
    error ??= (e as Error).message;
  }
  const outputs = raw && !error ? ((await resolveKnown(raw)) as Record<string, unknown>) : undefined;
  console.warn = warn;
  console.error = printError;
  process.off("unhandledRejection", onRejection);
  process.off("uncaughtException", onRejection);
  error ??= failures[0];
  return {
    resources,
    registrations,
    outputs,
    logs: logged.map((l) => l.replace(/^(warning|error): \[runtime\] /, "")),
    ...(error ? { error } : {}),
  };
}

/** A stack's problems: its failure, then what the program warned about (file problems are reported once, globally). */
function stackProblemsOf(stack: string, run: StackRun, fileMessages: ReadonlySet<string>): PlanProblem[] {
  const problems: PlanProblem[] = run.error ? [{ stack, severity: "error", message: run.error }] : [];
  for (const message of run.logs) if (!fileMessages.has(message)) problems.push({ stack, severity: "warning", message });
  return problems;
}

function fileProblem(p: Problem): PlanProblem {
  return { stack: null, severity: p.severity, message: formatProblem(p) };
}

/** What planning one tenant stack gives, before its price is added. */
export type TenantStackRun = Pick<StackPlan, "name" | "tenant" | "resources" | "problems" | "policies" | "dnsRecords">;

/** What planning any chunk of a plan's tenant stacks needs besides its stacks (sent once to each plan worker). */
export interface TenantChunkSetup {
  env: string;
  /** Record each resource's digest. */
  digests?: boolean;
  platformOutputs: Record<string, unknown>;
  packConfig: PolicyPackConfigJson | undefined;
  fileMessages: string[];
}

/** A chunk of tenant stacks to plan. */
export interface TenantChunk {
  slugs: string[];
  /** The chunk's tenant files as the plan validated them: the program need not check them again. */
  validated: ValidatedTenant[];
}

/** Plans a chunk's tenant stacks one after the other in this process. */
export async function planTenantChunk(setup: TenantChunkSetup, chunk: TenantChunk): Promise<TenantStackRun[]> {
  const fileMessages = new Set(setup.fileMessages);
  rememberValidated(chunk.validated);
  const out: TenantStackRun[] = [];
  // One untraced stretch for the whole chunk rather than two per stack.
  await untraced(async () => {
    for (const slug of chunk.slugs) {
      const name = tenantStackName(setup.env, slug);
      const run = await runStackUntraced(name, {}, setup.platformOutputs, () => buildStack(name), setup.digests);
      out.push({
        name,
        tenant: slug,
        resources: run.resources,
        problems: stackProblemsOf(name, run, fileMessages),
        policies: await policiesOf(run, setup.packConfig),
        dnsRecords: dnsRecordsOf(run.outputs),
      });
      // Back to the event loop between stacks: the plan's messages between processes (chunks,
      // results) move only then, and a stack is short.
      await new Promise((resolve) => setImmediate(resolve));
    }
  });
  return out;
}

/** Stacks per chunk: small enough that the processes finish together, large enough to cost few messages. */
const CHUNK_STACKS = { min: 10, max: 100, perPlanner: 20 };

/**
 * Plans tenant stacks in chunks taken in turn from one queue by this process and each worker, so
 * that all finish together whatever each one's speed (this one holds the most and is the
 * slowest). A worker always has a second chunk waiting, so that it never waits for this process
 * to hand out the next one (which it does between two of its own stacks).
 */
async function planChunks(
  slugs: readonly string[],
  setup: TenantChunkSetup,
  validatedOf: (slugs: readonly string[]) => ValidatedTenant[],
  workers: readonly PlanWorker[],
): Promise<TenantStackRun[]> {
  const size = Math.max(
    CHUNK_STACKS.min,
    Math.min(CHUNK_STACKS.max, Math.ceil(slugs.length / ((workers.length + 1) * CHUNK_STACKS.perPlanner))),
  );
  let next = 0;
  const take = (): TenantChunk | undefined => {
    if (next >= slugs.length) return undefined;
    const chunk = slugs.slice(next, (next += size));
    return { slugs: chunk, validated: validatedOf(chunk) };
  };
  const runs: TenantStackRun[][] = [];
  const inWorker = async (worker: PlanWorker): Promise<void> => {
    worker.setup(setup);
    const inFlight: Promise<TenantStackRun[]>[] = [];
    for (let chunk = take(); chunk; chunk = take()) {
      inFlight.push(worker.plan(chunk));
      if (inFlight.length < 2) continue;
      runs.push(await inFlight.shift()!);
    }
    for (const pending of inFlight) runs.push(await pending);
  };
  const inThisProcess = async (): Promise<void> => {
    for (let chunk = take(); chunk; chunk = take()) {
      runs.push(await planTenantChunk(setup, chunk));
    }
  };
  await Promise.all([...workers.map(inWorker), inThisProcess()]);
  return runs.flat();
}

/** Plans the platform stack and the tenant stacks of one environment. */
export async function plan(options: PlanOptions = {}): Promise<PlanResult> {
  const env = options.env ?? "prod";
  const workers = options.workerProcesses ?? startPlanWorkers(options);
  try {
    return await planWith(env, options, workers);
  } finally {
    for (const w of workers) w.stop();
  }
}

async function planWith(env: string, options: PlanOptions, workers: readonly PlanWorker[]): Promise<PlanResult> {
  const platformConfig = readPlatformConfig(env);
  const catalog = loadCatalog();
  const validating = options.validation ?? startPlanValidation(options, true);
  // The platform stack reads no tenant file: it runs while the files are checked in another thread.
  const platformName = platformStackName(env);
  const platformRun = await runStack(
    platformName,
    platformConfigStrings(readStackConfig(stackFile(env))),
    undefined,
    () => buildStack(platformName),
    options.digests,
  );
  const validation = await validating;
  const problems = validation.problems.map(fileProblem);
  const result: PlanResult = { environment: env, stacks: [], problems };
  if (validation.problems.some((p) => p.severity === "error")) return result;

  const bySlug = new Map(validation.tenants.map((t) => [t.tenant.slug, t]));
  let slugs = options.tenants ?? [...bySlug.keys()].sort();
  if (platformConfig.tenants) slugs = slugs.filter((s) => platformConfig.tenants!.includes(s));
  for (const slug of slugs) {
    if (!bySlug.has(slug)) problems.push({ stack: null, severity: "error", message: `no tenant "${slug}" under tenants/` });
  }

  const fileMessages = new Set(problems.map((p) => p.message));
  // The pack's config is computed from every tenant file, as CI's `npm run policy-config` does.
  const packConfig =
    options.policies === false
      ? undefined
      : mergePolicyConfig(
          packConfigOf(
            env,
            platformConfig,
            catalog,
            validation.tenants.map((t) => t.tenant),
          ),
          options.policyConfig,
        );
  if (options.includePlatform ?? !options.tenants) {
    result.stacks.push({
      name: platformName,
      tenant: null,
      resources: platformRun.resources,
      yearlyPriceEur: null,
      undecided: [],
      problems: stackProblemsOf(platformName, platformRun, fileMessages),
      policies: await stackPolicies(platformRun, packConfig),
      dnsRecords: dnsRecordsOf(platformRun.outputs),
    });
  }
  const platformOutputs = fillUnknowns(platformRun.outputs ?? {}) as Record<string, unknown>;

  if (platformRun.error) {
    // Tenant stacks read the platform's outputs: without them they cannot be planned.
    problems.push({ stack: null, severity: "error", message: `tenant stacks not planned: the platform stack ${platformName} failed` });
    return result;
  }
  const known = slugs.filter((slug) => bySlug.has(slug));
  const setup: TenantChunkSetup = {
    env,
    platformOutputs,
    packConfig,
    fileMessages: [...fileMessages],
    ...(options.digests ? { digests: true } : {}),
  };
  const warningsOf = new Map<string, string[]>();
  for (const p of validation.problems)
    if (p.severity === "warning") warningsOf.set(p.file, [...(warningsOf.get(p.file) ?? []), formatProblem(p)]);
  const validatedOf = (slugs: readonly string[]): ValidatedTenant[] =>
    slugs.flatMap((slug) => {
      const loaded = bySlug.get(slug)!;
      return loaded.path && loaded.digest
        ? [{ path: loaded.path, digest: loaded.digest, tenant: loaded.tenant, warnings: warningsOf.get(loaded.file) ?? [] }]
        : [];
    });
  const runs = await planChunks(known, setup, validatedOf, workers);
  const bySlugRun = new Map(runs.map((r) => [r.tenant!, r]));
  for (const slug of known) {
    const quote = quoteTenant(bySlug.get(slug)!.tenant, catalog);
    result.stacks.push({ ...bySlugRun.get(slug)!, yearlyPriceEur: quote.totalEur, undecided: quote.undecided });
  }
  return result;
}

/** The pack's findings on a stack that ran (none when the program failed or the pack is off). */
async function stackPolicies(
  run: StackRun,
  config: PolicyPackConfigJson | undefined,
  policies: PolicyArray = packPolicies,
): Promise<PolicyViolation[]> {
  return untraced(() => policiesOf(run, config, policies));
}

/** stackPolicies, for a caller already untraced. */
async function policiesOf(
  run: StackRun,
  config: PolicyPackConfigJson | undefined,
  policies: PolicyArray = packPolicies,
): Promise<PolicyViolation[]> {
  if (!config || run.error) return [];
  return evaluatePolicies(policies, run.registrations, config, { packName: POLICY_PACK_NAME, packVersion: POLICY_PACK_VERSION });
}

export interface ProgramPlanOptions {
  /** Platform stack outputs a tenant program reads through its StackReference. */
  platformOutputs?: Record<string, unknown>;
  /** The pack's config. @default {} (the schema's defaults) */
  policyConfig?: PolicyPackConfigJson;
  /** Policies to evaluate. @default the pack's (policies/policies.ts) */
  policies?: PolicyArray;
  /** Record each resource's digest. @default false */
  digests?: boolean;
}

type PolicyArray = Parameters<typeof evaluatePolicies>[0];

/**
 * Plans any program (a component built for a test, say) as the stack `stack`, with the same
 * recording and the same policy evaluation as the plan of the real stacks.
 */
export async function planProgram(
  stack: string,
  program: () => Record<string, unknown> | void,
  options: ProgramPlanOptions = {},
): Promise<StackPlan> {
  const run = await runStack(stack, {}, options.platformOutputs, program, options.digests);
  return {
    name: stack,
    tenant: null,
    resources: run.resources,
    yearlyPriceEur: null,
    undecided: [],
    problems: stackProblemsOf(stack, run, new Set()),
    policies: await stackPolicies(run, options.policyConfig ?? {}, options.policies),
    dnsRecords: dnsRecordsOf(run.outputs),
  };
}

/** The policy config of an environment computed from its settings, the catalog and every tenant file. */
export function environmentPolicyConfig(env: string): PolicyPackConfigJson {
  const platformConfig = readPlatformConfig(env);
  const catalog = loadCatalog();
  const validation = validateTenants({ sharedMailDomains: platformConfig.sharedMailDomains, catalog });
  const errors = validation.problems.filter((p) => p.severity === "error");
  if (errors.length) throw new Error(errors.map(formatProblem).join("\n"));
  return packConfigOf(
    env,
    platformConfig,
    catalog,
    validation.tenants.map((t) => t.tenant),
  );
}

/** The pack's config from the environment's settings, the catalog and every tenant (what CI hands the pack). */
function packConfigOf(env: string, platformConfig: PlatformConfig, catalog: Catalog, tenants: readonly Tenant[]): PolicyPackConfigJson {
  const context = {
    catalog,
    sharedMailDomains: platformConfig.sharedMailDomains,
    ...(platformConfig.tenantHostSuffix ? { tenantHostSuffix: platformConfig.tenantHostSuffix } : {}),
  };
  return policyConfig({
    env,
    config: platformConfig,
    catalog,
    tenants: tenants.map((tenant) => ({ tenant, plan: expandTenant(tenant, context) })),
  });
}

export function mandatoryViolations(result: PlanResult): PolicyViolation[] {
  return result.stacks.flatMap((s) => s.policies.filter((p) => p.level === "mandatory"));
}

export function planFailed(result: PlanResult): boolean {
  return (
    [...result.problems, ...result.stacks.flatMap((s) => s.problems)].some((p) => p.severity === "error") ||
    mandatoryViolations(result).length > 0
  );
}
