import * as fs from "node:fs";

/**
 * Summarizes a V8 CPU profile (`node --cpu-prof`): the functions with the most self time, the
 * packages (or project folders) they live in, and the inclusive time of a few functions named on
 * the command line.
 *   tsx bench/profile.ts <file.cpuprofile> [--top 25] [<function name>...]
 */

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function where(url: string): string {
  const m = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (m) return m[1]!;
  if (url.startsWith("node:")) return "node:internal";
  const p = url.match(/\/(infra|components|bench|policies|test)\//);
  if (p) return `project ${p[1]}/`;
  return url ? "other" : "(vm)";
}

function main(): void {
  const args = process.argv.slice(2);
  const file = args.shift();
  if (!file) throw new Error("usage: tsx bench/profile.ts <file.cpuprofile> [--top 25] [<function>...]");
  let top = 25;
  const named: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--top") top = Number(args[++i]);
    else named.push(args[i]!);
  }
  const profile = JSON.parse(fs.readFileSync(file, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = profile.endTime - profile.startTime;

  const bySelf = new Map<string, number>();
  const byPackage = new Map<string, number>();
  for (const n of profile.nodes) {
    const us = selfUs.get(n.id) ?? 0;
    const f = n.callFrame;
    const key = `${f.functionName || "(anonymous)"}  ${where(f.url)}${f.url ? `:${f.url.split("/").pop()}:${f.lineNumber + 1}` : ""}`;
    bySelf.set(key, (bySelf.get(key) ?? 0) + us);
    byPackage.set(where(f.url), (byPackage.get(where(f.url)) ?? 0) + us);
  }
  const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms`;
  console.log(`${file}: ${(total / 1000).toFixed(0)} ms profiled\n\nself time by function:`);
  for (const [k, us] of [...bySelf].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us)}  ${k}`);
  console.log("\nself time by package:");
  for (const [k, us] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${pct(us)}  ${k}`);

  if (named.length) {
    // Inclusive time: samples whose stack contains the function (counted once per sample).
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    console.log("\ninclusive time:");
    for (const name of named) {
      let us = 0;
      profile.samples.forEach((id, i) => {
        for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
          if (byId.get(cur)!.callFrame.functionName === name) {
            us += profile.timeDeltas[i] ?? 0;
            break;
          }
        }
      });
      console.log(`  ${pct(us)}  ${name}`);
    }
  }
}

main();
