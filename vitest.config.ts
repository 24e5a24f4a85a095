import { configDefaults, defineConfig } from "vitest/config";
import { unavailableServiceSuites } from "./test/support/services.ts";
import { SummaryLineReporter } from "./test/support/summary-line-reporter.ts";

/**
 * Two projects: `unit` (pure logic, no servers, no child processes: seconds) and `e2e` (real git
 * repos, the simulator, the GitHub emulator, Prometheus and Redis over loopback). `npm test` runs
 * both; `npm run test:unit` runs the fast one. A new test file is e2e unless listed here.
 */
const UNIT = [
  "test/action-inputs.test.ts",
  "test/build-result.test.ts",
  "test/cases.test.ts",
  "test/classify.test.ts",
  "test/config.test.ts",
  "test/fixed-n.test.ts",
  "test/gates.test.ts",
  "test/sequential-validity.test.ts",
  "test/inconclusive.test.ts",
  "test/kpis.test.ts",
  "test/merge.test.ts",
  "test/report.test.ts",
  "test/rollout-core.test.ts",
  "test/selection.test.ts",
  "test/stats.test.ts",
];

export default defineConfig({
  test: {
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    reporters: ["default", new SummaryLineReporter()],
    projects: [
      { extends: true, test: { name: "unit", include: UNIT } },
      {
        extends: true,
        test: {
          name: "e2e",
          include: ["test/**/*.test.ts"],
          exclude: [...configDefaults.exclude, ...UNIT, ...unavailableServiceSuites()],
        },
      },
    ],
  },
});
