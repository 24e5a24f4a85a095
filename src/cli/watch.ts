import { errorMessage, UserError } from "../core/errors.ts";
import { httpStatus } from "../github/client.ts";
import { resolveCommentAuthor } from "../github/comment-author.ts";
import { clientPolicyFromEnv, createRestClient } from "../github/rest-client.ts";
import { watchRollout } from "../rollout/watch.ts";
import { renderWatchText, watchFails, watchJson, watchState } from "../rollout/watch-report.ts";
import { oneOf, parseCommandArgs } from "./args.ts";
import { type CommandIo, CommandUsageError } from "./io.ts";

export const WATCH_USAGE = `Usage: modelgate watch --repo OWNER/NAME [--base BRANCH] [--api-url URL] [--format text|json]
                       [--dry-run] [--comment-author LOGIN]

The production watch (docs/rollout.md, "Scheduled watch"): judges the rollout phase that is live
on the base branch now, from the policy and LLM config at the branch's tip and the production
metrics, and on a breach beyond noise opens the rollback PR (one per candidate; a later breach
updates one comment on it). Run it on a schedule, e.g. hourly from cron.
--base BRANCH: the branch production is deployed from (default: the repository's default branch).
--api-url URL: the GitHub API (default: GITHUB_API_URL, else https://api.github.com).
--dry-run: judge only; never open a PR or write a comment.
--comment-author LOGIN: the login the token writes as, for a GitHub App token (my-app[bot]);
default: the token's user (GET /user), else github-actions[bot].
Token: GITHUB_TOKEN, else GH_TOKEN (contents: write and pull-requests: write on the repository).
Metrics: rollout.metrics.source prometheus reads PROMETHEUS_URL (and PROMETHEUS_BEARER_TOKEN)
from this environment; source file reads the metrics file at the base branch's tip.
Exit: 0 idle, healthy, or not decided yet (the reason is printed; the next run judges again);
1 breach (the rollback PR is printed with its URL), or the metrics could not be read (the
watch is blind: fails closed, naming the source), or GitHub could not be reached;
2 usage or config error (missing token, bad --repo, invalid policy).`;

const REPO = /^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/([A-Za-z0-9._-]{1,100})$/;

export async function watchCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseCommandArgs("watch", argv, {
    repo: { type: "string" },
    base: { type: "string" },
    "api-url": { type: "string" },
    format: { type: "string" },
    "dry-run": { type: "boolean", default: false },
    "comment-author": { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    io.stdout(`${WATCH_USAGE}\n`);
    return 0;
  }
  const format = oneOf("watch", values.format, ["text", "json"] as const, "--format", "text");
  if (values.repo === undefined) throw new CommandUsageError("watch", "--repo OWNER/NAME is required");
  const match = REPO.exec(values.repo);
  if (!match || match[2] === "." || match[2] === "..")
    throw new CommandUsageError("watch", `--repo: expected OWNER/NAME, found '${values.repo}'`);
  const [, owner = "", repo = ""] = match;
  if (values.base !== undefined && values.base.trim() === "")
    throw new CommandUsageError("watch", "--base needs a branch name");
  const baseUrl = apiUrl(values["api-url"] ?? io.env.GITHUB_API_URL?.trim() ?? "");
  const token = io.env.GITHUB_TOKEN?.trim() || io.env.GH_TOKEN?.trim();
  if (!token) {
    throw new UserError(
      "watch: no GitHub token: set GITHUB_TOKEN (or GH_TOKEN) to a token with contents: write and pull-requests: write on the repository",
    );
  }
  const warn = (message: string) => io.stderr(`modelgate: ${message}\n`);
  const gh = createRestClient({
    token,
    baseUrl,
    userAgent: "modelgate-cli-watch",
    log: { warn },
    policy: clientPolicyFromEnv(io.env),
  });
  const dryRun = values["dry-run"];
  try {
    // A dry run writes nothing, so it need not know who it would write as.
    const author = dryRun ? "" : await resolveCommentAuthor(gh, values["comment-author"]);
    const outcome = await watchRollout(
      { gh, env: io.env, author, log: { warn, error: warn } },
      {
        owner,
        repo,
        base_ref: values.base,
        trigger: `modelgate watch (CLI${author ? `, as ${author}` : ""})`,
        open_rollback: !dryRun,
      },
    );
    io.stdout(
      format === "json" ? `${JSON.stringify(watchJson(outcome), null, 2)}\n` : renderWatchText(outcome),
    );
    return watchFails(watchState(outcome)) ? 1 : 0;
  } catch (error) {
    return gitHubFailure(error, `${owner}/${repo}`, baseUrl, io);
  }
}

function apiUrl(value: string): string {
  if (value === "") return "https://api.github.com";
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new CommandUsageError("watch", `--api-url: expected an http(s) URL, found '${value}'`);
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:")
    throw new CommandUsageError("watch", `--api-url: expected an http(s) URL, found '${value}'`);
  return value.replace(/\/+$/, "");
}

/**
 * GitHub's answers, in the user's terms: a refused token or a repository it cannot see is the
 * user's to fix (exit 2); GitHub down or unreachable leaves the watch unable to judge, which
 * fails the run (exit 1) rather than passing it. Anything else is ours (rethrown: exit 3).
 */
function gitHubFailure(error: unknown, repo: string, baseUrl: string, io: CommandIo): number {
  if (error instanceof UserError) throw error;
  const status = httpStatus(error);
  const route = requestRoute(error);
  const first = (errorMessage(error).split("\n")[0] ?? "").slice(0, 300);
  if (status === 401)
    throw new UserError(`watch: GitHub refused the token (401 on ${route}): check GITHUB_TOKEN / GH_TOKEN`);
  if (status === 403 || status === 404) {
    throw new UserError(
      `watch: ${repo}: GitHub answered ${status} on ${route} (${first}): check --repo and that the token can read and write it (contents: write, pull-requests: write)`,
    );
  }
  if (status === undefined && route === "GitHub" && !isNetworkError(error)) throw error;
  // Octokit reports a connection that failed as status 500 without a response.
  const answered = status !== undefined && hasResponse(error);
  io.stderr(
    `modelgate: watch: cannot judge ${repo}: GitHub at ${baseUrl} ${answered ? `answered ${status}` : "did not answer"} on ${route}: ${first}\n`,
  );
  return 1;
}

function requestRoute(error: unknown): string {
  const request = (error as { request?: { method?: unknown; url?: unknown } } | null)?.request;
  if (typeof request?.method !== "string" || typeof request.url !== "string") return "GitHub";
  return `${request.method} ${new URL(request.url).pathname}`;
}

function hasResponse(error: unknown): boolean {
  return (error as { response?: unknown } | null)?.response !== undefined;
}

function isNetworkError(error: unknown): boolean {
  return error instanceof Error && /fetch failed|ECONNREFUSED|ENOTFOUND|did not answer/.test(error.message);
}
