import { setTimeout as sleep } from "node:timers/promises";
import type { EndpointDefaults } from "@octokit/types";
import { SECONDARY_MIN_WAIT_SECONDS } from "./retry-rules.ts";

/** The log calls the limit handlers make; Probot's pino logger and a console shim both fit. */
export interface LimitLog {
  warn(message: string): void;
}

export interface ClientPolicy {
  /**
   * Octokit's throttling: waits out primary and secondary rate limits and paces writes
   * (about 1 s apart, comments about 3 s) per installation, as GitHub asks of integrators.
   */
  throttle: boolean;
  /** Retries of a 5xx or network error (Octokit's retry plugin); 0 turns retrying off. */
  retries: number;
  /** Base of the retry back-off in ms: waits base × 1, × 4, × 9… Defaults to Octokit's 1,000. */
  retryAfterBaseValue?: number;
  /** How rate-limit waits are timed; GitHub's rules by default (see `limitTiming`). */
  limits?: LimitTiming;
}

export interface LimitTiming {
  /** Wait after a secondary rate limit that names no time; GitHub asks for at least 60 s. */
  secondaryMinWaitSeconds?: number;
  /** Milliseconds in one second of a rate-limit wait: 1,000, except in tests that shrink time. */
  secondMs?: number;
}

export const DEFAULT_CLIENT_POLICY: ClientPolicy = { throttle: true, retries: 3 };

/** A rate limit longer than this is not waited out: the job would outlive GitHub's patience. */
const MAX_WAIT_SECONDS = 60;
const MAX_LIMIT_RETRIES = 2;

type LimitHandler = (
  retryAfter: number,
  options: Required<EndpointDefaults>,
  octokit: unknown,
  retryCount: number,
) => boolean | Promise<boolean>;

export interface OctokitReliabilityOptions {
  throttle:
    | { enabled: false }
    | ({ enabled: true; onRateLimit: LimitHandler; onSecondaryRateLimit: LimitHandler } & ThrottleTiming);
  retry: { enabled: boolean; retries: number; retryAfterBaseValue?: number };
}

/**
 * Throttle and retry options for any Octokit with the throttling and retry plugins. Both
 * rate-limit handlers are explicit: Probot's own secondary-limit handler only logs, so a
 * secondary limit would fail the call instead of being waited out.
 */
export function reliabilityOptions(policy: ClientPolicy, log: LimitLog): OctokitReliabilityOptions {
  const handler =
    (kind: "primary" | "secondary"): LimitHandler =>
    (retryAfter, options, _octokit, retryCount) => {
      const retry = retryCount < MAX_LIMIT_RETRIES && retryAfter <= MAX_WAIT_SECONDS;
      // What `doubling` makes of a secondary limit's wait.
      const wait = kind === "secondary" ? retryAfter * 2 ** retryCount : retryAfter;
      log.warn(
        `GitHub ${kind} rate limit on ${options.method} ${options.url}: ${
          retry ? `retrying in ${wait} s (retry ${retryCount + 1} of ${MAX_LIMIT_RETRIES})` : "giving up"
        }`,
      );
      return retry;
    };
  return {
    throttle: policy.throttle
      ? {
          enabled: true,
          onRateLimit: handler("primary"),
          onSecondaryRateLimit: doubling(handler("secondary"), policy.limits),
          ...limitTiming(policy.limits),
        }
      : { enabled: false },
    retry: {
      enabled: policy.retries > 0,
      retries: policy.retries,
      ...(policy.retryAfterBaseValue === undefined
        ? {}
        : { retryAfterBaseValue: policy.retryAfterBaseValue }),
    },
  };
}

/** `@octokit/plugin-throttling`'s names for the two timings of `LimitTiming`. */
export interface ThrottleTiming {
  fallbackSecondaryRateRetryAfter: number;
  retryAfterBaseValue: number;
}

/**
 * A secondary rate limit without `retry-after` (GitHub may send one with no headers at all) is
 * waited out for at least a minute, as GitHub documents; longer would outlive a webhook's job.
 */
export function limitTiming(limits: LimitTiming = {}): ThrottleTiming {
  return {
    fallbackSecondaryRateRetryAfter: limits.secondaryMinWaitSeconds ?? SECONDARY_MIN_WAIT_SECONDS,
    retryAfterBaseValue: limits.secondMs ?? 1000,
  };
}

/**
 * GitHub: "if your request continues to fail due to a secondary rate limit, wait for an
 * exponentially increasing amount of time between retries". The throttling plugin waits the
 * same `retryAfter` every time; this waits the difference (retryAfter × (2^n − 1) more on the
 * n-th repeat) before letting it, so the waits go 1×, 2×, 4×.
 */
function doubling(handler: LimitHandler, limits: LimitTiming = {}): LimitHandler {
  return async (retryAfter, options, octokit, retryCount) => {
    const retry = await handler(retryAfter, options, octokit, retryCount);
    const extraSeconds = retryAfter * (2 ** retryCount - 1);
    if (retry && extraSeconds > 0) await sleep(extraSeconds * (limits.secondMs ?? 1000));
    return retry;
  };
}
