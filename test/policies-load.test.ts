import { spawn, spawnSync } from "node:child_process";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(__dirname, "..");
const pack = path.join(root, "policies");

/**
 * What @pulumi/pulumi/cmd/run-policy-pack (run.ts) does before requiring the pack: cwd = the pack
 * folder, ts-node registered with typeCheck, its default compiler options (module and
 * moduleResolution nodenext, TypeScript ≥ 4.7) under the pack's tsconfig.json. CommonJS, no tsx.
 */
const REGISTER = `
const tsutils = require("@pulumi/pulumi/tsutils");
const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
if (!tsnodeRequire.endsWith("ts-node")) throw new Error("the runner would use its vendored ts-node: " + tsnodeRequire);
require(tsnodeRequire).register({
  typeCheck: true,
  compiler: typescriptRequire,
  compilerOptions: { target: "ES2020", module: "nodenext", moduleResolution: "nodenext", sourceMap: "true",
    ...tsutils.loadTypeScriptCompilerOptions("tsconfig.json") },
});
`;

describe("the policy pack loads the way the CLI's policy runner loads it", () => {
  it("requires policies.ts as CommonJS through ts-node with type checking", () => {
    const run = spawnSync(
      process.execPath,
      [
        "-e",
        `${REGISTER}
      if (typeof require("../infra/catalog/catalog").loadCatalog !== "function") throw new Error("no catalog");
      const m = require("./policies.ts");
      console.log(JSON.stringify(m.policies.map((p) => [p.name, p.enforcementLevel])));`,
      ],
      { cwd: pack, encoding: "utf8" },
    );
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const levels = Object.fromEntries(JSON.parse(run.stdout) as [string, string][]);
    expect(levels["storage-has-quota"]).toBe("mandatory");
    expect(levels["mail-allowance"]).toBe("advisory");
    expect(Object.keys(levels)).toHaveLength(13);
  });

  it("index.ts constructs the PolicyPack, which serves the analyzer and prints its port", async () => {
    const child = spawn(process.execPath, ["-e", `${REGISTER} require("./index.ts");`], { cwd: pack });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += String(d);
    });
    const port = await new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (d) => resolve(String(d).trim()));
      child.on("exit", (code) => reject(new Error(`exited ${code}: ${stderr}`)));
    });
    child.kill();
    expect(port).toMatch(/^\d+$/);
  });
});
