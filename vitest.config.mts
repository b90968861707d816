import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Pulumi's mock runtime keeps process-wide state: one file per worker process.
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
