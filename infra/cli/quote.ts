import * as path from "node:path";
import { parseArgs } from "node:util";
import { loadCatalog } from "../catalog/catalog";
import { readPlatformConfig } from "../model/platform-config";
import { formatEur, quoteTenant, summarize, type Quote } from "../catalog/pricing";
import { fileStem, formatProblem } from "../contract/load";
import { hasErrors, validateTenants } from "../contract/validate";
import { runCli, UsageError } from "./run";

function printQuote(q: Quote, rate: string): void {
  const width = Math.max(...q.lines.map((l) => l.label.length), 28) + 2;
  console.log(
    `${q.slug} (${rate}${q.solidarity ? `, ${q.solidarity.percent === "undecided" ? "reduction to be decided" : `${q.solidarity.percent}% reduction`}` : ""})`,
  );
  for (const line of q.lines) console.log(`  ${line.label.padEnd(width)}${formatEur(line.yearlyEur).padStart(14)}`);
  if (q.solidarity) {
    const r = q.solidarity.reductionEur;
    console.log(`  ${"Solidarity reduction".padEnd(width)}${(r === "undecided" ? "to be decided" : `-${r.toFixed(2)} €`).padStart(14)}`);
  }
  console.log(`  ${"Total per year".padEnd(width)}${formatEur(q.totalEur).padStart(14)}`);
  if (q.undecided.length) console.log(`  not counted, to be decided: ${q.undecided.join("; ")}`);
}

/** npm run quote [-- <slug or file>...]: each tenant's yearly lines and total, then the totals across tenants. */
runCli(() => {
  const { positionals } = parseArgs({ allowPositionals: true, options: {} });
  const platform = readPlatformConfig("prod");
  const result = validateTenants({ sharedMailDomains: platform.sharedMailDomains, catalog: loadCatalog() });
  if (hasErrors(result.problems)) {
    for (const p of result.problems) console.error(formatProblem(p));
    return 1;
  }
  const wanted = new Set(positionals.map((p) => fileStem(path.basename(p))));
  const tenants = result.tenants.filter((t) => !wanted.size || wanted.has(t.tenant.slug));
  for (const slug of wanted) {
    if (!tenants.some((t) => t.tenant.slug === slug)) throw new UsageError(`no tenant "${slug}" under tenants/`);
  }
  const catalog = loadCatalog();
  const quotes = tenants.map((t) => {
    const q = quoteTenant(t.tenant, catalog);
    printQuote(q, `${t.tenant.type}, ${t.tenant.rate} rate`);
    console.log("");
    return q;
  });
  const s = summarize(quotes);
  console.log(
    `${s.tenants} tenant${s.tenants === 1 ? "" : "s"}: yearly revenue ${formatEur(s.revenueEur)} (decided lines), ` +
      `solidarity reductions ${formatEur(s.solidarityEur)} (to be covered by donations), ${s.undecidedLines} line${s.undecidedLines === 1 ? "" : "s"} to be decided`,
  );
  return 0;
});
