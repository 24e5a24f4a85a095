/**
 * A real Prometheus server for tests: Debian's `prometheus` binary (installed by .ci/services),
 * started on 127.0.0.1 with a temporary config and data directory, scraping the given targets
 * every second. Nothing is skipped when the binary is missing: starting fails with a message
 * saying how to install it.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sleep, startDaemon } from "./daemon.ts";
import { type MetricsExporter, type Series, startMetricsExporter } from "./metrics-exporter.ts";
import { freePort } from "./net.ts";

export interface PrometheusServer {
  /** `http://127.0.0.1:PORT`, for PROMETHEUS_URL. */
  url: string;
  /** The value of an instant query (sum over a vector), or null without data. */
  query(promql: string): Promise<number | null>;
  /** Polls `promql` until `accept` holds for its value; the scrape that makes it true may take a few seconds. */
  waitFor(
    promql: string,
    accept: (value: number | null) => boolean,
    timeoutMs?: number,
  ): Promise<number | null>;
  /** Everything the process wrote to stderr so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  targets: string[];
  scrapeIntervalSeconds?: number;
  /** Default: `prometheus` on PATH; `PROMETHEUS_BIN` overrides. */
  binary?: string;
  /** Alerting rule files' contents, written next to the config and loaded as `rule_files`. */
  ruleFiles?: string[];
  /** Listen on this port (e.g. reserved with `freePort()` so another server can be told first). */
  port?: number;
  /** `host:port` of Alertmanagers that firing alerts are sent to. */
  alertmanagers?: string[];
  /** How often firing alerts are sent again (`--rules.alert.resend-delay`); Prometheus' default is 1m. */
  resendDelay?: string;
}

const INSTALL_HINT =
  "the rollout tests need Debian's prometheus: run `bash .ci/services` (apt-get install -y prometheus), or set PROMETHEUS_BIN";

export function prometheusBinary(binary = process.env.PROMETHEUS_BIN || "prometheus"): string {
  const probe = spawnSync(binary, ["--version"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) {
    const why = probe.error ? probe.error.message : `exit ${probe.status}: ${probe.stderr}`;
    throw new Error(`prometheus is not available (${why}); ${INSTALL_HINT}`);
  }
  return binary;
}

export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  const binary = prometheusBinary(options.binary);
  const interval = `${options.scrapeIntervalSeconds ?? 1}s`;
  const dir = mkdtempSync(join(tmpdir(), "modelgate-prometheus-"));
  const config = join(dir, "prometheus.yml");
  const rules = (options.ruleFiles ?? []).map((text, i) => {
    const file = join(dir, `rules-${i}.yml`);
    writeFileSync(file, text);
    return file;
  });
  const alerting = options.alertmanagers?.length
    ? [
        "alerting:",
        "  alertmanagers:",
        "    - static_configs:",
        `        - targets: [${options.alertmanagers.map((t) => JSON.stringify(t)).join(", ")}]`,
      ]
    : [];
  writeFileSync(
    config,
    [
      "global:",
      `  scrape_interval: ${interval}`,
      `  evaluation_interval: ${interval}`,
      ...(rules.length ? ["rule_files:", ...rules.map((file) => `  - ${JSON.stringify(file)}`)] : []),
      ...alerting,
      "scrape_configs:",
      "  - job_name: exporter",
      `    scrape_interval: ${interval}`,
      `    scrape_timeout: ${interval}`,
      "    static_configs:",
      `      - targets: [${options.targets.map((t) => JSON.stringify(t)).join(", ")}]`,
      "",
    ].join("\n"),
  );
  let lastError: Error | undefined;
  // A free port can be taken between the probe and the bind: try a few.
  for (let attempt = 0; attempt < (options.port ? 1 : 3); attempt++) {
    const port = options.port ?? (await freePort());
    try {
      return await launch(binary, dir, config, port, options.resendDelay);
    } catch (error) {
      lastError = error instanceof Error ? error : new Error(String(error));
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError ?? new Error("prometheus did not start");
}

async function launch(
  binary: string,
  dir: string,
  config: string,
  port: number,
  resendDelay: string | undefined,
): Promise<PrometheusServer> {
  const data = join(dir, `data-${port}`);
  const daemon = await startDaemon(
    "prometheus",
    binary,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${data}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
      ...(resendDelay ? [`--rules.alert.resend-delay=${resendDelay}`] : []),
    ],
    port,
  );
  const { url } = daemon;
  const query = async (promql: string): Promise<number | null> => {
    const response = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: promql })}`);
    const body = (await response.json()) as {
      status: string;
      error?: string;
      data?: { resultType: string; result: Array<{ value: [number, string] }> | [number, string] };
    };
    if (body.status !== "success") throw new Error(`prometheus query ${promql} failed: ${body.error}`);
    const { resultType, result } = body.data ?? { resultType: "vector", result: [] };
    if (resultType === "scalar") return Number((result as [number, string])[1]);
    const vector = result as Array<{ value: [number, string] }>;
    if (vector.length === 0) return null;
    return vector.reduce((sum, series) => sum + Number(series.value[1]), 0);
  };
  return {
    url,
    query,
    async waitFor(promql, accept, timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      let value: number | null = null;
      for (;;) {
        value = await query(promql);
        if (accept(value)) return value;
        if (Date.now() > until)
          throw new Error(`prometheus: ${promql} stayed at ${value} for ${timeoutMs} ms:\n${daemon.log()}`);
        await sleep(200);
      }
    },
    log: daemon.log,
    async stop() {
      await daemon.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A loopback exporter serving `series` and a Prometheus scraping it every second, returned once
 * every series has been scraped: nothing is asserted on data Prometheus has not seen yet.
 */
export async function startScrapedSeries(
  series: Series[],
): Promise<{ exporter: MetricsExporter; prometheus: PrometheusServer; stop(): Promise<void> }> {
  const exporter = await startMetricsExporter(series);
  const prometheus = await startPrometheus({ targets: [exporter.target], scrapeIntervalSeconds: 1 });
  const requestSeries = series.filter((s) => s.name === "llm_requests_total").length;
  await prometheus.waitFor("count(llm_requests_total)", (n) => n === requestSeries);
  return {
    exporter,
    prometheus,
    async stop() {
      await prometheus.stop();
      await exporter.close();
    },
  };
}
