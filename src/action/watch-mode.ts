import * as core from "@actions/core";
import { resolveCommentAuthor } from "../github/comment-author.ts";
import { watchRollout } from "../rollout/watch.ts";
import { renderWatchSummary, watchFails, watchHeadline, watchState } from "../rollout/watch-report.ts";
import { createGitHub } from "./github-client.ts";
import type { Settings } from "./inputs.ts";

/**
 * `mode: watch` (meant for `on: schedule`): the production watch for the workflow's own
 * repository, on its default branch or the `base` input, with the workflow's token (comments
 * as `github-actions[bot]` unless `comment-author` says otherwise). The metrics source's
 * address and credentials (`PROMETHEUS_URL`, `PROMETHEUS_BEARER_TOKEN`) come from the step's
 * environment, never from the repository.
 *
 * The step fails on a breach (after opening or finding the rollback PR) and when the metrics
 * cannot be read (the watch is blind, so it fails closed); idle, healthy and "not decided yet"
 * pass, the last with its reason as a notice.
 */
export async function watchMode(
  settings: Settings,
  env: NodeJS.ProcessEnv,
  writeSummary: (markdown: string) => Promise<void>,
): Promise<void> {
  const [owner = "", repo = ""] = settings.env.repository.split("/");
  const gh = createGitHub(settings.githubToken, settings.env.apiUrl, core);
  const author = await resolveCommentAuthor(gh, settings.commentAuthor);
  const run = settings.env.runUrl ? `, run ${settings.env.runUrl}` : "";
  const outcome = await watchRollout(
    {
      gh,
      env,
      author,
      log: { warn: (message) => core.warning(message), error: (message) => core.error(message) },
    },
    {
      owner,
      repo,
      base_ref: settings.base,
      trigger: `modelgate watch (Action, ${settings.env.eventName || "unknown"} event${run})`,
    },
  );
  const state = watchState(outcome);
  const headline = `modelgate watch: ${watchHeadline(outcome)}`;
  core.setOutput("watch-outcome", state);
  const link = outcome.kind === "breach" ? outcome.rollback : undefined;
  core.setOutput(
    "rollback-pr",
    link?.kind === "opened" || link?.kind === "existing" ? (link.url ?? String(link.number)) : "",
  );
  await writeSummary(renderWatchSummary(outcome));
  if (watchFails(state)) core.setFailed(headline);
  else if (state === "undecided") core.notice(headline);
  else core.info(headline);
}
