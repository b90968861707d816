import * as fs from "node:fs";
import * as path from "node:path";
import { FAILSAFE_SCHEMA, load as loadPlain, Type, type LoadOptions } from "js-yaml";
import { type Document, isMap, isScalar, isSeq, Lexer, LineCounter, parseDocument, visit, type Node } from "yaml";
import type { z } from "zod";
import { PROJECT_ROOT } from "./paths";
import { formatPath, type Issue, type PathKey } from "./rules";
import { tenantSchema, type Tenant } from "./tenant";

/** A problem to show a person: where it is and what to do about it. */
export interface Problem {
  /** The file as given (relative to the working folder when it lies under it). */
  file: string;
  line: number;
  col: number;
  /** Field path such as `members[1].email`, or `(file)` for the whole file. */
  field: string;
  message: string;
  severity: "error" | "warning";
}

export function formatProblem(p: Problem): string {
  return `${p.file}:${p.line}:${p.col} ${p.field}: ${p.severity === "warning" ? "warning: " : ""}${p.message}`;
}

/** A tenant file that parsed and passed the schema, with a way back to its source positions. */
export interface LoadedTenant {
  file: string;
  tenant: Tenant;
  locate(path: readonly PathKey[], onKey?: boolean): { line: number; col: number };
  /** Digest of the bytes it was loaded from, when read from a file (validate.ts). */
  digest?: string;
  /** Absolute path of that file. */
  path?: string;
}

export interface LoadResult {
  tenant?: LoadedTenant;
  problems: Problem[];
}

/** Files larger than this are no hand-written tenant file; refusing them early bounds time and memory. */
export const MAX_FILE_BYTES = 1024 * 1024;
const MAX_ALIASES = 50;
const MAX_DEPTH = 32;

function nodeAt(doc: Document, keys: readonly PathKey[], onKey: boolean): Node | undefined {
  let node: unknown = doc.contents;
  let last: Node | undefined = (doc.contents as Node | null) ?? undefined;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key));
      if (!pair) return last;
      if (onKey && i === keys.length - 1 && isScalar(pair.key)) return pair.key;
      node = pair.value;
      last = (pair.value as Node | null) ?? (pair.key as Node);
    } else if (isSeq(node) && typeof key === "number") {
      node = node.items[key];
      if (node === undefined) return last;
      last = node as Node;
    } else {
      return last;
    }
  }
  return last;
}

/** Indentation plus block indicators on one line, beyond which no tenant file goes. */
const MAX_BLOCK_NESTING = 4 * MAX_DEPTH;

/**
 * The offset where the text nests too deep, measured on the lexer's tokens before anything
 * recursive runs. yaml's parser and composer recurse once per level: a few thousand `[` or
 * `- - -` exhaust the stack, and near the stack limit V8 can abort the whole process
 * ("RegExpCompiler Allocation failed") instead of throwing. The lexer is an iterative state
 * machine that keeps quoted and block scalars whole, so brackets inside them do not count.
 */
function excessiveNesting(text: string): number | undefined {
  let offset = 0;
  let flow = 0;
  let lineStart = true;
  let block = 0;
  for (const token of new Lexer().lex(text)) {
    // Control tokens (document, scalar and flow-error markers) take no room in the source.
    if (token === "\u0002" || token === "\u001f" || token === "\u0018") continue;
    if (token === "\n" || token === "\r\n") {
      lineStart = true;
      block = 0;
    } else if (token === "[" || token === "{") {
      if (++flow > MAX_DEPTH) return offset;
    } else if (token === "]" || token === "}") {
      flow = Math.max(0, flow - 1);
    } else if (flow === 0 && (token === "-" || token === "?" || token === ":")) {
      if (++block > MAX_BLOCK_NESTING) return offset;
    } else if (lineStart && flow === 0 && /^[ \t]+$/.test(token)) {
      block += token.length;
      if (block > MAX_BLOCK_NESTING) return offset;
    }
    if (token !== "\n" && token !== "\r\n") lineStart = false;
    offset += token.length;
  }
  return undefined;
}

function positionOf(lineCounter: LineCounter, offset: number | undefined) {
  return offset === undefined ? { line: 1, col: 1 } : lineCounter.linePos(offset);
}

/** Allowed keys of the object schema found at a data path, for "did you mean". */
function allowedKeys(schema: z.ZodType, keys: readonly PathKey[]): string[] {
  let current: any = schema;
  const unwrap = () => {
    while (current?._zod?.def && ["optional", "default", "prefault", "nullable", "pipe"].includes(current._zod.def.type)) {
      current = current._zod.def.innerType ?? current._zod.def.in;
    }
  };
  unwrap();
  for (const key of keys) {
    if (current?._zod?.def?.type === "object") current = current._zod.def.shape[key];
    else if (current?._zod?.def?.type === "array") current = current._zod.def.element;
    else return [];
    unwrap();
  }
  return current?._zod?.def?.type === "object" ? Object.keys(current._zod.def.shape) : [];
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = c.toLowerCase() === word.toLowerCase() ? 0 : editDistance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

function valueAt(data: unknown, keys: readonly PathKey[]): unknown {
  let v: any = data;
  for (const k of keys) {
    if (v === null || typeof v !== "object") return undefined;
    v = v[k as any];
  }
  return v;
}

function describe(value: unknown): string {
  if (value === null) return "nothing (null)";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return `the text "${value.length > 40 ? `${value.slice(0, 37)}...` : value}"`;
  return `${typeof value} ${String(value)}`;
}

/** Turns zod issues into located, actionable issues. */
function schemaIssues(error: z.ZodError, data: unknown): (Issue & { onKey?: boolean })[] {
  const out: (Issue & { onKey?: boolean })[] = [];
  for (const issue of error.issues) {
    const keys = issue.path as PathKey[];
    if (issue.code === "unrecognized_keys") {
      const allowed = allowedKeys(tenantSchema, keys);
      for (const key of issue.keys) {
        const hint = didYouMean(key, allowed);
        out.push({
          path: [...keys, key],
          severity: "error",
          onKey: true,
          message: `unknown field "${key}"${hint ? `; did you mean "${hint}"?` : `; allowed here: ${allowed.join(", ")}`}`,
        });
      }
      continue;
    }
    const value = valueAt(data, keys);
    let message = issue.message;
    if (issue.code === "invalid_type") {
      message =
        value === undefined
          ? "is required"
          : `must be ${issue.expected === "object" ? "a mapping" : issue.expected === "array" ? "a list" : `a ${issue.expected}`}, not ${describe(value)}${
              // YAML reads an unquoted 7.1 as a number (and 7.10 as 7.1): quotes keep it text.
              issue.expected === "string" && typeof value === "number" ? "; write it in quotes" : ""
            }`;
    } else if (issue.code === "invalid_value" && value === undefined) {
      message = "is required";
    } else if (issue.code === "invalid_value") {
      message = `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}, not ${describe(value)}`;
    } else if (issue.code === "too_small" && Array.isArray(value)) {
      message = issue.message.startsWith("Too small") ? `needs at least ${issue.minimum} entries` : issue.message;
    }
    out.push({ path: keys, message, severity: "error" });
  }
  return out;
}

/** How a file is named in messages: relative to the working folder when it lies under it. */
export function displayName(file: string): string {
  // The real CLI runs the program from infra/ (Pulumi.yaml's main): name files from the project
  // root first, so every command says tenants/<slug>.yaml wherever it was started.
  for (const base of [PROJECT_ROOT, process.cwd()]) {
    const relative = path.relative(base, path.resolve(file));
    if (relative && !relative.startsWith("..") && !path.isAbsolute(relative)) return relative;
  }
  return file;
}

/** One decoder for every file: decoding keeps no state between whole-buffer calls. */
const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** yaml's options for a tenant file: the positioned path and the lazy `locate` parse alike. */
const PARSE_OPTIONS = { uniqueKeys: true, prettyErrors: false, strict: true, schema: "core" } as const;

/**
 * Parses and checks one tenant file's bytes against the schema. Never throws for bad input:
 * every mistake comes back as a located problem.
 *
 * Most files are clean, and positions matter only to report a problem: a clean, plain file takes
 * the fast path (js-yaml without positions, then the schema), and its positions are parsed on the
 * first `locate` call only. Anything else (a problem, or anything unusual the fast path does not
 * vouch for) goes through the positioned path, whose messages are the reference.
 */
export function loadTenantText(file: string, bytes: Uint8Array | string): LoadResult {
  return loadTenantFast(file, bytes) ?? loadTenantTextPositioned(file, bytes);
}

/**
 * The positioned path: yaml with a line counter, every check, every problem located. The
 * reference for every message; `loadTenantText` gives the same result, faster for clean files.
 */
export function loadTenantTextPositioned(file: string, bytes: Uint8Array | string): LoadResult {
  const at = (line: number, col: number, field: string, message: string): Problem => ({
    file,
    line,
    col,
    field,
    message,
    severity: "error",
  });
  if (bytes.length > MAX_FILE_BYTES) {
    return { problems: [at(1, 1, "(file)", `is ${bytes.length} bytes; a tenant file is at most ${MAX_FILE_BYTES} bytes`)] };
  }
  let text: string;
  try {
    text = typeof bytes === "string" ? bytes : UTF8.decode(bytes);
  } catch {
    return { problems: [at(1, 1, "(file)", "is not valid UTF-8 text; save it as UTF-8")] };
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  // YAML streams hold printable characters only; yaml itself lets a NUL through into a value.
  const control = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u0084\u0086-\u009f]/.exec(text);
  if (control) {
    const before = text.slice(0, control.index);
    const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0");
    return {
      problems: [
        at(
          before.split("\n").length,
          control.index - before.lastIndexOf("\n"),
          "(file)",
          `contains the control character U+${code}, which YAML does not allow; remove it`,
        ),
      ],
    };
  }

  const tooDeep = excessiveNesting(text);
  if (tooDeep !== undefined) {
    const before = text.slice(0, tooDeep);
    const line = before.split("\n").length;
    return {
      problems: [
        at(line, tooDeep - before.lastIndexOf("\n"), "(yaml)", `nesting deeper than ${MAX_DEPTH} levels; a tenant file is much flatter`),
      ],
    };
  }

  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, ...PARSE_OPTIONS });
  const syntax = [...doc.errors, ...doc.warnings].map((e) => {
    const pos = positionOf(lineCounter, e.pos[0]);
    const message =
      e.code === "DUPLICATE_KEY"
        ? "this key appears twice in the same mapping"
        : e.code === "TAG_RESOLVE_FAILED"
          ? "custom YAML tags are not allowed in a tenant file"
          : e.code === "MULTIPLE_DOCS"
            ? "holds several YAML documents (---); a tenant file is one document"
            : `YAML syntax: ${e.message.split("\n")[0]}`;
    return at(pos.line, pos.col, "(yaml)", message);
  });
  // Tags and anchors beyond plain YAML have no place in a hand-written tenant file.
  let depthProblem: Problem | undefined;
  if (!syntax.length) {
    visit(doc, {
      Node(_key, node, pathUp) {
        if ((node as any).tag && !String((node as any).tag).startsWith("tag:yaml.org,2002:")) {
          const pos = positionOf(lineCounter, node.range?.[0]);
          syntax.push(at(pos.line, pos.col, "(yaml)", `custom YAML tag ${(node as any).tag} is not allowed in a tenant file`));
        }
        if (!depthProblem && pathUp.length > MAX_DEPTH * 2) {
          const pos = positionOf(lineCounter, node.range?.[0]);
          depthProblem = at(pos.line, pos.col, "(yaml)", `nesting deeper than ${MAX_DEPTH} levels; a tenant file is much flatter`);
          return visit.BREAK;
        }
        return undefined;
      },
    });
  }
  if (depthProblem) syntax.push(depthProblem);
  if (syntax.length) return { problems: syntax };
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    return { problems: [at(1, 1, "(file)", "is empty; a tenant file starts with slug:, name:, type:, contact: and members:")] };
  }

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (e) {
    return { problems: [at(1, 1, "(yaml)", `too many alias expansions (${(e as Error).message.split("\n")[0]})`)] };
  }

  const locate = (keys: readonly PathKey[], onKey = false) => positionOf(lineCounter, nodeAt(doc, keys, onKey)?.range?.[0]);
  const toProblem = (issue: Issue & { onKey?: boolean }): Problem => {
    const pos = locate(issue.path, issue.onKey);
    return { file, line: pos.line, col: pos.col, field: formatPath(issue.path), message: issue.message, severity: issue.severity };
  };
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    return { problems: [at(1, 1, "(file)", `must be a mapping of fields (slug:, name:, ...), not ${describe(data)}`)] };
  }
  const parsed = tenantSchema.safeParse(data);
  if (!parsed.success) return { problems: schemaIssues(parsed.error, data).map(toProblem) };
  return { tenant: { file, tenant: parsed.data, locate }, problems: [] };
}

// ---------------------------------------------------------------------------------------------
// The fast path.

/**
 * Plain scalars resolved exactly as yaml's core schema does (YAML 1.2: no timestamps, so
 * `2026-12-31` stays text; no `yes`/`no`, no `1_000`), so both paths give the same data.
 */
const CORE_AS_YAML = FAILSAFE_SCHEMA.extend({
  implicit: [
    new Type("tag:yaml.org,2002:null", { kind: "scalar", resolve: (s: string) => /^(?:~|[Nn]ull|NULL)?$/.test(s), construct: () => null }),
    new Type("tag:yaml.org,2002:bool", {
      kind: "scalar",
      resolve: (s: string) => /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/.test(s),
      construct: (s: string) => s[0] === "t" || s[0] === "T",
    }),
    new Type("tag:yaml.org,2002:int", {
      kind: "scalar",
      resolve: (s: string) => /^(?:0o[0-7]+|[-+]?[0-9]+|0x[0-9a-fA-F]+)$/.test(s),
      construct: (s: string) =>
        s.startsWith("0o") ? parseInt(s.slice(2), 8) : s.startsWith("0x") ? parseInt(s.slice(2), 16) : parseInt(s, 10),
    }),
    new Type("tag:yaml.org,2002:float", {
      kind: "scalar",
      resolve: (s: string) =>
        /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/.test(s) ||
        /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/.test(s) ||
        /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/.test(s),
      construct: (s: string) => (/nan$/i.test(s) ? NaN : /inf$/i.test(s) ? (s[0] === "-" ? -Infinity : Infinity) : parseFloat(s)),
    }),
  ],
});

/**
 * What the fast path leaves to the positioned path, found in one scan: anchors and aliases (js-yaml
 * would expand an alias bomb), tags, directives and document markers, tabs, line breaks other than
 * \n and \r\n (parsers differ on a lone \r), control characters and other odd invisible ones,
 * and a `#` right after a closing bracket, brace or quote (js-yaml reads `]#` as a comment, where
 * YAML 1.2 and the positioned parser want white space before one). Found anywhere, even inside
 * quotes or comments: a false alarm only costs that file the slower path.
 */
const UNUSUAL = /[&*!\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029\ufeff]|\r(?!\n)|^(?:%|---|\.\.\.)|[\]}"']#/m;

/**
 * Whether the lexer-based nesting guard surely stays quiet, without running the lexer (which costs
 * twice the whole fast parse). The guard counts one per `[` or `{`, and restarts its block count at
 * each line break token, counting at most one per character in between. Line break tokens are the
 * line breaks of the text except inside a scalar: with no scalar over several lines (which the fast
 * path leaves to the positioned path), lines of at most MAX_BLOCK_NESTING characters keep it quiet.
 */
function surelyShallow(text: string): boolean {
  for (let start = 0; start <= text.length; ) {
    const end = text.indexOf("\n", start);
    if ((end === -1 ? text.length : end) - start > MAX_BLOCK_NESTING) return false;
    if (end === -1) break;
    start = end + 1;
  }
  let open = 0;
  for (let i = text.indexOf("["); i !== -1 && open <= MAX_DEPTH; i = text.indexOf("[", i + 1)) open++;
  for (let i = text.indexOf("{"); i !== -1 && open <= MAX_DEPTH; i = text.indexOf("{", i + 1)) open++;
  return open <= MAX_DEPTH;
}

const flowEnd = (c: number) => c === 0x5d || c === 0x7d; // ] }

/**
 * `locate` for a file that took the fast path: positions are parsed on the first call. It keeps
 * the file's bytes as given (a Buffer lies outside the JavaScript heap), not the decoded text, so
 * that thousands of clean files add nothing for the garbage collector to copy.
 */
function lazyLocate(bytes: Uint8Array | string): LoadedTenant["locate"] {
  let locate: LoadedTenant["locate"] | undefined;
  return (keys, onKey = false) => {
    if (!locate) {
      let text = typeof bytes === "string" ? bytes : UTF8.decode(bytes);
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      const lineCounter = new LineCounter();
      const doc = parseDocument(text, { lineCounter, ...PARSE_OPTIONS });
      locate = (k, key = false) => positionOf(lineCounter, nodeAt(doc, k, key)?.range?.[0]);
    }
    return locate(keys, onKey);
  };
}

/**
 * `locate` for a tenant checked elsewhere (another thread): the file is read again, and its
 * positions parsed, on the first call only.
 */
export function locateInFile(file: string): LoadedTenant["locate"] {
  let locate: LoadedTenant["locate"] | undefined;
  return (keys, onKey = false) => (locate ??= lazyLocate(fs.readFileSync(file)))(keys, onKey);
}

/** The fast path: the loaded tenant of a clean, plain file, or undefined for the positioned path to decide. */
export function loadTenantFast(file: string, bytes: Uint8Array | string): LoadResult | undefined {
  if (bytes.length > MAX_FILE_BYTES) return undefined;
  let text: string;
  try {
    text = typeof bytes === "string" ? bytes : UTF8.decode(bytes);
  } catch {
    return undefined;
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (UNUSUAL.test(text)) return undefined;
  const shallow = surelyShallow(text);
  // Deep text goes to the positioned path before any recursive parser sees it.
  if (!shallow && excessiveNesting(text) !== undefined) return undefined;
  let data: unknown;
  // The line each open node started on: a scalar or a flow collection (which closes right after its
  // `]` or `}`) that closes on a later line spans several lines.
  const opened: number[] = [];
  let singleLine = true;
  try {
    data = loadPlain(text, {
      schema: CORE_AS_YAML,
      maxDepth: MAX_DEPTH * 2,
      listener(event, state) {
        if (event === "open") opened.push(state.line);
        else if (opened.pop() !== state.line && (state.kind === "scalar" || flowEnd(text.charCodeAt(state.position - 1))))
          singleLine = false;
      },
    } as LoadOptions);
  } catch {
    return undefined;
  }
  // Scalars and flow collections over several lines (folding, escaped line breaks, block scalars,
  // flow indentation) are where YAML parsers disagree at the edges, and where the nesting guard's
  // lines are no longer the text's.
  if (!singleLine) return undefined;
  if (data === null || typeof data !== "object" || Array.isArray(data)) return undefined;
  const parsed = tenantSchema.safeParse(data);
  if (!parsed.success) return undefined;
  return { tenant: { file, tenant: parsed.data, locate: lazyLocate(bytes) }, problems: [] };
}

/** Locates rule issues in a loaded file. */
export function locateIssues(loaded: LoadedTenant, issues: readonly Issue[]): Problem[] {
  return issues.map((issue) => {
    const pos = loaded.locate(issue.path);
    const message = issue.related ? `${issue.message} (line ${loaded.locate(issue.related).line})` : issue.message;
    return { file: loaded.file, line: pos.line, col: pos.col, field: formatPath(issue.path), message, severity: issue.severity };
  });
}

export function fileStem(file: string): string {
  return path.basename(file).replace(/\.ya?ml$/, "");
}
