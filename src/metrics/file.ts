import { z } from "zod";
import type { ProductionArms } from "../core/rollout/production-gates.ts";
import type { ProductionReading } from "../core/rollout/steps.ts";
import { checkArms } from "./prometheus.ts";

/**
 * Production counts from a JSON file, for teams without Prometheus (issue 6, point 3). The App
 * reads it from the PR's base commit, never from the PR's head, so a PR cannot bring its own
 * numbers. A job that exports the counts from whatever monitoring the team has commits it:
 *
 * ```json
 * { "phase": 10, "updated_at": "2026-11-02T09:00:00Z",
 *   "control":   { "requests": 9000, "errors": 40, "tasks": 7500, "completed": 6750 },
 *   "candidate": { "requests": 1000, "errors":  5, "tasks":  800, "completed":  720 } }
 * ```
 *
 * `phase`, when present, must be the current share: counts of another phase are stale.
 * `tasks` is required: the completion rate is completed tasks / tasks, and requests are no
 * stand-in (a model that needs more requests per task would show a false drop).
 */

const count = z.number().int().nonnegative();
// `tasks` is optional here only so that a file without it gets its own message below.
const arm = z.strictObject({ requests: count, errors: count, tasks: count.optional(), completed: count });
const metricsFile = z.object({
  phase: z.number().min(0).max(100).optional(),
  updated_at: z.string().optional(),
  control: arm,
  candidate: arm,
});

export type MetricsFile = z.output<typeof metricsFile>;

/** The reading a metrics file gives for the current phase; `text === null` when the file is absent. */
export function readMetricsFile(text: string | null, file: string, phase: number): ProductionReading {
  const source = `${file} on the base branch`;
  if (text === null) return { kind: "missing", source, reason: `${file} does not exist on the base branch` };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return {
      kind: "missing",
      source,
      reason: `${file} is not JSON (${error instanceof Error ? error.message : String(error)})`,
    };
  }
  const parsed = metricsFile.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join(".") : "(top level)";
    return { kind: "missing", source, reason: `${file} ${where}: ${issue?.message ?? "invalid"}` };
  }
  const data = parsed.data;
  if (data.phase !== undefined && data.phase !== phase) {
    return {
      kind: "missing",
      source,
      reason: `${file} holds counts for the ${data.phase} % phase, and the current phase is ${phase} %`,
    };
  }
  const { control, candidate } = data;
  if (control.tasks === undefined || candidate.tasks === undefined) {
    const where = control.tasks === undefined ? "control" : "candidate";
    return {
      kind: "missing",
      source,
      reason: `${file} ${where}.tasks is missing: the completion rate is completed tasks / tasks, never / requests`,
    };
  }
  const arms: ProductionArms = {
    control: { ...control, tasks: control.tasks },
    candidate: { ...candidate, tasks: candidate.tasks },
  };
  const inconsistent = checkArms(arms);
  if (inconsistent) return { kind: "missing", source, reason: `${file}: ${inconsistent}` };
  return {
    kind: "counts",
    source: data.updated_at ? `${source} (updated ${data.updated_at})` : source,
    arms,
  };
}
