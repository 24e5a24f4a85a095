import type { LocatedCase } from "../cases/schema.ts";
import { getAtPath } from "../keys.ts";
import type { LlmConfig } from "../llm-config.ts";
import { ownGet } from "../own.ts";
import { modelFamily, sameModel } from "../pricing.ts";
import { isPinnedModelId, offeredSnapshots } from "./pinned.ts";
import { type DoctorCheck, type DoctorInput, modelsFor } from "./types.ts";

/**
 * The seven readiness checks of issue 13 part 2, each a pure function of the gathered facts.
 * Every line that is not a pass names the file, key, route or command to change.
 */

/** docs/gates.md "How large a suite should be": the rule of thumb the estimate quotes. */
export const PAIRS_UNCHANGED = 100;
export const PAIRS_MIGRATION = 300;
const PAIRS_MIGRATION_HIGH = 500;

/** Shared context: the input, plus what every check needs derived once. */
export interface Context {
  input: DoctorInput;
  llm: LlmConfig;
  llmFile: string;
  /** Routes in question, in order. */
  routes: string[];
  casesByRoute: Map<string, LocatedCase[]>;
  ref: string;
  /** The eval that would cache this revision's base run, as the door would be asked for it. */
  evalCommand?: string | undefined;
}

/** A key in the LLM config: a variable name in an env file, else a dot path. */
export function readKey(document: unknown, key: string): unknown {
  if (document !== null && typeof document === "object" && Object.hasOwn(document, key)) {
    return (document as Record<string, unknown>)[key];
  }
  return getAtPath(document, key);
}

const list = (items: readonly string[], max = 8): string =>
  items.length <= max ? items.join(", ") : `${items.slice(0, max).join(", ")} and ${items.length - max} more`;

export function routeCasesChecks(ctx: Context): DoctorCheck[] {
  const { config } = ctx.input;
  return ctx.routes.map((route) => {
    const count = ctx.casesByRoute.get(route)?.length ?? 0;
    const model = ownGet(ctx.llm.routes, route)?.model ?? ctx.llm.default_model ?? "no model";
    if (count > 0) {
      return {
        id: "route_cases",
        subject: route,
        status: "pass",
        message: `route ${route} (${model}) has ${count} eval case${count === 1 ? "" : "s"}`,
        fix: null,
      };
    }
    return {
      id: "route_cases",
      subject: route,
      status: "fail",
      message: `route ${route} (${model}) has no eval cases: a model change on it would ship unmeasured`,
      fix: `add cases with "route": "${route}" to a file matching evals.cases (${config.evals.cases.join(", ")}), e.g. evals/${route}.jsonl`,
    };
  });
}

export function suiteSizeCheck(ctx: Context): DoctorCheck {
  const maxCases = ctx.input.config.evals.max_cases;
  const sizes = ctx.routes
    .map((route) => ({ route, pairs: Math.min(ctx.casesByRoute.get(route)?.length ?? 0, maxCases) }))
    .filter((s) => s.pairs > 0);
  if (sizes.length === 0) {
    return {
      id: "suite_size",
      status: "fail",
      message: "no route in question has eval cases, so the gates have no pairs to decide on",
      fix: `add ${PAIRS_MIGRATION}–${PAIRS_MIGRATION_HIGH} cases per route you migrate (docs/gates.md "How large a suite should be")`,
    };
  }
  const total = Math.min(
    ctx.routes.reduce((sum, route) => sum + (ctx.casesByRoute.get(route)?.length ?? 0), 0),
    maxCases,
  );
  const smallest = Math.min(...sizes.map((s) => s.pairs));
  const perRoute = sizes.map((s) => `${s.route} ${s.pairs}`).join(", ");
  const message = `pairs per route (evals.max_cases ${maxCases}): ${perRoute}; all routes at once ${total}. The sequential gates decide an unchanged behaviour in ~${PAIRS_UNCHANGED} pairs and a model migration in ${PAIRS_MIGRATION}–${PAIRS_MIGRATION_HIGH} (docs/gates.md)`;
  const capped = sizes.some((s) => (ctx.casesByRoute.get(s.route)?.length ?? 0) > maxCases);
  const raise = capped ? `; raise evals.max_cases in ${ctx.input.policyFile} (now ${maxCases})` : "";
  if (smallest >= PAIRS_MIGRATION && !capped) return { id: "suite_size", status: "pass", message, fix: null };
  const short = sizes.filter((s) => s.pairs < PAIRS_MIGRATION).map((s) => s.route);
  const likely =
    smallest < PAIRS_UNCHANGED
      ? "a migration of a route is likely to end inconclusive, even for identical behaviour"
      : "enough for a change that should not alter behaviour; a migration is likely to end inconclusive";
  return {
    id: "suite_size",
    status: "warn",
    message: `${message}: ${likely}`,
    fix: `grow the cases of ${list(short.length ? short : sizes.map((s) => s.route))} toward ${PAIRS_MIGRATION}–${PAIRS_MIGRATION_HIGH} each (at least ${PAIRS_UNCHANGED} for a pinned snapshot of the same model)${raise}`,
  };
}

export function baselineChecks(ctx: Context): DoctorCheck[] {
  const { baseline } = ctx.input;
  const command = ctx.evalCommand ?? `modelgate eval --base ${ctx.ref} --head ${ctx.ref} --all`;
  const rerun = `run \`${command}\` with the same provider: it stores the base answers in the attempt cache`;
  if (baseline.kind === "not_checked") {
    return [
      { id: "baseline", status: "warn", message: `baseline not checked: ${baseline.reason}`, fix: rerun },
    ];
  }
  return ctx.routes
    .filter((route) => (ctx.casesByRoute.get(route)?.length ?? 0) > 0)
    .map((route): DoctorCheck => {
      const counts = baseline.routes.get(route) ?? { cached: 0, cases: 0 };
      const model = counts.model ?? ownGet(ctx.llm.routes, route)?.model ?? ctx.llm.default_model ?? "?";
      if (counts.cases > 0 && counts.cached >= counts.cases) {
        return {
          id: "baseline",
          subject: route,
          status: "pass",
          message: `route ${route}: a cached base run on ${model} answers all ${counts.cases} cases`,
          fix: null,
        };
      }
      return {
        id: "baseline",
        subject: route,
        status: "warn",
        message: `route ${route}: ${counts.cached} of ${counts.cases} cases have a cached base run on ${model}; the eval will measure the base from scratch (no earlier snapshot to compare with)`,
        fix: rerun,
      };
    });
}

export function rollbackChecks(ctx: Context): DoctorCheck[] {
  const { config, provider } = ctx.input;
  const keys = config.rollout;
  const at = (key: string) => `${ctx.llmFile} ${key}`;
  const current = ctx.llm.default_model ?? "the model production serves today";
  const raw = readKey(ctx.llm.document, keys.rollback_key);
  const rawCandidate = readKey(ctx.llm.document, keys.candidate_key);
  const candidate = typeof rawCandidate === "string" && rawCandidate !== "" ? rawCandidate : undefined;
  const out: DoctorCheck[] = [];
  if (raw === undefined || raw === null || raw === "") {
    out.push({
      id: "rollback_model",
      status: "fail",
      message: `no rollback model: ${at(keys.rollback_key)} is not set, so a rollback PR has nothing to go back to`,
      fix: `set ${keys.rollback_key} in ${ctx.llmFile} to the model production serves today (e.g. "${current}")`,
    });
  } else if (typeof raw !== "string") {
    out.push({
      id: "rollback_model",
      status: "fail",
      message: `${at(keys.rollback_key)} is not a model ID (found ${JSON.stringify(raw)?.slice(0, 60)})`,
      fix: `set ${keys.rollback_key} in ${ctx.llmFile} to a model ID string (e.g. "${current}")`,
    });
  } else if (candidate !== undefined && (sameModel(candidate, raw) || sameModel(raw, candidate))) {
    out.push({
      id: "rollback_model",
      subject: raw,
      status: "fail",
      message: `the rollback model ${raw} is the candidate ${candidate} (${at(keys.candidate_key)}): a rollback would change nothing`,
      fix: `set ${keys.rollback_key} in ${ctx.llmFile} to the model the candidate replaces`,
    });
  } else if (provider.kind === "unavailable") {
    out.push({
      id: "rollback_model",
      subject: raw,
      status: "fail",
      message: `cannot tell whether the provider offers the rollback model ${raw}: ${provider.reason}`,
      fix: "make GET /v1/models answer (check --base-url / OPENAI_BASE_URL and the key), then run doctor again",
    });
  } else if (!offered(raw, modelsFor(raw, provider))) {
    out.push({
      id: "rollback_model",
      subject: raw,
      status: "fail",
      message: `the provider does not offer the rollback model ${raw} (${at(keys.rollback_key)}): a rollback would fail pre-flight`,
      fix: `set ${keys.rollback_key} in ${ctx.llmFile} to a model GET /v1/models lists`,
    });
  } else {
    out.push({
      id: "rollback_model",
      subject: raw,
      status: "pass",
      message: `rollback model ${raw} (${at(keys.rollback_key)}) is set, differs from the candidate${candidate ? ` ${candidate}` : ""} and is offered by the provider`,
      fix: null,
    });
  }
  const { rehearsal } = ctx.input;
  if (rehearsal.kind === "known") {
    out.push({
      id: "rollback_rehearsal",
      status: rehearsal.passed ? "pass" : "fail",
      message: `rollback rehearsal ${rehearsal.passed ? "passed" : "failed"}: ${rehearsal.detail}`,
      fix: rehearsal.passed
        ? null
        : "fix what the modelgate/rollback-rehearsal check reports, then push to the rollout PR to run it again",
    });
  } else {
    out.push({
      id: "rollback_rehearsal",
      status: "warn",
      message: `rollback rehearsal not checked: ${rehearsal.reason ?? "it cannot be determined locally"}`,
      fix: `open the rollout PR (a change of ${keys.key} in ${ctx.llmFile}) with the modelgate Action installed: it evaluates the rollback config and publishes the modelgate/rollback-rehearsal check, which must pass before the second phase`,
    });
  }
  return out;
}

function offered(model: string, ids: ReadonlySet<string>): boolean {
  if (ids.has(model)) return true;
  for (const id of ids) if (modelFamily(id) === model) return true;
  return false;
}

export function pinnedChecks(ctx: Context): DoctorCheck[] {
  const { config, provider } = ctx.input;
  const aliases = new Set(ctx.input.explicitAliases ?? []);
  const where = new Map<string, string[]>();
  const note = (model: unknown, key: string) => {
    if (typeof model !== "string" || model === "") return;
    where.set(model, [...(where.get(model) ?? []), key]);
  };
  note(ctx.llm.default_model, config.llm.default_model_key);
  for (const route of Object.keys(ctx.llm.routes)) {
    note(ownGet(ctx.llm.routes, route)?.model, `${config.llm.routes_key}.${route}`);
  }
  note(readKey(ctx.llm.document, config.rollout.candidate_key), config.rollout.candidate_key);
  note(readKey(ctx.llm.document, config.rollout.rollback_key), config.rollout.rollback_key);
  const floating = [...where].filter(([model]) => !isPinnedModelId(model) && !aliases.has(model));
  if (floating.length === 0) {
    const models = [...where.keys()];
    return [
      {
        id: "pinned_models",
        status: "pass",
        message: models.length
          ? `every model ID is a pinned snapshot or an explicit alias: ${list(models)}`
          : "no model IDs in the LLM config",
        fix: null,
      },
    ];
  }
  return floating.map(([model, keys]): DoctorCheck => {
    const snapshots = provider.kind === "listed" ? offeredSnapshots(model, modelsFor(model, provider)) : [];
    const pin = snapshots[0]
      ? `pin it: replace "${model}" with "${snapshots[0]}" (a snapshot the provider lists)`
      : `pin it: replace "${model}" with a dated snapshot the provider lists (e.g. "${model}-YYYY-MM-DD")`;
    return {
      id: "pinned_models",
      subject: model,
      status: "fail",
      message: `${model} (${list(keys)} in ${ctx.llmFile}) is a floating model name: the provider can move it to a new snapshot without a commit, and the eval would not see it`,
      fix: `${pin} at ${list(keys)} in ${ctx.llmFile}, or declare it an explicit alias (doctor --allow-alias ${model}) if you move it on purpose`,
    };
  });
}

/** Routes the app serves that fall back to the default model: a default-model change moves them unseen. */
export function laneChecks(ctx: Context): DoctorCheck[] {
  const { config } = ctx.input;
  const map = readKey(ctx.llm.document, config.llm.routes_key);
  const entries = map !== null && typeof map === "object" && !Array.isArray(map) ? map : {};
  const out: DoctorCheck[] = [];
  for (const route of ctx.routes) {
    const entry = ownGet(entries as Record<string, unknown>, route);
    const explicit =
      typeof entry === "string" ||
      (entry !== null &&
        typeof entry === "object" &&
        typeof ownGet(entry as Record<string, unknown>, "model") === "string");
    // An env-file config names routes by variables; those are explicit by construction.
    const envRoute = entry === undefined && ownGet(ctx.llm.routes, route) !== undefined;
    if (explicit || envRoute) continue;
    const fallback = ctx.llm.default_model;
    if (fallback === null) {
      out.push({
        id: "explicit_lanes",
        subject: route,
        status: "fail",
        message: `route ${route} has cases but no model: it is not in ${config.llm.routes_key} and ${config.llm.default_model_key} is not set`,
        fix: `add "${route}": "<model ID>" to ${config.llm.routes_key} in ${ctx.llmFile}`,
      });
      continue;
    }
    out.push({
      id: "explicit_lanes",
      subject: route,
      status: "warn",
      message: `route ${route} is not mapped in ${config.llm.routes_key}: it runs on ${config.llm.default_model_key} (${fallback}), so a default-model change moves it without naming it`,
      fix: `map it explicitly: add "${route}": "${fallback}" to ${config.llm.routes_key} in ${ctx.llmFile}`,
    });
  }
  if (out.length === 0) {
    out.push({
      id: "explicit_lanes",
      status: "pass",
      message: `every route in question is mapped explicitly in ${config.llm.routes_key}`,
      fix: null,
    });
  }
  return out;
}

export function appBudgetChecks(ctx: Context): DoctorCheck[] {
  // The policy's keys (llm.settings), the same ones the eval applies; the defaults match.
  const keys = ctx.input.appBudgetKeys ?? ctx.input.config.llm.settings;
  const perTask = readKey(ctx.llm.document, keys.per_task_token_cap);
  const routeCaps = readKey(ctx.llm.document, keys.route_caps);
  const bad = (key: string, value: unknown): DoctorCheck => ({
    id: "app_budget",
    status: "fail",
    message: `${ctx.llmFile} ${key}: expected a positive token count, found ${JSON.stringify(value)?.slice(0, 60)}`,
    fix: `set ${key} in ${ctx.llmFile} to a positive number of tokens`,
  });
  if (perTask !== undefined && !isCount(perTask)) return [bad(keys.per_task_token_cap, perTask)];
  let caps: Record<string, unknown> = {};
  if (routeCaps !== undefined) {
    if (routeCaps === null || typeof routeCaps !== "object" || Array.isArray(routeCaps)) {
      return [bad(keys.route_caps, routeCaps)];
    }
    caps = routeCaps as Record<string, unknown>;
    for (const [route, cap] of Object.entries(caps))
      if (!isCount(cap)) return [bad(`${keys.route_caps}.${route}`, cap)];
  }
  const uncapped = ctx.routes.filter((route) => ownGet(caps, route) === undefined && perTask === undefined);
  if (uncapped.length === 0) {
    const how =
      perTask !== undefined
        ? `${keys.per_task_token_cap} ${String(perTask)} applies to every route`
        : `${keys.route_caps} caps every route`;
    return [
      { id: "app_budget", status: "pass", message: `the app caps tokens per route: ${how}`, fix: null },
    ];
  }
  return [
    {
      id: "app_budget",
      status: "warn",
      message: `no token cap in the app's LLM config for ${list(uncapped)}: a wordier candidate would spend without a limit in production`,
      fix: `set ${keys.per_task_token_cap} (one cap for every route) or ${keys.route_caps}.<route> in ${ctx.llmFile}, e.g. "${keys.route_caps.split(".").pop()}": {"${uncapped[0]}": 150000}`,
    },
  ];
}

function isCount(value: unknown): boolean {
  return typeof value === "number" && Number.isFinite(value) && value > 0;
}

export function evalBudgetCheck(ctx: Context): DoctorCheck {
  const { budget } = ctx.input.config;
  const set = Object.entries(budget)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `budget.${key} ${String(value)}`);
  const runCap = budget.max_run_cost_usd !== undefined || budget.max_run_tokens !== undefined;
  if (runCap && budget.max_task_tokens !== undefined) {
    return { id: "eval_budget", status: "pass", message: `the eval is capped: ${set.join(", ")}`, fix: null };
  }
  const missing = [
    ...(runCap ? [] : ["budget.max_run_cost_usd (or budget.max_run_tokens)"]),
    ...(budget.max_task_tokens === undefined ? ["budget.max_task_tokens"] : []),
  ];
  return {
    id: "eval_budget",
    status: "warn",
    message: `the eval has no ${missing.join(" and no ")}${set.length ? ` (set: ${set.join(", ")})` : ""}: a migration eval of a wordier model can spend without a limit`,
    fix: `add to ${ctx.input.policyFile}: budget: { ${runCap ? "" : "max_run_cost_usd: 5, "}${budget.max_task_tokens === undefined ? "max_task_tokens: 150000" : ""} }`.replace(
      ", }",
      " }",
    ),
  };
}

export function metricsCheck(ctx: Context): DoctorCheck {
  const { metrics, config } = ctx.input;
  if (metrics.kind === "not_checked") {
    return {
      id: "metrics_wiring",
      status: "warn",
      message: `not checked: ${metrics.reason}`,
      fix: metrics.fix,
    };
  }
  const { reading, phase } = metrics;
  const m = config.rollout.metrics;
  if (reading.kind === "counts") {
    const { control, candidate } = reading.arms;
    return {
      id: "metrics_wiring",
      status: "pass",
      message: `${reading.source} answers for both arms at the ${phase} % phase: control ${control.requests} requests, candidate ${candidate.requests}`,
      fix: null,
    };
  }
  const empty = (reading.queries ?? []).filter((q) => q.value === null);
  const fix =
    m.source === "file"
      ? `make the job that writes ${m.file} fill control and candidate {requests, errors, tasks, completed} for the current phase`
      : `check rollout.metrics.queries and rollout.metrics.arms (${m.arms.control} / ${m.arms.candidate}) in ${ctx.input.policyFile} against the labels your app exports`;
  // Before the first phase no traffic reaches the candidate: its series cannot exist yet.
  if (phase === 0 && empty.length > 0 && empty.every((q) => q.arm === "candidate")) {
    return {
      id: "metrics_wiring",
      status: "warn",
      message: `${reading.source} answers for the control arm; the candidate arm has no data yet (no traffic at 0 %)`,
      fix: `after the first phase (${config.rollout.phases[0] ?? 10} %) starts, run doctor again to see the candidate's series; if it stays empty, ${fix}`,
    };
  }
  return {
    id: "metrics_wiring",
    status: "fail",
    message: `the production metrics do not answer: ${reading.reason} (${reading.source})`,
    fix,
  };
}

export function parserChecks(ctx: Context): DoctorCheck[] {
  const { config } = ctx.input;
  const map = readKey(ctx.llm.document, config.llm.routes_key);
  const out: DoctorCheck[] = [];
  for (const route of ctx.routes) {
    const cases = ctx.casesByRoute.get(route) ?? [];
    if (cases.length === 0) continue;
    const entry =
      map !== null && typeof map === "object" ? ownGet(map as Record<string, unknown>, route) : undefined;
    const configSays =
      entry !== null &&
      typeof entry === "object" &&
      ownGet(entry as Record<string, unknown>, "response_format") !== undefined;
    const caseSays = cases.some(
      (c) => c.case.response_format === "json_object" || c.case.assert.some((a) => a.type === "json_schema"),
    );
    if (!configSays && !caseSays) continue;
    const why = configSays
      ? `${config.llm.routes_key}.${route}.response_format in ${ctx.llmFile}`
      : "its cases ask for JSON";
    const unguarded = cases.filter(
      (c) => !c.case.assert.some((a) => a.type === "json_schema" || a.type === "regex"),
    );
    if (unguarded.length === 0) {
      out.push({
        id: "parsers_under_test",
        subject: route,
        status: "pass",
        message: `route ${route} has structured output (${why}) and every one of its ${cases.length} cases checks it with json_schema or regex`,
        fix: null,
      });
      continue;
    }
    const first = unguarded[0];
    out.push({
      id: "parsers_under_test",
      subject: route,
      status: "fail",
      message: `route ${route} has structured output (${why}), but ${unguarded.length} of ${cases.length} cases have no json_schema or regex assertion (${list(
        unguarded.map((c) => c.case.id),
        5,
      )}): an answer your parser rejects would still pass`,
      fix: `add {"type": "json_schema", "schema": {…}} (the schema your parser expects) to the assert list of ${list(
        unguarded.map((c) => c.case.id),
        5,
      )}${first ? ` (first at ${first.file}:${first.line})` : ""}`,
    });
  }
  if (out.length === 0) {
    out.push({
      id: "parsers_under_test",
      status: "pass",
      message:
        "no route in question says structured output (response_format in its route config, or JSON cases)",
      fix: null,
    });
  }
  return out;
}
