import type { Config } from "./config/schema.ts";
import { UserError } from "./errors.ts";
import { costOf, type Usage } from "./pricing.ts";

/**
 * The pre-run cost estimate (issue 14, docs/results.md#cost-estimate): per side, the tokens and
 * USD of every selected case, from the best thing known about each case. Pure: the engine looks
 * the cache and the baseline file up and passes what it found.
 *
 * It covers every selected pair (sequential gates may stop before the last one), and the result
 * records the actual figures next to it. A case nothing is known about takes the mean of the
 * known cases of the same model and route (`similar`: at least `MIN_SIMILAR` of them), else the
 * worst case of its prompt and output cap (`prompt_size`), which is far above what a case uses.
 */
export type EstimateSource = "cache" | "baseline" | "similar" | "prompt_size";

/** One attempt as the cache holds it. */
export interface CachedUsage extends Usage {
  has_usage: boolean;
  model: string;
}

/** One side of one selected case, with what is known about it. */
export interface EstimateTask {
  side: "base" | "head";
  route: string;
  model: string;
  /** Characters of the rendered messages. */
  promptChars: number;
  maxOutputTokens: number | null;
  retryLimit: number;
  /**
   * The cached attempts the runner would replay, when the cache holds the whole chain (up to a
   * pass, or every retry): a re-run costs nothing and reports exactly these.
   */
  cached?: readonly CachedUsage[];
  /** This side of the same case in the last result file (`--baseline`), when its model matches. */
  baseline?: { tokens: number | null; cost: number | null };
}

export interface SideEstimate {
  /** Null when some case cannot be estimated: `reason` says why. */
  tokens: number | null;
  /** What the result will report for this side (cached attempts included). Null: unknown, never 0. */
  cost_usd: number | null;
  /** What this side will newly spend: cached attempts are replayed for free. */
  spend_usd: number | null;
  /** The one source used for every case, or `mixed` (then `sources` counts each). */
  source: EstimateSource | "mixed" | "none";
  sources: Partial<Record<EstimateSource, number>>;
  /** True when any case was sized from its prompt (characters / 4) or from similar cases. */
  approximate: boolean;
  reason?: string;
}

export interface CostTotals {
  tokens: number | null;
  cost_usd: number | null;
  spend_usd: number | null;
}

export interface CostEstimate {
  base: SideEstimate;
  head: SideEstimate;
  total: CostTotals;
  /** `base: cache, head: prompt_size`: which source each side used, for one line of text. */
  source: string;
}

/** Tokens per character for prompt sizing: the usual rule of thumb for English and code. */
const CHARS_PER_TOKEN = 4;

export function estimateCost(tasks: readonly EstimateTask[], pricing: Config["pricing"]): CostEstimate {
  const base = estimateSide(
    tasks.filter((t) => t.side === "base"),
    pricing,
  );
  const head = estimateSide(
    tasks.filter((t) => t.side === "head"),
    pricing,
  );
  return {
    base,
    head,
    total: {
      tokens: add(base.tokens, head.tokens),
      cost_usd: add(base.cost_usd, head.cost_usd),
      spend_usd: add(base.spend_usd, head.spend_usd),
    },
    source: `base: ${base.source}, head: ${head.source}`,
  };
}

interface TaskFigures {
  source: EstimateSource;
  tokens: number | null;
  cost: number | null;
  spend: number | null;
  reason?: string;
}

/** Known cases of a model on a route needed before their mean stands in for an unknown one. */
export const MIN_SIMILAR = 5;

function estimateSide(tasks: readonly EstimateTask[], pricing: Config["pricing"]): SideEstimate {
  const side: SideEstimate = {
    tokens: 0,
    cost_usd: 0,
    spend_usd: 0,
    source: "none",
    sources: {},
    approximate: false,
  };
  const known = tasks.map((task) => knownFigures(task, pricing));
  const similar = similarCases(tasks, known);
  for (const [index, task] of tasks.entries()) {
    const figures = known[index] ?? similar(task) ?? worstCase(task, pricing);
    side.sources[figures.source] = (side.sources[figures.source] ?? 0) + 1;
    if (figures.source === "prompt_size" || figures.source === "similar") side.approximate = true;
    side.tokens = add(side.tokens, figures.tokens);
    side.cost_usd = add(side.cost_usd, figures.cost);
    side.spend_usd = add(side.spend_usd, figures.spend);
    if (figures.reason && side.reason === undefined) side.reason = figures.reason;
  }
  const used = Object.keys(side.sources) as EstimateSource[];
  side.source = used.length === 0 ? "none" : used.length === 1 ? (used[0] ?? "none") : "mixed";
  return side;
}

/** What the cache or the baseline knows of this case, exactly; undefined when neither does. */
function knownFigures(task: EstimateTask, pricing: Config["pricing"]): TaskFigures | undefined {
  if (task.cached) {
    let tokens: number | null = 0;
    let cost: number | null = 0;
    let reason: string | undefined;
    for (const attempt of task.cached) {
      if (!attempt.has_usage) {
        reason ??= `a cached answer of ${attempt.model} (route ${task.route}) reported no usage`;
        tokens = null;
        cost = null;
        continue;
      }
      tokens = add(tokens, attempt.prompt_tokens + attempt.completion_tokens);
      const priced = costOf(attempt, attempt.model, pricing);
      if (priced === null) reason ??= noPrice(attempt.model);
      cost = add(cost, priced);
    }
    return { source: "cache", tokens, cost, spend: 0, ...(reason ? { reason } : {}) };
  }
  if (task.baseline) {
    const { tokens, cost } = task.baseline;
    const reason =
      tokens === null || cost === null
        ? `the baseline result has no ${cost === null ? "cost" : "tokens"} for ${task.model} (route ${task.route})`
        : undefined;
    return { source: "baseline", tokens, cost, spend: cost, ...(reason ? { reason } : {}) };
  }
  return undefined;
}

/**
 * The mean tokens and cost of the known cases of the same model and route, as what an unknown
 * one will likely use: a re-run after a sequential stop knows the pairs it ran, and the rest are
 * cases of the same kind. Only complete figures count, and only `MIN_SIMILAR` or more of them.
 */
function similarCases(
  tasks: readonly EstimateTask[],
  known: ReadonlyArray<TaskFigures | undefined>,
): (task: EstimateTask) => TaskFigures | undefined {
  const groups = new Map<string, { n: number; tokens: number; cost: number }>();
  const keyOf = (task: EstimateTask) => JSON.stringify([task.model, task.route]);
  for (const [index, task] of tasks.entries()) {
    const figures = known[index];
    if (!figures || figures.tokens === null || figures.cost === null) continue;
    const group = groups.get(keyOf(task)) ?? { n: 0, tokens: 0, cost: 0 };
    group.n += 1;
    group.tokens += figures.tokens;
    group.cost += figures.cost;
    groups.set(keyOf(task), group);
  }
  return (task) => {
    const group = groups.get(keyOf(task));
    if (!group || group.n < MIN_SIMILAR) return undefined;
    const cost = group.cost / group.n;
    return { source: "similar", tokens: Math.round(group.tokens / group.n), cost, spend: cost };
  };
}

function worstCase(task: EstimateTask, pricing: Config["pricing"]): TaskFigures {
  // Nothing known: the worst case of every attempt answering with the full output cap. Tool
  // loops and judge calls add to it; the runtime cap still holds the run to the budget.
  if (task.maxOutputTokens === null) {
    return {
      source: "prompt_size",
      tokens: null,
      cost: null,
      spend: null,
      reason: `route ${task.route} has no max_output_tokens, so its output has no upper bound`,
    };
  }
  const attempts = 1 + task.retryLimit;
  const prompt = Math.ceil(task.promptChars / CHARS_PER_TOKEN);
  const usage = {
    prompt_tokens: prompt * attempts,
    cached_tokens: 0,
    completion_tokens: task.maxOutputTokens * attempts,
  };
  const cost = costOf(usage, task.model, pricing);
  return {
    source: "prompt_size",
    tokens: usage.prompt_tokens + usage.completion_tokens,
    cost,
    spend: cost,
    ...(cost === null ? { reason: noPrice(task.model) } : {}),
  };
}

function noPrice(model: string): string {
  return `no price for ${model} in pricing`;
}

function add(a: number | null, b: number | null): number | null {
  return a === null || b === null ? null : a + b;
}

/**
 * Refuse to start a run whose estimate exceeds `budget.max_run_cost_usd`, or that cannot be
 * estimated while the budget is set (fail closed): `force` runs it anyway, and the runtime cap
 * still stops it if the spend really reaches the budget.
 */
export function checkEstimateBudget(
  estimate: CostEstimate,
  budget: Config["budget"],
  force: boolean,
): UserError | undefined {
  const cap = budget.max_run_cost_usd;
  if (cap === undefined || force) return undefined;
  const spend = estimate.total.spend_usd;
  if (spend === null) {
    const reason = estimate.base.reason ?? estimate.head.reason ?? "unknown";
    return new UserError(
      `the run's cost cannot be estimated (${reason}) and budget.max_run_cost_usd is $${usd(cap)}: fix the estimate or pass --force (Action input force) to run anyway`,
    );
  }
  if (spend <= cap) return undefined;
  return new UserError(
    `estimated run cost $${usd(spend)} (every selected pair, ${estimate.source}) exceeds budget.max_run_cost_usd $${usd(cap)}: pass --force (Action input force) to run anyway; the run still stops if it really spends $${usd(cap)}`,
  );
}

export function usd(value: number): string {
  return value >= 1 ? value.toFixed(2) : value.toPrecision(2).replace(/\.?0+$/, "");
}

function describeSide(side: SideEstimate): string {
  const tokens = side.tokens === null ? "? tokens" : `${side.approximate ? "~" : ""}${side.tokens} tokens`;
  const cost = side.cost_usd === null ? "$?" : `$${usd(side.cost_usd)}`;
  const sources = Object.entries(side.sources)
    .map(([name, n]) => `${name} ${n}`)
    .join(", ");
  const approx = side.sources.prompt_size
    ? "; prompt sizes are approximate (characters / 4), output at its cap"
    : side.sources.similar
      ? "; unknown cases at the mean of known ones"
      : "";
  const unknown =
    side.reason && (side.tokens === null || side.cost_usd === null) ? `; unknown: ${side.reason}` : "";
  return `${tokens}, ${cost} (from ${sources || "no cases"}${approx}${unknown})`;
}

/** The CLI's and the Action log's lines: one per side, then the total. */
export function estimateLines(estimate: CostEstimate): string[] {
  const total = estimate.total;
  const approximate = estimate.base.approximate || estimate.head.approximate;
  const spend = total.spend_usd === null ? "$?" : `$${usd(total.spend_usd)}`;
  return [
    `cost estimate base: ${describeSide(estimate.base)}`,
    `cost estimate head: ${describeSide(estimate.head)}`,
    `cost estimate total: ${total.tokens === null ? "?" : `${approximate ? "~" : ""}${total.tokens}`} tokens, ${total.cost_usd === null ? "$?" : `$${usd(total.cost_usd)}`}; new spend ${spend} if every selected pair runs`,
  ];
}
