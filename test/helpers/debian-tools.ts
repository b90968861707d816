/**
 * The Debian tools the tests run (`test/debian-tools.txt`, shared with `test/setup-debian.sh`).
 * A test that needs one fails at once, with one line naming the tool, its package and the script
 * that installs it; it is never skipped.
 */
import { accessSync, constants, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { beforeEach } from "vitest";

export const TOOLS_FILE = path.resolve(__dirname, "..", "debian-tools.txt");

/** Folders looked in after PATH: a Debian user's PATH has no sbin, where postmap lives. Same as the script. */
const SBIN = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

/** Tool → Debian package, from the text of `test/debian-tools.txt` ("<tool> <package>" a line, # comments). */
export function parseToolList(text: string): Map<string, string> {
  const tools = new Map<string, string>();
  text.split("\n").forEach((raw, i) => {
    const fields = raw.replace(/#.*/, "").trim().split(/\s+/).filter(Boolean);
    if (fields.length === 0) return;
    if (fields.length !== 2) throw new Error(`test/debian-tools.txt:${i + 1}: want "<tool> <package>", got "${raw.trim()}"`);
    if (tools.has(fields[0]!)) throw new Error(`test/debian-tools.txt:${i + 1}: ${fields[0]} listed twice`);
    tools.set(fields[0]!, fields[1]!);
  });
  return tools;
}

let listed: Map<string, string> | undefined;
export const debianTools = (): Map<string, string> => (listed ??= parseToolList(readFileSync(TOOLS_FILE, "utf8")));

/** The absolute path of an executable `name` in PATH (then the sbin folders), or undefined. Never runs it. */
export function findTool(name: string, pathVar = process.env.PATH ?? ""): string | undefined {
  // A tool outside PATH (a daemon's helper such as Dovecot's lmtp) is listed by its absolute path.
  const dirs = path.isAbsolute(name) ? [""] : [...pathVar.split(path.delimiter).filter((d) => path.isAbsolute(d)), ...SBIN];
  for (const dir of dirs) {
    const file = dir ? path.join(dir, name) : name;
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** An Error printed as its message alone: the line says everything, a stack would only bury it. */
function oneLine(message: string): Error {
  const error = new Error(message);
  error.stack = `Error: ${message}`;
  return error;
}

/**
 * The absolute path of the Debian tool `name`; throws, in one line, when it is missing:
 * `<tool> is missing (Debian package <pkg>): run sh test/setup-debian.sh`.
 * `tools` and `pathVar` default to `test/debian-tools.txt` and PATH. Run a tool that lives in an
 * sbin folder (postmap) by this path: its name alone is not found through a user's PATH.
 */
export function requireTool(name: string, options: { tools?: Map<string, string>; pathVar?: string } = {}): string {
  const pkg = (options.tools ?? debianTools()).get(name);
  if (pkg === undefined) throw oneLine(`${name} is not listed in test/debian-tools.txt: add a line "${name} <Debian package>"`);
  const found = findTool(name, options.pathVar);
  if (found === undefined) throw oneLine(`${name} is missing (Debian package ${pkg}): run sh test/setup-debian.sh`);
  return found;
}

/**
 * Call at the top of a describe whose tests run these tools: each of its tests fails at once with
 * requireTool's line when one is missing (a throwing beforeAll would report them as skipped).
 */
export function needTools(...names: string[]): void {
  beforeEach(() => {
    for (const name of names) requireTool(name);
  });
}
