import { setTimeout as sleep } from "node:timers/promises";
import { getOctokit } from "@actions/github";
import { apiVersion } from "../github/api-version.ts";
import type { GitHub } from "../github/client.ts";
import { httpStatus } from "../github/client.ts";
import { DEFAULT_REQUEST_TIMEOUT_MS, withRequestTimeout } from "../github/request-timeout.ts";
import { rateLimitWaitSeconds, SECONDARY_MIN_WAIT_SECONDS, safeToRepeat } from "../github/retry-rules.ts";

export interface ClientLog {
  warning(message: string): void;
}

export interface ClientTiming {
  /** Base of the back-off after a 5xx or a dropped connection: base × 1, × 4, × 9. */
  retryBaseMs: number;
  /** Wait after a secondary rate limit that names no time (GitHub: at least 60 s). */
  secondaryMinWaitSeconds: number;
  /** Milliseconds in one second of a rate-limit wait (1,000; tests shrink time). */
  secondMs: number;
}

const RETRIES = 3;
/**
 * A rate limit longer than this is not waited out: the job would sit idle for too long. Two
 * minutes leaves room for GitHub's minute after a secondary limit, and one doubling of it.
 */
const MAX_WAIT_SECONDS = 120;

/**
 * `MODELGATE_GITHUB_SECOND_MS` shrinks rate-limit waits for the test suite, which cannot wait
 * GitHub's real minute; it is not a user setting.
 */
export function clientTiming(env: NodeJS.ProcessEnv): ClientTiming {
  const secondMs = Number(env.MODELGATE_GITHUB_SECOND_MS);
  return {
    retryBaseMs: 500,
    secondaryMinWaitSeconds: SECONDARY_MIN_WAIT_SECONDS,
    secondMs: Number.isFinite(secondMs) && secondMs >= 0 ? secondMs : 1000,
  };
}

/**
 * The Action's Octokit, pointed at `GITHUB_API_URL` (GitHub Enterprise Server works the same).
 * A small retry of our own instead of the retry/throttling plugins: a job makes a few dozen
 * reads and four writes, so write pacing would only add seconds, but a 5xx, a dropped
 * connection or a rate limit must not fail the job. Rate limits follow GitHub's rules
 * (`rateLimitWaitSeconds`); a create that may have happened is not repeated here
 * (`safeToRepeat`): the comment and check-run helpers look for it first.
 */
export function createGitHub(
  token: string,
  baseUrl: string,
  log: ClientLog,
  timing: ClientTiming = clientTiming(process.env),
  timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
): GitHub {
  // Each attempt has a deadline: a hung call fails (and is retried) instead of holding the job.
  const octokit = getOctokit(
    token,
    withRequestTimeout({ baseUrl, userAgent: "modelgate-action" }, timeoutMs),
    apiVersion,
  );
  octokit.hook.wrap("request", async (request, options) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await request(options);
      } catch (error) {
        const wait = retryWait(error, attempt, timing, options.method, String(options.url));
        if (wait === undefined || attempt >= RETRIES) throw error;
        log.warning(
          `GitHub ${options.method} ${String(options.url)} answered ${httpStatus(error) ?? "no response"}; retrying in ${wait.label}`,
        );
        await sleep(wait.ms);
      }
    }
  });
  return octokit;
}

function retryWait(
  error: unknown,
  attempt: number,
  timing: ClientTiming,
  method: string,
  url: string,
): { ms: number; label: string } | undefined {
  const status = httpStatus(error);
  const limited = rateLimitWaitSeconds(error, attempt, timing.secondaryMinWaitSeconds);
  if (limited !== undefined) {
    if (limited > MAX_WAIT_SECONDS) return undefined;
    return { ms: limited * timing.secondMs, label: `${limited} s (rate limit)` };
  }
  // No status: the connection failed. 5xx: GitHub had a moment. Either way the write may
  // have happened, so only what is safe to send twice is sent again.
  if ((status === undefined || status >= 500) && safeToRepeat(method, url)) {
    const ms = timing.retryBaseMs * (attempt + 1) ** 2;
    return { ms, label: `${Math.round(ms / 100) / 10} s` };
  }
  return undefined;
}
