"use strict";
/**
 * Starts a command from its JavaScript build (build/, made by npm's install step), so a command
 * does not transpile the program's TypeScript at every start:
 *   node infra/cli/launch.cjs <validate|quote|plan|policy-config|accounts|mail-passwords|restore|decommission|import-legacy|touched|summary|deploy|post-summary> [args...]   (the npm scripts)
 *   node infra/cli/launch.cjs --build                                          (npm's prepare step)
 * The build is checked against the sources first (their names, sizes and modification times): an
 * edited source, a pulled commit or a new lockfile rebuilds it before the command runs, so a
 * command never runs stale code. The real Pulumi CLI does not use the build; it runs the sources
 * through tsx (Pulumi.yaml).
 *
 * Plain CommonJS, as it runs before anything is built.
 */
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..", "..");
const BUILD = path.join(ROOT, "build");
const STAMP = path.join(BUILD, "sources.sha1");

/** Each command's entry. */
const COMMANDS = {
  validate: "infra/cli/validate.ts",
  quote: "infra/cli/quote.ts",
  plan: "infra/cli/plan.ts",
  "policy-config": "infra/cli/policy-config.ts",
  accounts: "infra/cli/accounts.ts",
  "mail-passwords": "infra/cli/mail-passwords.ts",
  restore: "infra/cli/restore.ts",
  decommission: "infra/cli/decommission.ts",
  "import-legacy": "infra/cli/import-legacy.ts",
  touched: "infra/cli/touched.ts",
  summary: "infra/cli/summary.ts",
  deploy: "infra/cli/deploy.ts",
  "post-summary": "infra/cli/post-summary.ts",
};
/** Entries the commands start themselves: the plan's worker processes, validation threads. */
const ENTRIES = { ...COMMANDS, "plan-worker": "infra/plan/plan-worker.ts", "validate-thread": "infra/contract/validate-thread.ts" };
/** What the build is made of: the program's sources and the dependencies' exact versions. */
const SOURCE_DIRS = ["infra", "components", "policies"];
const SOURCE_FILES = ["package-lock.json", "tsconfig.json"];

function sourceFiles() {
  const out = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== "node_modules") walk(full);
      } else if (/\.(ts|cts|mts)$/.test(entry.name)) out.push(full);
    }
  };
  for (const dir of SOURCE_DIRS) walk(path.join(ROOT, dir));
  for (const file of SOURCE_FILES) if (fs.existsSync(path.join(ROOT, file))) out.push(path.join(ROOT, file));
  return out.sort();
}

function sourcesStamp() {
  const hash = crypto.createHash("sha1");
  for (const file of sourceFiles()) {
    const st = fs.statSync(file);
    hash.update(`${path.relative(ROOT, file)}\0${st.size}\0${st.mtimeMs}\n`);
  }
  return hash.digest("hex");
}

function isFresh(stamp) {
  try {
    return fs.readFileSync(STAMP, "utf8") === stamp;
  } catch {
    return false;
  }
}

/**
 * Bundles each entry with the project's own modules; packages stay in node_modules (one copy of
 * @pulumi/pulumi and its runtime state). Built beside, then moved in place: a command started
 * meanwhile sees the old build or the new one, never half of one.
 */
function build(stamp) {
  const esbuild = require("esbuild");
  const staging = fs.mkdtempSync(path.join(ROOT, ".build-"));
  try {
    esbuild.buildSync({
      absWorkingDir: ROOT,
      entryPoints: Object.entries(ENTRIES).map(([out, source]) => ({ in: source, out })),
      outdir: staging,
      bundle: true,
      packages: "external",
      platform: "node",
      format: "cjs",
      target: "node20",
      sourcemap: "linked",
      logLevel: "error",
    });
    fs.writeFileSync(path.join(staging, "sources.sha1"), stamp);
    const old = `${BUILD}.old-${process.pid}`;
    if (fs.existsSync(BUILD)) fs.renameSync(BUILD, old);
    try {
      fs.renameSync(staging, BUILD);
    } catch (e) {
      // Another command built it in the meantime: theirs is as good.
      if (!fs.existsSync(BUILD)) throw e;
      fs.rmSync(staging, { recursive: true, force: true });
    }
    fs.rmSync(old, { recursive: true, force: true });
  } catch (e) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw e;
  }
}

/** Builds if needed; false when the sources do not build (esbuild has printed why). */
function ensureBuilt() {
  const stamp = sourcesStamp();
  if (isFresh(stamp)) return true;
  try {
    build(stamp);
    return true;
  } catch (e) {
    if (!Array.isArray(e.errors)) throw e;
    console.error(`the sources do not build (${e.errors.length} error${e.errors.length === 1 ? "" : "s"} above)`);
    process.exitCode = 1;
    return false;
  }
}

/**
 * A plan of this many tenant files runs with a larger young generation (its worker processes get
 * it too, infra/plan/plan-workers.ts). A tenant stack allocates about 3 MB, a tenth of which outlives a
 * scavenge; 64 MB semi-spaces instead of V8's 16 mean fewer, cheaper scavenges. Measured on two
 * cores (bench/, whole plan, with / without): 1.83 / 1.59 s at 300 files, 3.51 / 3.43 s at 1,200
 * (the extra process that sets the flags costs about 0.2 s), 6.05 / 6.88 s at 3,000, 39.4–40.5 /
 * 45.3–46.1 s at 30,000. It costs about 170 MB per process: 903–937 MB instead of 735–744 MB at
 * 3,000 files, which must stay under 1 GB.
 */
const LARGE_PLAN_FILES = Number(process.env.ALACARTE_LARGE_PLAN_FILES) || 3000; // settable to test the path
const LARGE_PLAN_V8_FLAGS = ["--max-semi-space-size=64"];

/** The tenant files a plan reads (infra/model/platform-config.ts TENANTS_DIR), counted without loading the program. */
function tenantFileCount() {
  const dir = process.env.ALACARTE_TENANTS_DIR ? path.resolve(process.env.ALACARTE_TENANTS_DIR) : path.join(ROOT, "tenants");
  try {
    return fs.readdirSync(dir).filter((name) => name.endsWith(".yaml")).length;
  } catch {
    return 0; // the plan itself reports a missing folder
  }
}

/** Runs the command's build here, or, for a large plan, in a process started with its V8 flags (they cannot change once V8 runs). */
function run(command) {
  const entry = path.join(BUILD, `${command}.js`);
  const flagged = process.execArgv.some((a) => a.startsWith("--max-semi-space-size"));
  // A plan of named tenants runs few stacks, whatever the number of files.
  const fewStacks = process.argv.slice(2).some((a) => a === "--tenant" || a.startsWith("--tenant="));
  if (command !== "plan" || flagged || fewStacks || tenantFileCount() < LARGE_PLAN_FILES) {
    require(entry);
    return;
  }
  const { spawnSync } = require("node:child_process");
  const result = spawnSync(process.execPath, [...LARGE_PLAN_V8_FLAGS, ...process.execArgv, entry, ...process.argv.slice(2)], {
    stdio: "inherit",
  });
  if (result.error) throw result.error;
  if (result.signal) process.kill(process.pid, result.signal);
  else process.exitCode = result.status ?? 1;
}

const [command] = process.argv.splice(2, 1);
if (command === "--build") {
  ensureBuilt();
} else if (command && Object.hasOwn(COMMANDS, command)) {
  if (ensureBuilt()) run(command);
} else {
  console.error(`usage: node infra/cli/launch.cjs <${Object.keys(COMMANDS).join("|")}> [args...]`);
  process.exitCode = 2;
}
