/**
 * The production watch's repository state for tests that read metrics from a file: a policy with
 * the default gates and `source: file`, and the two arms' counts of a healthy and a breaching
 * 10 % phase (the candidate's error rate 0.4 % vs 8 %).
 */
export const FILE_METRICS_POLICY = [
  "version: 1",
  "gates: { max_error_rate: 0.02, max_completion_rate_drop: 0.05, min_requests: 200 }",
  "rollout:",
  "  key: rollout.candidate_percent",
  "  phases: [10, 30, 50, 100]",
  "  metrics: { source: file, file: ops/metrics.json }",
  "",
].join("\n");

export const HEALTHY = {
  phase: 10,
  control: { requests: 20_000, errors: 100, tasks: 16_667, completed: 13_334 },
  candidate: { requests: 5_000, errors: 20, tasks: 3_125, completed: 2_500 },
};

export const BREACH = {
  phase: 10,
  control: { requests: 20_000, errors: 100, tasks: 16_667, completed: 13_334 },
  candidate: { requests: 5_000, errors: 400, tasks: 5_000, completed: 3_000 },
};

/** The metrics file FILE_METRICS_POLICY names, holding `counts`. */
export function metricsFile(counts: object): Record<string, string> {
  return { "ops/metrics.json": `${JSON.stringify(counts)}\n` };
}
