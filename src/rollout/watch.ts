import type { Config } from "../core/config/schema.ts";
import { UserError } from "../core/errors.ts";
import { parseLlmDocument } from "../core/llm-config.ts";
import { COMMENT_MARKERS } from "../core/protocol.ts";
import { readShare, rolloutKeys } from "../core/rollout/llm-edit.ts";
import { type RollbackLink, renderWatchUpdate, type WatchAudit } from "../core/rollout/render.ts";
import { gateSentence, judgeProduction, type ProductionJudgement } from "../core/rollout/steps.ts";
import type { GitHub, RepoRef } from "../github/client.ts";
import { readFileAt } from "../github/contents.ts";
import { loadPolicy } from "../github/policy.ts";
import { branchSha } from "../github/rollout-api.ts";
import { upsertStickyComment } from "../github/sticky-comment.ts";
import { type ProductionDeps, readProduction } from "./production.ts";
import { openRollback, type RollbackDeps } from "./rollback-pr.ts";

/**
 * The production watch (issue 13): judge the phase that is live on the base branch right now,
 * from the policy and LLM config at the branch's tip and the metrics source, and open the
 * rollback PR on a breach beyond noise, without waiting for the next `rollout:<N>` label.
 * Every door calls this one function: the App for an Alertmanager alert (never trusting the
 * alert's numbers), `modelgate watch` and the Action's `mode: watch` on a schedule.
 *
 * Idempotent by construction: the rollback PR is one per candidate (reused while open), and a
 * breach that fires again updates one sticky comment on that PR instead of opening another.
 */

export interface WatchDeps extends ProductionDeps, RollbackDeps {
  gh: GitHub;
  /** The login our comments are written as (`modelgate[bot]`, `github-actions[bot]`, a user). */
  author: string;
  now?: () => Date;
}

export interface WatchRequest extends RepoRef {
  /** The branch production is deployed from; the repository's default branch when absent. */
  base_ref?: string | undefined;
  /** Who asked, in words, for the record: `Alertmanager alert X`, `modelgate watch`. */
  trigger: string;
  /**
   * false: judge only (`modelgate watch --dry-run`): a breach is reported, but no rollback PR is
   * opened and no comment is written. Absent or true: open it, as every door did before.
   */
  open_rollback?: boolean | undefined;
}

export type WatchOutcome =
  /** Nothing to judge: no candidate traffic (0 %), or no control arm left (100 %). */
  | { kind: "idle"; reason: string; audit: WatchAudit }
  /** Gates pass, or cannot yet tell (`judgement.status === "hold"`; missing data is a hold too). */
  | { kind: "healthy" | "hold"; judgement: ProductionJudgement; audit: WatchAudit }
  | {
      kind: "breach";
      judgement: ProductionJudgement;
      audit: WatchAudit;
      /** `nothing` with the reason when the request said `open_rollback: false`. */
      rollback: RollbackLink;
      /** Set when the request said `open_rollback: false`: nothing was written. */
      dry_run?: true;
    };

export async function watchRollout(deps: WatchDeps, request: WatchRequest): Promise<WatchOutcome> {
  const { gh } = deps;
  const repo: RepoRef = { owner: request.owner, repo: request.repo };
  const baseRef = request.base_ref ?? (await defaultBranch(gh, repo));
  const tip = await branchSha(gh, repo, baseRef);
  if (!tip) throw new UserError(`there is no branch ${baseRef} in ${repo.owner}/${repo.repo} to watch`);
  const config: Config = (await loadPolicy(gh, { ...repo, ref: tip })).config;
  const llmFile = config.llm.config;
  const keys = rolloutKeys(config);
  const text = await readFileAt(gh, { ...repo, path: llmFile, ref: tip });
  if (text === null)
    throw new UserError(`${llmFile} does not exist on ${baseRef}; \`llm.config\` in the policy names it`);
  const share = readShare(parseLlmDocument(text, llmFile), keys.key);
  const audit: WatchAudit = {
    trigger: request.trigger,
    base_ref: baseRef,
    base_sha: tip,
    llm_file: llmFile,
    share_key: keys.key,
    share,
    metrics_source: config.rollout.metrics.source === "file" ? config.rollout.metrics.file : "Prometheus",
    judged_at: (deps.now?.() ?? new Date()).toISOString(),
  };
  if (share <= 0)
    return { kind: "idle", reason: `${keys.key} is 0 % on ${baseRef}: no candidate traffic to watch`, audit };
  if (share >= 100) {
    return {
      kind: "idle",
      reason: `${keys.key} is 100 % on ${baseRef}: the candidate has all the traffic and there is no control arm to compare it with`,
      audit,
    };
  }
  const reading = await readProduction(deps, repo, config, tip, share);
  audit.metrics_source = reading.source;
  const judgement = judgeProduction(reading, config.gates, share);
  if (!judgement.breach) return { kind: judgement.status === "pass" ? "healthy" : "hold", judgement, audit };

  if (request.open_rollback === false) {
    const reason = "judged only (dry run): the rollback PR was not opened";
    return { kind: "breach", judgement, audit, rollback: { kind: "nothing", reason }, dry_run: true };
  }
  const gates = judgement.gates.filter((g) => g.status === "fail").map(gateSentence);
  const rollback = await openRollback(deps, repo, config, baseRef, { kind: "watch", watch: audit, gates });
  if (rollback.kind === "opened" || rollback.kind === "existing") {
    // The PR's body says why it was opened; this one comment says what the latest watch saw.
    await upsertStickyComment(
      gh,
      { ...repo, issue_number: rollback.number, marker: COMMENT_MARKERS.watch, author: deps.author },
      renderWatchUpdate(judgement, audit),
    );
  }
  return { kind: "breach", judgement, audit, rollback };
}

async function defaultBranch(gh: GitHub, repo: RepoRef): Promise<string> {
  const { data } = await gh.request("GET /repos/{owner}/{repo}", repo);
  return data.default_branch;
}
