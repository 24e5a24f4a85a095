import type OpenAI from "openai";
import type { ChatCompletionMessageParam } from "openai/resources/chat/completions";
import { buildResult, gatesConfigOf } from "../core/build-result.ts";
import type { LocatedCase } from "../core/cases/schema.ts";
import { renderTemplate } from "../core/cases/template.ts";
import type { Classification } from "../core/classify/classify.ts";
import type { Config } from "../core/config/schema.ts";
import { type CostEstimate, checkEstimateBudget, estimateCost } from "../core/cost-estimate.ts";
import { coverageOf, coverageWarnings } from "../core/coverage.ts";
import { UserError } from "../core/errors.ts";
import { resolveOnInconclusive } from "../core/inconclusive.ts";
import { ownGet, ownRecord } from "../core/own.ts";
import { priceOf, pricingFor } from "../core/pricing.ts";
import { checkPolicyProviders, DEFAULT_PROVIDER, policyProviderWarnings } from "../core/providers.ts";
import type { CaseResult, CaseSideResult, EvalResult, Verdict, Warning } from "../core/result.ts";
import { changedPathSet, resolveRoute, selectCases, sequenceOrder, shardOf } from "../core/selection.ts";
import { GateMonitor } from "../core/sequential/monitor.ts";
import type { TreeSource } from "../core/source.ts";
import { BatchRounds, type BatchRoundsOptions } from "./batch-runner.ts";
import type { AttemptCache } from "./cache.ts";
import { estimateTasks } from "./estimate-tasks.ts";
import { type LoadedSide, loadSide, parseCases, parseCasesLeniently } from "./load-side.ts";
import { PairSequence } from "./pair-sequence.ts";
import { PreflightInterrupted, type ProviderModels } from "./preflight.ts";
import { ProviderRouting, type RouteTarget } from "./provider-routing.ts";
import type { RetryPolicy } from "./retry-policy.ts";
import { type EvalTask, type RunTotals, runTasks, type Side } from "./runner.ts";

/** How often a running eval writes its partial result: what a kill can lose, against the cost of re-judging. */
const CHECKPOINT_INTERVAL_MS = 2000;

export interface EvaluateOptions {
  base: TreeSource;
  head: TreeSource;
  /** The policy, read from the base side. */
  config: Config;
  classification: Classification;
  client: OpenAI;
  all?: boolean;
  maxCases?: number;
  concurrency?: number;
  shard?: { index: number; count: number };
  cache?: AttemptCache;
  signal?: AbortSignal;
  /** Retry waits and budgets (tests shorten the waits; the defaults are the product's). */
  retry?: Partial<RetryPolicy>;
  simulated?: boolean;
  /**
   * The provider has no key: unless pre-flight finds a modelgate simulator, the run stops with
   * this message (a UserError) before any completion.
   */
  keyless?: string;
  /**
   * The providers of the workflow's provider map by name; `default` is `client` above. The
   * policy's `evals.providers` sends each model (both sides, the judge) to one of them.
   */
  providers?: ReadonlyMap<string, RouteTarget>;
  /** Where the map came from, for errors (`MODELGATE_PROVIDERS`, input `providers`). */
  providerSource?: string;
  /** The policy file's path, for warnings about endpoint settings in it. */
  policyFile?: string;
  /** Extra warnings found by the door (e.g. an endpoint set in repo files). */
  warnings?: Warning[];
  onProgress?: (progress: Progress) => void;
  /** Called with a partial result as cases finish, so a killed run leaves evidence on disk. */
  onCheckpoint?: (result: EvalResult) => void;
  /**
   * Called once the cases are selected with a function that builds the partial result as of
   * that moment, so a door can write it even when something ignores the abort signal.
   */
  onSnapshot?: (snapshot: (reason: string) => EvalResult) => void;
  /** The last result file (`--baseline`): its base side sizes the base when nothing is cached. */
  baseline?: EvalResult;
  /** Run even when the estimate exceeds `budget.max_run_cost_usd` (`--force`). */
  force?: boolean;
  /** Called with the pre-run cost estimate, before any completion request (and before a refusal). */
  onEstimate?: (estimate: CostEstimate) => void;
  /** Told the provider's model list once pre-flight read it (the Action's readiness section). */
  onPreflight?: (listed: ProviderModels) => void;
  /** Pre-flight `GET /models` deadline (tests shorten it). */
  preflightTimeoutMs?: number;
  /** `--batch` / the Action's `batch` input; else `evals.mode`. */
  mode?: "interactive" | "batch";
  /** Batch mode's polling, limits and progress lines (tests shorten the polling). */
  batch?: Omit<BatchRoundsOptions, "client" | "signal">;
}

export interface Progress {
  done: number;
  total: number;
  tokens: number;
  cost: number;
  cacheHits: number;
}

export async function evaluate(options: EvaluateOptions): Promise<EvalResult> {
  const { config } = options;
  const routing = providerRoutingOf(options);
  const [base, head] = await Promise.all([loadSide(options.base, config), loadSide(options.head, config)]);
  const cases = parseCases(head);
  const rollout = { key: config.rollout.key, candidateKey: config.rollout.candidate_key };
  const coverage = coverageOf({
    cases,
    base: base.llm,
    head: head.llm,
    classification: options.classification,
    llmConfig: config.llm.config,
    defaultModelKey: config.llm.default_model_key,
    llmConfigFound: base.llmFound || head.llmFound,
    caseGlobs: config.evals.cases,
    caseFiles: head.caseFiles.size,
    required: config.evals.require_coverage,
    rollout,
  });
  const warnings: Warning[] = [
    ...(options.warnings ?? []),
    ...policyProviderWarnings(config.evals.providers, options.policyFile ?? ".github/modelgate.yml"),
    ...caseChangeWarnings(base, cases),
    ...coverageWarnings(coverage),
  ];
  let selection = selectCases({
    cases,
    base: base.llm,
    head: head.llm,
    changedPaths: changedPathSet(options.classification),
    all: options.all ?? false,
    maxCases: options.maxCases ?? config.evals.max_cases,
    seed: config.evals.seed,
    rollout,
  });
  if (options.shard && options.shard.count > 1) {
    selection = {
      ...selection,
      case_ids: shardOf(selection.case_ids, options.shard.index, options.shard.count),
    };
  }
  // Cases run as pairs in the seeded sequence order (a sample is already its prefix; a shard
  // runs its slice in the same order), so the judged pairs are always a prefix of the sequence.
  selection = { ...selection, case_ids: sequenceOrder(selection.case_ids, config.evals.seed) };
  const gatesConfig = gatesConfigOf({
    ...config.gates,
    sequential: config.evals.sequential,
    on_inconclusive: resolveOnInconclusive(config.gates.on_inconclusive, options.classification.categories),
  });
  const mode = config.evals.sequential ? "sequential" : "fixed";
  const runMode = options.mode ?? config.evals.mode;
  // Batch requests cost the batch price: the estimate, the budget caps and the result alike.
  const pricing = pricingFor(config.pricing, runMode);
  const batch =
    runMode === "batch"
      ? new BatchRounds({
          client: options.client,
          clientFor: routing.clientFor,
          ...(options.signal ? { signal: options.signal } : {}),
          ...options.batch,
        })
      : undefined;
  const monitor = new GateMonitor(gatesConfig, { mode });
  let sequence: PairSequence | undefined;
  let runnableTasks: readonly EvalTask[] = [];
  const byId = new Map(cases.map((c) => [c.case.id, c]));
  const selected = selection.case_ids
    .map((id) => byId.get(id))
    .filter((c): c is LocatedCase => c !== undefined);
  const shard =
    options.shard && options.shard.count > 1 ? `${options.shard.index}/${options.shard.count}` : undefined;
  // Set by pre-flight: the endpoint said it is a modelgate simulator.
  let endpointSimulated = false;
  /** The result file as of now: every selected case, with whatever sides have finished. */
  let estimate: CostEstimate | undefined;
  let providersUsed: EvalResult["providers"];
  const resultOf = (run: RunState = {}): EvalResult => {
    const built = buildResult({
      selection,
      warnings: [
        ...warnings,
        ...(run.totals?.mismatches ?? []).map((m) => ({ code: "model_mismatch" as const, ...m })),
        ...routing.caches().flatMap((cache) => cache.warnings()),
        ...(run.totals?.missingUsage ?? []).map((m) => ({ code: "missing_usage" as const, ...m })),
      ],
      cases: selected.map((c) => run.results?.get(c.case.id) ?? { id: c.case.id, route: c.case.route }),
      gates: gatesConfig,
      ...(sequence ? { judged: monitor.evaluate(), sequence: sequenceSummary(sequence) } : {}),
      checkpoint: run.checkpoint ?? false,
      stopped: run.stopped,
      forcedVerdict: run.forcedVerdict,
      // Cache hits carry the flag of the provider that answered them.
      simulated: options.simulated || endpointSimulated || run.totals?.simulated,
      shard,
      coverage,
      batch: batch?.summary(),
    });
    const withProviders = providersUsed ? { ...built, providers: providersUsed } : built;
    if (!estimate) return withProviders;
    return { ...withProviders, cost_estimate: { estimate, ...(run.actual ? { actual: run.actual } : {}) } };
  };
  /** Tasks never requested because the verdict settled: each would have sent at least one request. */
  const sequenceSummary = (run: PairSequence): NonNullable<EvalResult["sequential"]> => {
    const saved = run.stopping ? runnableTasks.filter((t) => !run.startedCases.has(t.testCase.id)).length : 0;
    return {
      mode,
      seed: config.evals.seed,
      planned_pairs: run.planned,
      pairs: monitor.pairs,
      stopped_early: saved > 0,
      calls_saved: saved,
    };
  };
  if (selected.length === 0) return resultOf();
  const results = new Map<string, CaseResult>();
  let latestTotals: RunTotals | undefined;
  options.onSnapshot?.((reason) => resultOf({ results, totals: latestTotals, stopped: { reason } }));
  const prompts = await readPrompts(selected, base, head);

  try {
    // Each model against its own provider's list; a keyless provider must prove it is a simulator.
    await routing.preflight(modelsOf(selected, base, head, config.evals.judge_model, routing), {
      signal: options.signal,
      timeoutMs: options.preflightTimeoutMs,
    });
    endpointSimulated = routing.endpointSimulated;
    options.onPreflight?.(routing.listed());
  } catch (error) {
    // Interrupted before anything was spent: still a (partial, empty) result, never a hang.
    if (error instanceof PreflightInterrupted) return resultOf({ stopped: { reason: "interrupted" } });
    throw error;
  }
  // A judge the provider does not offer would fail every case it grades: refused before any spend.
  for (const located of selected) {
    for (const model of routing.judgeModels(located.case, config.evals.judge_model)) {
      if (routing.offers(model)) continue;
      const provider = routing.active ? ` (provider ${routing.nameOf(model)})` : "";
      throw new UserError(
        `${located.file}:${located.line} case ${located.case.id}: the judge model '${model}' is not among the provider's models${provider}; set evals.judge_model (or the assertion's model) to one it lists`,
      );
    }
  }
  const cacheFor = (task: EvalTask) => routing.cacheOf(task.resolved.model);
  const tasks: EvalTask[] = [];
  const skippedSides = new Set<Side>();
  // Checked in file order, so the first mistake named is the first in the files; run in sequence order.
  const position = new Map(selected.map((c, index) => [c.case.id, index]));
  for (const located of cases.filter((c) => position.has(c.case.id))) {
    let baseRenders = false;
    for (const [side, loaded] of [
      ["base", base],
      ["head", head],
    ] as const) {
      const resolved = resolveRoute(loaded.llm, located.case.route);
      if (!resolved) {
        if (side === "head") {
          throw new UserError(
            `${located.file}:${located.line} case ${located.case.id}: route '${located.case.route}' is not in ${config.llm.config} and there is no ${config.llm.default_model_key}`,
          );
        }
        warnings.push({ code: "case_one_side", id: located.case.id, side: "head" });
        continue;
      }
      if (!routing.offers(resolved.model)) {
        if (
          !warnings.some(
            (w) => w.code === "unknown_model" && w.side === side && w.route === located.case.route,
          )
        ) {
          warnings.push({
            code: "unknown_model",
            route: located.case.route,
            model: resolved.model,
            side,
            ...(routing.active ? { provider: routing.nameOf(resolved.model) } : {}),
          });
        }
        skippedSides.add(side);
        continue;
      }
      const messages = renderMessages(located, prompts[side]);
      if (side === "base" && messages) baseRenders = true;
      if (!messages && side === "head" && baseRenders) {
        // Fail closed: a case the base runs but the head cannot render (the PR removed its
        // prompt file) is a head error in the pair, never a case quietly left out of the
        // comparison. A prompt missing on both sides is a broken case, run on neither.
        results.set(located.case.id, {
          id: located.case.id,
          route: located.case.route,
          ...results.get(located.case.id),
          head: headCannotRun(resolved.model, located.case.prompt),
        });
        warnings.push({ code: "case_one_side", id: located.case.id, side: "base" });
        continue;
      }
      if (!messages) {
        warnings.push({
          code: "case_one_side",
          id: located.case.id,
          side: side === "base" ? "head" : "base",
        });
        continue;
      }
      const judgeProviders = routing.judgeIdentities(
        routing.judgeModels(located.case, config.evals.judge_model),
      );
      tasks.push({
        side,
        testCase: located.case,
        route: located.case.route,
        resolved,
        messages,
        ...(judgeProviders ? { judgeProviders } : {}),
      });
    }
  }
  tasks.sort((a, b) => (position.get(a.testCase.id) ?? 0) - (position.get(b.testCase.id) ?? 0));
  // An unknown model on the head side is a failing PR, found before anything is spent.
  if (skippedSides.has("head")) return resultOf({ forcedVerdict: "fail" });
  const runnable = skippedSides.has("base") ? tasks.filter((t) => t.side === "head") : tasks;
  runnableTasks = runnable;
  if (routing.active) providersUsed = providersOf(runnable, routing);
  // The sequence: cases whose base runs and whose head runs or failed closed, in order.
  const withBase = new Set(runnable.filter((t) => t.side === "base").map((t) => t.testCase.id));
  const withHead = new Set(runnable.filter((t) => t.side === "head").map((t) => t.testCase.id));
  const pairOrder = selected
    .map((c) => c.case.id)
    .filter((id) => withBase.has(id) && (withHead.has(id) || results.get(id)?.head !== undefined));
  // A shard cannot see the other shards' pairs, and fixed-N mode judges once: neither stops
  // early. A batch run sends every pair at once, so stopping early would save nothing; its
  // pairs still reach the monitor in sequence order, whose decision on the full set holds.
  const pairs = new PairSequence(
    pairOrder,
    results,
    monitor,
    mode === "sequential" && !shard && runMode === "interactive",
  );
  sequence = pairs;
  for (const model of new Set(runnable.map((t) => t.resolved.model))) {
    if (!priceOf(model, config.pricing)) warnings.push({ code: "missing_price", model });
  }
  // Every selected pair, before any completion request: more than a sequential stop spends.
  estimate = estimateCost(
    await estimateTasks(runnable, { cacheFor, baseline: options.baseline, maxSteps: config.evals.max_steps }),
    pricing,
  );
  options.onEstimate?.(estimate);
  const refusal = checkEstimateBudget(estimate, config.budget, options.force ?? false);
  if (refusal) throw refusal;

  let done = 0;
  let lastCheckpoint = 0;
  const outcome = await runTasks(runnable, {
    client: options.client,
    clientFor: routing.clientFor,
    concurrency: options.concurrency ?? config.evals.concurrency,
    maxSteps: config.evals.max_steps,
    pricing,
    budget: config.budget,
    ...(batch ? { batch } : {}),
    ...(config.evals.judge_model ? { judgeModel: config.evals.judge_model } : {}),
    cacheFor,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
    mayStart: (task) => pairs.mayStart(task.testCase.id),
    onTaskDone: (task, side, totals) => {
      record(results, task, side);
      pairs.advance();
      latestTotals = totals;
      done++;
      options.onProgress?.({
        done,
        total: runnable.length,
        tokens: totals.tokens,
        cost: totals.cost,
        cacheHits: totals.cacheHits,
      });
      const now = Date.now();
      if (options.onCheckpoint && now - lastCheckpoint > CHECKPOINT_INTERVAL_MS) {
        lastCheckpoint = now;
        options.onCheckpoint(
          resultOf({
            results,
            totals,
            checkpoint: true,
            stopped: { reason: "run in progress (deltas are computed when it ends)" },
          }),
        );
      }
    },
  });
  return resultOf({
    results,
    totals: outcome.totals,
    stopped: outcome.stopped,
    actual: actualCost(results, outcome.totals),
  });
}

/** `default` is the door's `client`; the others come from the workflow's provider map. */
function providerRoutingOf(options: EvaluateOptions): ProviderRouting {
  const rules = options.config.evals.providers;
  const named = options.providers ?? new Map<string, RouteTarget>();
  checkPolicyProviders(
    rules,
    new Set(named.keys()),
    options.providerSource ?? "the workflow's providers input or MODELGATE_PROVIDERS",
  );
  const targets = new Map<string, RouteTarget>(named);
  targets.set(DEFAULT_PROVIDER, {
    client: options.client,
    simulated: options.simulated ?? false,
    keyless: options.keyless,
    label: DEFAULT_PROVIDER,
    cache: options.cache,
  });
  return new ProviderRouting(rules, targets);
}

/** Every model the selected cases may call on either side, judges included: what pre-flight lists. */
function modelsOf(
  selected: readonly LocatedCase[],
  base: LoadedSide,
  head: LoadedSide,
  judgeModel: string | undefined,
  routing: ProviderRouting,
): Set<string> {
  const models = new Set<string>();
  for (const located of selected) {
    for (const side of [base, head]) {
      const resolved = resolveRoute(side.llm, located.case.route);
      if (resolved) models.add(resolved.model);
    }
    for (const model of routing.judgeModels(located.case, judgeModel)) models.add(model);
  }
  return models;
}

/** Which provider answered each side, overall and per route (docs/results.md#providers). */
function providersOf(
  tasks: readonly EvalTask[],
  routing: ProviderRouting,
): NonNullable<EvalResult["providers"]> {
  const sides = { base: new Set<string>(), head: new Set<string>() };
  // Keyed by route names from the repo: no prototype, so `__proto__` is a route like any other.
  const routes = ownRecord<NonNullable<EvalResult["providers"]>["routes"][string]>();
  for (const task of tasks) {
    const name = routing.nameOf(task.resolved.model);
    sides[task.side].add(name);
    routes[task.route] = { ...ownGet(routes, task.route), [task.side]: name };
  }
  return { base: [...sides.base].sort(), head: [...sides.head].sort(), routes };
}

/** What the run reported per side (cached attempts included) and what it newly spent. */
function actualCost(results: ReadonlyMap<string, CaseResult>, totals: RunTotals): ActualCost {
  const sum = (side: Side) => {
    let tokens: number | null = 0;
    let cost: number | null = 0;
    for (const result of results.values()) {
      const ran = result[side];
      if (!ran) continue;
      tokens = tokens === null || ran.tokens === null ? null : tokens + ran.tokens;
      cost = cost === null || ran.cost === null ? null : cost + ran.cost;
    }
    return { tokens, cost_usd: cost };
  };
  const base = sum("base");
  const head = sum("head");
  return {
    base,
    head,
    total: {
      tokens: base.tokens === null || head.tokens === null ? null : base.tokens + head.tokens,
      cost_usd: base.cost_usd === null || head.cost_usd === null ? null : base.cost_usd + head.cost_usd,
      spend_usd: totals.cost,
    },
  };
}

type ActualCost = NonNullable<NonNullable<EvalResult["cost_estimate"]>["actual"]>;

interface RunState {
  results?: ReadonlyMap<string, CaseResult>;
  totals?: RunTotals;
  stopped?: { reason: string; cap?: string } | undefined;
  forcedVerdict?: Verdict;
  /** A checkpoint: cheap to build, without the bootstrap deltas. */
  checkpoint?: boolean;
  actual?: ActualCost;
}

function headCannotRun(model: string, prompt: string | undefined): CaseSideResult {
  return {
    outcome: "error",
    attempts: 0,
    tokens: 0,
    cost: 0,
    model,
    tool_calls: 0,
    latencies_ms: [],
    detail: `the head cannot run this case: its prompt ${prompt ?? "(none)"} is missing on the head`,
  };
}

function record(results: Map<string, CaseResult>, task: EvalTask, side: CaseSideResult) {
  const entry = results.get(task.testCase.id) ?? { id: task.testCase.id, route: task.route };
  entry[task.side] = side;
  results.set(task.testCase.id, entry);
}

type PromptTexts = Map<string, string | null>;

async function readPrompts(selected: readonly LocatedCase[], base: LoadedSide, head: LoadedSide) {
  const paths = [...new Set(selected.flatMap((c) => (c.case.prompt ? [c.case.prompt] : [])))];
  const [basePrompts, headPrompts] = await Promise.all([
    base.source.readFiles(paths),
    head.source.readFiles(paths),
  ]);
  return { base: basePrompts, head: headPrompts };
}

/** The system prompt from this side's template; `undefined` when the side has no such file. */
export function renderMessages(
  located: LocatedCase,
  prompts: PromptTexts,
): ChatCompletionMessageParam[] | undefined {
  const testCase = located.case;
  const messages: ChatCompletionMessageParam[] = [];
  if (testCase.prompt) {
    const template = prompts.get(testCase.prompt);
    if (template === null || template === undefined) return undefined;
    messages.push({
      role: "system",
      content: renderTemplate(template, testCase.vars, { template: testCase.prompt, caseId: testCase.id }),
    });
  }
  if (testCase.input !== undefined) messages.push({ role: "user", content: testCase.input });
  for (const message of testCase.messages ?? []) {
    messages.push({ role: message.role, content: message.content } as ChatCompletionMessageParam);
  }
  return messages;
}

/** Both sides run the head's cases; say so when the PR edits them. */
function caseChangeWarnings(base: LoadedSide, headCases: readonly LocatedCase[]): Warning[] {
  const baseCases = parseCasesLeniently(base);
  if (!baseCases) return [];
  const before = new Map(baseCases.map((c) => [c.case.id, JSON.stringify(c.case)]));
  const after = new Map(headCases.map((c) => [c.case.id, JSON.stringify(c.case)]));
  const added = [...after.keys()].filter((id) => !before.has(id));
  const removed = [...before.keys()].filter((id) => !after.has(id));
  const modified = [...after]
    .filter(([id, text]) => before.has(id) && before.get(id) !== text)
    .map(([id]) => id);
  if (!added.length && !removed.length && !modified.length) return [];
  return [{ code: "cases_changed", added, removed, modified }];
}
