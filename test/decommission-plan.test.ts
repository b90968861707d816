/**
 * The decommission plan, pure: which resources of a tenant stack's state it takes out (for the
 * tenant, for one offer), the state it imports instead, the retention date, and the command each
 * host's backup job runs for each step.
 */
import { describe, expect, it } from "vitest";
import {
  exportFolder,
  hostCommands,
  parseDecommissionArgs,
  retainedResources,
  retainedUntil,
  type StackState,
  stateWithout,
  urnName,
} from "../infra/cli/decommission-plan";
import { readPlatformConfig } from "../infra/model/platform-config";
import { integrityProblem, sampleTenantState } from "./helpers/pulumi-stub-decommission";

const STACK = "prod.amis-du-velo";
const state = () => sampleTenantState(STACK, "amis-du-velo") as StackState;
const config = readPlatformConfig("prod");

describe("the data resources a decommission takes out of the stack", () => {
  it("for the whole tenant: every volume, and the command that makes each component's host data (bucket, database)", () => {
    expect(retainedResources(state(), STACK, { slug: "amis-du-velo" }).map((r) => [urnName(r.urn), r.type, r.holds])).toEqual([
      ["amis-du-velo-nextcloud-app-data", "docker:index/volume:Volume", "docker:index/volume:Volume"],
      ["amis-du-velo-websites-archive", "docker:index/volume:Volume", "docker:index/volume:Volume"],
      ["amis-du-velo-nextcloud-db-create", "command:remote:Command", "database amis_du_velo_nextcloud"],
      ["amis-du-velo-website-garage", "command:remote:Command", "bucket site-amis-du-velo"],
    ]);
  });

  it("for one offer: only the resources named <slug>-<offer>, never a longer offer name that starts the same", () => {
    expect(retainedResources(state(), STACK, { slug: "amis-du-velo", offer: "website" }).map((r) => urnName(r.urn))).toEqual([
      "amis-du-velo-website-garage",
    ]);
    expect(retainedResources(state(), STACK, { slug: "amis-du-velo", offer: "nextcloud" }).map((r) => urnName(r.urn))).toEqual([
      "amis-du-velo-nextcloud-app-data",
      "amis-du-velo-nextcloud-db-create",
    ]);
    // Mail keeps its mailboxes in the platform's store: nothing of the tenant stack holds them.
    expect(retainedResources(state(), STACK, { slug: "amis-du-velo", offer: "mail" })).toEqual([]);
  });

  it("refuses a state that is not this stack's, or a data component whose command is not in it", () => {
    expect(() => retainedResources(state(), "prod.other", { slug: "other" })).toThrow("of another stack");
    const broken = state();
    broken.deployment.resources = broken.deployment.resources!.filter((r) => !r.urn.endsWith("::amis-du-velo-website-garage"));
    expect(() => retainedResources(broken, STACK, { slug: "amis-du-velo" })).toThrow(
      "its command amis-du-velo-website-garage is not in the state",
    );
    expect(() => retainedResources({ version: 2, deployment: {} }, STACK, { slug: "amis-du-velo" })).toThrow(
      "not a stack export of version 3",
    );
  });
});

describe("the state imported instead", () => {
  it("drops the retained resources and every reference to them, keeps the rest as it was, and passes the CLI's integrity check", () => {
    const before = state();
    const copy = JSON.stringify(before);
    const retained = retainedResources(before, STACK, { slug: "amis-du-velo", offer: "nextcloud" });
    const after = stateWithout(before, retained);
    expect(JSON.stringify(before)).toBe(copy);
    expect(after.deployment.resources!.map((r) => urnName(r.urn))).toEqual([
      "alacarte-prod.amis-du-velo",
      "amis-du-velo-website",
      "amis-du-velo-website-garage",
      "amis-du-velo-website-route",
      "amis-du-velo-mail-example-org",
      "amis-du-velo-nextcloud-app",
      "amis-du-velo-nextcloud-app",
      "amis-du-velo-nextcloud-db",
      "amis-du-velo-websites-archive",
    ]);
    const container = after.deployment.resources!.find((r) => r.type === "docker:index/container:Container")!;
    expect(container.dependencies).toEqual([]);
    expect(container.propertyDependencies).toEqual({ volumes: [], image: [] });
    expect(container.deletedWith).toBeUndefined();
    expect(integrityProblem(before)).toBeUndefined();
    expect(integrityProblem(after)).toBeUndefined();
    // The same removal without dropping the references is what the CLI refuses.
    const naive = {
      ...before,
      deployment: { ...before.deployment, resources: before.deployment.resources!.filter((r) => !retained.some((x) => x.urn === r.urn)) },
    };
    expect(integrityProblem(naive)).toMatch(/dependency .*amis-du-velo-nextcloud-app-data comes after it or does not exist/);
    expect(after.deployment.manifest).toEqual(before.deployment.manifest);
  });

  it("refuses a state with pending operations (an interrupted update)", () => {
    const pending = { ...state(), deployment: { ...state().deployment, pending_operations: [{ type: "creating" }] } };
    expect(() => stateWithout(pending, [])).toThrow("1 pending operations: run pulumi refresh first");
  });
});

describe("retention, export folder and host commands", () => {
  it("keeps the data the configured number of days", () => {
    expect(config.decommission.retentionDays).toBe(90);
    expect(readPlatformConfig("staging").decommission.retentionDays).toBe(7);
    expect(retainedUntil("2026-12-02", 90)).toBe("2027-03-02");
    expect(retainedUntil("2028-02-28", 1)).toBe("2028-02-29");
    expect(() => retainedUntil("2026-13-45", 1)).toThrow("is not a date");
    expect(exportFolder({ slug: "amis-du-velo", offer: "website" }, "20261202T041900Z")).toBe("amis-du-velo-website-20261202T041900Z");
  });

  it("asks every host, then backs up, then exports, each word quoted for the remote shell, the export's stdin open", () => {
    const request = { slug: "amis-du-velo", offer: "website" };
    const options = { until: "2027-03-02", folder: "amis-du-velo-website-x" };
    expect(hostCommands(config, request, "ask", options)).toEqual(
      ["h1", "h2"].map((host) => ({
        host,
        argv: [
          "ssh",
          "-o",
          "BatchMode=yes",
          `deploy@${host}.infra.alacarte.example.org`,
          `'docker' 'exec' 'platform-backups-${host}' 'alacarte-backup' 'decommission' 'amis-du-velo' '--offer' 'website' '--until' '2027-03-02' '--into' 'amis-du-velo-website-x' '--dry-run'`,
        ],
      })),
    );
    expect(hostCommands(config, request, "backup", { ...options, hosts: ["h2"] })).toEqual([
      {
        host: "h2",
        argv: [
          "ssh",
          "-o",
          "BatchMode=yes",
          "deploy@h2.infra.alacarte.example.org",
          `'docker' 'exec' 'platform-backups-h2' 'alacarte-backup' 'backup' 'amis-du-velo'`,
        ],
      },
    ]);
    expect(hostCommands(config, { slug: "amis-du-velo" }, "export", { ...options, hosts: ["h1"] }, ["my-ssh"])[0]!.argv).toEqual([
      "my-ssh",
      "deploy@h1.infra.alacarte.example.org",
      `'docker' 'exec' '-i' 'platform-backups-h1' 'alacarte-backup' 'decommission' 'amis-du-velo' '--until' '2027-03-02' '--into' 'amis-du-velo-website-x'`,
    ]);
  });

  it.each([
    [[], "usage: npm run decommission"],
    [["Amis"], "is not a tenant's slug"],
    [["amis-du-velo", "--offer", "Web site"], "is not an offer"],
    [["amis-du-velo", "--env", "dev"], "is not prod or staging"],
  ])("refuses %j", (args, message) => {
    expect(() => parseDecommissionArgs(args)).toThrow(message);
  });

  it("reads the request", () => {
    expect(parseDecommissionArgs(["amis-du-velo", "--offer", "mail", "--env", "staging", "--yes"])).toEqual({
      request: { slug: "amis-du-velo", offer: "mail" },
      env: "staging",
      yes: true,
    });
  });
});
