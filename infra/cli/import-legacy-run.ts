import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { loadCatalog } from "../catalog/catalog";
import { TENANTS_DIR } from "../contract/paths";
import { hasErrors, todayUtc, validateTenants } from "../contract/validate";
import type { ExistingAccount } from "../model/accounts";
import { LEGACY_FILES, type LegacyFile, readLegacyExport } from "../model/legacy-export";
import { importLegacy, type ImportResult } from "../model/legacy-import";
import { importFiles } from "../model/legacy-import-files";
import { readPlatformConfig } from "../model/platform-config";
import { UsageError } from "./run";

export const USAGE =
  "usage: npm run import-legacy -- <export-dir> --out <dir> [--force] [--today YYYY-MM-DD] [--existing-accounts <users.json>] [--env <env>]";

/** What the previous run wrote, by relative path: the digest of each file (docs/migration.md "Running it again"). */
export const MANIFEST = ".import-legacy.json";

/** The file operations a write goes through; tests replace them to make one fail. */
export interface WriteIo {
  writeFile(file: string, data: string): void;
  rename(from: string, to: string): void;
}

const realIo: WriteIo = {
  writeFile: (file, data) => fs.writeFileSync(file, data, { mode: file.includes(`${path.sep}mail-passwords${path.sep}`) ? 0o600 : 0o644 }),
  rename: (from, to) => fs.renameSync(from, to),
};

export interface ImportRun {
  exitCode: number;
  /** Lines for the console: counts and slugs, never an email. */
  lines: string[];
  result?: ImportResult;
}

const digest = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");

/**
 * npm run import-legacy (docs/migration.md): reads the export, maps it, checks the tenant files
 * with the repository's own validator and every target file against what the previous run wrote,
 * then writes every file at once, or none.
 */
export function runImportLegacy(argv: readonly string[], io: WriteIo = realIo): ImportRun {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      out: { type: "string" },
      force: { type: "boolean", default: false },
      today: { type: "string" },
      "existing-accounts": { type: "string" },
      env: { type: "string", default: "prod" },
    },
  });
  if (positionals.length !== 1 || !values.out) throw new UsageError(USAGE);
  const exportDir = positionals[0]!;
  const out = path.resolve(values.out);
  const today = values.today ?? todayUtc();
  if (!/^\d{4}-\d{2}-\d{2}$/.test(today)) throw new UsageError(`--today must be YYYY-MM-DD. ${USAGE}`);
  if (!fs.existsSync(exportDir) || !fs.statSync(exportDir).isDirectory()) throw new UsageError(`${exportDir} is no folder. ${USAGE}`);

  const texts: Partial<Record<LegacyFile, string>> = {};
  for (const file of Object.keys(LEGACY_FILES) as LegacyFile[]) {
    const full = path.join(exportDir, file);
    if (fs.existsSync(full)) texts[file] = fs.readFileSync(full, "utf8");
  }
  let existing: ExistingAccount[] = [];
  if (values["existing-accounts"]) {
    try {
      const parsed: unknown = JSON.parse(fs.readFileSync(values["existing-accounts"], "utf8"));
      // Keycloak's GET /users answers a list of UserRepresentation; a partial import file holds them under `users`.
      existing = (Array.isArray(parsed) ? parsed : (parsed as { users?: ExistingAccount[] }).users) ?? [];
      if (!Array.isArray(existing)) throw new Error("no list of users");
    } catch (e) {
      // JSON.parse quotes a piece of the text in its message, which may hold an address.
      throw new UsageError(`--existing-accounts: cannot read a JSON list of Keycloak users (${masked((e as Error).message)})`);
    }
  }

  const platform = readPlatformConfig(values.env!);
  const catalog = loadCatalog();
  const result = importLegacy(readLegacyExport(texts), {
    today,
    sharedMailDomains: platform.sharedMailDomains,
    maxMailboxGb: catalog.mail.maxMailboxGb,
    existingAccounts: existing,
  });
  const files = importFiles(result, { today });

  // Every target first: a file of the folder that is neither what this run writes nor what the previous run wrote was edited by hand.
  const previous = readManifest(out);
  const edited: string[] = [];
  for (const [rel, data] of files) {
    const target = path.join(out, rel);
    if (!fs.existsSync(target)) continue;
    const now = fs.readFileSync(target);
    if (now.equals(Buffer.from(data))) continue;
    if (previous.get(rel) !== digest(now)) edited.push(rel);
  }
  // What the previous run wrote and this one does not (a mailbox or tenant gone from the export) is removed:
  // a stale app password must not reach the mail host's store.
  const stale: string[] = [];
  for (const [rel, sum] of previous) {
    const target = path.join(out, rel);
    if (files.has(rel) || !fs.existsSync(target)) continue;
    if (digest(fs.readFileSync(target)) === sum) stale.push(rel);
    else edited.push(rel);
  }
  if (edited.length > 0 && !values.force) {
    return {
      exitCode: 1,
      result,
      lines: [
        `nothing written: ${edited.length} file${edited.length === 1 ? "" : "s"} of ${out} differ from what the import wrote before (edited by hand, or not the import's):`,
        ...edited.sort().map((f) => `  ${masked(f)}`),
        "compare them with a run into an empty folder, then run again with --force to replace them",
      ],
    };
  }
  // With --force, an edited file the export no longer gives goes too.
  for (const rel of edited) if (!files.has(rel)) stale.push(rel);

  // The tenant files as the repository's validator sees them, beside the other tenant files of the folder (the cross-file rules).
  const problems = validateOutput(out, files, platform.sharedMailDomains, catalog, today);
  if (problems.length > 0) {
    return {
      exitCode: 1,
      result,
      lines: ["nothing written: the tenant files would not validate:", ...problems.map((p) => `  ${p}`)],
    };
  }

  const manifest = [...files].map(([rel, data]) => [rel, digest(data)] as const).sort(([a], [b]) => (a < b ? -1 : 1));
  files.set(MANIFEST, `${JSON.stringify({ files: Object.fromEntries(manifest) }, null, 2)}\n`);
  const written = writeAll(out, files, stale.sort(), io);

  const c: Record<string, number> = {};
  for (const r of result.rows) c[r.outcome] = (c[r.outcome] ?? 0) + 1;
  return {
    exitCode: 0,
    result,
    lines: [
      `${result.tenants.length} tenant files: ${result.tenants.map((t) => t.slug).join(", ")}`,
      `rows: ${c.imported ?? 0} imported, ${c.merged ?? 0} merged, ${c.rejected ?? 0} rejected, ${c["not-imported"] ?? 0} not imported; ${result.anomalies.length} anomalies`,
      `${result.users.length} accounts for Keycloak (${result.resetAccounts.length} get the reset mail), ${result.mailPasswords.length} mailbox passwords, ${result.sharedMailboxes.length} shared mailboxes`,
      `${written} files written, ${files.size - written} unchanged, ${stale.length} removed (no longer in the export), in ${out}; see import-report.md`,
    ],
  };
}

function readManifest(out: string): Map<string, string> {
  try {
    const parsed = JSON.parse(fs.readFileSync(path.join(out, MANIFEST), "utf8")) as { files?: Record<string, string> };
    return new Map(Object.entries(parsed.files ?? {}));
  } catch {
    return new Map();
  }
}

/** Addresses in a line for the console (a path of the app-password store holds one) shown as `<email>`. */
function masked(line: string): string {
  return line.replace(/[^\s@"'(),:/]+@[^\s"'(),:/]+/g, "<email>");
}

/**
 * Problems of the import's tenant files (file:line field and message), addresses masked: this goes
 * to the console. They are checked beside the repository's tenant files (tenants/, or
 * ALACARTE_TENANTS_DIR) and those of --out, which replace a repository file of the same name: the
 * cross-file rules hold for the folder the files will join.
 */
function validateOutput(
  out: string,
  files: ReadonlyMap<string, string>,
  sharedMailDomains: readonly string[],
  catalog: ReturnType<typeof loadCatalog>,
  today: string,
): string[] {
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), "alacarte-import-"));
  try {
    for (const dir of [TENANTS_DIR, out]) {
      if (!fs.existsSync(dir)) continue;
      for (const name of fs.readdirSync(dir)) if (/\.ya?ml$/.test(name)) fs.copyFileSync(path.join(dir, name), path.join(staging, name));
    }
    const ours: string[] = [];
    for (const [rel, data] of files) {
      if (!rel.endsWith(".yaml") || rel.includes("/")) continue;
      fs.writeFileSync(path.join(staging, rel), data);
      ours.push(path.join(staging, rel));
    }
    const result = validateTenants({ files: ours, tenantsDir: staging, sharedMailDomains, catalog, today });
    if (!hasErrors(result.problems)) return [];
    return result.problems
      .filter((p) => p.severity === "error")
      .map((p) => `${path.basename(p.file)}:${p.line}:${p.col} ${p.field}: ${masked(p.message)}`);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Every file into a temporary file beside its target, then each renamed into place (a rename is
 * atomic on one file system). A failure before the renames removes the temporary files; one during
 * them puts the files already renamed back as they were. Returns how many files changed.
 */
function writeAll(out: string, files: ReadonlyMap<string, string>, stale: readonly string[], io: WriteIo): number {
  const changed = [...files].filter(([rel, data]) => {
    const target = path.join(out, rel);
    return !fs.existsSync(target) || !fs.readFileSync(target).equals(Buffer.from(data));
  });
  const temps: { temp: string; target: string; before?: Buffer }[] = [];
  const createdDirs: string[] = [];
  const mkdirs = (dir: string) => {
    if (fs.existsSync(dir)) return;
    mkdirs(path.dirname(dir));
    fs.mkdirSync(dir);
    createdDirs.push(dir);
  };
  try {
    for (const [rel, data] of changed) {
      const target = path.join(out, rel);
      mkdirs(path.dirname(target));
      const temp = path.join(path.dirname(target), `.${path.basename(target)}.import-tmp-${process.pid}`);
      temps.push({ temp, target, ...(fs.existsSync(target) ? { before: fs.readFileSync(target) } : {}) });
      io.writeFile(temp, data);
    }
  } catch (e) {
    for (const t of temps) fs.rmSync(t.temp, { force: true });
    for (const dir of createdDirs.reverse()) fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  // A removal is a rename too (aside, then deleted once everything is in place), so that a failure can put it back.
  const removals = stale.map((rel) => {
    const file = path.join(out, rel);
    return { file, aside: path.join(path.dirname(file), `.${path.basename(file)}.import-old-${process.pid}`) };
  });
  const done: typeof temps = [];
  const setAside: typeof removals = [];
  try {
    for (const t of temps) {
      io.rename(t.temp, t.target);
      done.push(t);
    }
    for (const r of removals) {
      io.rename(r.file, r.aside);
      setAside.push(r);
    }
  } catch (e) {
    for (const r of setAside) fs.renameSync(r.aside, r.file);
    for (const t of done) {
      if (t.before !== undefined) fs.writeFileSync(t.target, t.before);
      else fs.rmSync(t.target, { force: true });
    }
    for (const t of temps) fs.rmSync(t.temp, { force: true });
    for (const dir of createdDirs.reverse()) fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  for (const r of removals) {
    fs.rmSync(r.aside, { force: true });
    // A store folder left empty (mail-passwords/<username>/) goes too.
    const dir = path.dirname(r.file);
    if (dir !== out && fs.readdirSync(dir).length === 0) fs.rmdirSync(dir);
  }
  return changed.length;
}
