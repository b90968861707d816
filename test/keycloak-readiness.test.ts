import * as net from "node:net";
/**
 * The readiness wait the platform runs inside the Keycloak container (`docker exec … bash -c
 * <script>`, components/platform/keycloak.ts), run by bash against a local HTTP server standing in
 * for the management port's GET /health/ready.
 */
import { execFileSync } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { readinessProbe, readinessWaitScript } from "../components/platform/keycloak";
import { needTools, requireTool } from "./helpers/debian-tools";
import { type ProcessRun, runProcess } from "./helpers/run-process";

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A management port answering 503 to the first `notReady` requests of /health/ready, then 200. */
async function managementPort(notReady: number): Promise<{ port: number; requests: () => number }> {
  let count = 0;
  server = createServer((req, res) => {
    if (req.url !== "/health/ready") {
      res.writeHead(404).end();
      return;
    }
    count += 1;
    const ready = count > notReady;
    // Keycloak's health check answers JSON with a status of UP or DOWN.
    res
      .writeHead(ready ? 200 : 503, { "content-type": "application/json" })
      .end(JSON.stringify({ status: ready ? "UP" : "DOWN", checks: [] }));
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as AddressInfo).port, requests: () => count };
}

/** Runs the script as `bash -c <script>`, the way docker exec does: no shell string in between. */
function runBash(script: string): Promise<ProcessRun> {
  return runProcess(requireTool("bash"), ["-c", script]);
}

describe("readinessWaitScript", () => {
  it("polls until /health/ready answers 200, then exits 0", async () => {
    const { port, requests } = await managementPort(2);
    const { code, stderr } = await runBash(readinessWaitScript(port, 20));
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(requests()).toBe(3);
  }, 15_000);

  it("fails with a message on stderr once the time limit has passed", async () => {
    const { port, requests } = await managementPort(Number.POSITIVE_INFINITY);
    const { code, stdout, stderr, seconds } = await runBash(readinessWaitScript(port, 3));
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toBe(`Keycloak is not ready after 3 s (GET :${port}/health/ready)\n`);
    expect(requests()).toBeGreaterThan(1);
    expect(seconds).toBeGreaterThanOrEqual(3);
    expect(seconds).toBeLessThan(8);
  }, 15_000);

  it("keeps waiting while nothing listens on the port yet, without printing the connection errors", async () => {
    const { port } = await managementPort(0);
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    const { code, stderr } = await runBash(readinessWaitScript(port, 1));
    expect(code).toBe(1);
    expect(stderr).toBe(`Keycloak is not ready after 1 s (GET :${port}/health/ready)\n`);
  }, 15_000);
});

describe("readinessProbe", () => {
  it("succeeds on 200 only", async () => {
    const { port } = await managementPort(1);
    expect((await runBash(readinessProbe(port))).code).not.toBe(0);
    expect((await runBash(readinessProbe(port))).code).toBe(0);
  }, 15_000);
});

describe("a management port that accepts and never answers", () => {
  it("does not hold the wait past its limit: each probe gives up after 5 s", async () => {
    const silent = net.createServer(() => {
      // Accepts the connection and says nothing.
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const port = (silent.address() as AddressInfo).port;
      const run = await runBash(readinessWaitScript(port, 2));
      expect(run.code).toBe(1);
      expect(run.stderr).toContain("Keycloak is not ready after 2 s");
      expect(run.seconds).toBeLessThan(12);
    } finally {
      silent.close();
    }
  }, 20_000);
});

describe("the readiness scripts pass shellcheck (Debian's shellcheck, installed by test/setup-debian.sh)", () => {
  needTools("shellcheck");

  it.each([
    ["readinessWaitScript", readinessWaitScript(9000, 600)],
    ["readinessProbe", readinessProbe(9000)],
  ])("%s", (_name, script) => {
    expect(() => execFileSync(requireTool("shellcheck"), ["-s", "bash", "-"], { input: script, encoding: "utf8" })).not.toThrow();
  });
});
