import { spawnSync } from "node:child_process";

/**
 * Suites that need a server npm cannot install. In CI (`CI` set) they always run, and a missing
 * service fails them loudly; on a laptop without the service they are left out with one line
 * saying which service is missing and how to get it, and every other test still runs.
 */
export interface ServiceSuite {
  service: string;
  files: string[];
  available(): boolean;
  install: string;
}

function runs(binary: string): boolean {
  const probe = spawnSync(binary, ["--version"], { stdio: "ignore" });
  return !probe.error && probe.status === 0;
}

export const SERVICE_SUITES: ServiceSuite[] = [
  {
    service: "prometheus",
    files: ["test/rollout.test.ts", "test/cli-watch.test.ts", "test/action-watch.test.ts"],
    available: () => runs(process.env.PROMETHEUS_BIN || "prometheus"),
    install: "`sudo apt-get install prometheus` (or `bash .ci/services`), or set PROMETHEUS_BIN",
  },
  {
    service: "prometheus-alertmanager",
    // Also needs prometheus (the same skip applies when that one is missing).
    files: ["test/watch-alertmanager.test.ts"],
    available: () =>
      runs(process.env.PROMETHEUS_BIN || "prometheus") &&
      (process.env.ALERTMANAGER_BIN
        ? runs(process.env.ALERTMANAGER_BIN)
        : runs("prometheus-alertmanager") || runs("alertmanager")),
    install:
      "`sudo apt-get install prometheus prometheus-alertmanager` (or `bash .ci/services`), or set ALERTMANAGER_BIN",
  },
  {
    service: "redis-server",
    files: ["test/app-replicas.test.ts"],
    available: () => runs(process.env.REDIS_SERVER_BIN || "redis-server"),
    install: "`sudo apt-get install redis-server` (or `bash .ci/services`), or set REDIS_SERVER_BIN",
  },
];

/** Test files to leave out of this run, each reported once on stderr. */
export function unavailableServiceSuites(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.CI) return [];
  const skipped: string[] = [];
  for (const suite of SERVICE_SUITES) {
    if (suite.available()) continue;
    process.stderr.write(
      `skipping ${suite.files.join(", ")}: ${suite.service} is not installed; install it with ${suite.install}\n`,
    );
    skipped.push(...suite.files);
  }
  return skipped;
}
