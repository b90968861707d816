import { describe, expect, it } from "vitest";
import type { Tenant } from "../infra/contract/tenant";
import { digestOf, rememberValidated, validatedTenant } from "../infra/contract/validated-tenants";

describe("tenants the plan validated", () => {
  const bytes = Buffer.from("slug: acme\n");
  const tenant = { slug: "acme" } as Tenant;

  it("are taken only for the bytes they were validated from", () => {
    rememberValidated([{ path: "/t/acme.yaml", digest: digestOf(bytes), tenant, warnings: ["a warning"] }]);
    expect(validatedTenant("/t/acme.yaml", Buffer.from("slug: acme\n"))).toEqual({
      path: "/t/acme.yaml",
      digest: digestOf(bytes),
      tenant,
      warnings: ["a warning"],
    });
    expect(validatedTenant("/t/acme.yaml", Buffer.from("slug: acme\nname: edited\n"))).toBeUndefined();
    expect(validatedTenant("/t/other.yaml", bytes)).toBeUndefined();
  });

  it("follow the latest validation of a file", () => {
    const edited = Buffer.from("slug: acme\nname: B\n");
    rememberValidated([{ path: "/t/acme.yaml", digest: digestOf(edited), tenant, warnings: [] }]);
    expect(validatedTenant("/t/acme.yaml", bytes)).toBeUndefined();
    expect(validatedTenant("/t/acme.yaml", edited)?.warnings).toEqual([]);
  });
});
