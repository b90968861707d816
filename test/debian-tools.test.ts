import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TOOLS_FILE, debianTools, findTool, needTools, parseToolList, requireTool } from "./helpers/debian-tools";

const root = path.resolve(__dirname, "..");
const SCRIPT = path.join(root, "test", "setup-debian.sh");

describe("test/debian-tools.txt", () => {
  it("names the Debian package of each tool, once", () => {
    const tools = debianTools();
    expect(Object.fromEntries(tools)).toMatchObject({
      sh: "dash",
      dash: "dash",
      postmap: "postfix",
      doveadm: "dovecot-core",
      shellcheck: "shellcheck",
      curl: "curl",
      jq: "jq",
    });
  });

  it("rejects a line without exactly a tool and a package, or a tool twice", () => {
    expect(parseToolList("# comment\n\npostmap   postfix   # a note\n")).toEqual(new Map([["postmap", "postfix"]]));
    expect(() => parseToolList("postmap\n")).toThrow('test/debian-tools.txt:1: want "<tool> <package>", got "postmap"');
    expect(() => parseToolList("a b\nc d e\n")).toThrow("test/debian-tools.txt:2:");
    expect(() => parseToolList("a b\na c\n")).toThrow("test/debian-tools.txt:2: a listed twice");
  });
});

describe("requireTool", () => {
  it("gives the absolute path of a tool found in PATH, without running it", () => {
    const sh = requireTool("sh");
    expect(path.isAbsolute(sh)).toBe(true);
    expect(findTool("sh")).toBe(sh);
  });

  it("fails in one line naming the tool, its package and the script, for a tool not installed", () => {
    const tools = new Map([["alacarte-no-such-tool", "alacarte-tools"]]);
    expect(() => requireTool("alacarte-no-such-tool", { tools })).toThrow(
      new Error("alacarte-no-such-tool is missing (Debian package alacarte-tools): run sh test/setup-debian.sh"),
    );
  });

  it("fails the same way for an installed tool outside PATH", () => {
    let error: Error | undefined;
    try {
      requireTool("jq", { pathVar: "" });
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).toBe("jq is missing (Debian package jq): run sh test/setup-debian.sh");
    expect(error?.stack).toBe(`Error: ${error?.message}`); // printed as that line alone
  });

  it("refuses a tool the list does not name", () => {
    expect(() => requireTool("alacarte-unlisted")).toThrow(
      'alacarte-unlisted is not listed in test/debian-tools.txt: add a line "alacarte-unlisted <Debian package>"',
    );
  });

  it("makes the tests that need a missing tool fail, not skip, each with that line, and leaves the others", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "alacarte-tools-"));
    try {
      const helper = JSON.stringify(path.join(root, "test", "helpers", "debian-tools.ts"));
      writeFileSync(
        path.join(dir, "needs.test.ts"),
        `import { needTools } from ${helper};
describe("with jq", () => { needTools("jq"); it("a", () => expect(1).toBe(1)); it("b", () => expect(1).toBe(1)); });
describe("without", () => { it("c", () => expect(1).toBe(1)); });
`,
      );
      const run = spawnSync(
        process.execPath,
        [path.join(root, "node_modules", "vitest", "vitest.mjs"), "run", "--root", dir, "--globals"],
        {
          cwd: dir,
          encoding: "utf8",
          env: { ...process.env, PATH: "", NO_COLOR: "1", CI: "1" },
        },
      );
      const out = run.stdout + run.stderr;
      expect(run.status).toBe(1);
      expect(out).toMatch(/Tests\s+2 failed \| 1 passed \(3\)/);
      expect(out).not.toMatch(/skipped/);
      expect(out).toContain("\nError: jq is missing (Debian package jq): run sh test/setup-debian.sh\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Every `.ts` file under test/. */
function testSources(dir = path.join(root, "test")): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === "node_modules" || e.name.startsWith(".") ? [] : testSources(p);
    return e.name.endsWith(".ts") ? [p] : [];
  });
}

const literals = (args: string) => [...args.matchAll(/(["'`])([^"'`]*)\1/g)].map((m) => m[2]!);

describe("every tool the tests run is listed and required", () => {
  // Literal first arguments of the child_process calls: the tools run by name. A call whose first
  // argument is not a string literal (process.execPath, a path into node_modules) runs Node.
  const spawned = /(?<![.\w])(execFileSync|execFile|spawnSync|spawn|execSync|exec)\(\s*(["'`])([^"'`]+)\2/g;
  const required = /(?<![.\w])(?:needTools|requireTool)\(([^)]*)\)/g;
  const files = testSources().filter((f) => f !== __filename);
  const uses = files.map((file) => {
    const text = readFileSync(file, "utf8");
    const runs = new Set<string>();
    for (const m of text.matchAll(spawned)) {
      // exec and execSync hand their string to /bin/sh: sh runs, then the command's first word.
      const tools = m[1]!.startsWith("exec") && !m[1]!.startsWith("execFile") ? ["sh", m[3]!.trim().split(/\s+/)[0]!] : [m[3]!];
      for (const tool of tools) if (tool !== "node") runs.add(tool);
    }
    const requires = new Set([...text.matchAll(required)].flatMap((m) => literals(m[1]!)));
    return { file: path.relative(root, file), runs: [...runs].sort(), requires: [...requires].sort() };
  });

  it("finds the tools the component tests run", () => {
    const all = new Set(uses.flatMap((u) => u.runs));
    expect([...all].sort()).toEqual(expect.arrayContaining(["chown", "dash", "sh", "shellcheck"]));
  });

  it("each file requires the tools it runs, and each required tool is in test/debian-tools.txt", () => {
    const listed = debianTools();
    for (const u of uses) {
      expect({ file: u.file, notRequired: u.runs.filter((t) => !u.requires.includes(t)) }).toEqual({ file: u.file, notRequired: [] });
      expect({ file: u.file, notListed: u.requires.filter((t) => !listed.has(t)) }).toEqual({ file: u.file, notListed: [] });
    }
  });

  it("lists no tool that no test requires", () => {
    const requiredAnywhere = new Set(uses.flatMap((u) => u.requires));
    expect([...debianTools().keys()].filter((t) => !requiredAnywhere.has(t))).toEqual([]);
  });
});

describe("test/setup-debian.sh", () => {
  needTools("sh", "shellcheck");
  const work = mkdtempSync(path.join(tmpdir(), "alacarte-setup-"));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const log = path.join(work, "calls.log");
  const stub = (dir: string, name: string, body: string) => {
    writeFileSync(path.join(dir, name), `#!/bin/sh\n${body}\n`);
    chmodSync(path.join(dir, name), 0o755);
  };
  /** A folder for PATH holding the tools listed but `without`, what the script itself uses, and stubs. */
  const bin = (name: string, without: string[], stubs: Record<string, string>) => {
    const dir = path.join(work, name);
    mkdirSync(dir);
    for (const [n, body] of Object.entries(stubs)) stub(dir, n, body); // before the links: never write through one
    const tools = [...debianTools().keys()].filter((t) => !without.includes(t)).map((t) => requireTool(t));
    const own = ["dirname", "env", "id", "sort", "tr"].map((t) => findTool(t)!);
    for (const file of [...tools, ...own])
      if (!existsSync(path.join(dir, path.basename(file)))) symlinkSync(file, path.join(dir, path.basename(file)));
    return dir;
  };
  const run = (pathVar: string) => spawnSync(requireTool("sh"), [SCRIPT], { encoding: "utf8", env: { PATH: pathVar } });
  const recordingAptGet = `echo "apt-get DEBIAN_FRONTEND=$DEBIAN_FRONTEND $*" >> '${log}'`;

  it("passes shellcheck as POSIX sh", () => {
    expect(() => execFileSync(requireTool("shellcheck"), ["-s", "sh", SCRIPT], { encoding: "utf8" })).not.toThrow();
  });

  it("does nothing, and says so, when every tool is present: no apt-get, no sudo, no root", () => {
    rmSync(log, { force: true });
    const dir = bin("all", [], { "apt-get": recordingAptGet, sudo: `echo "sudo $*" >> '${log}'`, id: "echo 1000" });
    const r = run(dir);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("setup-debian: every tool the tests use is present, nothing to install\n");
    expect(r.status).toBe(0);
    expect(existsSync(log)).toBe(false);
  });

  it("installs the missing packages only, through sudo when not root, non-interactively, and checks again", () => {
    rmSync(log, { force: true });
    const dir = bin("sudo", ["jq", "doveadm"], {
      "apt-get": recordingAptGet,
      sudo: `echo "sudo $*" >> '${log}'\nexec "$@"`,
      id: "echo 1000",
    });
    const r = run(dir);
    expect(r.stdout).toBe("setup-debian: missing doveadm (dovecot-core), jq (jq): installing dovecot-core jq\n");
    expect(readFileSync(log, "utf8").split("\n")).toEqual([
      "sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq",
      "apt-get DEBIAN_FRONTEND=noninteractive update -qq",
      "sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends dovecot-core jq",
      "apt-get DEBIAN_FRONTEND=noninteractive install -y -qq --no-install-recommends dovecot-core jq",
      "",
    ]);
    // The stub installed nothing: the script says what is still missing.
    expect(r.stderr).toBe("setup-debian: still missing after apt-get install: doveadm (dovecot-core), jq (jq)\n");
    expect(r.status).toBe(1);
  });

  it("says why it cannot install: not root and no sudo, or apt-get failing", () => {
    const noSudo = run(bin("nosudo", ["jq"], { "apt-get": "exit 0", id: "echo 1000" }));
    expect(noSudo.stderr).toBe("setup-debian: cannot install, not root and no sudo: as root run apt-get install jq\n");
    expect(noSudo.status).toBe(1);
    const failing = run(bin("failing", ["jq"], { "apt-get": "exit 100", id: "echo 0" }));
    expect(failing.stderr).toBe("setup-debian: cannot install, apt-get failed: apt-get install jq\n");
    expect(failing.status).toBe(1);
  });
});

describe("the README's test command", () => {
  const readme = readFileSync(path.join(root, "README.md"), "utf8");
  const block = /```sh\n([\s\S]*?)```/.exec(readme)![1]!;
  const command = block
    .split("\n")
    .map((l) => l.replace(/\s+#.*$/, "").trim())
    .find((l) => l.endsWith("npm test"));

  it("sets the machine up first, then runs the suite", () => {
    expect(command).toBe("sh test/setup-debian.sh && npm ci && npm test");
  });

  it("is exactly what .ci/run runs", () => {
    const ci = readFileSync(path.join(root, ".ci", "run"), "utf8")
      .split("\n")
      .filter((l) => !l.trim().startsWith("#"));
    expect(ci).toContain(command);
    expect(ci.filter((l) => /\bnpm\b|apt-get/.test(l))).toEqual([command]);
  });

  it("reads the tool list from test/debian-tools.txt, beside the script", () => {
    expect(path.dirname(TOOLS_FILE)).toBe(path.dirname(SCRIPT));
  });
});
