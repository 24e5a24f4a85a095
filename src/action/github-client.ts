import { setTimeout as sleep } from "node:timers/promises";
import { getOctokit } from "@actions/github";
import type { GitHub } from "../github/client.ts";
import { httpStatus } from "../github/client.ts";
import { DEFAULT_REQUEST_TIMEOUT_MS, withRequestTimeout } from "../github/request-timeout.ts";

export interface ClientLog {
  warning(message: string): void;
}

const RETRIES = 3;
/** A rate limit longer than this is not waited out: the job would sit idle for too long. */
const MAX_WAIT_MS = 60_000;

/**
 * The Action's Octokit, pointed at `GITHUB_API_URL` (GitHub Enterprise Server works the same).
 * A small retry of our own instead of the retry/throttling plugins: a job makes a few dozen
 * reads and four writes, so write pacing would only add seconds, but a 5xx, a dropped
 * connection or a secondary rate limit (403/429 with Retry-After) must not fail the job.
 */
export function createGitHub(
  token: string,
  baseUrl: string,
  log: ClientLog,
  retryBaseMs = 500,
  timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
): GitHub {
  // Each attempt has a deadline: a hung call fails (and is retried) instead of holding the job.
  const octokit = getOctokit(
    token,
    withRequestTimeout({ baseUrl, userAgent: "modelgate-action" }, timeoutMs),
  );
  octokit.hook.wrap("request", async (request, options) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await request(options);
      } catch (error) {
        const wait = retryWait(error, attempt, retryBaseMs);
        if (wait === undefined || attempt >= RETRIES) throw error;
        log.warning(
          `GitHub ${options.method} ${String(options.url)} answered ${httpStatus(error) ?? "no response"}; retrying in ${Math.round(wait / 100) / 10} s`,
        );
        await sleep(wait);
      }
    }
  });
  return octokit;
}

function retryWait(error: unknown, attempt: number, baseMs: number): number | undefined {
  const status = httpStatus(error);
  const headers =
    (error as { response?: { headers?: Record<string, string | undefined> } }).response?.headers ?? {};
  if (status === 403 || status === 429) {
    const retryAfter = Number(headers["retry-after"]);
    const rateLimited = headers["x-ratelimit-remaining"] === "0" || Number.isFinite(retryAfter);
    if (!rateLimited) return undefined;
    const reset = Number(headers["x-ratelimit-reset"]);
    const ms = Number.isFinite(retryAfter)
      ? retryAfter * 1000
      : Number.isFinite(reset)
        ? reset * 1000 - Date.now()
        : baseMs;
    return ms <= MAX_WAIT_MS ? Math.max(ms, 0) : undefined;
  }
  // No status: the connection failed. 5xx: GitHub had a moment.
  if (status === undefined || status >= 500) return baseMs * (attempt + 1) ** 2;
  return undefined;
}
