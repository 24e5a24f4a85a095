import type { Config } from "./config/schema.ts";
import { costOf } from "./pricing.ts";

/**
 * How much of a batch round the run's cost budget admits. Interactive requests are checked
 * against the budget one at a time; a batch round is paid for all at once, hours later, so it
 * is admitted only as far as what is spent plus every admitted request at its worst (the
 * prompt, plus the full output cap) stays within `budget.max_run_cost_usd`. Pure.
 */

export interface RoundRequest {
  model: string;
  messages: unknown;
  max_completion_tokens?: number | null;
}

export interface Admission {
  count: number;
  reason?: string;
  cap?: string;
}

/** Characters per token for sizing a prompt: the estimate's rule of thumb. */
const CHARS_PER_TOKEN = 4;

export function admitRound(
  requests: readonly RoundRequest[],
  spent: number,
  cap: number | undefined,
  pricing: Config["pricing"],
): Admission {
  if (cap === undefined) return { count: requests.length };
  let worst = spent;
  for (const [index, request] of requests.entries()) {
    worst += worstCost(request, pricing);
    if (worst > cap) {
      return {
        count: index,
        reason: `${requests.length - index} of ${requests.length} requests could take the run past budget.max_run_cost_usd $${cap} (spent $${spent.toFixed(4)}; a request counts its prompt plus its output cap)`,
        cap: "budget.max_run_cost_usd",
      };
    }
  }
  return { count: requests.length };
}

/**
 * The most one request can cost. A model without a price counts 0 (its cost is unknown to the
 * budget either way, as in interactive runs); a request without an output cap counts its prompt.
 */
function worstCost(request: RoundRequest, pricing: Config["pricing"]): number {
  const prompt = Math.ceil(JSON.stringify(request.messages ?? "").length / CHARS_PER_TOKEN);
  const output = request.max_completion_tokens ?? 0;
  return (
    costOf({ prompt_tokens: prompt, cached_tokens: 0, completion_tokens: output }, request.model, pricing) ??
    0
  );
}
