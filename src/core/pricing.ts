import type { Config } from "./config/schema.ts";
import { ownGet } from "./own.ts";

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
