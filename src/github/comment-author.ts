import type { GitHub } from "./client.ts";

/** The login GitHub gives the workflow's own `GITHUB_TOKEN`. */
export const WORKFLOW_BOT = "github-actions[bot]";

/**
 * Who writes our comment, so the sticky comment is found by marker *and* author (anyone can
 * paste the marker). In order:
 * 1. the `comment-author` input, when the workflow names it (needed for a GitHub App token:
 *    `my-app[bot]`, which no endpoint reveals to the installation token itself);
 * 2. `GET /user`, which answers for a personal access token or a user-to-server token;
 * 3. otherwise the token is an installation token, which `GET /user` refuses (403), and the
 *    default one, the workflow's `GITHUB_TOKEN`, always acts as `github-actions[bot]`.
 * After the first comment is written, `confirmAuthor` compares the login GitHub recorded with
 * this guess, so a wrong guess is reported instead of silently making a second comment per run.
 */
export async function resolveCommentAuthor(gh: GitHub, configured: string | undefined): Promise<string> {
  if (configured) return configured;
  try {
    const { data } = await gh.request("GET /user");
    if (typeof data.login === "string" && data.login) return data.login;
  } catch {
    // 401/403/404: an installation token. Fall through to the workflow token's identity.
  }
  return WORKFLOW_BOT;
}
