import type { Config } from "../core/config/schema.ts";
import { errorMessage, UserError } from "../core/errors.ts";
import { type LlmDocument, parseLlmDocument } from "../core/llm-config.ts";
import { ROLLBACK_PR_LABEL } from "../core/rollout/labels.ts";
import { rollbackEdit, rolloutKeys } from "../core/rollout/llm-edit.ts";
import {
  type RollbackCause,
  type RollbackLink,
  rollbackBody,
  rollbackTitle,
} from "../core/rollout/render.ts";
import { type GitHub, httpStatus, type RepoRef } from "../github/client.ts";
import { readFileAt } from "../github/contents.ts";
import {
  addLabels,
  branchSha,
  commitFile,
  createPull,
  openPullFrom,
  setBranch,
} from "../github/rollout-api.ts";

export interface RollbackDeps {
  gh: GitHub;
  log: { warn(message: string): void; error(message: string): void };
}

/**
 * The rollback PR against `baseRef`: the LLM config at the branch's tip with the share → 0 and
 * the candidate's routes → the rollback model. One per candidate: an open one is reused, so a
 * second breach or a redelivery links the same PR. modelgate never merges it.
 */
export async function openRollback(
  deps: RollbackDeps,
  repo: RepoRef,
  config: Config,
  baseRef: string,
  cause: RollbackCause,
): Promise<RollbackLink> {
  const { gh } = deps;
  try {
    const tip = await branchSha(gh, repo, baseRef);
    if (!tip) return { kind: "failed", reason: `there is no branch ${baseRef}`, config: true };
    const llmFile = config.llm.config;
    const text = await readFileAt(gh, { ...repo, path: llmFile, ref: tip });
    if (text === null) return { kind: "nothing", reason: `${llmFile} does not exist on ${baseRef}` };
    let doc: LlmDocument;
    let edit: ReturnType<typeof rollbackEdit>;
    try {
      doc = parseLlmDocument(text, llmFile);
      edit = rollbackEdit(doc, rolloutKeys(config));
    } catch (error) {
      if (error instanceof UserError) return { kind: "failed", reason: error.message, config: true };
      throw error;
    }
    if (edit.edits.length === 0) {
      return {
        kind: "nothing",
        reason: `${baseRef} already has the share at 0 % and no route on the candidate`,
      };
    }
    const branch = `modelgate/rollback-${slug(edit.candidate ?? "candidate")}`;
    const existing = await openPullFrom(gh, repo, branch, baseRef);
    if (existing) return { kind: "existing", number: existing.number, url: existing.html_url };
    const plan = {
      edits: edit.edits,
      llm_file: llmFile,
      candidate: edit.candidate,
      rollback: edit.rollback,
      base_ref: baseRef,
      base_sha: tip,
    };
    const sha = await commitFile(gh, repo, {
      parent: tip,
      path: llmFile,
      text: edit.text,
      message: `${rollbackTitle(plan)}\n\n${edit.edits.map((e) => `${e.key}: ${JSON.stringify(e.from)} -> ${JSON.stringify(e.to)}`).join("\n")}\n\n${commitCause(cause)}`,
    });
    await setBranch(gh, repo, branch, sha);
    let pull: { number: number; html_url: string };
    try {
      pull = await createPull(gh, repo, {
        title: rollbackTitle(plan),
        head: branch,
        base: baseRef,
        body: rollbackBody(plan, cause),
      });
    } catch (error) {
      // Another replica opened it a moment ago.
      const raced = httpStatus(error) === 422 ? await openPullFrom(gh, repo, branch, baseRef) : undefined;
      if (!raced) throw error;
      return { kind: "existing", number: raced.number, url: raced.html_url };
    }
    try {
      await addLabels(gh, repo, pull.number, [ROLLBACK_PR_LABEL]);
    } catch (error) {
      deps.log.warn(`could not label rollback PR #${pull.number}: ${errorMessage(error)}`);
    }
    return { kind: "opened", number: pull.number, url: pull.html_url };
  } catch (error) {
    deps.log.error(`rollback PR on ${repo.owner}/${repo.repo} failed: ${errorMessage(error)}`);
    return { kind: "failed", reason: errorMessage(error) };
  }
}

function slug(model: string): string {
  return (
    model
      .replace(/[^A-Za-z0-9._-]+/g, "-")
      .replace(/^[-.]+|[-.]+$/g, "")
      .slice(0, 60) || "candidate"
  );
}

function commitCause(cause: RollbackCause): string {
  switch (cause.kind) {
    case "breach":
      return `Asked for on #${cause.source_number} (production gate breach).`;
    case "label":
      return `Asked for on #${cause.source_number} (label ${cause.audit.label} by @${cause.audit.actor}).`;
    case "watch":
      return `Asked for by the production watch (${cause.watch.trigger.replace(/[\r\n]+/g, " ").slice(0, 200)}): a gate breached at ${cause.watch.share} %.`;
  }
}
