import { createHash } from "node:crypto";
import type { LocatedCase } from "./cases/schema.ts";
import type { Classification } from "./classify/classify.ts";
import { getAtPath } from "./keys.ts";
import { type LlmConfig, type ResolvedRoute, tokenCapFor } from "./llm-config.ts";
import { ownGet } from "./own.ts";
import { sameModel } from "./pricing.ts";
import type { Selection } from "./result.ts";

/**
 * Which cases a change affects (issue 3, point 2): a route whose resolved model or settings
 * differ between the sides (a route edit, a `default_model` edit for routes without their
 * own model, a global setting for every route), every case whose prompt file changed, and,
 * when the candidate's traffic share changes (a rollout PR), every route on the candidate.
 */
export interface SelectionInput {
  cases: readonly LocatedCase[];
  base: LlmConfig;
  head: LlmConfig;
  /** Paths changed between the sides (both paths of a rename). */
  changedPaths: ReadonlySet<string>;
  all: boolean;
  maxCases: number;
  seed: string;
  /**
   * Where the rollout state lives in the LLM config (`rollout.key`, `rollout.candidate_key`).
   * A change of the share at `key` moves traffic to or from the model at `candidateKey`, so it
   * affects every route the head serves with that model (or a dated snapshot of it).
   */
  rollout?: { key: string; candidateKey: string };
}

export function selectCases(input: SelectionInput): Selection {
  const reasons = input.all ? [{ route: "*", reason: "--all: every case" }] : routeReasons(input);
  const selectedRoutes = new Set(reasons.map((r) => r.route));
  const promptReasons: Selection["reasons"] = [];
  const selected = input.cases.filter(({ case: c }) => {
    if (input.all || selectedRoutes.has(c.route)) return true;
    if (c.prompt && input.changedPaths.has(c.prompt)) {
      if (!promptReasons.some((r) => r.route === c.route && r.reason.includes(c.prompt ?? ""))) {
        promptReasons.push({ route: c.route, reason: `prompt ${c.prompt} changed` });
      }
      return true;
    }
    return false;
  });
  const ids = selected.map(({ case: c }) => c.id);
  const sampled = ids.length > input.maxCases ? sample(ids, input.maxCases, input.seed) : ids;
  return {
    case_ids: sampled,
    reasons: [
      ...reasons.filter((r) => r.route === "*" || input.cases.some((c) => c.case.route === r.route)),
      ...promptReasons,
    ],
    selected: ids.length,
    ...(sampled.length < ids.length ? { sample_seed: input.seed } : {}),
    all: input.all,
  };
}

/** Every route whose model, settings or rollout share changed, with why (cases or not). */
export function routeReasons(input: SelectionInput): Selection["reasons"] {
  const routes = new Set([
    ...Object.keys(input.base.routes),
    ...Object.keys(input.head.routes),
    ...input.cases.map((c) => c.case.route),
  ]);
  const reasons: Selection["reasons"] = [];
  for (const route of [...routes].sort()) {
    const before = resolveRoute(input.base, route);
    const after = resolveRoute(input.head, route);
    const reason = describeRouteChange(route, before, after, input) ?? rolloutReason(after, input);
    if (reason) reasons.push({ route, reason });
  }
  return reasons;
}

/**
 * A rollout PR changes nothing but the share: the routes it affects are those the head serves
 * with the candidate, whose traffic the new share moves.
 */
function rolloutReason(after: ResolvedRoute | undefined, input: SelectionInput): string | undefined {
  if (!input.rollout || !after) return undefined;
  const share = shareChange(
    getAtPath(input.base.document, input.rollout.key),
    getAtPath(input.head.document, input.rollout.key),
  );
  if (!share) return undefined;
  const candidate = getAtPath(input.head.document, input.rollout.candidateKey);
  if (typeof candidate !== "string" || candidate === "" || !sameModel(candidate, after.model))
    return undefined;
  return `rollout share changed (${share.from} → ${share.to} %): route serves the candidate ${candidate}`;
}

/**
 * The candidate's traffic share on both sides, as text, when it differs: a PR that changes it
 * is a rollout PR. A missing share is 0 % (no rollout yet); `"30"` (an env file) is 30.
 */
export function shareChange(before: unknown, after: unknown): { from: string; to: string } | undefined {
  const from = shareOf(before);
  const to = shareOf(after);
  const same =
    typeof from === "number" && typeof to === "number"
      ? from === to
      : JSON.stringify(from) === JSON.stringify(to);
  return same ? undefined : { from: shareText(from), to: shareText(to) };
}

function shareOf(value: unknown): unknown {
  if (value === undefined || value === null) return 0;
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value)))
    return Number(value);
  return value;
}

function shareText(value: unknown): string {
  return typeof value === "number" ? String(value) : (JSON.stringify(value) ?? String(value));
}

/** A route missing from the map runs on the default model with the global settings. */
export function resolveRoute(llm: LlmConfig, route: string): ResolvedRoute | undefined {
  const own = ownGet(llm.routes, route);
  if (own) return own;
  if (!llm.default_model) return undefined;
  const cap = tokenCapFor(llm.token_caps, route);
  return { model: llm.default_model, ...llm.settings, ...(cap ? { token_cap: cap } : {}) };
}

function describeRouteChange(
  route: string,
  before: ResolvedRoute | undefined,
  after: ResolvedRoute | undefined,
  input: SelectionInput,
): string | undefined {
  if (!before && !after) return undefined;
  if (!before) return `route added (${after?.model})`;
  if (!after) return "route removed";
  const ownBefore = ownGet(input.base.routes, route);
  const ownAfter = ownGet(input.head.routes, route);
  const changes: string[] = [];
  if (before.model !== after.model) {
    changes.push(
      !ownBefore && !ownAfter
        ? `default_model changed (${before.model} → ${after.model})`
        : `model changed (${before.model} → ${after.model})`,
    );
  }
  for (const setting of ["max_output_tokens", "timeout_ms", "retry_limit"] as const) {
    if (before[setting] !== after[setting]) {
      const global = input.base.settings[setting] !== input.head.settings[setting];
      changes.push(`${global ? "global " : ""}${setting} changed (${before[setting]} → ${after[setting]})`);
    }
  }
  // The app's own cap changes what a case may spend before it fails (docs/cases.md).
  const capBefore = before.token_cap?.tokens ?? null;
  const capAfter = after.token_cap?.tokens ?? null;
  if (capBefore !== capAfter) {
    changes.push(`app token cap changed (${capBefore ?? "none"} → ${capAfter ?? "none"})`);
  }
  return changes.length ? changes.join("; ") : undefined;
}

/**
 * The pair sequence: IDs in a seeded pseudo-random order. The same seed and IDs give the same
 * order; a sample of size k is its first k, so a larger `max_cases` extends the sequence a
 * smaller one ran instead of reshuffling it (what lets a later run continue it validly).
 */
export function sequenceOrder(ids: readonly string[], seed: string): string[] {
  const rank = (id: string) => createHash("sha256").update(`${seed}\u0000${id}`).digest("hex");
  return [...ids]
    .map((id) => ({ id, rank: rank(id) }))
    .sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0))
    .map((entry) => entry.id);
}

/** Deterministic sample: the first `size` of the sequence, so adding a case moves few others. */
export function sample(ids: readonly string[], size: number, seed: string): string[] {
  return sequenceOrder(ids, seed).slice(0, size);
}

/** A deterministic slice `index` of `count` (1-based, as in `shard: 2/4`). */
export function shardOf(ids: readonly string[], index: number, count: number): string[] {
  return [...ids].sort().filter((_, position) => position % count === index - 1);
}

/** Both paths of every changed file, for prompt and case matching. */
export function changedPathSet(classification: Classification): Set<string> {
  const paths = new Set<string>();
  for (const file of classification.files) {
    paths.add(file.path);
    if (file.previous_path) paths.add(file.previous_path);
  }
  return paths;
}
