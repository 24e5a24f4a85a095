import type { Octokit } from "@octokit/core";
import { httpStatus } from "./client.ts";

/**
 * GitHub's documented rules for retrying, in one place for every door
 * (docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api):
 * - `retry-after` present: wait that many seconds;
 * - `x-ratelimit-remaining: 0`: wait until `x-ratelimit-reset`;
 * - otherwise a secondary rate limit (403/429 saying so, or a 429 with no headers at all):
 *   wait at least one minute, and exponentially longer while it persists.
 */

/** GitHub asks for at least this long after a secondary rate limit that names no time. */
export const SECONDARY_MIN_WAIT_SECONDS = 60;

interface ErrorResponse {
  message?: unknown;
  response?: { headers?: Record<string, string | number | undefined>; data?: unknown };
}

/**
 * Seconds to wait before repeating a request GitHub refused for a rate limit, or undefined
 * when the error is not a rate limit. `retryCount` is how many times it was repeated already.
 */
export function rateLimitWaitSeconds(
  error: unknown,
  retryCount: number,
  minSecondarySeconds: number = SECONDARY_MIN_WAIT_SECONDS,
  now: number = Date.now(),
): number | undefined {
  const status = httpStatus(error);
  if (status !== 403 && status !== 429) return undefined;
  const { message, response } = error as ErrorResponse;
  const headers = response?.headers ?? {};
  const retryAfter = Number(headers["retry-after"]);
  if (headers["retry-after"] !== undefined && Number.isFinite(retryAfter)) return Math.max(retryAfter, 0);
  if (String(headers["x-ratelimit-remaining"]) === "0") {
    const reset = Number(headers["x-ratelimit-reset"]);
    if (Number.isFinite(reset)) return Math.max(Math.ceil(reset - now / 1000) + 1, 0);
  }
  const text = `${typeof message === "string" ? message : ""} ${JSON.stringify(response?.data ?? "")}`;
  if (status === 429 || /secondary rate limit|abuse detection/i.test(text))
    return minSecondarySeconds * 2 ** retryCount;
  // A 403 that is not a rate limit (no permission): repeating it changes nothing.
  return undefined;
}

/**
 * Whether a request may be sent again after a 5xx or a dropped connection. GitHub may have
 * applied a write whose answer was lost; creating a comment or a check run again would
 * duplicate it, so those are repeated only by the helpers that first look for what the lost
 * write made (`upsertStickyComment`, `upsertCheckRun`). Reads, updates, deletes, labels,
 * content-addressed git objects and pull requests (GitHub answers 422 to a second open PR from
 * the same branch, which `createPull`'s caller resolves) are safe to repeat.
 */
export function safeToRepeat(method: string, url: string): boolean {
  if (method.toUpperCase() !== "POST") return true;
  const path = url.split("?")[0] ?? "";
  return !/\/(check-runs|comments)$/.test(path);
}

/**
 * Octokit plugin for clients with `@octokit/plugin-retry`: a create that is not safe to repeat
 * gets `request.retries = 0` unless the caller set its own.
 */
export function noBlindRepeats(octokit: Octokit): Record<string, never> {
  octokit.hook.before("request", (options) => {
    if (safeToRepeat(options.method, options.url)) return;
    // `retries` is plugin-retry's per-request option, not part of Octokit's own request type.
    const request = options.request as { retries?: number };
    request.retries ??= 0;
  });
  return {};
}
