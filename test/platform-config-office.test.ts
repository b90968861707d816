import { describe, expect, it } from "vitest";
import { ConfigError, parsePlatformConfig, placedHost, readStackConfig, stackFile } from "../infra/model/platform-config";

describe("the office server in the platform config", () => {
  const prod = readStackConfig(stackFile("prod"));

  it("reads its size from the settings file, and defaults it to 2048 MB and 2 CPUs", () => {
    expect(parsePlatformConfig(prod, "prod").office).toEqual({ memoryMb: 2048, cpus: 2 });
    expect(parsePlatformConfig(readStackConfig(stackFile("staging")), "staging").office).toEqual({ memoryMb: 1024, cpus: 1 });
    const { office: _office, ...withoutOffice } = prod;
    expect(parsePlatformConfig(withoutOffice, "prod").office).toEqual({ memoryMb: 2048, cpus: 2 });
  });

  it("places it on the proxy's host by default", () => {
    const config = parsePlatformConfig(prod, "prod");
    expect(placedHost(config, "office")).toBe(config.placement.proxy);
  });

  it("refuses another host, and a bad size, naming the field in one line each", () => {
    const placement = { ...(prod.placement as Record<string, string>), office: "h2" };
    expect(() => parsePlatformConfig({ ...prod, placement }, "stacks/Pulumi.prod.yaml")).toThrow(ConfigError);
    expect(() => parsePlatformConfig({ ...prod, placement }, "stacks/Pulumi.prod.yaml")).toThrow(
      /alacarte:placement\.office: must be the proxy's host "h1"/,
    );
    expect(() => parsePlatformConfig({ ...prod, office: { memoryMb: 0 } }, "prod")).toThrow(/alacarte:office\.memoryMb/);
    expect(() => parsePlatformConfig({ ...prod, office: { memoryMb: 1024, cpu: 1 } }, "prod")).toThrow(/alacarte:office/);
  });
});
