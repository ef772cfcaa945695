import path from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { alias: { "~": path.resolve(import.meta.dirname, "app") } },
  test: {
    globals: true,
    reporters: ["default", "./tests/helpers/summary-reporter.ts"],
    globalSetup: ["tests/helpers/global-setup.ts"],
    include: ["{app,cli,agent,contract,db,domain,tests,server}/**/*.test.{ts,tsx}"],
    // Each file runs in its own process with its own database (see tests/helpers/db.ts).
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
