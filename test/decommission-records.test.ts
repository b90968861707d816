/**
 * The record a decommission leaves for the pull request that removes the offer
 * (infra/model/decommission-records.ts), and how the flow reads it (infra/cli/touched-selection.ts):
 * only a record the change itself brings lets its data deletes through, and only the recorded
 * offer's (or tenant's) resources.
 */
import { describe, expect, it } from "vitest";
import { newDecommissionRecords, refused, withDecommissions } from "../infra/cli/touched-selection";
import {
  type DecommissionRecord,
  decommissionRecordPath,
  parseDecommissionRecord,
  renderDecommissionRecord,
} from "../infra/model/decommission-records";
import type { ChangedResource, StackDiff } from "../infra/plan/plan-diff";

const urn = (stack: string, type: string, name: string) => `urn:pulumi:${stack}::alacarte::${type}::${name}`;
const resource = (stack: string, type: string, name: string): ChangedResource => ({ type, urn: urn(stack, type, name) });

const record: DecommissionRecord = {
  stack: "prod.acme",
  offer: "nextcloud",
  date: "2026-12-02",
  until: "2027-03-02",
  resources: ["acme-nextcloud-app-data", "acme-nextcloud-app-html", "acme-nextcloud-db-create"],
};

function changed(stack: string, tenant: string, deletes: ChangedResource[], status: StackDiff["status"] = "changed"): StackDiff {
  const volumes = deletes.filter((d) => d.type === "docker:index/volume:Volume" || d.type === "alacarte:block:Database");
  return { stack, tenant, status, create: [], update: [], delete: deletes, dataDeletes: volumes };
}

describe("a decommission record", () => {
  it("is written where the flow reads it, and reads back as written", () => {
    expect(decommissionRecordPath(record)).toBe("stacks/decommissioned/prod.acme.nextcloud.yaml");
    expect(decommissionRecordPath({ stack: "prod.acme" })).toBe("stacks/decommissioned/prod.acme.yaml");
    const text = renderDecommissionRecord(record);
    expect(text).toMatch(/^# Written by npm run decommission/);
    expect(parseDecommissionRecord("r.yaml", text)).toEqual(record);
  });

  it("that does not read is an error naming the file and the field", () => {
    expect(() => parseDecommissionRecord("stacks/decommissioned/x.yaml", "stack: prod.acme\ndate: 2026-12-02\n")).toThrow(
      /^stacks\/decommissioned\/x\.yaml: until: /,
    );
    expect(() =>
      parseDecommissionRecord("x.yaml", renderDecommissionRecord(record).replace("offer: nextcloud", "offer: Next Cloud")),
    ).toThrow(/x\.yaml: offer: /);
  });
});

describe("the flow with decommission records", () => {
  const stack = "prod.acme";
  const nextcloudData = [
    resource(stack, "docker:index/volume:Volume", "acme-nextcloud-app-data"),
    resource(stack, "alacarte:block:Database", "acme-nextcloud-db"),
  ];
  const websiteData = [resource(stack, "docker:index/volume:Volume", "acme-website-web-html")];
  const other = [resource(stack, "docker:index/container:Container", "acme-nextcloud-app-container")];

  it("lets through the data deletes of the recorded offer only", () => {
    const diff = [changed(stack, "acme", [...nextcloudData, ...websiteData, ...other])];
    expect(refused(diff[0]!)).toBe(true);
    const [after] = withDecommissions(diff, [record]);
    expect(after!.dataDeletes).toEqual(websiteData);
    expect(refused(after!)).toBe(true);
    const [nextcloudOnly] = withDecommissions([changed(stack, "acme", [...nextcloudData, ...other])], [record]);
    expect(nextcloudOnly!.dataDeletes).toEqual([]);
    expect(refused(nextcloudOnly!)).toBe(false);
  });

  it("does not let an offer whose name starts the same through (acme-nextcloudx is not acme-nextcloud)", () => {
    const lookalike = [resource(stack, "docker:index/volume:Volume", "acme-nextcloudx-data")];
    const [after] = withDecommissions([changed(stack, "acme", lookalike)], [record]);
    expect(after!.dataDeletes).toEqual(lookalike);
  });

  it("applies a record to its own stack only", () => {
    const otherStack = "prod.acme-bis";
    const data = [resource(otherStack, "docker:index/volume:Volume", "acme-bis-nextcloud-app-data")];
    const [after] = withDecommissions([changed(otherStack, "acme-bis", data)], [record]);
    expect(refused(after!)).toBe(true);
  });

  it("marks a removed stack decommissioned with a whole-tenant record, not with an offer's", () => {
    const removed = changed(stack, "acme", [...nextcloudData, ...websiteData], "removed");
    expect(refused(withDecommissions([removed], [record])[0]!)).toBe(true);
    const whole = { ...record, offer: undefined, resources: [] };
    const [after] = withDecommissions([removed], [whole]);
    expect(after).toMatchObject({ decommissioned: true, dataDeletes: [] });
    expect(refused(after!)).toBe(false);
  });

  it("counts only the records the change brings: new or changed since the base", () => {
    const text = renderDecommissionRecord(record);
    const file = decommissionRecordPath(record);
    expect(newDecommissionRecords(new Map(), new Map([[file, text]]))).toEqual([record]);
    expect(newDecommissionRecords(new Map([[file, text]]), new Map([[file, text]]))).toEqual([]);
    const again = renderDecommissionRecord({ ...record, date: "2027-06-01", until: "2027-08-30" });
    expect(newDecommissionRecords(new Map([[file, text]]), new Map([[file, again]]))).toHaveLength(1);
  });
});
