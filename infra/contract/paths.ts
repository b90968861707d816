import * as fs from "node:fs";
import * as path from "node:path";

/**
 * The project root, the folder holding Pulumi.yaml, found from this module's folder. The same code
 * runs from its sources (tsx, ts-node, vitest) and from the commands' build under build/, so a fixed
 * number of `..` would be wrong in one of them.
 */
export function findProjectRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "Pulumi.yaml"))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no Pulumi.yaml above ${from}`);
  }
}

export const PROJECT_ROOT = findProjectRoot(__dirname);

/**
 * The tenant files: tenants/ of the project, or the folder named by ALACARTE_TENANTS_DIR (read once,
 * when this module loads; relative to the working folder). The benchmark and tests point validate and
 * the plan, the program included, at a generated set this way.
 */
export const TENANTS_DIR = process.env.ALACARTE_TENANTS_DIR
  ? path.resolve(process.env.ALACARTE_TENANTS_DIR)
  : path.join(PROJECT_ROOT, "tenants");
