import { createHash } from "node:crypto";
import type { LocatedCase } from "./cases/schema.ts";
import type { Classification } from "./classify/classify.ts";
import type { LlmConfig, ResolvedRoute } from "./llm-config.ts";
import type { Selection } from "./result.ts";

/**
 * Which cases a change affects (issue 3, point 2): a route whose resolved model or settings
 * differ between the sides (a route edit, a `default_model` edit for routes without their
 * own model, a global setting for every route), and every case whose prompt file changed.
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

function routeReasons(input: SelectionInput): Selection["reasons"] {
  const routes = new Set([
    ...Object.keys(input.base.routes),
    ...Object.keys(input.head.routes),
    ...input.cases.map((c) => c.case.route),
  ]);
  const reasons: Selection["reasons"] = [];
  for (const route of [...routes].sort()) {
    const before = resolveRoute(input.base, route);
    const after = resolveRoute(input.head, route);
    const reason = describeRouteChange(route, before, after, input);
    if (reason) reasons.push({ route, reason });
  }
  return reasons;
}

/** A route missing from the map runs on the default model with the global settings. */
export function resolveRoute(llm: LlmConfig, route: string): ResolvedRoute | undefined {
  const own = llm.routes[route];
  if (own) return own;
  return llm.default_model ? { model: llm.default_model, ...llm.settings } : undefined;
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
  const ownBefore = input.base.routes[route];
  const ownAfter = input.head.routes[route];
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
  return changes.length ? changes.join("; ") : undefined;
}

/** Deterministic sample: the same seed and IDs give the same cases, and adding a case moves few others. */
export function sample(ids: readonly string[], size: number, seed: string): string[] {
  const rank = (id: string) => createHash("sha256").update(`${seed}\u0000${id}`).digest("hex");
  return [...ids]
    .map((id) => ({ id, rank: rank(id) }))
    .sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0))
    .slice(0, size)
    .map((entry) => entry.id);
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
