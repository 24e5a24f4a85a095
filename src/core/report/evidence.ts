/**
 * The hidden, machine-readable evidence block at the end of the PR comment. The App reads
 * it back (after checking the comment's author and that `head_sha` is the PR's head) to
 * decide promotions, so parsing is strict about shape and never throws.
 */

import {
  type Delta,
  type EvalResult,
  type GateStatus,
  KPI_NAMES,
  type KpiName,
  type Kpis,
  type Verdict,
} from "../result.ts";

export const EVIDENCE_OPEN = "<!-- modelgate:evidence ";
export const EVIDENCE_CLOSE = " -->";

export interface EvidenceGate {
  name: string;
  status: GateStatus;
  value: number | null;
  threshold: number;
  ci95: [number, number] | null;
}

export interface Evidence {
  schema_version: 1;
  verdict: Verdict;
  /** The commit the eval ran on; evidence for any other head is stale. */
  head_sha: string;
  partial: boolean;
  /** Numbers from a simulated provider: never evidence for a real promotion. */
  simulated: boolean;
  gates: EvidenceGate[];
  kpis: { base: Kpis; head: Kpis };
  deltas: Partial<Record<KpiName, Delta>>;
}

const VERDICTS: readonly string[] = ["pass", "fail", "inconclusive", "skipped"] satisfies Verdict[];
const GATE_STATUSES: readonly string[] = ["pass", "fail", "inconclusive"] satisfies GateStatus[];

function finiteOrNull(value: number | null | undefined): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function intervalOrNull(ci: readonly number[] | null | undefined): [number, number] | null {
  const [low, high] = ci ?? [];
  return typeof low === "number" && typeof high === "number" && Number.isFinite(low) && Number.isFinite(high)
    ? [low, high]
    : null;
}

function normalizeKpis(kpis: Partial<Kpis> | undefined): Kpis {
  const out = {} as Kpis;
  for (const name of KPI_NAMES) out[name] = finiteOrNull(kpis?.[name]);
  return out;
}

function normalizeDeltas(deltas: EvalResult["deltas"]): Partial<Record<KpiName, Delta>> {
  const out: Partial<Record<KpiName, Delta>> = {};
  for (const name of KPI_NAMES) {
    const delta = deltas[name];
    if (delta) out[name] = { delta: finiteOrNull(delta.delta), ci95: intervalOrNull(delta.ci95) };
  }
  return out;
}

/** The evidence a result carries for `headSha`, with non-finite numbers as `null`. */
export function toEvidence(result: EvalResult, headSha: string): Evidence {
  return {
    schema_version: 1,
    verdict: result.verdict,
    head_sha: headSha.trim(),
    partial: result.partial,
    simulated: result.simulated === true,
    gates: result.gates.map((gate) => ({
      name: gate.name,
      status: gate.status,
      value: finiteOrNull(gate.value),
      threshold: gate.threshold,
      ci95: intervalOrNull(gate.ci95),
    })),
    kpis: { base: normalizeKpis(result.base.kpis), head: normalizeKpis(result.head.kpis) },
    deltas: normalizeDeltas(result.deltas),
  };
}

/**
 * `<!-- modelgate:evidence {json} -->`. `<`, `>` and `&` are written as JSON `\u` escapes,
 * so no string inside can end the HTML comment.
 */
export function embedEvidence(result: EvalResult, headSha: string): string {
  const json = JSON.stringify(toEvidence(result, headSha)).replace(
    /[<>&]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return `${EVIDENCE_OPEN}${json}${EVIDENCE_CLOSE}`;
}

// ---- parsing: every check returns undefined for "not this shape" ----

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isNumberOrNull(value: unknown): value is number | null {
  return value === null || (typeof value === "number" && Number.isFinite(value));
}

function readInterval(value: unknown): [number, number] | null | undefined {
  if (value === null || value === undefined) return null;
  if (!Array.isArray(value) || value.length !== 2) return undefined;
  const [low, high] = value as unknown[];
  return typeof low === "number" && typeof high === "number" && Number.isFinite(low) && Number.isFinite(high)
    ? [low, high]
    : undefined;
}

function readKpis(value: unknown): Kpis | undefined {
  if (!isRecord(value)) return undefined;
  const out = {} as Kpis;
  for (const name of KPI_NAMES) {
    const kpi = value[name];
    if (!isNumberOrNull(kpi)) return undefined;
    out[name] = kpi;
  }
  return out;
}

function readDeltas(value: unknown): Partial<Record<KpiName, Delta>> | undefined {
  if (!isRecord(value)) return undefined;
  const out: Partial<Record<KpiName, Delta>> = {};
  for (const name of KPI_NAMES) {
    const delta = value[name];
    if (delta === undefined) continue;
    if (!isRecord(delta) || !isNumberOrNull(delta.delta)) return undefined;
    const ci95 = readInterval(delta.ci95);
    if (ci95 === undefined) return undefined;
    out[name] = { delta: delta.delta, ci95 };
  }
  return out;
}

function readGate(value: unknown): EvidenceGate | undefined {
  if (!isRecord(value)) return undefined;
  const { name, status, value: observed, threshold } = value;
  const ci95 = readInterval(value.ci95);
  if (typeof name !== "string" || typeof status !== "string" || !GATE_STATUSES.includes(status))
    return undefined;
  if (!isNumberOrNull(observed) || typeof threshold !== "number" || !Number.isFinite(threshold))
    return undefined;
  if (ci95 === undefined) return undefined;
  return { name, status: status as GateStatus, value: observed, threshold, ci95 };
}

function readGates(value: unknown): EvidenceGate[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const gates: EvidenceGate[] = [];
  for (const item of value) {
    const gate = readGate(item);
    if (!gate) return undefined;
    gates.push(gate);
  }
  return gates;
}

function readEvidence(value: unknown): Evidence | null {
  if (!isRecord(value) || value.schema_version !== 1) return null;
  const { verdict, head_sha, partial, simulated = false } = value;
  if (typeof verdict !== "string" || !VERDICTS.includes(verdict)) return null;
  if (typeof head_sha !== "string" || typeof partial !== "boolean" || typeof simulated !== "boolean")
    return null;
  const gates = readGates(value.gates);
  const kpis = isRecord(value.kpis)
    ? { base: readKpis(value.kpis.base), head: readKpis(value.kpis.head) }
    : undefined;
  const deltas = readDeltas(value.deltas);
  if (!gates || !kpis?.base || !kpis.head || !deltas) return null;
  return {
    schema_version: 1,
    verdict: verdict as Verdict,
    head_sha,
    partial,
    simulated,
    gates,
    kpis: { base: kpis.base, head: kpis.head },
    deltas,
  };
}

/**
 * The evidence in a comment body: the last evidence block (ours is always at the end;
 * untrusted text above it cannot contain one), or `null` when there is none or it is
 * malformed. Never throws.
 */
export function parseEvidence(body: string): Evidence | null {
  try {
    if (typeof body !== "string") return null;
    const start = body.lastIndexOf(EVIDENCE_OPEN);
    if (start < 0) return null;
    const jsonStart = start + EVIDENCE_OPEN.length;
    const end = body.indexOf(EVIDENCE_CLOSE, jsonStart);
    if (end < 0) return null;
    return readEvidence(JSON.parse(body.slice(jsonStart, end)));
  } catch {
    return null;
  }
}
