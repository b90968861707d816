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
