import type { CaseResult, CaseSideResult, GateResult, GateStatus, Outcome } from "./result.ts";
import type { OutcomePair } from "./stats.ts";

export interface GateEvaluation {
  gates: GateResult[];
  verdict: GateStatus;
}

/** A case both sides ran: the only kind a paired comparison can use. */
export interface PairedCase {
  id: string;
  route: string;
  base: CaseSideResult;
  head: CaseSideResult;
}

/** Cases with both sides, in the order given (the sequence order, for the gates). */
export function pairsInOrder(cases: readonly CaseResult[]): PairedCase[] {
  const pairs: PairedCase[] = [];
  for (const { id, route, base, head } of cases) {
    if (base && head) pairs.push({ id, route, base, head });
  }
  return pairs;
}

/** Cases with both sides, sorted by ID so bootstrap resamples do not depend on input order. */
export function pairedCases(cases: readonly CaseResult[]): PairedCase[] {
  return pairsInOrder(cases).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** `[base, head]` indicators of one final outcome on every paired case. */
export function outcomePairs(pairs: readonly PairedCase[], outcome: Outcome): OutcomePair[] {
  return pairs.map((p) => [p.base.outcome === outcome, p.head.outcome === outcome] as const);
}

/** fail if any gate fails, else inconclusive if any is, else pass. */
export function combineVerdict(statuses: readonly GateStatus[]): GateStatus {
  if (statuses.includes("fail")) return "fail";
  if (statuses.includes("inconclusive")) return "inconclusive";
  return "pass";
}
