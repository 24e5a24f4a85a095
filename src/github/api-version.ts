import type { Octokit } from "@octokit/core";

/**
 * The REST API version modelgate is written against. GitHub answers an unversioned request with
 * its default version, which can change under us; sending the header pins the contract.
 */
export const GITHUB_API_VERSION = "2022-11-28";

/** Octokit plugin: `X-GitHub-Api-Version` on every request this client sends. */
export function apiVersion(octokit: Octokit): Record<string, never> {
  octokit.hook.before("request", (options) => {
    options.headers["x-github-api-version"] = GITHUB_API_VERSION;
  });
  return {};
}
