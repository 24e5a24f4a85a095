import type OpenAI from "openai";
import { APIError, APIUserAbortError } from "openai";
import type {
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from "openai/resources/chat/completions";
import {
  type Answer,
  type AnswerOutcome,
  type JudgeVerdict,
  judgeAnswer,
  judgeAssertions,
} from "../core/cases/assertions.ts";
import type { EvalCase } from "../core/cases/schema.ts";
import type { Config } from "../core/config/schema.ts";
import type { ResolvedRoute } from "../core/llm-config.ts";
import { ownGet } from "../core/own.ts";
import { costOf, sameModel, type Usage } from "../core/pricing.ts";
import type { CaseSideResult, Outcome } from "../core/result.ts";
import { admitRound } from "../core/round-budget.ts";
import { BatchHalted, boundedCache, type CompletionBatch } from "./batch-runner.ts";
import { type AttemptCache, type AttemptWarning, attemptKey, type CachedAttempt, noCache } from "./cache.ts";
import { createLimiter, sleep } from "./limiter.ts";
import { type ValidAnswer, validateCompletion } from "./response-schema.ts";
import {
  afterFailure,
  DEFAULT_RETRY_POLICY,
  freshStep,
  type RetryPolicy,
  requestBound,
} from "./retry-policy.ts";

export type Side = "base" | "head";

/**
 * The cache key of one attempt of a task. Exported so `modelgate doctor` can look up, read-only,
 * whether a baseline run is cached without repeating how the runner keys its entries.
 */
export function taskAttemptKey(
  task: Omit<EvalTask, "side" | "route">,
  attempt: number,
  maxSteps: number,
): string {
  const { testCase, resolved } = task;
  return attemptKey({
    model: resolved.model,
    max_output_tokens: resolved.max_output_tokens,
    timeout_ms: resolved.timeout_ms,
    messages: task.messages,
    case: testCase,
    max_steps: testCase.max_steps ?? maxSteps,
    attempt,
    // The app's own cap stops a task mid-loop, so it changes the outcome; absent, keys are unchanged.
    ...(resolved.token_cap ? { app_token_cap: resolved.token_cap } : {}),
    // A judge served by another provider grades differently; absent, keys are unchanged.
    ...(task.judgeProviders ? { judge_providers: task.judgeProviders } : {}),
  });
}

/** One case on one side, ready to send: messages rendered from that side's prompt. */
export interface EvalTask {
  side: Side;
  testCase: EvalCase;
  route: string;
  resolved: ResolvedRoute;
  messages: ChatCompletionMessageParam[];
  /** Identities of the non-default providers serving this task's judge models, when any. */
  judgeProviders?: string[];
}

export interface RunnerOptions {
  client: OpenAI;
  concurrency: number;
  maxSteps: number;
  pricing: Config["pricing"];
  budget: Config["budget"];
  judgeModel?: string;
  cache?: AttemptCache;
  /**
   * Cross-provider runs: the client that serves a model (a task's or the judge's), and the
   * cache of the provider that answers a task. Absent: `client` and `cache` serve everything.
   */
  clientFor?: (model: string) => OpenAI;
  cacheFor?: (task: EvalTask) => AttemptCache | undefined;
  signal?: AbortSignal;
  /** Longest a run waits out rate limits in total before it gives up and reports partial. */
  maxRateLimitWaitMs?: number;
  /** Retry budget and waits; server retries default to the client's `maxRetries`. */
  retry?: Partial<RetryPolicy>;
  onTaskDone?: (task: EvalTask, result: CaseSideResult, totals: RunTotals) => void;
  /**
   * Asked as each task reaches the front of the queue: false skips it unsent (no result, no
   * request). A sequential eval says false once its verdict has settled.
   */
  mayStart?: (task: EvalTask) => boolean;
  /**
   * Batch mode: every request goes into the next batch round instead of straight to the
   * provider. The attempt state machine is the same; only the transport differs (no per-request
   * latency, so no timeouts and no latency figures; retries go to the next round, unslept).
   */
  batch?: CompletionBatch;
}

export interface RunTotals {
  cacheHits: number;
  /** Tokens the provider reported; answers without usage add nothing here (they are flagged). */
  tokens: number;
  /** Chat completion requests sent, retries included. */
  requests: number;
  cost: number;
  mismatches: Array<{ route: string; requested: string; returned: string }>;
  /** Routes and models that answered without `usage`, once each. */
  missingUsage: Array<{ route: string; model: string }>;
  /** Some attempt came from a cache entry a simulator wrote. */
  simulated: boolean;
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

/**
 * The states of one attempt. Each transition is one `case` of `runAttempt`; the retries of
 * one request live in `request` (and the budget that bounds them in `retry-policy.ts`).
 */
type AttemptState =
  | { at: "lookup" }
  | { at: "step"; step: number }
  | { at: "judge"; answer: Answer }
  | { at: "store"; outcome: AnswerOutcome; text: string }
  | { at: "done"; attempt: Attempt };

/** What one attempt has spent and seen so far. */
interface AttemptProgress {
  messages: ChatCompletionMessageParam[];
  usage: Usage;
  hasUsage: boolean;
  modelTime: number;
  model: string;
  toolCalls: Answer["toolCalls"][number][];
  text: string;
  /** False once an answer came through a batch: its latency is unknown, never 0. */
  timed: boolean;
}

export async function runTasks(tasks: readonly EvalTask[], options: RunnerOptions): Promise<RunOutcome> {
  // A batch round waits for every running task, so in batch mode every task runs at once, and
  // cache I/O is bounded (one bounded view per provider's cache).
  const limit = createLimiter(options.batch ? Math.max(1, tasks.length) : options.concurrency);
  const bounded = new Map<AttemptCache, AttemptCache>();
  const cacheOf = (task: EvalTask): AttemptCache => {
    const cache = (options.cacheFor ? options.cacheFor(task) : options.cache) ?? noCache;
    if (!options.batch) return cache;
    const view = bounded.get(cache) ?? boundedCache(cache);
    bounded.set(cache, view);
    return view;
  };
  const policy: RetryPolicy = {
    ...DEFAULT_RETRY_POLICY,
    serverRetries: options.client.maxRetries,
    ...(options.maxRateLimitWaitMs !== undefined ? { maxRateLimitWaitMs: options.maxRateLimitWaitMs } : {}),
    ...options.retry,
  };
  const totals: RunTotals = {
    cacheHits: 0,
    tokens: 0,
    cost: 0,
    requests: 0,
    mismatches: [],
    missingUsage: [],
    simulated: false,
  };
  const results = new Map<EvalTask, CaseSideResult>();
  const seenMismatch = new Set<string>();
  const seenNoUsage = new Set<string>();
  let stopped: RunOutcome["stopped"];
  let taskCapped: RunOutcome["stopped"];
  let rateLimitWaitedMs = 0;

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

  // A batch round is paid for at once: the run's budget admits it request by request, at worst.
  options.batch?.admit?.((requests) =>
    admitRound(
      requests,
      {
        spent_usd: totals.cost,
        spent_tokens: totals.tokens,
        max_cost_usd: options.budget.max_run_cost_usd,
        max_tokens: options.budget.max_run_tokens,
      },
      options.pricing,
    ),
  );

  /**
   * One request and its retries: a fresh step budget that no 429 wait resets. Returns the
   * validated answer, or throws the failure (with the model time it took) for the attempt.
   */
  const request = async (
    params: ChatCompletionCreateParamsNonStreaming,
    remainingMs: number,
  ): Promise<{ answer: ValidAnswer; elapsed: number; timed: boolean }> => {
    const step = freshStep();
    let elapsed = 0;
    for (;;) {
      checkBudget();
      const started = performance.now();
      // Timers take whole milliseconds.
      const budgetMs = Math.max(1, Math.ceil(remainingMs - elapsed));
      totals.requests++;
      let body: unknown;
      let failure: { error: unknown } | undefined;
      try {
        const client = options.clientFor?.(params.model) ?? options.client;
        body = options.batch
          ? await options.batch.send(params)
          : await client.chat.completions.create(params, {
              timeout: budgetMs,
              // The runner owns every retry: SDK retries restarted after each 429 never ran out.
              maxRetries: 0,
              signal: combineSignals(AbortSignal.timeout(budgetMs), options.signal),
            });
      } catch (error) {
        // The batch ended (cancelled, expired, failed, interrupted): the run stops, partial.
        if (error instanceof BatchHalted) throw new RunStopped(error.message, error.cap);
        failure = { error };
      }
      // A 429 is waited out and never counts against the route's timeout (docs/cases.md).
      // A batch answer took hours of queueing, not model time: it counts nothing.
      if (!options.batch && !isRateLimited(failure?.error)) elapsed += performance.now() - started;
      if (!failure) {
        const checked = validateCompletion(body);
        if (!checked.ok) throw Object.assign(new Error(checked.reason), { elapsedMs: elapsed });
        return { answer: checked.answer, elapsed, timed: !options.batch };
      }
      if (options.signal?.aborted) throw new RunStopped("interrupted");
      const { error } = failure;
      if (isTimeout(error) || elapsed >= remainingMs) throw Object.assign(timedOut(), { elapsedMs: elapsed });
      const next = afterFailure(error, step, policy, rateLimitWaitedMs);
      if (next.kind === "stop") throw new RunStopped(next.reason);
      if (next.kind === "error") {
        throw Object.assign(error instanceof Error ? error : new Error(String(error)), {
          elapsedMs: elapsed,
        });
      }
      // In batch mode the retry is a line of the next round: the round itself is the wait.
      if (options.batch) continue;
      if (next.rateLimited) rateLimitWaitedMs += next.waitMs;
      await sleep(next.waitMs, options.signal).catch(() => {
        throw new RunStopped("interrupted");
      });
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
      const { answer: verdict } = await request(
        judgeRequestParams(judgeModel, item.rubric, answer.text),
        NO_DEADLINE_MS,
      );
      verdicts.set(item.index, parseJudgeVerdict(verdict.content));
    }
    return verdicts;
  };

  const runAttempt = async (task: EvalTask, attempt: number, taskTokens: () => number): Promise<Attempt> => {
    const { testCase, resolved } = task;
    const maxSteps = testCase.max_steps ?? options.maxSteps;
    const deadline = resolved.timeout_ms ?? NO_DEADLINE_MS;
    const key = taskAttemptKey(task, attempt, options.maxSteps);
    const cache = cacheOf(task);
    const spent: AttemptProgress = {
      messages: [...task.messages],
      usage: { prompt_tokens: 0, cached_tokens: 0, completion_tokens: 0 },
      hasUsage: true,
      modelTime: 0,
      model: resolved.model,
      toolCalls: [],
      text: "",
      timed: true,
    };
    const errorResult = (detail: string): Attempt => ({
      outcome: "error",
      detail,
      ...spent.usage,
      has_usage: spent.hasUsage,
      model: spent.model,
      latency_ms: null,
      tool_calls: spent.toolCalls.length,
      cached: false,
    });
    /** A failed request or judge call ends the attempt as an `error`; a stopped run ends the run. */
    const failed = (error: unknown): Attempt => {
      if (error instanceof RunStopped) throw error;
      spent.modelTime += (error as { elapsedMs?: number }).elapsedMs ?? 0;
      if (spent.modelTime >= deadline || isTimeout(error))
        return errorResult(`timed out after ${deadline} ms`);
      return errorResult(describeProviderError(error));
    };

    let state: AttemptState = { at: "lookup" };
    while (state.at !== "done") {
      switch (state.at) {
        case "lookup": {
          const hit = await cache.get(key);
          if (hit) {
            totals.cacheHits++;
            // A hit reports what the attempt reported when it ran: its warnings and who answered.
            for (const warning of hit.warnings) noteMismatch(task, warning.returned);
            if (!hit.has_usage) noteMissingUsage(task, hit.model);
            if (hit.simulated) totals.simulated = true;
            state = { at: "done", attempt: { ...hit, cached: true } };
          } else state = { at: "step", step: 0 };
          break;
        }
        case "step": {
          if (state.step >= maxSteps) {
            state = { at: "judge", answer: { text: spent.text, toolCalls: spent.toolCalls } };
            break;
          }
          const { max_task_tokens } = options.budget;
          const used = spent.usage.prompt_tokens + spent.usage.completion_tokens;
          if (max_task_tokens !== undefined && taskTokens() + used >= max_task_tokens) {
            state = {
              at: "done",
              attempt: { ...errorResult(`task token cap reached (${max_task_tokens})`), task_capped: true },
            };
            break;
          }
          const remaining = deadline - spent.modelTime;
          if (remaining <= 0) {
            state = { at: "done", attempt: errorResult(`timed out after ${deadline} ms`) };
            break;
          }
          let answer: ValidAnswer;
          try {
            const done = await request(requestParams(task, spent.messages), remaining);
            spent.modelTime += done.elapsed;
            if (!done.timed) spent.timed = false;
            answer = done.answer;
          } catch (error) {
            state = { at: "done", attempt: failed(error) };
            break;
          }
          spent.model = answer.model;
          recordUsage(task, spent, answer);
          spent.text = answer.content;
          const overCap = appCapExceeded(
            task.resolved,
            taskTokens() + spent.usage.prompt_tokens + spent.usage.completion_tokens,
          );
          if (overCap) {
            // Production stops the task here: the case fails, like any fail (not a partial run).
            state = { at: "store", outcome: { outcome: "fail", reason: overCap }, text: spent.text };
            break;
          }
          if (answer.calls.length === 0) {
            state = { at: "judge", answer: { text: spent.text, toolCalls: spent.toolCalls } };
            break;
          }
          spent.messages.push({
            role: "assistant",
            content: answer.content || null,
            tool_calls: answer.calls.map((call) => ({
              id: call.id,
              type: "function" as const,
              function: { name: call.name, arguments: call.arguments },
            })),
          });
          for (const call of answer.calls) {
            spent.toolCalls.push({ name: call.name, arguments: call.arguments });
            spent.messages.push({
              role: "tool",
              tool_call_id: call.id,
              content: scriptedResult(testCase, call.name),
            });
          }
          state = { at: "step", step: state.step + 1 };
          break;
        }
        case "judge": {
          noteMismatch(task, spent.model);
          const withoutJudge = judgeAnswer(testCase, state.answer);
          if (withoutJudge.outcome !== "pass" || judgeAssertions(testCase).length === 0) {
            state = { at: "store", outcome: withoutJudge, text: state.answer.text };
            break;
          }
          try {
            const verdicts = await judge(testCase, state.answer, resolved.model);
            state = {
              at: "store",
              outcome: judgeAnswer(testCase, state.answer, verdicts),
              text: state.answer.text,
            };
          } catch (error) {
            const attempt = failed(error);
            state = { at: "done", attempt: { ...attempt, detail: `judge: ${attempt.detail}` } };
          }
          break;
        }
        case "store": {
          const { outcome, text } = state;
          const record: CachedAttempt = {
            outcome: outcome.outcome,
            ...(outcome.outcome === "fail"
              ? { detail: `${outcome.reason}; answer: ${text.slice(0, 300)}` }
              : {}),
            prompt_tokens: spent.usage.prompt_tokens,
            cached_tokens: spent.usage.cached_tokens,
            completion_tokens: spent.usage.completion_tokens,
            has_usage: spent.hasUsage,
            model: spent.model,
            latency_ms: spent.timed ? Math.round(spent.modelTime) : null,
            tool_calls: spent.toolCalls.length,
          };
          const warnings: AttemptWarning[] = sameModel(task.resolved.model, spent.model)
            ? []
            : [
                {
                  code: "model_mismatch",
                  route: task.route,
                  requested: task.resolved.model,
                  returned: spent.model,
                },
              ];
          await cache.set(key, { ...record, warnings });
          state = { at: "done", attempt: { ...record, cached: false } };
          break;
        }
      }
    }
    return state.attempt;
  };

  const recordUsage = (task: EvalTask, spent: AttemptProgress, answer: ValidAnswer) => {
    if (!answer.usage) {
      // Unknown, never 0 (docs/cases.md): the attempt's tokens and cost become unknown.
      spent.hasUsage = false;
      noteMissingUsage(task, answer.model);
      return;
    }
    spent.usage.prompt_tokens += answer.usage.prompt_tokens;
    spent.usage.cached_tokens += answer.usage.cached_tokens;
    spent.usage.completion_tokens += answer.usage.completion_tokens;
    totals.tokens += answer.usage.prompt_tokens + answer.usage.completion_tokens;
    const cost = costOf(answer.usage, answer.model, options.pricing);
    if (cost !== null) totals.cost += cost;
  };

  const noteMissingUsage = (task: EvalTask, model: string) => {
    const id = `${task.route}\u0000${model}`;
    if (seenNoUsage.has(id)) return;
    seenNoUsage.add(id);
    totals.missingUsage.push({ route: task.route, model });
  };

  const noteMismatch = (task: EvalTask, returned: string) => {
    const { resolved } = task;
    if (sameModel(resolved.model, returned)) return;
    const id = `${task.route}\u0000${resolved.model}\u0000${returned}`;
    if (seenMismatch.has(id)) return;
    seenMismatch.add(id);
    totals.mismatches.push({ route: task.route, requested: resolved.model, returned });
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
    let spentTokens = 0;
    const maxAttempts = 1 + task.resolved.retry_limit;
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const result = await runAttempt(task, attempt, () => spentTokens);
      side.attempts++;
      spentTokens += result.prompt_tokens + result.completion_tokens;
      // An answer without usage has unknown tokens and cost, never 0 (docs/cases.md).
      side.tokens =
        side.tokens === null || !result.has_usage
          ? null
          : side.tokens + result.prompt_tokens + result.completion_tokens;
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
      // Over the app's own cap the app stops the task: no retry (a cached attempt says so too).
      if (appCapExceeded(task.resolved, spentTokens)) break;
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
        // A batch round is sent once every running task waits on it; this says who is running.
        options.batch?.enter();
        try {
          if (stopped || options.signal?.aborted) return;
          if (options.mayStart && !options.mayStart(task)) return;
          await runTask(task);
        } catch (error) {
          if (error instanceof RunStopped) {
            stopped ??= { reason: error.message, ...(error.cap ? { cap: error.cap } : {}) };
            return;
          }
          throw error;
        } finally {
          options.batch?.leave();
        }
      }),
    ),
  );
  if (!stopped && options.signal?.aborted) stopped = { reason: "interrupted" };
  // A task-token cap stops that case only: the others run on, but the result is partial.
  stopped ??= taskCapped;
  return { results, totals, ...(stopped ? { stopped } : {}) };
}

/**
 * Why a task that used `tokens` is over the app's own cap (route cap, else per-task cap, read
 * from its LLM config), or undefined when it is not.
 */
export function appCapExceeded(resolved: ResolvedRoute, tokens: number): string | undefined {
  const cap = resolved.token_cap;
  if (!cap || tokens <= cap.tokens) return undefined;
  return `used ${tokens.toLocaleString("en-US")} tokens, over the app's ${cap.scope} cap ${cap.tokens.toLocaleString("en-US")} (${cap.key})`;
}

/**
 * The most requests `runTasks` can make for these tasks under `policy` (the bench and the
 * fault tests hold runs to it): attempts × (tool-loop steps + judge calls) × requests per step.
 */
export function runRequestBound(
  tasks: readonly EvalTask[],
  maxSteps: number,
  policy: Pick<RetryPolicy, "serverRetries" | "rateLimitRetries">,
): number {
  return requestBound(
    tasks.map((task) => ({
      attempts: task.resolved.retry_limit + 1,
      steps: (task.testCase.max_steps ?? maxSteps) + judgeAssertions(task.testCase).length,
    })),
    policy,
  );
}

function isRateLimited(error: unknown): boolean {
  return error instanceof APIError && error.status === 429;
}

function timedOut(): Error {
  const error = new Error("timed out");
  error.name = "TimeoutError";
  return error;
}

/**
 * The request body of one tool-loop step: what the interactive runner sends and what a batch
 * line carries, built in this one place so the two modes ask the same question.
 */
export function requestParams(
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

/** The request body of one judge call (interactive or a batch line alike). */
export function judgeRequestParams(
  judgeModel: string,
  rubric: string,
  answerText: string,
): ChatCompletionCreateParamsNonStreaming {
  return {
    model: judgeModel,
    messages: [
      {
        role: "system",
        content:
          'You grade an answer against a rubric. Reply with JSON only: {"pass": true|false, "reason": "<one sentence>"}.',
      },
      { role: "user", content: `Rubric:\n${rubric}\n\nAnswer:\n${answerText}` },
    ],
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
