import { defineConfig } from "vitest/config";

// Test tiers by file suffix; each runs alone with `vitest run --project <tier>`.
//   unit: in-process, no sockets, no database
//   int:  real sockets and a real PostgreSQL
//   e2e:  whole server processes and foreign clients (python grpcio, curl-style HTTP)
export default defineConfig({
  test: {
    projects: [
      { extends: true, test: { name: "unit", include: ["test/**/*.unit.test.ts"] } },
      { extends: true, test: { name: "int", include: ["test/**/*.int.test.ts"] } },
      { extends: true, test: { name: "e2e", include: ["test/**/*.e2e.test.ts"] } },
    ],
    reporters: ["default", "./test/support/summary-reporter.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    coverage: {
      provider: "v8",
      include: ["src/**/*.ts"],
      exclude: ["src/cli/main.ts"],
      reporter: ["text-summary", "text"],
      thresholds: { lines: 90 },
    },
  },
});
