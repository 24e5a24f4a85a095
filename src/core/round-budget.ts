import type { Config } from "./config/schema.ts";
import { costOf } from "./pricing.ts";

/**
 * How much of a batch round the run's budget admits. Interactive requests are checked against
 * the budget one at a time; a batch round is paid for all at once, hours later, so it is
 * admitted only as far as what is used plus every admitted request at its worst (the prompt,
 * plus the full output cap) stays within `budget.max_run_cost_usd` and `budget.max_run_tokens`.
 * Pure.
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

/** What the run has used so far, and its caps (`budget.max_run_cost_usd`, `budget.max_run_tokens`). */
export interface RoundBudget {
  spent_usd: number;
  spent_tokens: number;
  max_cost_usd?: number | undefined;
  max_tokens?: number | undefined;
}

export function admitRound(
  requests: readonly RoundRequest[],
  budget: RoundBudget,
  pricing: Config["pricing"],
): Admission {
  const { max_cost_usd: costCap, max_tokens: tokenCap } = budget;
  if (costCap === undefined && tokenCap === undefined) return { count: requests.length };
  let cost = budget.spent_usd;
  let tokens = budget.spent_tokens;
  for (const [index, request] of requests.entries()) {
    const worst = worstCase(request, pricing);
    cost += worst.cost;
    tokens += worst.tokens;
    const over =
      costCap !== undefined && cost > costCap
        ? { cap: "budget.max_run_cost_usd", limit: `$${costCap}`, used: `$${budget.spent_usd.toFixed(4)}` }
        : tokenCap !== undefined && tokens > tokenCap
          ? { cap: "budget.max_run_tokens", limit: `${tokenCap}`, used: `${budget.spent_tokens} tokens` }
          : undefined;
    if (over) {
      return {
        count: index,
        reason: `${requests.length - index} of ${requests.length} requests could take the run past ${over.cap} ${over.limit} (spent ${over.used}; a request counts its prompt plus its output cap)`,
        cap: over.cap,
      };
    }
  }
  return { count: requests.length };
}

/**
 * The most one request can use. A model without a price counts no cost (its cost is unknown to
 * the budget either way, as in interactive runs); a request without an output cap counts its prompt.
 */
function worstCase(request: RoundRequest, pricing: Config["pricing"]): { cost: number; tokens: number } {
  const prompt = Math.ceil(JSON.stringify(request.messages ?? "").length / CHARS_PER_TOKEN);
  const output = request.max_completion_tokens ?? 0;
  const usage = { prompt_tokens: prompt, cached_tokens: 0, completion_tokens: output };
  return { cost: costOf(usage, request.model, pricing) ?? 0, tokens: prompt + output };
}
