import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { checkInstalledVersions, SDK_VERSION_ERROR, versionProblem, type PinnedPackage } from "../infra/plan/sdk-internals";

/**
 * infra/plan/sdk-internals.ts holds every part of the SDKs the plan uses that is not their
 * documented API, written for exact versions: another version must stop the plan with one line
 * saying what to re-read, and nothing else in the program may reach those parts.
 */

const ROOT = path.resolve(__dirname, "..");
const WRITTEN_FOR: Record<PinnedPackage, string> = { "@pulumi/pulumi": "3.248.0", "@pulumi/policy": "1.21.0", "google-protobuf": "3.21.4" };

describe("the SDK versions sdk-internals.ts was written for", () => {
  it("names the version written for, the one found and what to check, in one line", () => {
    const problem = versionProblem("@pulumi/pulumi", "3.249.0");
    expect(problem).toMatch(
      /^infra\/plan\/sdk-internals\.ts was written for @pulumi\/pulumi 3\.248\.0, found 3\.249\.0: check .*runtime\/mocks MockMonitor.* before changing the pin$/,
    );
    expect(problem).not.toContain("\n");
    expect(versionProblem("@pulumi/policy", "1.22.0")).toMatch(
      /^infra\/plan\/sdk-internals\.ts was written for @pulumi\/policy 1\.21\.0, found 1\.22\.0: check .*deserialize.* before changing the pin$/,
    );
    expect(versionProblem("google-protobuf", "4.0.0")).toMatch(
      /^infra\/plan\/sdk-internals\.ts was written for google-protobuf 3\.21\.4, found 4\.0\.0: check .* before changing the pin$/,
    );
  });

  it("accepts exactly the pinned versions (@pulumi/policy spells its own with a v)", () => {
    for (const [pkg, version] of Object.entries(WRITTEN_FOR) as [PinnedPackage, string][])
      expect(versionProblem(pkg, version)).toBeUndefined();
    expect(versionProblem("@pulumi/policy", "v1.21.0")).toBeUndefined();
    expect(versionProblem("@pulumi/pulumi", "3.248.1")).toBeDefined();
    expect(versionProblem("@pulumi/pulumi", "3.248")).toBeDefined();
  });

  it("throws the problem with the code the commands print alone, and passes on what is installed", () => {
    const other = (pkg: PinnedPackage) => (pkg === "@pulumi/policy" ? "v1.20.0" : WRITTEN_FOR[pkg]);
    let thrown: unknown;
    try {
      checkInstalledVersions(other);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(Error);
    expect((thrown as Error).message).toBe(versionProblem("@pulumi/policy", "v1.20.0"));
    expect((thrown as { code?: unknown }).code).toBe(SDK_VERSION_ERROR);
    expect(() => checkInstalledVersions()).not.toThrow();
    // The command runner and the plan's worker processes know the code without loading the SDK.
    for (const file of ["infra/cli/run.ts", "infra/plan/plan-worker.ts"]) {
      expect(fs.readFileSync(path.join(ROOT, file), "utf8"), file).toContain(`"${SDK_VERSION_ERROR}"`);
    }
  });
});

describe("the SDKs' internals", () => {
  function sources(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const full = path.join(dir, e.name);
      return e.isDirectory() ? sources(full) : /\.(ts|cts|mts|cjs)$/.test(e.name) ? [full] : [];
    });
  }

  it("are reached from sdk-internals.ts only", () => {
    const internal = [
      // A path below a package's entry point, except the Automation API's own public entry point
      // (https://www.pulumi.com/docs/iac/using-pulumi/automation-api/), which the deploy uses.
      /["'](@pulumi\/pulumi|@pulumi\/policy)\/(?!automation["'])[^"']*["']/,
      /["']google-protobuf[/"']/,
      /\b(getMonitor|debuggablePromise|MockMonitor)\b|\.promise\(true\)|\bstackTrace\b/,
    ];
    const found: string[] = [];
    for (const dir of ["infra", "components", "policies"]) {
      for (const file of sources(path.join(ROOT, dir))) {
        const where = path.relative(ROOT, file);
        if (where === path.join("infra", "plan", "sdk-internals.ts")) continue;
        fs.readFileSync(file, "utf8")
          .split("\n")
          .forEach((line, i) => {
            if (internal.some((pattern) => pattern.test(line))) found.push(`${where}:${i + 1}: ${line.trim()}`);
          });
      }
    }
    expect(found).toEqual([]);
  });
});
