import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import { TENANTS_DIR } from "./paths";
import { crossFileRules } from "./cross-rules";
import { displayName, fileStem, loadTenantText, locateInFile, locateIssues, type LoadedTenant, type Problem } from "./load";
import type { Tenant } from "./tenant";
import { digestOf } from "./validated-tenants";
import { tenantRules, type ContractLimits } from "./rules";

export interface ValidateOptions {
  /** Files to report on. @default every file of tenants/ */
  files?: string[];
  /** Folder of all tenant files, for the cross-file rules. @default tenants/ */
  tenantsDir?: string;
  sharedMailDomains: readonly string[];
  /** The catalog's tiers, brackets and mail limits (infra/catalog/catalog.ts). */
  catalog: ContractLimits;
  /** YYYY-MM-DD. @default today (UTC) */
  today?: string;
}

export interface ValidateResult {
  /** Every tenant that passed the schema, keyed by slug (file stem). */
  tenants: LoadedTenant[];
  problems: Problem[];
  /** Files that were read. */
  files: string[];
}

export function tenantFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

export function todayUtc(): string {
  return new Date().toISOString().slice(0, 10);
}

/** What the single-file checks need besides the file. */
export interface FileCheckContext {
  catalog: ContractLimits;
  today: string;
  sharedMailDomains: readonly string[];
}

/** The files a validation reads and the files it reports on, as absolute paths. */
export function filesOf(options: ValidateOptions): { files: string[]; reported: Set<string> } {
  const all = tenantFiles(options.tenantsDir ?? TENANTS_DIR).map((f) => path.resolve(f));
  const reported = new Set(options.files ? options.files.map((f) => path.resolve(f)) : all);
  return { files: [...new Set([...all, ...reported])], reported };
}

export function checkContext(options: ValidateOptions): FileCheckContext {
  return { catalog: options.catalog, today: options.today ?? todayUtc(), sharedMailDomains: options.sharedMailDomains };
}

/** Reads one tenant file and runs every single-file check on it. */
export function checkFile(file: string, name: string, context: FileCheckContext): { tenant?: LoadedTenant; problems: Problem[] } {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    return {
      problems: [
        {
          file: name,
          line: 1,
          col: 1,
          field: "(file)",
          message: `cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
          severity: "error",
        },
      ],
    };
  }
  const result = loadTenantText(name, bytes);
  if (!result.tenant) return result;
  result.tenant.path = file;
  result.tenant.digest = digestOf(bytes);
  const issues = tenantRules(result.tenant.tenant, {
    catalog: context.catalog,
    today: context.today,
    fileStem: fileStem(file),
    sharedMailDomains: context.sharedMailDomains,
  });
  return { tenant: result.tenant, problems: [...result.problems, ...locateIssues(result.tenant, issues)] };
}

/**
 * Loads and checks tenant files: every problem of every file in one pass. The cross-file rules
 * always see every file of the tenants folder, plus the files given.
 */
export function validateTenants(options: ValidateOptions): ValidateResult {
  const { files, reported } = filesOf(options);
  const context = checkContext(options);
  const names = new Map(files.map((f) => [f, displayName(f)]));
  const checked = files.map((file) => checkFile(file, names.get(file)!, context));
  return finishValidation(checked, names, reported, options.sharedMailDomains);
}

/**
 * Files per thread from which a validation shares the single-file checks between threads: each
 * thread costs its start and the copy of its results back. Measured on two cores (npm run validate,
 * two threads / one): 0.64 / 0.50 s at 3,000 files, 0.93 / 0.78 s at 5,100, 1.17 / 1.06 s at 7,500,
 * 1.50 / 1.44 s at 12,000, 1.74 / 1.83 s at 15,000, 2.37 / 2.51 s at 21,000, 3.3 / 4.2 s at 30,000:
 * two threads from 15,000 files.
 */
const MIN_FILES_PER_THREAD = 7500;

export interface ParallelOptions {
  /** Threads sharing the single-file checks, this one included when `here`. @default the cores (at most 4) */
  threads?: number;
  /**
   * This thread takes a share too. Without, every share goes to other threads and this one is
   * free meanwhile (the plan loads Pulumi while its files are checked). @default true
   */
  here?: boolean;
}

/**
 * validateTenants with the single-file checks (parsing, the schema, the single-file rules) shared
 * between threads, for many files; the cross-file rules run here, on every file's result, so the
 * result is validateTenants' own. Threads start from the commands' build (infra/cli/launch.cjs):
 * run from the TypeScript sources, the checks stay in this thread.
 */
export async function validateTenantsInParallel(options: ValidateOptions, parallel: ParallelOptions = {}): Promise<ValidateResult> {
  const { files, reported } = filesOf(options);
  const context = checkContext(options);
  const names = new Map(files.map((f) => [f, displayName(f)]));
  const here = parallel.here ?? true;
  const threads = Math.min(
    parallel.threads ?? Math.min(os.availableParallelism(), 4),
    Math.max(1, Math.floor(files.length / MIN_FILES_PER_THREAD)),
  );
  if ((here && threads <= 1) || !__filename.endsWith(".js")) {
    return finishValidation(
      files.map((file) => checkFile(file, names.get(file)!, context)),
      names,
      reported,
      options.sharedMailDomains,
    );
  }
  const size = Math.ceil(files.length / threads);
  const shares = Array.from({ length: threads }, (_, k) => files.slice(k * size, (k + 1) * size));
  const inThreads = (here ? shares.slice(1) : shares).map(async (share) => {
    const results = await new Promise<{ tenant?: Tenant; digest?: string; problems: Problem[] }[]>((resolve, reject) => {
      const worker = new Worker(path.join(__dirname, "validate-thread.js"), {
        workerData: { files: share, names: share.map((f) => names.get(f)!), context },
      });
      worker.once("message", resolve);
      worker.once("error", reject);
      worker.once("exit", (code) => reject(new Error(`a validation thread stopped (exit ${code})`)));
    });
    return results.map(({ tenant, digest, problems }, i) => {
      const file = share[i]!;
      return tenant
        ? { tenant: { file: names.get(file)!, tenant, locate: locateInFile(file), path: file, digest }, problems }
        : { problems };
    });
  });
  const own = here ? shares[0]!.map((file) => checkFile(file, names.get(file)!, context)) : [];
  const checked = [own, ...(await Promise.all(inThreads))].flat();
  return finishValidation(checked, names, reported, options.sharedMailDomains);
}

/** The cross-file rules over every file's single-file result, then what concerns the files reported on. */
export function finishValidation(
  checked: readonly { tenant?: LoadedTenant; problems: Problem[] }[],
  names: ReadonlyMap<string, string>,
  reported: ReadonlySet<string>,
  sharedMailDomains: readonly string[],
): ValidateResult {
  const problems: Problem[] = [];
  const tenants: LoadedTenant[] = [];
  for (const c of checked) {
    problems.push(...c.problems);
    if (c.tenant) tenants.push(c.tenant);
  }
  problems.push(...crossFileRules(tenants, sharedMailDomains));
  const shown = new Set([...reported].map((f) => names.get(f) ?? displayName(f)));
  return {
    tenants,
    files: [...shown],
    problems: sortProblems(problems.filter((p) => shown.has(p.file))),
  };
}

export function sortProblems(problems: Problem[]): Problem[] {
  return problems.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col || a.message.localeCompare(b.message));
}

export function hasErrors(problems: readonly Problem[]): boolean {
  return problems.some((p) => p.severity === "error");
}
