import { parseArgs } from "node:util";
import { loadCatalog } from "../catalog/catalog";
import { readPlatformConfig } from "../model/platform-config";
import { formatProblem } from "../contract/load";
import { hasErrors, validateTenantsInParallel } from "../contract/validate";
import { runCli } from "./run";

/** npm run validate [-- <files>]: every problem of every file, one line each. */
runCli(async () => {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { env: { type: "string", default: "prod" } },
  });
  // The shared mail domains are those of production (docs/contract.md), read from its settings file.
  const platform = readPlatformConfig(values.env!);
  const result = await validateTenantsInParallel({
    files: positionals.length ? positionals : undefined,
    sharedMailDomains: platform.sharedMailDomains,
    catalog: loadCatalog(),
  });
  for (const problem of result.problems) console.log(formatProblem(problem));
  const errors = result.problems.filter((p) => p.severity === "error").length;
  const warnings = result.problems.length - errors;
  const counts = `${result.files.length} tenant file${result.files.length === 1 ? "" : "s"}`;
  if (hasErrors(result.problems)) {
    console.log(`${counts}: ${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}`);
    return 1;
  }
  console.log(`${counts} valid${warnings ? ` (${warnings} warning${warnings === 1 ? "" : "s"})` : ""}`);
  return 0;
});
