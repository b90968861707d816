/**
 * AppSetup's host command (components/blocks/app-setup.ts), run for real by dash with a stub
 * `docker` that runs `docker exec … sh -c <script> <name> <args…>` locally: the script, its name
 * and every argument arrive intact whatever they hold, and the secrets come one a line on stdin.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { appSetupCommand, appSetupTrigger, secretLines } from "../../components/blocks/app-setup";
import { needTools } from "../helpers/debian-tools";

needTools("dash");

const bin = fs.mkdtempSync(path.join(os.tmpdir(), "app-setup-"));
afterAll(() => fs.rmSync(bin, { recursive: true, force: true }));
// `docker exec -i -u <user> <container> <command…>`: checks the flags, then runs the command here.
fs.writeFileSync(
  path.join(bin, "docker"),
  [
    "#!/bin/sh",
    "set -eu",
    '[ "$1" = exec ] && [ "$2" = -i ] && [ "$3" = -u ] || { echo "unexpected docker call: $*" >&2; exit 2; }',
    'printf "user=%s container=%s\\n" "$4" "$5" >&2',
    "shift 5",
    'exec "$@"',
    "",
  ].join("\n"),
  { mode: 0o755 },
);

function runOnHost(command: string, stdin: string) {
  return spawnSync("dash", ["-c", command], { input: stdin, encoding: "utf8", env: { PATH: `${bin}:${process.env.PATH}` } });
}

describe("AppSetup's command", () => {
  const script = {
    name: "probe-setup.sh",
    text: ["set -eu", "IFS= read -r secret", 'printf "%s\\n" "$0" "$@"', 'printf "secret=%s\\n" "$secret"', ""].join("\n"),
  };

  it("passes the script, its name and arguments with quotes, spaces, $ and newlines intact, the secrets on stdin", () => {
    const args = ["it's", "a b", "$HOME `id`", "line1\nline2", "", "^\\/tenants\\/acme$"];
    const result = runOnHost(appSetupCommand("acme-nextcloud-app", "www-data", script, args), secretLines(["s3cr3t"]));
    expect(result.stderr).toBe("user=www-data container=acme-nextcloud-app\n");
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`probe-setup.sh\n${args.join("\n")}\nsecret=s3cr3t\n`);
  });

  it("refuses a container or user name that is not one plain word", () => {
    expect(() => appSetupCommand("acme; rm -rf /", "www-data", script, [])).toThrow(/invalid container name/);
    expect(() => appSetupCommand("acme", "www data", script, [])).toThrow(/invalid user/);
  });

  it("refuses a secret holding a line break, which would shift the others", () => {
    expect(() => secretLines(["one", "two\nthree"])).toThrow(/one line/);
    expect(secretLines(["one", "two"])).toBe("one\ntwo\n");
  });

  it("changes its trigger with the script or any argument, and only then", () => {
    const base = appSetupTrigger(script, ["a", "b"]);
    expect(appSetupTrigger(script, ["a", "b"])).toBe(base);
    expect(appSetupTrigger(script, ["a", "c"])).not.toBe(base);
    expect(appSetupTrigger(script, ["a b"])).not.toBe(appSetupTrigger(script, ["a", "b"]));
    expect(appSetupTrigger({ ...script, text: `${script.text}\n` }, ["a", "b"])).not.toBe(base);
  });
});
