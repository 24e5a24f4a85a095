import type { Config } from "../core/config/schema.ts";
import type { ProductionReading } from "../core/rollout/steps.ts";
import type { GitHub, RepoRef } from "../github/client.ts";
import { readFileAt } from "../github/contents.ts";
import { readMetricsFile } from "../metrics/file.ts";
import {
  PrometheusError,
  prometheusClient,
  readPrometheusArms,
  usesPhaseWindow,
} from "../metrics/prometheus.ts";
import { phaseStart, phaseWindow } from "./phase-start.ts";

/**
 * Where the production gates get their counts, shared by every door that judges a phase (the
 * App's labels and alerts, `modelgate watch`, the Action's watch mode). The metrics source is
 * configured in the policy; its address and credentials come only from the caller's environment.
 */
export interface ProductionDeps {
  gh: GitHub;
  /** `PROMETHEUS_URL`, `PROMETHEUS_BEARER_TOKEN`: the door's environment, never the repo's. */
  env: Readonly<Record<string, string | undefined>>;
  fetch?: typeof fetch | undefined;
  now?: () => Date;
}

/** Production counts of the current phase, from Prometheus or the metrics file at `baseSha`. */
export async function readProduction(
  deps: ProductionDeps,
  repo: RepoRef,
  config: Config,
  baseSha: string,
  current: number,
): Promise<ProductionReading> {
  const metrics = config.rollout.metrics;
  if (metrics.source === "file") {
    const text = await readFileAt(deps.gh, { ...repo, path: metrics.file, ref: baseSha });
    return readMetricsFile(text, metrics.file, current);
  }
  const url = deps.env.PROMETHEUS_URL?.trim();
  if (!url) {
    return {
      kind: "missing",
      source: "Prometheus",
      reason:
        "PROMETHEUS_URL is not set in the environment modelgate runs in (the App's, the CLI's or the Action step's)",
    };
  }
  try {
    const client = prometheusClient({
      url,
      bearerToken: deps.env.PROMETHEUS_BEARER_TOKEN,
      ...(deps.fetch ? { fetch: deps.fetch } : {}),
    });
    return await readPrometheusArms(
      client,
      metrics,
      current,
      await windowOf(deps, repo, config, baseSha, current),
    );
  } catch (error) {
    if (!(error instanceof PrometheusError)) throw error;
    return { kind: "missing", source: "Prometheus", reason: error.message };
  }
}

/** `{{phase_window}}`: the running totals since the commit that set the current share. */
async function windowOf(
  deps: ProductionDeps,
  repo: RepoRef,
  config: Config,
  baseSha: string,
  share: number,
): Promise<{ phase_window?: string; unknown_reason?: string }> {
  if (!Object.values(config.rollout.metrics.queries).some(usesPhaseWindow)) return {};
  const start = await phaseStart(deps.gh, {
    ...repo,
    ref: baseSha,
    file: config.llm.config,
    key: config.rollout.key,
    share,
  });
  if (start.kind === "unknown") return { unknown_reason: start.reason };
  return { phase_window: phaseWindow(start.since, deps.now?.() ?? new Date()) };
}
