import type OpenAI from "openai";
import { APIError, APIUserAbortError } from "openai";
import type {
  ChatCompletion,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from "openai/resources/chat/completions";
import { type Answer, type JudgeVerdict, judgeAnswer, judgeAssertions } from "../core/cases/assertions.ts";
import type { EvalCase } from "../core/cases/schema.ts";
import type { Config } from "../core/config/schema.ts";
import type { ResolvedRoute } from "../core/llm-config.ts";
import { ownGet } from "../core/own.ts";
import { costOf, sameModel, type Usage } from "../core/pricing.ts";
import type { CaseSideResult, Outcome } from "../core/result.ts";
import { type AttemptCache, attemptKey, type CachedAttempt, noCache } from "./cache.ts";
import { createLimiter, sleep } from "./limiter.ts";
import { retryAfterMs } from "./openai-client.ts";

export type Side = "base" | "head";

/** One case on one side, ready to send: messages rendered from that side's prompt. */
export interface EvalTask {
  side: Side;
  testCase: EvalCase;
  route: string;
  resolved: ResolvedRoute;
  messages: ChatCompletionMessageParam[];
}

export interface RunnerOptions {
  client: OpenAI;
  concurrency: number;
  maxSteps: number;
  pricing: Config["pricing"];
  budget: Config["budget"];
  judgeModel?: string;
  cache?: AttemptCache;
  signal?: AbortSignal;
  /** Longest a run waits out rate limits in total before it gives up and reports partial. */
  maxRateLimitWaitMs?: number;
  onTaskDone?: (task: EvalTask, result: CaseSideResult, totals: RunTotals) => void;
}

export interface RunTotals {
  cacheHits: number;
  tokens: number;
  cost: number;
  mismatches: Array<{ route: string; requested: string; returned: string }>;
}

export interface RunOutcome {
  results: Map<EvalTask, CaseSideResult>;
  totals: RunTotals;
  /** Set when the run stopped before every task finished. */
  stopped?: { reason: string; cap?: string };
}

/** Why a run stopped early; tasks not finished then have no result (reported as partial). */
class RunStopped extends Error {
  readonly cap: string | undefined;
  constructor(reason: string, cap?: string) {
    super(reason);
    this.cap = cap;
  }
}

/** One attempt, answered or from the cache; an error keeps the usage spent before it. */
interface Attempt extends Omit<CachedAttempt, "outcome" | "latency_ms"> {
  outcome: Outcome;
  /** `null` when there was no answer. */
  latency_ms: number | null;
  cached: boolean;
  /** The case reached `budget.max_task_tokens`: no more attempts for it. */
  task_capped?: boolean;
}

const NO_DEADLINE_MS = 600_000;

export async function runTasks(tasks: readonly EvalTask[], options: RunnerOptions): Promise<RunOutcome> {
  const limit = createLimiter(options.concurrency);
  const cache = options.cache ?? noCache;
  const totals: RunTotals = { cacheHits: 0, tokens: 0, cost: 0, mismatches: [] };
  const results = new Map<EvalTask, CaseSideResult>();
  const seenMismatch = new Set<string>();
  let stopped: RunOutcome["stopped"];
  let taskCapped: RunOutcome["stopped"];
  let rateLimitWaitedMs = 0;
  const maxRateLimitWaitMs = options.maxRateLimitWaitMs ?? 15 * 60_000;

  const checkBudget = () => {
    if (stopped) throw new RunStopped(stopped.reason, stopped.cap);
    if (options.signal?.aborted) throw new RunStopped("interrupted");
    const { max_run_tokens, max_run_cost_usd } = options.budget;
    if (max_run_tokens !== undefined && totals.tokens >= max_run_tokens) {
      throw new RunStopped(
        `run token budget reached (${totals.tokens} ≥ ${max_run_tokens})`,
        "budget.max_run_tokens",
      );
    }
    if (max_run_cost_usd !== undefined && totals.cost >= max_run_cost_usd) {
      throw new RunStopped(
        `run cost budget reached ($${totals.cost.toFixed(4)} ≥ $${max_run_cost_usd})`,
        "budget.max_run_cost_usd",
      );
    }
  };

  /** One chat completion: 429s waited out without counting against the attempt's model time. */
  const complete = async (params: ChatCompletionCreateParamsNonStreaming, remainingMs: number) => {
    for (;;) {
      checkBudget();
      const started = performance.now();
      // Timers take whole milliseconds.
      const budgetMs = Math.max(1, Math.ceil(remainingMs));
      try {
        const response = await options.client.chat.completions.create(params, {
          timeout: budgetMs,
          signal: combineSignals(AbortSignal.timeout(budgetMs), options.signal),
        });
        return { response: response as ChatCompletion, elapsed: performance.now() - started };
      } catch (error) {
        if (error instanceof APIError && error.status === 429) {
          const wait = retryAfterMs(error.headers, 1000);
          rateLimitWaitedMs += wait;
          if (rateLimitWaitedMs > maxRateLimitWaitMs) {
            throw new RunStopped(
              `rate limited for more than ${Math.round(maxRateLimitWaitMs / 1000)} s in total`,
            );
          }
          await sleep(wait, options.signal).catch(() => {
            throw new RunStopped("interrupted");
          });
          continue;
        }
        if (options.signal?.aborted) throw new RunStopped("interrupted");
        throw Object.assign(error instanceof Error ? error : new Error(String(error)), {
          elapsedMs: performance.now() - started,
        });
      }
    }
  };

  const judge = async (
    testCase: EvalCase,
    answer: Answer,
    model: string,
  ): Promise<Map<number, JudgeVerdict>> => {
    const verdicts = new Map<number, JudgeVerdict>();
    for (const item of judgeAssertions(testCase)) {
      const judgeModel = item.model ?? options.judgeModel;
      if (!judgeModel) {
        verdicts.set(item.index, { pass: false, reason: "no judge model configured (evals.judge_model)" });
        continue;
      }
      if (judgeModel === model) {
        verdicts.set(item.index, {
          pass: false,
          reason: `the judge model ${judgeModel} is the model under test`,
        });
        continue;
      }
      const { response } = await complete(
        {
          model: judgeModel,
          messages: [
            {
              role: "system",
              content:
                'You grade an answer against a rubric. Reply with JSON only: {"pass": true|false, "reason": "<one sentence>"}.',
            },
            { role: "user", content: `Rubric:\n${item.rubric}\n\nAnswer:\n${answer.text}` },
          ],
        },
        NO_DEADLINE_MS,
      );
      verdicts.set(item.index, parseJudgeVerdict(response.choices[0]?.message.content ?? ""));
    }
    return verdicts;
  };

  const runAttempt = async (task: EvalTask, attempt: number, taskTokens: () => number): Promise<Attempt> => {
    const { testCase, resolved } = task;
    const maxSteps = testCase.max_steps ?? options.maxSteps;
    const key = attemptKey({
      model: resolved.model,
      max_output_tokens: resolved.max_output_tokens,
      timeout_ms: resolved.timeout_ms,
      messages: task.messages,
      case: testCase,
      max_steps: maxSteps,
      attempt,
    });
    const hit = await cache.get(key);
    if (hit) {
      totals.cacheHits++;
      return { ...hit, cached: true };
    }
    const messages = [...task.messages];
    const usage: Usage = { prompt_tokens: 0, cached_tokens: 0, completion_tokens: 0 };
    let hasUsage = true;
    let modelTime = 0;
    let returnedModel = resolved.model;
    const toolCalls: Answer["toolCalls"][number][] = [];
    const deadline = resolved.timeout_ms ?? NO_DEADLINE_MS;
    let text = "";
    try {
      for (let step = 0; step < maxSteps; step++) {
        const { max_task_tokens } = options.budget;
        if (
          max_task_tokens !== undefined &&
          taskTokens() + usage.prompt_tokens + usage.completion_tokens >= max_task_tokens
        ) {
          return { ...errorResult(`task token cap reached (${max_task_tokens})`), task_capped: true };
        }
        const remaining = deadline - modelTime;
        if (remaining <= 0) return errorResult(`timed out after ${deadline} ms`);
        const { response, elapsed } = await complete(requestParams(task, messages), remaining);
        modelTime += elapsed;
        returnedModel = response.model;
        if (response.usage) {
          usage.prompt_tokens += response.usage.prompt_tokens;
          usage.cached_tokens += response.usage.prompt_tokens_details?.cached_tokens ?? 0;
          usage.completion_tokens += response.usage.completion_tokens;
        } else hasUsage = false;
        addToTotals(response);
        const message = response.choices[0]?.message;
        if (!message) return errorResult("the provider returned no choices");
        const calls = message.tool_calls ?? [];
        text = message.content ?? "";
        if (calls.length === 0) break;
        messages.push({ role: "assistant", content: message.content ?? null, tool_calls: calls });
        for (const call of calls) {
          if (call.type !== "function") continue;
          toolCalls.push({ name: call.function.name, arguments: call.function.arguments });
          messages.push({
            role: "tool",
            tool_call_id: call.id,
            content: scriptedResult(testCase, call.function.name),
          });
        }
      }
    } catch (error) {
      if (error instanceof RunStopped) throw error;
      const elapsed = (error as { elapsedMs?: number }).elapsedMs ?? 0;
      modelTime += elapsed;
      if (modelTime >= deadline || isTimeout(error)) return errorResult(`timed out after ${deadline} ms`);
      return errorResult(describeProviderError(error));
    }
    if (!sameModel(resolved.model, returnedModel)) {
      const id = `${task.route}\u0000${resolved.model}\u0000${returnedModel}`;
      if (!seenMismatch.has(id)) {
        seenMismatch.add(id);
        totals.mismatches.push({ route: task.route, requested: resolved.model, returned: returnedModel });
      }
    }
    const answer: Answer = { text, toolCalls };
    const withoutJudge = judgeAnswer(testCase, answer);
    const needsJudge = withoutJudge.outcome === "pass" && judgeAssertions(testCase).length > 0;
    const final = needsJudge
      ? judgeAnswer(testCase, answer, await judge(testCase, answer, resolved.model))
      : withoutJudge;
    const record: CachedAttempt = {
      outcome: final.outcome,
      ...(final.outcome === "fail" ? { detail: `${final.reason}; answer: ${text.slice(0, 300)}` } : {}),
      prompt_tokens: usage.prompt_tokens,
      cached_tokens: usage.cached_tokens,
      completion_tokens: usage.completion_tokens,
      has_usage: hasUsage,
      model: returnedModel,
      latency_ms: Math.round(modelTime),
      tool_calls: toolCalls.length,
    };
    await cache.set(key, record);
    return { ...record, cached: false };

    function errorResult(detail: string): Attempt {
      return {
        outcome: "error",
        detail,
        ...usage,
        has_usage: hasUsage,
        model: returnedModel,
        latency_ms: null,
        tool_calls: toolCalls.length,
        cached: false,
      };
    }
  };

  const addToTotals = (response: ChatCompletion) => {
    if (!response.usage) return;
    const tokens = response.usage.prompt_tokens + response.usage.completion_tokens;
    totals.tokens += tokens;
    const cost = costOf(
      {
        prompt_tokens: response.usage.prompt_tokens,
        cached_tokens: response.usage.prompt_tokens_details?.cached_tokens ?? 0,
        completion_tokens: response.usage.completion_tokens,
      },
      response.model,
      options.pricing,
    );
    if (cost !== null) totals.cost += cost;
  };

  const runTask = async (task: EvalTask): Promise<void> => {
    const side: CaseSideResult = {
      outcome: "error",
      attempts: 0,
      tokens: 0,
      cost: 0,
      model: task.resolved.model,
      tool_calls: 0,
      latencies_ms: [],
    };
    let allCached = true;
    const maxAttempts = 1 + task.resolved.retry_limit;
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const result = await runAttempt(task, attempt, () => side.tokens);
      side.attempts++;
      side.tokens += result.prompt_tokens + result.completion_tokens;
      // An answer without usage has unknown cost, never 0 (PRODUCT.md §6).
      const cost = result.has_usage ? costOf(result, result.model, options.pricing) : null;
      side.cost = side.cost === null || cost === null ? null : side.cost + cost;
      side.tool_calls += result.tool_calls;
      if (result.latency_ms !== null) side.latencies_ms.push(result.latency_ms);
      side.outcome = result.outcome;
      side.model = result.model;
      if (result.detail) side.detail = result.detail;
      else delete side.detail;
      if (!result.cached) allCached = false;
      if (result.outcome === "pass" || result.outcome === "takeover") break;
      if (result.task_capped) {
        taskCapped ??= {
          reason: `a case reached the task token cap (${options.budget.max_task_tokens})`,
          cap: "budget.max_task_tokens",
        };
        break;
      }
    }
    if (allCached) side.cached = true;
    results.set(task, side);
    options.onTaskDone?.(task, side, totals);
  };

  await Promise.all(
    tasks.map((task) =>
      limit(async () => {
        try {
          if (stopped || options.signal?.aborted) return;
          await runTask(task);
        } catch (error) {
          if (error instanceof RunStopped) {
            stopped ??= { reason: error.message, ...(error.cap ? { cap: error.cap } : {}) };
            return;
          }
          throw error;
        }
      }),
    ),
  );
  if (!stopped && options.signal?.aborted) stopped = { reason: "interrupted" };
  // A task-token cap stops that case only: the others run on, but the result is partial.
  stopped ??= taskCapped;
  return { results, totals, ...(stopped ? { stopped } : {}) };
}

function requestParams(
  task: EvalTask,
  messages: ChatCompletionMessageParam[],
): ChatCompletionCreateParamsNonStreaming {
  const { testCase, resolved } = task;
  return {
    model: resolved.model,
    messages,
    ...(resolved.max_output_tokens ? { max_completion_tokens: resolved.max_output_tokens } : {}),
    ...(testCase.tools?.length ? { tools: testCase.tools as ChatCompletionTool[] } : {}),
    ...(testCase.response_format === "json_object"
      ? { response_format: { type: "json_object" as const } }
      : {}),
  };
}

function scriptedResult(testCase: EvalCase, name: string): string {
  const result = ownGet(testCase.tool_results, name);
  if (result === undefined) return JSON.stringify({ error: `no scripted result for tool ${name}` });
  return typeof result === "string" ? result : JSON.stringify(result);
}

function parseJudgeVerdict(text: string): JudgeVerdict {
  const match = /\{[\s\S]*\}/.exec(text);
  try {
    const parsed = JSON.parse(match?.[0] ?? text) as { pass?: unknown; reason?: unknown };
    if (typeof parsed.pass === "boolean") return { pass: parsed.pass, reason: String(parsed.reason ?? "") };
  } catch {
    // fall through: an unreadable verdict is not a pass
  }
  return { pass: false, reason: `unreadable judge verdict: ${text.slice(0, 120)}` };
}

function isTimeout(error: unknown): boolean {
  if (error instanceof APIUserAbortError) return true;
  const name = (error as { name?: string; constructor?: { name?: string } })?.constructor?.name ?? "";
  return name === "APIConnectionTimeoutError" || (error as Error)?.name === "TimeoutError";
}

/** Status and request ID, so a person can find the call in the provider's logs. */
function describeProviderError(error: unknown): string {
  if (error instanceof APIError) {
    const request = error.requestID ? ` (request ${error.requestID})` : "";
    return `HTTP ${error.status ?? "error"}: ${error.message.split("\n")[0]}${request}`;
  }
  return error instanceof Error ? (error.message.split("\n")[0] ?? "error") : String(error);
}

function combineSignals(timeout: AbortSignal, run?: AbortSignal): AbortSignal {
  return run ? AbortSignal.any([timeout, run]) : timeout;
}
