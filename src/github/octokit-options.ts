import type { EndpointDefaults } from "@octokit/types";

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
) => boolean;

export interface OctokitReliabilityOptions {
  throttle:
    | { enabled: false }
    | { enabled: true; onRateLimit: LimitHandler; onSecondaryRateLimit: LimitHandler };
  retry: { enabled: boolean; retries: number; retryAfterBaseValue?: number };
}

/**
 * Throttle and retry options for any Octokit with the throttling and retry plugins. Both
 * rate-limit handlers are explicit: Probot's own secondary-limit handler only logs, so a
 * secondary limit would fail the call instead of being waited out.
 */
export function reliabilityOptions(policy: ClientPolicy, log: LimitLog): OctokitReliabilityOptions {
  const handler =
    (kind: string): LimitHandler =>
    (retryAfter, options, _octokit, retryCount) => {
      const retry = retryCount < MAX_LIMIT_RETRIES && retryAfter <= MAX_WAIT_SECONDS;
      log.warn(
        `GitHub ${kind} rate limit on ${options.method} ${options.url}: ${
          retry
            ? `retrying in ${retryAfter} s (retry ${retryCount + 1} of ${MAX_LIMIT_RETRIES})`
            : "giving up"
        }`,
      );
      return retry;
    };
  return {
    throttle: policy.throttle
      ? { enabled: true, onRateLimit: handler("primary"), onSecondaryRateLimit: handler("secondary") }
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
