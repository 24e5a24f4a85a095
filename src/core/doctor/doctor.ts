import type { LocatedCase } from "../cases/schema.ts";
import {
  appBudgetChecks,
  baselineChecks,
  type Context,
  evalBudgetCheck,
  laneChecks,
  metricsCheck,
  parserChecks,
  pinnedChecks,
  rollbackChecks,
  routeCasesChecks,
  suiteSizeCheck,
} from "./checks.ts";
import type { CheckStatus, DoctorCheck, DoctorInput, DoctorReport } from "./types.ts";

/**
 * The readiness report: every check, in the order of issue 13 part 2. Ready means no check
 * failed; a warning is something to know or something that could not be checked here.
 */
export function runDoctor(
  input: DoctorInput,
  names: { llmFile: string; ref: string; evalCommand?: string | undefined },
): DoctorReport {
  const checks: DoctorCheck[] = [];
  if (input.llm === null) {
    checks.push({
      id: "route_cases",
      status: "fail",
      message: `the LLM config ${names.llmFile} does not exist at ${names.ref}: no route can be checked`,
      fix: `commit the app's LLM config at ${names.llmFile}, or point llm.config in ${input.policyFile} at it`,
    });
    return finish(checks);
  }
  const casesByRoute = new Map<string, LocatedCase[]>();
  for (const located of input.cases) {
    const route = located.case.route;
    casesByRoute.set(route, [...(casesByRoute.get(route) ?? []), located]);
  }
  const ctx: Context = {
    input,
    llm: input.llm,
    llmFile: names.llmFile,
    routes: routesInQuestion(input, casesByRoute),
    casesByRoute,
    ref: names.ref,
    evalCommand: names.evalCommand,
  };
  if (ctx.routes.length === 0) {
    checks.push({
      id: "route_cases",
      status: "fail",
      message: `${names.llmFile} has no routes at ${input.config.llm.routes_key} and no cases name a route`,
      fix: `map each route to its model at ${input.config.llm.routes_key} in ${names.llmFile}, and add cases for it`,
    });
    return finish(checks);
  }
  checks.push(
    ...routeCasesChecks(ctx),
    suiteSizeCheck(ctx),
    ...baselineChecks(ctx),
    ...rollbackChecks(ctx),
    ...pinnedChecks(ctx),
    ...laneChecks(ctx),
    ...appBudgetChecks(ctx),
    evalBudgetCheck(ctx),
    metricsCheck(ctx),
    ...parserChecks(ctx),
  );
  return finish(checks);
}

/**
 * The routes a model change would touch: those given (a PR's), else every route of the LLM
 * config plus every route its cases name (those run on the default model: changing it moves them).
 */
function routesInQuestion(input: DoctorInput, casesByRoute: ReadonlyMap<string, unknown>): string[] {
  if (input.routes) return [...new Set(input.routes)];
  const routes = new Set(Object.keys(input.llm?.routes ?? {}));
  // Without a default model such a route has no model at all: the lanes check says so.
  for (const route of casesByRoute.keys()) routes.add(route);
  return [...routes];
}

function finish(checks: DoctorCheck[]): DoctorReport {
  const summary: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0 };
  for (const check of checks) summary[check.status]++;
  return { ready: summary.fail === 0, summary, checks };
}
