import { runDoctor } from "../core/doctor/doctor.ts";
import { renderDoctorSection } from "../core/doctor/render.ts";
import type { BaselineFacts, ProviderFacts, RehearsalFacts } from "../core/doctor/types.ts";
import { CHECK_NAMES } from "../core/protocol.ts";
import type { EvalResult } from "../core/result.ts";
import { countCachedBaseline } from "../eval/baseline.ts";
import { directoryCache } from "../eval/cache.ts";
import { loadSide, parseCases } from "../eval/load-side.ts";
import type { Provider } from "../eval/provider.ts";
import type { GitHub } from "../github/client.ts";
import type { PreparedPull } from "./eval-pr.ts";
import type { PullContext } from "./event.ts";
import type { Settings } from "./inputs.ts";

/**
 * The readiness report (`modelgate doctor`, docs/doctor.md) as a collapsed section of the PR
 * comment, on a change that moves a model. The Action gathers the facts it has: the base policy,
 * the head's LLM config and cases, the routes of the cases the eval selected, the provider's
 * model list from the eval's pre-flight, the cached baseline (counted before the eval stores
 * one) and the rollback rehearsal's check run on the head commit. Metrics are not checked here.
 */

export function isModelChange(prepared: PreparedPull): boolean {
  return prepared.classification.categories.includes("model");
}

/** Cached base answers per route for the head's cases, read-only, before the eval writes any. */
export async function baselineFacts(
  prepared: PreparedPull,
  settings: Settings,
  provider: Provider,
): Promise<BaselineFacts> {
  if (!settings.cacheDir) return { kind: "not_checked", reason: "cache-dir: none" };
  const [base, head] = await Promise.all([
    loadSide(prepared.base, prepared.config),
    loadSide(prepared.head, prepared.config),
  ]);
  const cache = directoryCache(settings.cacheDir, provider.identity, () => {});
  const routes = await countCachedBaseline({
    source: prepared.base,
    config: prepared.config,
    llm: base.llm,
    cases: parseCases(head),
    cache,
  });
  return { kind: "counted", routes };
}

export interface DoctorSectionInput {
  gh: GitHub;
  pull: PullContext;
  prepared: PreparedPull;
  settings: Settings;
  result: EvalResult;
  provider: ProviderFacts;
  baseline: BaselineFacts;
}

export async function doctorSection(input: DoctorSectionInput): Promise<string> {
  const { prepared, settings } = input;
  const config = prepared.config;
  const head = await loadSide(prepared.head, config);
  const routes = [...new Set(input.result.cases.map((c) => c.route))].sort();
  const report = runDoctor(
    {
      config,
      policyFile: settings.config,
      llm: head.llmFound ? head.llm : null,
      cases: parseCases(head),
      routes,
      provider: input.provider,
      baseline: input.baseline,
      rehearsal: await rehearsalFacts(input.gh, input.pull),
      metrics: {
        kind: "not_checked",
        reason: "the Action does not read production metrics",
        fix: `run modelgate doctor --ref ${input.pull.headSha.slice(0, 12)} with PROMETHEUS_URL (or the metrics file) to check the wiring`,
      },
    },
    {
      llmFile: config.llm.config,
      ref: input.pull.headSha.slice(0, 12),
      // The baseline is the base commit's run: the command that caches it runs the base on itself.
      evalCommand: `modelgate eval --base ${prepared.baseSha.slice(0, 12)} --head ${prepared.baseSha.slice(0, 12)} --all`,
    },
  );
  return renderDoctorSection(report);
}

/** Known when a `modelgate/rollback-rehearsal` check run exists for the head commit. */
async function rehearsalFacts(gh: GitHub, pull: PullContext): Promise<RehearsalFacts> {
  const { data } = await gh.request("GET /repos/{owner}/{repo}/commits/{ref}/check-runs", {
    owner: pull.owner,
    repo: pull.repo,
    ref: pull.headSha,
    check_name: CHECK_NAMES.rehearsal,
    filter: "latest",
    per_page: 100,
  });
  const run = data.check_runs
    .filter(
      (r) => r.name === CHECK_NAMES.rehearsal && r.head_sha === pull.headSha && r.status === "completed",
    )
    .sort((a, b) => Number(b.id) - Number(a.id))[0];
  if (!run)
    return { kind: "unknown", reason: "no modelgate/rollback-rehearsal check on this head commit yet" };
  const passed = run.conclusion === "success";
  return {
    kind: "known",
    passed,
    detail: `the ${CHECK_NAMES.rehearsal} check on ${pull.headSha.slice(0, 7)} concluded ${run.conclusion ?? "without a conclusion"}`,
  };
}
