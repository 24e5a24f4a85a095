import { type Classification, classifyChange, compilePolicy } from "../core/classify/classify.ts";
import { checkConclusionOf } from "../core/inconclusive.ts";
import { type LlmDocument, parseLlmDocument, valueAt } from "../core/llm-config.ts";
import { COMMENT_MARKERS, EVIDENCE_OPEN } from "../core/protocol.ts";
import { escapeUntrusted, inlineCode, safeLink, truncate } from "../core/report/escape.ts";
import { plural } from "../core/report/format.ts";
import { GITHUB_COMMENT_LIMIT, renderComment } from "../core/report/markdown.ts";
import { pairedCases, renderGatesTable, verdictSentence } from "../core/report/sections.ts";
import type { EvalResult } from "../core/result.ts";
import { type RollbackEdit, readModel, rollbackEdit, rolloutKeys } from "../core/rollout/llm-edit.ts";
import { changedPathSet, shareChange } from "../core/selection.ts";
import type { TreeSource } from "../core/source.ts";
import { directoryCache } from "../eval/cache.ts";
import { evaluate, type Progress } from "../eval/evaluate.ts";
import type { Provider } from "../eval/provider.ts";
import { routeTargets } from "../eval/providers.ts";
import { CHECK_OUTPUT_LIMIT, type CheckConclusion } from "../github/check-runs.ts";
import { batchRun, type PreparedPull } from "./eval-pr.ts";
import type { Settings } from "./inputs.ts";

/**
 * The rollback rehearsal (docs/rollout.md, "What the Action must publish"): on a rollout PR,
 * the rollback PR the App would open is evaluated before it is ever needed. The head side is
 * the PR's head with its LLM config replaced by the App's own rollback edit (share → 0, routes
 * on the candidate → the rollback model); the base side is the PR's base. The result is
 * evidence for the App's promotion past the first phase, never a gate of this step.
 */

export interface ShareChange {
  from: string;
  to: string;
}

export type RehearsalPlan =
  /** Not a rollout PR, or nothing to roll back to: nothing is published. */
  | { kind: "none"; reason: string }
  /** A rollout PR whose rollback config cannot be built: the error is published. */
  | { kind: "error"; share: ShareChange; message: string }
  | {
      kind: "run";
      share: ShareChange;
      base: TreeSource;
      head: TreeSource;
      classification: Classification;
      edit: RollbackEdit;
    };

export type RehearsalOutcome =
  | { kind: "done"; plan: Extract<RehearsalPlan, { kind: "run" }>; result: EvalResult }
  | { kind: "error"; share: ShareChange; edit?: RollbackEdit; message: string; cancelled?: boolean };

/** The same tree, with one file's text replaced (or added): the head with the rollback config. */
export function withFileOverride(source: TreeSource, path: string, text: string, label?: string): TreeSource {
  return {
    label: label ?? `${source.label} (${path} replaced)`,
    async readFiles(paths) {
      const others = paths.filter((p) => p !== path);
      const files = others.length ? await source.readFiles(others) : new Map<string, string | null>();
      const out = new Map<string, string | null>();
      for (const p of paths) out.set(p, p === path ? text : (files.get(p) ?? null));
      return out;
    },
    async listFiles() {
      const files = await source.listFiles();
      return files.includes(path) ? files : [...files, path];
    },
  };
}

/**
 * Whether this PR gets a rehearsal, and of what. A rollout PR is one whose LLM config changes
 * the candidate's share (`rollout.key`); it is rehearsed when its head names a rollback model
 * (`rollout.rollback_key`). Never throws: what cannot be read is a reason or an error.
 */
export async function planRehearsal(prepared: PreparedPull): Promise<RehearsalPlan> {
  const { config } = prepared;
  const file = config.llm.config;
  const keys = rolloutKeys(config);
  // An untouched LLM config cannot change the share: no reads for the PRs that are not rollouts.
  if (!prepared.truncated && !changedPathSet(prepared.classification).has(file)) {
    return { kind: "none", reason: `not a rollout PR: ${file} did not change` };
  }
  let base: LlmDocument | undefined;
  let head: LlmDocument;
  let baseText: string | null;
  try {
    const [baseFiles, headFiles] = await Promise.all([
      prepared.base.readFiles([file]),
      prepared.head.readFiles([file]),
    ]);
    baseText = baseFiles.get(file) ?? null;
    const headText = headFiles.get(file) ?? null;
    if (headText === null) return { kind: "none", reason: `the head has no ${file}` };
    base = baseText === null ? undefined : parseLlmDocument(baseText, file);
    head = parseLlmDocument(headText, file);
  } catch (error) {
    // The eval reads the same file and reports what is wrong with it.
    return { kind: "none", reason: `${file} could not be read (${firstLine(error)})` };
  }
  const share = shareChange(base ? valueAt(base, keys.key) : undefined, valueAt(head, keys.key));
  if (!share) return { kind: "none", reason: `not a rollout PR: ${keys.key} did not change` };
  try {
    if (readModel(head, keys.rollback_key) === undefined) {
      return {
        kind: "none",
        reason: `the head's ${file} names no rollback model at ${keys.rollback_key}, so there is nothing to rehearse`,
      };
    }
    const edit = rollbackEdit(head, keys);
    const classification = classifyChange(compilePolicy(config), {
      changes: [{ path: file, status: baseText === null ? "added" : "modified" }],
      base: (path) => (path === file ? baseText : null),
      head: (path) => (path === file ? edit.text : null),
    });
    return {
      kind: "run",
      share,
      base: prepared.base,
      head: withFileOverride(
        prepared.head,
        file,
        edit.text,
        `${prepared.head.label} with the rollback config`,
      ),
      classification,
      edit,
    };
  } catch (error) {
    return { kind: "error", share, message: `the rollback config cannot be built: ${firstLine(error)}` };
  }
}

export interface RehearseOptions {
  plan: Extract<RehearsalPlan, { kind: "run" }>;
  prepared: PreparedPull;
  provider: Provider;
  /** The providers of the workflow's provider map, by name (`provider` is `default`). */
  providers?: ReadonlyMap<string, Provider>;
  settings: Settings;
  signal: AbortSignal;
  onProgress: (progress: Progress) => void;
  debug: (message: string) => void;
  /** One line for the user (the Action's `failureMessage`). */
  describeError: (error: unknown) => string;
}

/** The second evaluate(): base vs the rollback config, on the head's cases. Never throws. */
export async function rehearse(options: RehearseOptions): Promise<RehearsalOutcome> {
  const { plan, prepared, provider, settings, signal } = options;
  if (signal.aborted) {
    return {
      kind: "error",
      share: plan.share,
      edit: plan.edit,
      message: "not run: the job was cancelled",
      cancelled: true,
    };
  }
  try {
    const result = await evaluate({
      base: plan.base,
      head: plan.head,
      config: prepared.config,
      classification: plan.classification,
      client: provider.client,
      // The routes the rollback edit changes; `all` and shards are about the PR's own eval.
      all: false,
      ...(settings.maxCases ? { maxCases: settings.maxCases } : {}),
      ...(settings.concurrency ? { concurrency: settings.concurrency } : {}),
      // The base side's attempts are the eval's own: the cache answers them.
      ...(settings.cacheDir
        ? { cache: directoryCache(settings.cacheDir, provider.identity, options.debug) }
        : {}),
      signal,
      simulated: provider.simulated,
      providers: routeTargets(options.providers ?? new Map(), settings.cacheDir, options.debug),
      providerSource: settings.providerSource,
      policyFile: settings.config,
      // The same budget and the same `force` as the eval: a rehearsal is a run of its own.
      force: settings.force,
      // The `batch` input holds for the whole job: the rehearsal's requests go the same way.
      ...batchRun(settings, options.debug),
      onProgress: options.onProgress,
    });
    return {
      kind: "done",
      plan,
      result: { ...result, base_ref: plan.base.label, head_ref: plan.head.label },
    };
  } catch (error) {
    return { kind: "error", share: plan.share, edit: plan.edit, message: options.describeError(error) };
  }
}

// ---- what is published ----

/** The rehearsal's result file, beside the eval's: `modelgate-result.json` → `modelgate-result-rollback-rehearsal.json`. */
export function rehearsalResultFile(resultFile: string): string {
  const dot = resultFile.lastIndexOf(".");
  const slash = Math.max(resultFile.lastIndexOf("/"), resultFile.lastIndexOf("\\"));
  const stem = dot > slash ? resultFile.slice(0, dot) : resultFile;
  const ext = dot > slash ? resultFile.slice(dot) : ".json";
  return `${stem}-rollback-rehearsal${ext}`;
}

/** What the rehearsal did, in one line of plain text (escaped where it is rendered). */
export function rehearsalDescription(share: ShareChange, edit: RollbackEdit | undefined): string {
  const parts: string[] = [];
  if (edit?.candidate && edit.candidate !== edit.rollback) parts.push(`${edit.candidate} → ${edit.rollback}`);
  else if (edit) parts.push(`rollback model ${edit.rollback}`);
  parts.push(`share ${share.to} → 0 %`);
  return `the head's LLM config with the rollback edit (${parts.join(", ")}) against the base`;
}

function verdictWord(outcome: RehearsalOutcome): string {
  if (outcome.kind === "error") return "ERROR";
  return `${outcome.result.verdict.toUpperCase()}${outcome.result.partial ? " (partial)" : ""}`;
}

const MESSAGE_MAX = 500;

/**
 * The short "Rollback rehearsal" section of the sticky comment and the job summary: verdict,
 * what was rehearsed, the gates. It carries no evidence block and no marker: the App reads the
 * rehearsal from its check run, and the comment's last evidence block stays the eval's.
 */
export function rehearsalSection(outcome: RehearsalOutcome, options: { checkUrl?: string } = {}): string {
  const share = outcome.kind === "done" ? outcome.plan.share : outcome.share;
  const edit = outcome.kind === "done" ? outcome.plan.edit : outcome.edit;
  const line = [
    `**${escapeUntrusted(verdictWord(outcome))}**`,
    escapeUntrusted(rehearsalDescription(share, edit)),
    outcome.kind === "done" ? plural(pairedCases(outcome.result), "paired case") : null,
    safeLink("check run", options.checkUrl),
  ]
    .filter((part) => part !== null)
    .join(" · ");
  const blocks = ["#### Rollback rehearsal", line];
  if (outcome.kind === "error") {
    blocks.push(
      `The rehearsal did not finish: ${escapeUntrusted(truncate(outcome.message, MESSAGE_MAX))}. The App promotes past the first phase only on a passing rehearsal.`,
    );
  } else {
    blocks.push(verdictSentence(outcome.result));
    if (outcome.result.gates.length > 0)
      blocks.push(renderGatesTable(outcome.result).replace(/^#### Gates\n\n/, ""));
    const unknown = outcome.result.warnings.find((w) => w.code === "unknown_model" && w.side === "head");
    if (unknown?.code === "unknown_model")
      blocks.push(
        `The provider does not offer the rollback model ${inlineCode(unknown.model, { max: 80 })} (route ${inlineCode(unknown.route, { max: 60 })}).`,
      );
  }
  return blocks.join("\n\n");
}

/**
 * The sticky comment with the rehearsal section added before the eval's evidence block, which
 * stays the last one (`parseEvidence` reads the last block), all within GitHub's limit.
 */
export function commentWithRehearsal(
  render: (maxChars: number) => string,
  section: string | undefined,
  maxChars = GITHUB_COMMENT_LIMIT,
): string {
  if (!section) return render(maxChars);
  const body = render(Math.max(0, maxChars - section.length - 2));
  const at = body.lastIndexOf(EVIDENCE_OPEN);
  if (at < 0) return `${body.trimEnd()}\n\n${section}\n`;
  return `${body.slice(0, at)}${section}\n\n${body.slice(at)}`;
}

export interface RehearsalCheck {
  conclusion: CheckConclusion;
  title: string;
  summary: string;
}

/**
 * The `modelgate/rollback-rehearsal` check run: the full report of the rehearsal, its evidence
 * block last (`embedEvidence(rehearsal, headSha)`), under the rehearsal's own marker.
 */
export function rehearsalCheck(
  outcome: RehearsalOutcome,
  options: { headSha: string; runUrl?: string },
): RehearsalCheck {
  const title = `modelgate rollback rehearsal: ${verdictWord(outcome)}`;
  if (outcome.kind === "error") {
    return {
      conclusion: outcome.cancelled ? "cancelled" : "failure",
      title,
      summary: `${COMMENT_MARKERS.rehearsal}\n${rehearsalSection(outcome)}\n`,
    };
  }
  const body = renderComment(outcome.result, {
    headSha: options.headSha,
    ...(options.runUrl ? { runUrl: options.runUrl } : {}),
    title: `Rollback rehearsal: ${rehearsalDescription(outcome.plan.share, outcome.plan.edit)}`,
    maxBytes: CHECK_OUTPUT_LIMIT - COMMENT_MARKERS.rehearsal.length,
  });
  const summary = body.startsWith(COMMENT_MARKERS.eval)
    ? `${COMMENT_MARKERS.rehearsal}${body.slice(COMMENT_MARKERS.eval.length)}`
    : body;
  // Skipped reads as neutral here, as before: a rehearsal with nothing to run proves nothing.
  const conclusion = checkConclusionOf(outcome.result);
  return { conclusion: conclusion === "skipped" ? "neutral" : conclusion, title, summary };
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0] ?? message;
}
