import type { Classification } from "../core/classify/classify.ts";
import { classifySides } from "../core/classify/classify-sides.ts";
import { formatWarnings } from "../core/classify/format-warnings.ts";
import { policyFromBase } from "../core/config/policy.ts";
import type { Config } from "../core/config/schema.ts";
import type { CostEstimate } from "../core/cost-estimate.ts";
import { endpointWarnings } from "../core/endpoint-warnings.ts";
import type { EvalResult, Warning } from "../core/result.ts";
import type { TreeSource } from "../core/source.ts";
import { directoryCache } from "../eval/cache.ts";
import { evaluate, type Progress } from "../eval/evaluate.ts";
import type { ProviderModels } from "../eval/preflight.ts";
import type { Provider } from "../eval/provider.ts";
import { routeTargets } from "../eval/providers.ts";
import type { GitHub } from "../github/client.ts";
import { listPullFiles } from "../github/pull-files.ts";
import { mergeBase } from "../github/pulls.ts";
import { blobStore, restTreeSource } from "../github/tree-source.ts";
import type { PullContext } from "./event.ts";
import type { Settings } from "./inputs.ts";

/** The PR as the engine needs it: both sides (read through REST), the base policy, the change. */
export interface PreparedPull {
  base: TreeSource;
  head: TreeSource;
  baseSha: string;
  config: Config;
  classification: Classification;
  /** Warnings the door adds: an endpoint set in repo files, a truncated file list. */
  warnings: Warning[];
  /** Every route is evaluated: asked for, or the file list was cut off at GitHub's cap. */
  all: boolean;
  /** Could this change select any case? False for a PR that touches nothing the eval reads. */
  relevant: boolean;
  /** The PR's own count of changed files, and whether GitHub's list stopped short of it. */
  changedFiles: number;
  truncated: boolean;
}

/**
 * Reads what the eval needs through the REST API only: the default `actions/checkout` is
 * shallow and has no base commit, and for `pull_request_target` the head must stay data.
 * The base side is the merge base, because the PR's file list is `base...head`.
 */
export async function preparePull(gh: GitHub, pull: PullContext, settings: Settings): Promise<PreparedPull> {
  const repo = { owner: pull.owner, repo: pull.repo };
  const [baseSha, files] = await Promise.all([
    mergeBase(gh, { ...repo, base: pull.baseSha, head: pull.headSha }),
    listPullFiles(gh, { ...repo, pull_number: pull.number, changed_files: pull.changedFiles }),
  ]);
  const blobs = blobStore();
  const base = restTreeSource(gh, repo, baseSha, { side: "base", blobs });
  const head = restTreeSource(gh, repo, pull.headSha, { side: "head", blobs });

  // The policy is the base's: a PR cannot loosen the rule that judges it.
  const policyText = (await base.readFiles([settings.config])).get(settings.config) ?? null;
  const config = policyFromBase(policyText, settings.config, {
    option: "Invalid input 'config'",
    at: `base commit ${baseSha.slice(0, 12)}`,
  });

  const classification = await classifySides(config, {
    changes: files.changes,
    truncated: files.truncated,
    readBase: (paths) => base.readFiles(paths),
    readHead: (paths) => head.readFiles(paths),
  });

  const warnings: Warning[] = [...endpointWarnings(classification), ...formatWarnings(classification)];
  if (files.truncated) warnings.push({ code: "truncated_file_list", files: files.changes.length });
  const changed = new Set(
    files.changes.flatMap((c) => (c.previous_path ? [c.path, c.previous_path] : [c.path])),
  );
  const all = settings.all || files.truncated;
  const relevant = all || classification.categories.length > 0 || changed.has(config.llm.config);
  return {
    base,
    head,
    baseSha,
    config,
    classification,
    warnings,
    all,
    relevant,
    changedFiles: files.expected ?? files.changes.length,
    truncated: files.truncated,
  };
}

export interface RunEvalOptions {
  prepared: PreparedPull;
  provider: Provider;
  /** The providers of the workflow's provider map, by name (`provider` is `default`). */
  providers?: ReadonlyMap<string, Provider>;
  settings: Settings;
  signal: AbortSignal;
  onProgress: (progress: Progress) => void;
  onCheckpoint: (partial: EvalResult) => void;
  /** The pre-run cost estimate, before any completion request. */
  onEstimate?: (estimate: CostEstimate) => void;
  onPreflight?: (listed: ProviderModels) => void;
  /** Batch mode: one line per batch submitted or ended (ids and statuses for the log). */
  onBatchEvent?: (message: string) => void;
  debug: (message: string) => void;
}

/** The `batch` input for one `evaluate()`: the eval's and the rehearsal's alike. */
export function batchRun(settings: Settings, onEvent: (message: string) => void) {
  return settings.batch ? { mode: "batch" as const, batch: { onEvent, ...settings.batchPolling } } : {};
}

export async function runEval(options: RunEvalOptions): Promise<EvalResult> {
  const { prepared, provider, settings } = options;
  const result = await evaluate({
    base: prepared.base,
    head: prepared.head,
    config: prepared.config,
    classification: prepared.classification,
    client: provider.client,
    all: prepared.all,
    ...(settings.maxCases ? { maxCases: settings.maxCases } : {}),
    ...(settings.concurrency ? { concurrency: settings.concurrency } : {}),
    ...(settings.shard.count > 1 ? { shard: settings.shard } : {}),
    ...(settings.cacheDir
      ? { cache: directoryCache(settings.cacheDir, provider.identity, options.debug) }
      : {}),
    signal: options.signal,
    simulated: provider.simulated,
    providers: routeTargets(options.providers ?? new Map(), settings.cacheDir, options.debug),
    providerSource: settings.providerSource,
    policyFile: settings.config,
    warnings: prepared.warnings,
    onProgress: options.onProgress,
    onCheckpoint: options.onCheckpoint,
    force: settings.force,
    ...batchRun(settings, options.onBatchEvent ?? options.debug),
    ...(options.onEstimate ? { onEstimate: options.onEstimate } : {}),
    ...(options.onPreflight ? { onPreflight: options.onPreflight } : {}),
  });
  if (!prepared.truncated || settings.all) return result;
  // Say why every case ran: not a flag, but GitHub's cap on the file list.
  const reason = `GitHub lists at most 3,000 of the PR's ${prepared.changedFiles} files: every case runs`;
  return {
    ...result,
    selection: {
      ...result.selection,
      reasons: result.selection.reasons.map((r) => (r.route === "*" ? { route: "*", reason } : r)),
    },
  };
}
