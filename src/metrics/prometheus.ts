import { z } from "zod";
import type { Config } from "../core/config/schema.ts";
import type { ArmCounts, ProductionArms } from "../core/rollout/production-gates.ts";
import type { ArmQuery, ProductionReading } from "../core/rollout/steps.ts";

/**
 * Production counts from the Prometheus HTTP API (issue 6, point 3): one instant query per
 * count and arm, written in `rollout.metrics.queries`. The server's address comes from the
 * App's environment (`PROMETHEUS_URL`), never from the repository: a PR must not be able to
 * point the App at numbers of its own making.
 */

export class PrometheusError extends Error {
  override readonly name = "PrometheusError";
}

export interface PrometheusClientOptions {
  /** `PROMETHEUS_URL`: `http(s)://host:9090`, optionally with a path prefix and `user:password@`. */
  url: string;
  /** `PROMETHEUS_BEARER_TOKEN`, for a Prometheus behind an authenticating proxy. */
  bearerToken?: string | undefined;
  /** Per query; default 5 s (a webhook delivery expects an answer within 10 s overall). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface PrometheusClient {
  /** The address without credentials, for logs (comments name only `PROMETHEUS_URL`). */
  readonly displayUrl: string;
  /** The value of an instant query: a scalar, or the sum of a vector; `null` when it has no data. */
  instant(query: string): Promise<number | null>;
}

export function prometheusClient(options: PrometheusClientOptions): PrometheusClient {
  let parsed: URL;
  try {
    parsed = new URL(options.url);
  } catch {
    throw new PrometheusError(
      `PROMETHEUS_URL ${JSON.stringify(options.url)} is not a URL; expected e.g. http://prometheus:9090`,
    );
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new PrometheusError(`PROMETHEUS_URL must be http or https, found ${parsed.protocol}`);
  }
  const headers: Record<string, string> = {
    accept: "application/json",
    "content-type": "application/x-www-form-urlencoded",
  };
  if (parsed.username || parsed.password) {
    const user = decodeURIComponent(parsed.username);
    const password = decodeURIComponent(parsed.password);
    headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
    parsed.username = "";
    parsed.password = "";
  }
  if (options.bearerToken) headers.authorization = `Bearer ${options.bearerToken}`;
  const base = parsed.href.replace(/\/+$/, "");
  const endpoint = `${base}/api/v1/query`;
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 5_000;
  return {
    displayUrl: base,
    async instant(query) {
      let response: Response;
      try {
        // POST keeps long queries out of URL length limits; Prometheus accepts both.
        response = await doFetch(endpoint, {
          method: "POST",
          headers,
          body: new URLSearchParams({ query }).toString(),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        const reason =
          error instanceof Error
            ? error.cause instanceof Error
              ? error.cause.message
              : error.message
            : String(error);
        throw new PrometheusError(`cannot reach Prometheus (PROMETHEUS_URL): ${reason}`);
      }
      const text = await response.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new PrometheusError(
          `Prometheus at ${base} answered ${response.status} with a body that is not JSON`,
        );
      }
      return readInstant(body, response.status);
    },
  };
}

/**
 * The parts of Prometheus' `/api/v1/query` answer we read (other keys, e.g. `warnings`, are
 * allowed and ignored); a body of another shape is an error that says so, never a guess.
 */
const instantAnswer = z.object({
  status: z.string(),
  error: z.string().optional(),
  data: z.object({ resultType: z.string(), result: z.unknown() }).optional(),
});
const vectorResult = z.array(z.object({ value: z.unknown() }));

function readInstant(body: unknown, status: number): number | null {
  const parsed = instantAnswer.safeParse(body);
  if (!parsed.success) {
    throw new PrometheusError(`Prometheus answered ${status} with a body that is not an API response`);
  }
  const answer = parsed.data;
  if (answer.status !== "success") {
    throw new PrometheusError(`Prometheus refused the query: ${answer.error ?? `HTTP ${status}`}`);
  }
  const { resultType, result } = answer.data ?? {};
  if (resultType === "scalar") return sampleValue(result);
  if (resultType === "vector") {
    const series = vectorResult.safeParse(result);
    if (!series.success)
      throw new PrometheusError("Prometheus answered a vector that is not a list of series");
    if (series.data.length === 0) return null;
    let sum = 0;
    for (const { value: sample } of series.data) {
      const value = sampleValue(sample);
      if (value === null) return null;
      sum += value;
    }
    return sum;
  }
  throw new PrometheusError(
    `expected an instant vector or scalar, found ${String(resultType)} (a range selector like [1h] needs a function such as increase() around it)`,
  );
}

/** `[unix_time, "value"]`; NaN and ±Inf are no data. */
function sampleValue(sample: unknown): number | null {
  if (!Array.isArray(sample) || sample.length !== 2) return null;
  const value = Number(sample[1]);
  return Number.isFinite(value) ? value : null;
}

export type MetricsConfig = Config["rollout"]["metrics"];

const ARMS = ["control", "candidate"] as const;
const COUNTS = ["requests", "errors", "tasks", "completed"] as const;

/** The values a configured query's placeholders take for one arm. */
export interface QueryValues {
  arm: string;
  phase: number;
  /** Prometheus duration since the phase began (`5400s`); undefined when it is not known. */
  phase_window?: string | undefined;
}

const PLACEHOLDER = /\{\{\s*(arm|phase_window|phase)\s*\}\}/g;

/** Whether a query needs to know when the phase began. */
export function usesPhaseWindow(template: string): boolean {
  return /\{\{\s*phase_window\s*\}\}/.test(template);
}

/** A configured query for one arm: `{{arm}}`, `{{phase}}` and `{{phase_window}}` filled in. */
export function renderQuery(template: string, values: QueryValues): string {
  return template.replace(PLACEHOLDER, (_match, name: string) => {
    if (name === "arm") return values.arm;
    if (name === "phase") return String(values.phase);
    if (values.phase_window === undefined) throw new Error("renderQuery: phase_window is not known");
    return values.phase_window;
  });
}

/**
 * The eight counts of the current phase. Any query without data, or counts that do not add up,
 * make the reading `missing` (a hold), never zero: an absent series is not a healthy arm.
 */
export async function readPrometheusArms(
  client: PrometheusClient,
  metrics: MetricsConfig,
  phase: number,
  window: { phase_window?: string | undefined; unknown_reason?: string | undefined } = {},
): Promise<ProductionReading> {
  // The address stays out of PR comments: it is the App's infrastructure, not the repo's.
  const source = "Prometheus (PROMETHEUS_URL)";
  if (window.phase_window === undefined) {
    const needing = COUNTS.filter((count) => usesPhaseWindow(metrics.queries[count]));
    if (needing.length > 0) {
      return {
        kind: "missing",
        source,
        reason: `the start of the ${phase} % phase is not known, and ${needing.map((c) => `rollout.metrics.queries.${c}`).join(", ")} need it for {{phase_window}}${window.unknown_reason ? ` (${window.unknown_reason})` : ""}`,
      };
    }
  }
  const jobs = ARMS.flatMap((arm) =>
    COUNTS.map((count) => ({
      arm,
      count,
      query: renderQuery(metrics.queries[count], {
        arm: metrics.arms[arm],
        phase,
        phase_window: window.phase_window,
      }),
    })),
  );
  let values: Array<number | null>;
  try {
    values = await Promise.all(jobs.map((job) => client.instant(job.query)));
  } catch (error) {
    return { kind: "missing", source, reason: error instanceof Error ? error.message : String(error) };
  }
  const queries: ArmQuery[] = jobs.map((job, i) => ({ ...job, value: values[i] ?? null }));
  const empty = queries.filter((q) => q.value === null);
  if (empty.length > 0) {
    return {
      kind: "missing",
      source,
      // Name the config key too: a policy written before `tasks` existed has the default query.
      reason: `no data for ${empty.map((q) => `${q.arm} ${q.count} (rollout.metrics.queries.${q.count})`).join(", ")}`,
      queries,
    };
  }
  const count = (arm: (typeof ARMS)[number], name: (typeof COUNTS)[number]) =>
    Math.round(queries.find((q) => q.arm === arm && q.count === name)?.value ?? 0);
  const armCounts = (arm: (typeof ARMS)[number]): ArmCounts => ({
    requests: count(arm, "requests"),
    errors: count(arm, "errors"),
    tasks: count(arm, "tasks"),
    completed: count(arm, "completed"),
  });
  const arms: ProductionArms = { control: armCounts("control"), candidate: armCounts("candidate") };
  const inconsistent = checkArms(arms);
  if (inconsistent) return { kind: "missing", source, reason: inconsistent, queries };
  return { kind: "counts", source, arms, queries };
}

/** Why counts cannot be right (negative, more errors than requests, more completed than tasks). */
export function checkArms(arms: ProductionArms): string | undefined {
  for (const arm of ARMS) {
    const { requests, errors, tasks, completed } = arms[arm];
    if ([requests, errors, tasks, completed].some((n) => !Number.isFinite(n) || n < 0))
      return `the ${arm} counts are not non-negative numbers`;
    if (errors > requests)
      return `the ${arm} counts do not add up (${errors} errors out of ${requests} requests)`;
    if (completed > tasks)
      return `the ${arm} counts do not add up (${completed} completed out of ${tasks} tasks)`;
  }
  return undefined;
}
