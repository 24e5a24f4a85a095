import { checkConclusionOf } from "../core/inconclusive.ts";
import { CHECK_NAMES, COMMENT_MARKERS } from "../core/protocol.ts";
import { renderComment, renderRunningComment } from "../core/report/markdown.ts";
import type { EvalResult } from "../core/result.ts";
import { CHECK_OUTPUT_LIMIT, type CheckConclusion, upsertCheckRun } from "../github/check-runs.ts";
import { type GitHub, httpStatus } from "../github/client.ts";
import { resolveCommentAuthor } from "../github/comment-author.ts";
import { findStickyComments, upsertStickyComment } from "../github/sticky-comment.ts";
import type { PullContext } from "./event.ts";

export interface Log {
  info(message: string): void;
  warning(message: string): void;
}

export interface PublishTarget {
  gh: GitHub;
  pull: PullContext;
  comment: boolean;
  checkRun: boolean;
  /** Publish the `modelgate/rollback-rehearsal` check run (off with `check-run: false`). */
  rehearsalCheckRun?: boolean;
  commentAuthor: string | undefined;
  runUrl: string | undefined;
  serverUrl: string;
  log: Log;
}

/**
 * Writes the PR's sticky comment, the `modelgate/eval` check run and, on a rollout PR, the
 * `modelgate/rollback-rehearsal` check run. Each write that the token
 * may not make (a fork PR's read-only token, a workflow without `checks: write`) is a warning:
 * the report still reaches the job summary and the outputs.
 */
export class Publisher {
  readonly #target: PublishTarget;
  #author: string | undefined;
  #commentId: number | undefined;
  #posted = false;

  constructor(target: PublishTarget) {
    this.#target = target;
  }

  /** The URL of our comment, once one exists. */
  get commentUrl(): string | undefined {
    const { pull, serverUrl } = this.#target;
    return this.#commentId === undefined
      ? undefined
      : `${serverUrl}/${pull.owner}/${pull.repo}/pull/${pull.number}#issuecomment-${this.#commentId}`;
  }

  /** The "running" state: comment (keeping the previous verdict as a line) and check run. */
  async running(): Promise<void> {
    const { pull, runUrl } = this.#target;
    await Promise.all([
      this.#writeComment(
        async (previous) =>
          renderRunningComment({
            headSha: pull.headSha,
            ...(runUrl ? { runUrl } : {}),
            ...(previous ? { previous } : {}),
          }),
        false,
      ),
      this.#writeCheck({
        status: "in_progress",
        output: {
          title: "modelgate: running",
          summary: "The eval is running; the report follows when it finishes.",
        },
      }),
    ]);
  }

  /**
   * The final report. A result with nothing to evaluate only replaces a comment that already
   * exists (its evidence would otherwise describe an older head); it does not open a new one.
   */
  async report(result: EvalResult, body: string): Promise<void> {
    const quiet = result.verdict === "skipped" && !this.#posted;
    await Promise.all([
      this.#writeComment(async () => body, quiet),
      this.#writeCheck({
        status: "completed",
        conclusion: checkConclusionOf(result),
        output: {
          title: `modelgate: ${result.verdict.toUpperCase()}${result.partial ? " (partial)" : ""}`,
          // Bytes, not characters: a Japanese report is 3 bytes a character.
          summary: renderComment(result, { ...this.#renderOptions(), maxBytes: CHECK_OUTPUT_LIMIT }),
        },
      }),
    ]);
  }

  /** When the run breaks after "running" was posted: say so, so the comment does not spin forever. */
  async failed(body: string): Promise<void> {
    if (!this.#posted) return;
    await Promise.all([
      this.#writeComment(async () => body, true),
      this.#writeCheck({
        status: "completed",
        conclusion: "failure",
        output: { title: "modelgate: error", summary: body },
      }),
    ]);
  }

  /** The rehearsal is on its way (it runs after the eval): its check run says so. */
  async rehearsalRunning(): Promise<void> {
    await this.#writeCheck(
      {
        status: "in_progress",
        output: {
          title: "modelgate rollback rehearsal: running",
          summary: "The rollback rehearsal runs after the eval; its report follows when it finishes.",
        },
      },
      CHECK_NAMES.rehearsal,
    );
  }

  /** The rehearsal's check run, completed; returns its URL when it was written. */
  async reportRehearsal(check: {
    conclusion: CheckConclusion;
    title: string;
    summary: string;
  }): Promise<string | undefined> {
    const id = await this.#writeCheck(
      {
        status: "completed",
        conclusion: check.conclusion,
        output: { title: check.title, summary: check.summary },
      },
      CHECK_NAMES.rehearsal,
    );
    const { pull, serverUrl } = this.#target;
    return id === undefined ? undefined : `${serverUrl}/${pull.owner}/${pull.repo}/runs/${id}`;
  }

  renderOptions(): { headSha: string; runUrl?: string } {
    return this.#renderOptions();
  }

  #renderOptions(): { headSha: string; runUrl?: string } {
    const { pull, runUrl } = this.#target;
    return { headSha: pull.headSha, ...(runUrl ? { runUrl } : {}) };
  }

  async #writeComment(render: (previous: string | undefined) => Promise<string>, onlyIfPresent: boolean) {
    const { gh, pull, log } = this.#target;
    if (!this.#target.comment) return;
    try {
      this.#author ??= await resolveCommentAuthor(gh, this.#target.commentAuthor);
      const target = {
        owner: pull.owner,
        repo: pull.repo,
        issue_number: pull.number,
        marker: COMMENT_MARKERS.eval,
        author: this.#author,
      };
      const previous = this.#posted ? undefined : (await findStickyComments(gh, target))[0]?.body;
      const body = await render(previous);
      const written = await upsertStickyComment(gh, target, body, { onlyIfPresent });
      if (written.id === undefined) return;
      this.#commentId = written.id;
      this.#posted = true;
      if (written.action === "created") await this.#confirmAuthor(written.id);
    } catch (error) {
      log.warning(writeFailure("the PR comment", error, "pull-requests: write"));
    }
  }

  /** GitHub's record of who wrote the comment we just created; a different login means our guess was wrong. */
  async #confirmAuthor(commentId: number): Promise<void> {
    const { gh, pull, log } = this.#target;
    const { data } = await gh.request("GET /repos/{owner}/{repo}/issues/comments/{comment_id}", {
      owner: pull.owner,
      repo: pull.repo,
      comment_id: commentId,
    });
    const login = data.user?.login;
    if (login && login.toLowerCase() !== this.#author?.toLowerCase()) {
      log.warning(
        `The comment was written as ${login}, not ${this.#author}: set the input comment-author: '${login}' so later runs update this comment instead of adding one.`,
      );
      this.#author = login;
    }
  }

  async #writeCheck(
    spec: {
      status: "in_progress" | "completed";
      conclusion?: CheckConclusion;
      output: { title: string; summary: string };
    },
    name: typeof CHECK_NAMES.eval | typeof CHECK_NAMES.rehearsal = CHECK_NAMES.eval,
  ): Promise<number | undefined> {
    const { gh, pull, log, runUrl } = this.#target;
    const enabled = name === CHECK_NAMES.eval ? this.#target.checkRun : this.#target.rehearsalCheckRun;
    if (!enabled) return undefined;
    try {
      const written = await upsertCheckRun(
        gh,
        { owner: pull.owner, repo: pull.repo },
        {
          name,
          head_sha: pull.headSha,
          external_id: `pull/${pull.number}`,
          ...spec,
          ...(runUrl ? { details_url: runUrl } : {}),
        },
        { force: true },
      );
      return written.id;
    } catch (error) {
      log.warning(writeFailure(`the ${name} check run`, error, "checks: write"));
      return undefined;
    }
  }
}

function writeFailure(what: string, error: unknown, permission: string): string {
  const status = httpStatus(error);
  const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
  if (status === 403 || status === 404) {
    return `Could not write ${what} (HTTP ${status}: ${message}). The token needs '${permission}'; a fork PR's token is read-only. The report is in the job summary.`;
  }
  return `Could not write ${what}: ${status ? `HTTP ${status}: ` : ""}${message}. The report is in the job summary.`;
}
