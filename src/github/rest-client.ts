import { Octokit } from "@octokit/core";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { apiVersion } from "./api-version.ts";
import type { GitHub } from "./client.ts";
import { DEFAULT_CLIENT_POLICY, type LimitLog, reliabilityOptions } from "./octokit-options.ts";
import { withRequestTimeout } from "./request-timeout.ts";
import { noBlindRepeats } from "./retry-rules.ts";

export interface RestClientOptions {
  token: string;
  /** `https://api.github.com`, or a GitHub Enterprise Server's `https://HOST/api/v3`. */
  baseUrl: string;
  userAgent: string;
  log: LimitLog;
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
      ...reliabilityOptions(DEFAULT_CLIENT_POLICY, options.log),
    }),
  );
}
