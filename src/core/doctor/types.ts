import type { LocatedCase } from "../cases/schema.ts";
import type { Config } from "../config/schema.ts";
import type { LlmConfig } from "../llm-config.ts";
import { type ProviderRule, providerFor } from "../providers.ts";
import type { ProductionReading } from "../rollout/steps.ts";

/**
 * `modelgate doctor` (issue 13, part 2): a readiness report before a model migration. The core
 * judges facts the door gathered (files, the provider's model list, the attempt cache, metrics
 * answers); it does no I/O itself.
 */

export type CheckStatus = "pass" | "warn" | "fail";

export type CheckId =
  | "route_cases"
  | "suite_size"
  | "baseline"
  | "rollback_model"
  | "rollback_rehearsal"
  | "pinned_models"
  | "explicit_lanes"
  | "app_budget"
  | "eval_budget"
  | "metrics_wiring"
  | "parsers_under_test";

export interface DoctorCheck {
  id: CheckId;
  /** The route or model the line is about, when it is about one. */
  subject?: string;
  status: CheckStatus;
  /** One line: what was found. */
  message: string;
  /** One line: what to do about it; null only on a pass. */
  fix: string | null;
}

export interface DoctorReport {
  /** No check failed. Warnings do not block: they say what could not be checked here. */
  ready: boolean;
  summary: Record<CheckStatus, number>;
  checks: DoctorCheck[];
}

/** The provider's model list (`GET /v1/models`), or why it could not be read. */
export type ProviderFacts =
  | {
      kind: "listed";
      /** The `default` provider's models, or every model when `byProvider` is absent. */
      ids: ReadonlySet<string>;
      /**
       * Cross-provider runs: each provider's own list, and the policy's rules that send a model
       * to one (`evals.providers`); a model is offered only by the provider it maps to.
       */
      byProvider?: { lists: ReadonlyMap<string, ReadonlySet<string>>; rules: readonly ProviderRule[] };
    }
  | { kind: "unavailable"; reason: string };

/** The list a model is looked up in: its own provider's, as `modelgate eval` does. */
export function modelsFor(
  model: string,
  facts: Extract<ProviderFacts, { kind: "listed" }>,
): ReadonlySet<string> {
  if (!facts.byProvider) return facts.ids;
  return facts.byProvider.lists.get(providerFor(model, facts.byProvider.rules)) ?? new Set();
}

/** Cached base attempts per route, read-only from the attempt cache, or why not looked at. */
export type BaselineFacts =
  | {
      kind: "counted";
      /** Per route; `model` is the model the base attempts were looked up on (the base side's). */
      routes: ReadonlyMap<string, { cached: number; cases: number; model?: string }>;
    }
  | { kind: "not_checked"; reason: string };

/** A rollback rehearsal's outcome, when the door could learn it (the CLI cannot). */
export type RehearsalFacts =
  | { kind: "known"; passed: boolean; detail: string }
  /** `reason`: why the door could not tell (default: the CLI cannot see check runs). */
  | { kind: "unknown"; reason?: string };

/** The production metrics wiring: a reading of every rollout query, or why none was taken. */
export type MetricsFacts =
  | { kind: "read"; reading: ProductionReading; phase: number }
  | { kind: "not_checked"; reason: string; fix: string };

/** Where the app's own token caps live in its LLM config; by default the policy's `llm.settings` keys. */
export interface AppBudgetKeys {
  per_task_token_cap: string;
  route_caps: string;
}

export const DEFAULT_APP_BUDGET_KEYS: AppBudgetKeys = {
  per_task_token_cap: "budget_controls.per_task_token_cap",
  route_caps: "budget_controls.route_caps",
};

export interface DoctorInput {
  config: Config;
  /** Where the policy was read from, for fixes (`.github/modelgate.yml`). */
  policyFile: string;
  /** The LLM config as resolved routes; null when the file does not exist at the ref. */
  llm: LlmConfig | null;
  cases: readonly LocatedCase[];
  /**
   * The routes a model change would touch: for a PR, the routes its change affects; otherwise
   * undefined, meaning every route in the LLM config.
   */
  routes?: readonly string[] | undefined;
  provider: ProviderFacts;
  baseline: BaselineFacts;
  rehearsal: RehearsalFacts;
  metrics: MetricsFacts;
  /** Model IDs the team keeps as aliases on purpose (never reported as floating). */
  explicitAliases?: readonly string[] | undefined;
  appBudgetKeys?: AppBudgetKeys | undefined;
}
