import { configDefaults, defineConfig } from "vitest/config";
import { unavailableServiceSuites } from "./test/support/services.ts";
import { SummaryLineReporter } from "./test/support/summary-line-reporter.ts";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: [...configDefaults.exclude, ...unavailableServiceSuites()],
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    reporters: ["default", new SummaryLineReporter()],
  },
});
