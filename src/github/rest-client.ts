import { Octokit } from "@octokit/core";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { apiVersion } from "./api-version.ts";
import type { GitHub } from "./client.ts";
import {
  type ClientPolicy,
  DEFAULT_CLIENT_POLICY,
  type LimitLog,
  reliabilityOptions,
} from "./octokit-options.ts";
import { withRequestTimeout } from "./request-timeout.ts";
import { noBlindRepeats } from "./retry-rules.ts";

export interface RestClientOptions {
  token: string;
  /** `https://api.github.com`, or a GitHub Enterprise Server's `https://HOST/api/v3`. */
  baseUrl: string;
  userAgent: string;
  log: LimitLog;
  /** Default: GitHub's rules (`DEFAULT_CLIENT_POLICY`); tests shrink the waits. */
  policy?: ClientPolicy;
}

/**
 * `MODELGATE_GITHUB_SECOND_MS` shrinks retry back-offs and rate-limit waits for the test suite
 * (as in the Action), which cannot wait GitHub's real seconds; it is not a user setting.
 */
export function clientPolicyFromEnv(env: Readonly<Record<string, string | undefined>>): ClientPolicy {
  const raw = env.MODELGATE_GITHUB_SECOND_MS;
  const secondMs = raw === undefined || raw === "" ? Number.NaN : Number(raw);
  if (!Number.isFinite(secondMs) || secondMs < 0) return DEFAULT_CLIENT_POLICY;
  return { ...DEFAULT_CLIENT_POLICY, retryAfterBaseValue: secondMs, limits: { secondMs } };
}

/**
 * A token-authenticated Octokit for a door without Probot or the Actions toolkit (the CLI's
 * `modelgate watch`): the same reliability as the App's and the attribution workflow's clients
 * (rate limits waited out by GitHub's rules, 5xx retried, creates never repeated blindly),
 * a deadline on every request and the pinned REST API version.
 */
export function createRestClient(options: RestClientOptions): GitHub {
  const RestOctokit = Octokit.plugin(retry, throttling, apiVersion, noBlindRepeats);
  return new RestOctokit(
    withRequestTimeout({
      auth: options.token,
      baseUrl: options.baseUrl.replace(/\/+$/, ""),
      userAgent: options.userAgent,
      ...reliabilityOptions(options.policy ?? DEFAULT_CLIENT_POLICY, options.log),
    }),
  );
}
