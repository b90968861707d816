import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, statSync, existsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { installMocks, one, promiseOf, secretOf, settle } from "../helpers/mocks";
import { isSecretInput, optionsRecorder, plain } from "../helpers/options";
import * as command from "@pulumi/command";
import { hostConnection, hostFileCommands } from "../../components/blocks/host-file";
import { needTools } from "../helpers/debian-tools";

const host = { name: "h1", address: "h1.infra.example.org", user: "deploy" };

describe("hostFileCommands", () => {
  it("writes stdin atomically, then runs afterWrite", () => {
    const { write, retire } = hostFileCommands({ path: "/srv/alacarte/routes/acme.yml", afterWrite: "echo reload" });
    expect(write).toBe(
      [
        "set -eu",
        "mkdir -p '/srv/alacarte/routes'",
        "(umask 077 && cat > '/srv/alacarte/routes/.acme.yml.alacarte-tmp')",
        "chmod 0640 '/srv/alacarte/routes/.acme.yml.alacarte-tmp'",
        "mv -f '/srv/alacarte/routes/.acme.yml.alacarte-tmp' '/srv/alacarte/routes/acme.yml'",
        "echo reload",
      ].join("\n"),
    );
    expect(retire).toBe(
      [
        "set -eu",
        "if [ -e '/srv/alacarte/routes/acme.yml' ]; then",
        "  mkdir -p '/srv/alacarte/routes/.attic'",
        `  mv '/srv/alacarte/routes/acme.yml' '/srv/alacarte/routes/.attic/acme.yml'."$(date -u +%Y%m%dT%H%M%SZ)"`,
        "fi",
        "echo reload",
      ].join("\n"),
    );
  });

  it("quotes paths and honours the mode", () => {
    const { write } = hostFileCommands({ path: "/srv/it's here/f", mode: "0600" });
    expect(write).toBe(
      "set -eu\nmkdir -p '/srv/it'\\''s here'\n(umask 077 && cat > '/srv/it'\\''s here/.f.alacarte-tmp')\nchmod 0600 '/srv/it'\\''s here/.f.alacarte-tmp'\nmv -f '/srv/it'\\''s here/.f.alacarte-tmp' '/srv/it'\\''s here/f'",
    );
  });

  it("rejects a relative path, a folder and a non-octal mode", () => {
    expect(() => hostFileCommands({ path: "srv/x" })).toThrow('HostFile path must be an absolute file path, got "srv/x"');
    expect(() => hostFileCommands({ path: "/srv/x/" })).toThrow(/absolute file path/);
    expect(() => hostFileCommands({ path: "/srv/x", mode: "rw" })).toThrow('HostFile mode must be octal like "0640", got "rw"');
  });
});

describe("hostFileCommands run by a real shell", () => {
  needTools("sh");
  const root = mkdtempSync(join(tmpdir(), "hostfile-"));
  const file = join(root, "deep", "dir", "conf.yml");
  const marker = join(root, "after.log");
  const { write, retire } = hostFileCommands({ path: file, mode: "0600", afterWrite: `echo ran >> '${marker}'` });
  const sh = (script: string, input = "") => execFileSync("sh", ["-c", script], { input });

  it("creates the folders, writes the content byte for byte with the mode, runs afterWrite", () => {
    sh(write, "a: 1\nno newline at end");
    expect(readFileSync(file, "utf8")).toBe("a: 1\nno newline at end");
    expect((statSync(file).mode & 0o777).toString(8)).toBe("600");
    expect(readFileSync(marker, "utf8")).toBe("ran\n");
    expect(readdirSync(join(root, "deep", "dir"))).toEqual(["conf.yml"]);
  });

  it("rewrites on update", () => {
    sh(write, "b: 2\n");
    expect(readFileSync(file, "utf8")).toBe("b: 2\n");
  });

  it("moves the file into .attic on delete, nothing lost, and runs afterWrite", () => {
    sh(retire);
    expect(existsSync(file)).toBe(false);
    const attic = readdirSync(join(root, "deep", "dir", ".attic"));
    expect(attic).toHaveLength(1);
    expect(attic[0]).toMatch(/^conf\.yml\.\d{8}T\d{6}Z$/);
    expect(readFileSync(join(root, "deep", "dir", ".attic", attic[0]!), "utf8")).toBe("b: 2\n");
    expect(readFileSync(marker, "utf8")).toBe("ran\nran\nran\n");
  });

  it("delete of a file already gone succeeds", () => {
    writeFileSync(marker, "");
    sh(retire);
    expect(readFileSync(marker, "utf8")).toBe("ran\n");
  });

  it("fails when afterWrite fails", () => {
    const bad = hostFileCommands({ path: join(root, "x"), afterWrite: "false" });
    expect(() => sh(bad.write, "x")).toThrow();
  });
});

describe("hostConnection", () => {
  it("uses the agent socket only when set", () => {
    expect(hostConnection(host, undefined)).toEqual({ host: "h1.infra.example.org", user: "deploy" });
    expect(hostConnection(host, "/run/agent.sock")).toEqual({
      host: "h1.infra.example.org",
      user: "deploy",
      agentSocketPath: "/run/agent.sock",
    });
  });
});

describe("HostFile under mocks", () => {
  let mod: typeof import("../../components/blocks/host-file");
  beforeAll(async () => {
    installMocks();
    mod = await import("../../components/blocks/host-file.js");
  });

  it("writes the content on stdin, never in the command, with a content trigger", async () => {
    const rec = optionsRecorder();
    const f = new mod.HostFile(
      "conf",
      { host, path: "/srv/a/conf.yml", content: "k: v\n", afterWrite: "echo hi" },
      { transformations: [rec.transformation] },
    );
    expect(await promiseOf(f.path)).toBe("/srv/a/conf.yml");
    await promiseOf(f.stdout);
    await settle();
    const cmd = one("command:remote:Command", "conf-write");
    expect(cmd.inputs.stdin).toBe("k: v\n");
    expect(isSecretInput(cmd.inputs.stdin)).toBe(false);
    expect(cmd.inputs.create).toBe(hostFileCommands({ path: "/srv/a/conf.yml", afterWrite: "echo hi" }).write);
    expect(cmd.inputs.update).toBe(cmd.inputs.create);
    expect(cmd.inputs.delete).toBe(hostFileCommands({ path: "/srv/a/conf.yml", afterWrite: "echo hi" }).retire);
    expect(cmd.inputs.create).not.toContain("k: v");
    expect(cmd.inputs.environment).toBeUndefined();
    expect(cmd.inputs.addPreviousOutputInEnv).toBe(false);
    expect(plain(cmd.inputs.connection)).toMatchObject({ host: "h1.infra.example.org", user: "deploy" });
    expect(cmd.inputs.triggers).toEqual([createHash("sha256").update("k: v\n").digest("hex")]);
    // The HostFile is the Command itself: one registration, no component around it.
    expect(f).toBeInstanceOf(command.remote.Command);
    expect(rec.seen.map((r) => `${r.type} ${r.name}`)).toEqual(["command:remote:Command conf-write"]);
    expect(rec.get("conf-write").opts.parent).toBeUndefined();
    expect(rec.get("conf-write").opts.additionalSecretOutputs ?? []).not.toContain("stdin");
    expect(await promiseOf(f.urn)).toMatch(/^urn:pulumi:[^:]+::[^:]+::command:remote:Command::conf-write$/);
    expect(rec.get("conf-write").opts.aliases ?? []).toEqual([]);
  });

  it("changes the trigger when the content changes", async () => {
    const a = new mod.HostFile("ta", { host, path: "/srv/a/t", content: "one" });
    const b = new mod.HostFile("tb", { host, path: "/srv/a/t", content: "two" });
    await promiseOf(a.stdout);
    await promiseOf(b.stdout);
    await settle();
    const ta = one("command:remote:Command", "ta-write").inputs.triggers;
    const tb = one("command:remote:Command", "tb-write").inputs.triggers;
    expect(ta).toHaveLength(1);
    expect(ta).not.toEqual(tb);
  });

  it("keeps secret content secret", async () => {
    const rec = optionsRecorder();
    const f = new mod.HostFile(
      "sec",
      { host, path: "/srv/a/garage.toml", content: 'rpc_secret = "s3cr3t"\n', secret: true, afterWrite: "true" },
      { transformations: [rec.transformation] },
    );
    expect(await secretOf(f.stdin as any)).toBe(true);
    expect(await secretOf(f.triggers as any)).toBe(true);
    expect(rec.get("sec-write").opts.additionalSecretOutputs).toContain("stdin");
    await settle();
    const cmd = one("command:remote:Command", "sec-write");
    expect(isSecretInput(cmd.inputs.stdin)).toBe(true);
    expect(plain(cmd.inputs.stdin)).toBe('rpc_secret = "s3cr3t"\n');
    expect(JSON.stringify([cmd.inputs.create, cmd.inputs.update, cmd.inputs.delete, cmd.inputs.environment ?? null])).not.toContain(
      "s3cr3t",
    );
  });

  it("fails at construction on a relative path or a bad mode, before registering anything", () => {
    const rec = optionsRecorder();
    expect(() => new mod.HostFile("bad", { host, path: "relative", content: "" }, { transformations: [rec.transformation] })).toThrow(
      /absolute/,
    );
    expect(
      () => new mod.HostFile("bad", { host, path: "/srv/a/b", content: "", mode: "rw" }, { transformations: [rec.transformation] }),
    ).toThrow(/octal/);
    expect(rec.seen).toEqual([]);
  });
});
