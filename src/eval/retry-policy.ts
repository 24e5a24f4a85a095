import { APIConnectionError, APIError } from "openai";
import { retryAfterMs } from "./openai-client.ts";

/**
 * How one step of an attempt (one chat completion) retries. Every request of the step draws
 * from a fixed budget that nothing resets: a 429 wait does not hand back server retries, so
 * `500, 429, 500, 429, …` ends after `serverRetries` server errors, and a storm of 429s ends
 * the run after `rateLimitRetries` of them for one step. That is what bounds a run's requests
 * (see `requestBound`).
 */
export interface RetryPolicy {
  /** Retries after 5xx, 408, 409 or a dropped connection; then the attempt is an `error`. */
  serverRetries: number;
  /** Retries after 429 for one step; then the run stops (a rate limit is never a model failure). */
  rateLimitRetries: number;
  /** Shortest wait after a 429, whatever Retry-After says (0 and -1 were a busy loop). */
  rateLimitFloorMs: number;
  /** First backoff after a server error; it doubles per retry up to 8× this. */
  backoffBaseMs: number;
  /** Longest a run waits out rate limits in total; a 429 asking for more stops it at once. */
  maxRateLimitWaitMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  serverRetries: 2,
  rateLimitRetries: 30,
  rateLimitFloorMs: 1000,
  backoffBaseMs: 500,
  maxRateLimitWaitMs: 15 * 60_000,
};

/** What the step has spent so far; created once per step and never reset. */
export interface StepBudget {
  serverErrors: number;
  rateLimits: number;
}

export const freshStep = (): StepBudget => ({ serverErrors: 0, rateLimits: 0 });

/** The next state of a step after a failed request. */
export type StepTransition =
  | { kind: "retry"; waitMs: number; rateLimited: boolean }
  | { kind: "error"; error: unknown }
  | { kind: "stop"; reason: string };

/**
 * The one transition that decides whether a failed request is retried. `waitedMs` is the
 * run's total rate-limit wait so far (shared across tasks); `random` is injectable for tests.
 */
export function afterFailure(
  error: unknown,
  step: StepBudget,
  policy: RetryPolicy,
  waitedMs: number,
  random: () => number = Math.random,
): StepTransition {
  if (error instanceof APIError && error.status === 429) {
    step.rateLimits++;
    if (step.rateLimits > policy.rateLimitRetries) {
      return {
        kind: "stop",
        reason: `rate limited: ${step.rateLimits} 429 answers in a row for one request`,
      };
    }
    const asked = retryAfterMs(error.headers, policy.rateLimitFloorMs);
    const remaining = policy.maxRateLimitWaitMs - waitedMs;
    if (asked > remaining) {
      return {
        kind: "stop",
        reason: `rate limited: the provider asked to wait ${seconds(asked)} (Retry-After), more than the ${seconds(remaining)} this run may still wait (${seconds(policy.maxRateLimitWaitMs)} in total)`,
      };
    }
    // Floor plus up to 25 % jitter, so concurrent tasks do not return in lockstep.
    const base = Math.max(policy.rateLimitFloorMs, asked);
    const waitMs = Math.min(remaining, Math.round(base + random() * policy.rateLimitFloorMs * 0.25));
    return { kind: "retry", waitMs, rateLimited: true };
  }
  if (isTransient(error)) {
    step.serverErrors++;
    if (step.serverErrors > policy.serverRetries) return { kind: "error", error };
    const exponential = policy.backoffBaseMs * 2 ** Math.min(step.serverErrors - 1, 3);
    return { kind: "retry", waitMs: Math.round(exponential * (0.75 + random() * 0.25)), rateLimited: false };
  }
  return { kind: "error", error };
}

/** The SDK's own rule for what a retry may fix (it no longer retries itself: see the runner). */
function isTransient(error: unknown): boolean {
  if (error instanceof APIError) {
    const status = error.status;
    if (status === undefined) return error instanceof APIConnectionError;
    return status === 408 || status === 409 || status >= 500;
  }
  return false;
}

function seconds(ms: number): string {
  return `${Math.max(0, Math.round(ms / 1000))} s`;
}

/**
 * The most requests a run can make: every task × its attempts × its steps (tool-loop steps
 * plus one judge call per judge assert) × the requests one step may make.
 */
export function requestBound(
  tasks: ReadonlyArray<{ attempts: number; steps: number }>,
  policy: Pick<RetryPolicy, "serverRetries" | "rateLimitRetries">,
): number {
  const perStep = policy.serverRetries + policy.rateLimitRetries + 1;
  return tasks.reduce((total, task) => total + task.attempts * task.steps * perStep, 0);
}
