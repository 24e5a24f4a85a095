import type { Config } from "./config/schema.ts";
import { ownGet, ownRecord } from "./own.ts";

export interface Usage {
  prompt_tokens: number;
  cached_tokens: number;
  completion_tokens: number;
}

/**
 * docs/cases.md: (prompt − cached) × input + cached × cached_input + completion × output,
 * prices per 1M tokens. `null` when the model has no price: unknown, never 0.
 * A dated snapshot (`gpt-5.5-2026-04-23`) takes its family's price.
 */
export function costOf(usage: Usage, model: string, pricing: Config["pricing"]): number | null {
  const price = priceOf(model, pricing);
  if (!price) return null;
  const uncached = Math.max(0, usage.prompt_tokens - usage.cached_tokens);
  const cachedPrice = price.cached_input ?? price.input;
  return (
    (uncached * price.input + usage.cached_tokens * cachedPrice + usage.completion_tokens * price.output) /
    1_000_000
  );
}

/** `pricing.<model>.batch_discount` when the policy does not say: OpenAI's Batch API price. */
export const DEFAULT_BATCH_DISCOUNT = 0.5;

/**
 * The prices a run pays in `mode`: list prices, or each model's list price × its batch discount.
 * Cost, the estimate and the budget caps all read this one table, so batch pricing cannot be
 * applied in one place and forgotten in another.
 */
export function pricingFor(pricing: Config["pricing"], mode: "interactive" | "batch"): Config["pricing"] {
  if (mode === "interactive") return pricing;
  const out: Config["pricing"] = ownRecord();
  for (const [model, price] of Object.entries(pricing)) {
    const d = price.batch_discount ?? DEFAULT_BATCH_DISCOUNT;
    out[model] = {
      ...price,
      input: price.input * d,
      output: price.output * d,
      ...(price.cached_input !== undefined ? { cached_input: price.cached_input * d } : {}),
    };
  }
  return out;
}

export function priceOf(model: string, pricing: Config["pricing"]) {
  return ownGet(pricing, model) ?? ownGet(pricing, modelFamily(model));
}

/** `gpt-5.5-2026-04-23` → `gpt-5.5`: a dated snapshot is the same model ID. */
export function modelFamily(model: string): string {
  return model.replace(/-\d{4}-\d{2}-\d{2}$/, "");
}

/**
 * True when `returned` is the model asked for, or a dated snapshot of it. The one model-ID
 * comparison (runner, selection, rollout edits): the wanted ID first, the one found second.
 */
export function sameModel(requested: string, returned: string): boolean {
  return requested === returned || modelFamily(returned) === requested;
}
