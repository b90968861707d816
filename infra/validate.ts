import * as fs from "node:fs";
import * as path from "node:path";
import { loadCatalog, type Catalog } from "./catalog";
import { TENANTS_DIR } from "./platform-config";
import { crossFileRules } from "./schema/cross-rules";
import { displayName, fileStem, loadTenantText, locateIssues, type LoadedTenant, type Problem } from "./schema/load";
import { tenantRules } from "./schema/rules";

export interface ValidateOptions {
  /** Files to report on. @default every file of tenants/ */
  files?: string[];
  /** Folder of all tenant files, for the cross-file rules. @default tenants/ */
  tenantsDir?: string;
  sharedMailDomains: readonly string[];
  catalog?: Catalog;
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
  return fs.readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

export function todayUtc(): string {
  return new Date().toISOString().slice(0, 10);
}

/**
 * Loads and checks tenant files: every problem of every file in one pass. The cross-file rules
 * always see every file of the tenants folder, plus the files given.
 */
export function validateTenants(options: ValidateOptions): ValidateResult {
  const catalog = options.catalog ?? loadCatalog();
  const today = options.today ?? todayUtc();
  const all = tenantFiles(options.tenantsDir ?? TENANTS_DIR).map((f) => path.resolve(f));
  const reported = new Set(options.files ? options.files.map((f) => path.resolve(f)) : all);
  const files = [...new Set([...all, ...reported])];
  // Each file's name, worked out once: with thousands of files, path arithmetic shows.
  const names = new Map<string, string>();
  const nameOf = (file: string) => {
    let name = names.get(file);
    if (name === undefined) names.set(file, name = displayName(file));
    return name;
  };

  const problems: Problem[] = [];
  const tenants: LoadedTenant[] = [];
  for (const file of files) {
    const name = nameOf(file);
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch (e) {
      problems.push({ file: name, line: 1, col: 1, field: "(file)", message: `cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, severity: "error" });
      continue;
    }
    const result = loadTenantText(name, bytes);
    problems.push(...result.problems);
    if (!result.tenant) continue;
    tenants.push(result.tenant);
    const issues = tenantRules(result.tenant.tenant, {
      catalog, today, fileStem: fileStem(file), sharedMailDomains: options.sharedMailDomains,
    });
    problems.push(...locateIssues(result.tenant, issues));
  }
  problems.push(...crossFileRules(tenants, options.sharedMailDomains));
  const shown = new Set([...reported].map(nameOf));
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
