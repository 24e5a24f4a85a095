import type { LocatedCase } from "./cases/schema.ts";
import type { Classification } from "./classify/classify.ts";
import type { LlmConfig } from "./llm-config.ts";
import type { Coverage, UncoveredChange, Warning } from "./result.ts";
import { resolveRoute, routeReasons } from "./selection.ts";

/**
 * What the eval could not cover (issue 11, item 10): a changed route no case runs on, a change
 * when no case file matched `evals.cases`, and a model change in a file other than `llm.config`
 * (the eval reads routes from that one file only). Said in the result instead of a silent
 * `skipped`; an uncovered *model* change fails the verdict unless `evals.require_coverage: false`.
 */
export interface CoverageInput {
  cases: readonly LocatedCase[];
  base: LlmConfig;
  head: LlmConfig;
  classification: Classification;
  /** `llm.config`: the one file routes are read from. */
  llmConfig: string;
  /** `llm.default_model_key`, to name the key of a default-model change. */
  defaultModelKey: string;
  /** Whether `llm.config` exists on either side. */
  llmConfigFound: boolean;
  /** `evals.cases`, and how many files they matched at the head. */
  caseGlobs: readonly string[];
  caseFiles: number;
  required: boolean;
  rollout?: { key: string; candidateKey: string };
}

/** How many keys of one file an uncovered entry lists (the rest is a count in the reason). */
const KEYS_MAX = 10;

export function coverageOf(input: CoverageInput): Coverage {
  const uncovered: UncoveredChange[] = [];
  const caseRoutes = new Set(input.cases.map((c) => c.case.route));
  const where = input.caseFiles === 0 ? "no case file matched" : "no case has this route";
  const reasons = routeReasons({
    cases: [],
    base: input.base,
    head: input.head,
    changedPaths: new Set(),
    all: false,
    maxCases: 0,
    seed: "",
    ...(input.rollout ? { rollout: input.rollout } : {}),
  });
  for (const { route, reason } of reasons) {
    if (caseRoutes.has(route)) continue;
    const before = resolveRoute(input.base, route);
    const after = resolveRoute(input.head, route);
    const modelChange = after !== undefined && before?.model !== after.model;
    uncovered.push({
      kind: "route",
      route,
      ...(modelChange ? { model: { from: before?.model ?? null, to: after.model } } : {}),
      model_change: modelChange,
      reason: `route ${route}: ${reason}; ${where} (${globsText(input.caseGlobs)})`,
    });
  }
  const defaultChange = uncoveredDefaultModel(input, where);
  if (defaultChange) uncovered.push(defaultChange);
  for (const file of input.classification.files) {
    if (file.path === input.llmConfig || file.previous_path === input.llmConfig) continue;
    if (!file.categories.includes("model")) continue;
    const keys = file.keys.filter((k) => k.category === "model").map((k) => k.path);
    const shown = keys.slice(0, KEYS_MAX);
    const more = keys.length > shown.length ? ` and ${keys.length - shown.length} more` : "";
    const at = shown.length > 0 ? ` (${shown.join(", ")}${more})` : "";
    uncovered.push({
      kind: "file",
      file: file.path,
      ...(shown.length > 0 ? { keys: shown } : {}),
      model_change: true,
      reason: `${file.path}: a model change${at} outside llm.config (${input.llmConfig}${input.llmConfigFound ? "" : ", which does not exist"}); the eval reads routes from llm.config only`,
    });
  }
  return {
    required: input.required,
    llm_config: input.llmConfig,
    case_globs: [...input.caseGlobs],
    case_files: input.caseFiles,
    uncovered,
  };
}

/**
 * A `default_model` change serves every call without a route of its own; when no case runs on a
 * route that uses the default on both sides, nothing measured the new default.
 */
function uncoveredDefaultModel(input: CoverageInput, where: string): UncoveredChange | undefined {
  const from = input.base.default_model;
  const to = input.head.default_model;
  if (to === null || from === to) return undefined;
  const usesDefault = (route: string) =>
    resolveRoute(input.base, route)?.model === from && resolveRoute(input.head, route)?.model === to;
  if (input.cases.some((c) => usesDefault(c.case.route))) return undefined;
  return {
    kind: "default_model",
    file: input.llmConfig,
    keys: [input.defaultModelKey],
    model: { from, to },
    model_change: true,
    reason: `${input.llmConfig} ${input.defaultModelKey}: default model changed (${from ?? "none"} → ${to}); no case runs on a route that uses the default (${where === "no case file matched" ? where : "every case's route names its own model"}; ${globsText(input.caseGlobs)})`,
  };
}

/** The warnings that say the same in the warnings list, one per uncovered change. */
export function coverageWarnings(coverage: Coverage): Warning[] {
  const warnings: Warning[] = [];
  if (coverage.case_files === 0 && coverage.uncovered.length > 0) {
    warnings.push({ code: "no_case_files", globs: coverage.case_globs });
  }
  for (const change of coverage.uncovered) {
    if (change.kind === "route" && change.route !== undefined) {
      warnings.push({
        code: "uncovered_route",
        route: change.route,
        reason: change.reason,
        model_change: change.model_change,
      });
    } else if (change.kind === "default_model" && change.model) {
      warnings.push({
        code: "uncovered_default_model",
        file: coverage.llm_config,
        key: change.keys?.[0] ?? "",
        from: change.model.from,
        to: change.model.to,
      });
    } else if (change.file !== undefined) {
      warnings.push({
        code: "model_change_outside_llm_config",
        file: change.file,
        llm_config: coverage.llm_config,
        keys: change.keys ?? [],
      });
    }
  }
  return warnings;
}

/** True when the verdict must fail: a model change no case covers, and coverage is required. */
export function coverageFails(coverage: Coverage | undefined): boolean {
  return Boolean(coverage?.required && coverage.uncovered.some((change) => change.model_change));
}

function globsText(globs: readonly string[]): string {
  return `cases looked for in ${globs.join(", ")}`;
}
