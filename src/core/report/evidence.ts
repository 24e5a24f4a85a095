/**
 * The hidden, machine-readable evidence block at the end of the PR comment. The App reads
 * it back (after checking the comment's author and that `head_sha` is the PR's head) to
 * decide promotions, so it is parsed with a strict schema built from the result file's own
 * (result.ts): a block that does not match is rejected whole, with a one-line reason.
 */

import { z } from "zod";
import { EVIDENCE_CLOSE, EVIDENCE_OPEN } from "../protocol.ts";
import {
  deltasSchema,
  type EvalResult,
  gateResultSchema,
  KPI_NAMES,
  type Kpis,
  kpisSchema,
  schemaProblem,
  verdictSchema,
} from "../result.ts";

export { EVIDENCE_CLOSE, EVIDENCE_OPEN };

const evidenceGateSchema = gateResultSchema
  .pick({ name: true, status: true, value: true, threshold: true })
  .extend({ ci95: gateResultSchema.shape.ci95.unwrap() });
export type EvidenceGate = z.infer<typeof evidenceGateSchema>;

export const evidenceSchema = z.strictObject({
  schema_version: z.literal(1),
  verdict: verdictSchema,
  /** The commit the eval ran on; evidence for any other head is stale. */
  head_sha: z.string(),
  partial: z.boolean(),
  /** Numbers from a simulated provider: never evidence for a real promotion. */
  simulated: z.boolean(),
  gates: z.array(evidenceGateSchema),
  kpis: z.strictObject({ base: kpisSchema, head: kpisSchema }),
  deltas: deltasSchema,
});
export type Evidence = z.infer<typeof evidenceSchema>;

function finiteOrNull(value: number | null | undefined): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function intervalOrNull(ci: readonly number[] | null | undefined): [number, number] | null {
  const [low, high] = ci ?? [];
  return typeof low === "number" && typeof high === "number" && Number.isFinite(low) && Number.isFinite(high)
    ? [low, high]
    : null;
}

function normalizeKpis(kpis: Kpis): Kpis {
  const out = { ...kpis };
  for (const name of KPI_NAMES) out[name] = finiteOrNull(kpis[name]);
  return out;
}

function normalizeDeltas(deltas: EvalResult["deltas"]): Evidence["deltas"] {
  const out: Evidence["deltas"] = {};
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

/** What a comment or check run holds: no block, a block that fails the schema (and why), or evidence. */
export type EvidenceRead =
  | { kind: "none" }
  | { kind: "malformed"; problem: string }
  | { kind: "evidence"; evidence: Evidence };

/**
 * The last evidence block in a text (ours is always at the end; untrusted text above it cannot
 * contain one), checked against the schema. Never throws.
 */
export function readEvidence(body: string): EvidenceRead {
  if (typeof body !== "string") return { kind: "none" };
  const start = body.lastIndexOf(EVIDENCE_OPEN);
  if (start < 0) return { kind: "none" };
  const jsonStart = start + EVIDENCE_OPEN.length;
  const end = body.indexOf(EVIDENCE_CLOSE, jsonStart);
  if (end < 0) return { kind: "malformed", problem: "the evidence block is not closed" };
  let raw: unknown;
  try {
    raw = JSON.parse(body.slice(jsonStart, end));
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    return { kind: "malformed", problem: `the evidence block is not valid JSON (${reason})` };
  }
  const parsed = evidenceSchema.safeParse(raw);
  if (!parsed.success) return { kind: "malformed", problem: `evidence ${schemaProblem(parsed.error, raw)}` };
  return { kind: "evidence", evidence: parsed.data };
}

/** The evidence in a comment body, or `null` when there is none or it is malformed. Never throws. */
export function parseEvidence(body: string): Evidence | null {
  const read = readEvidence(body);
  return read.kind === "evidence" ? read.evidence : null;
}
