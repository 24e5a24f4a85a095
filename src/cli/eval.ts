import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { formatWarnings } from "../core/classify/format-warnings.ts";
import { DEFAULT_CONFIG_PATH } from "../core/config/load.ts";
import { estimateLines } from "../core/cost-estimate.ts";
import { endpointWarnings } from "../core/endpoint-warnings.ts";
import { UserError } from "../core/errors.ts";
import { resultBlocks } from "../core/inconclusive.ts";
import { ownGet } from "../core/own.ts";
import { renderComment } from "../core/report/markdown.ts";
import type { EvalResult, Warning } from "../core/result.ts";
import { parseResultText } from "../core/result.ts";
import { internalBatchPolling } from "../eval/batch-runner.ts";
import { directoryCache, trackedInCacheDir } from "../eval/cache.ts";
import { evaluate } from "../eval/evaluate.ts";
import { ProviderUnavailable } from "../eval/preflight.ts";
import { openProvider, type Provider } from "../eval/provider.ts";
import {
  closeAll,
  openProviderMap,
  parseProviderMapText,
  providerMapText,
  readProvidersFlag,
  routeTargets,
} from "../eval/providers.ts";
import { assertWritable, resultJson, writeFileAtomic, writeFileAtomicSync } from "../eval/result-file.ts";
import type { RetryPolicy } from "../eval/retry-policy.ts";
import { readUserFile } from "../eval/user-file.ts";
import { assertWritableDirectory } from "../eval/writable.ts";
import { classifyRefs, loadPolicyAt } from "../git/classify-refs.ts";
import { openLocalRepo } from "../git/local-repo.ts";
import { commitSource } from "../git/tree-source.ts";
import { worktreeRoot } from "../git/worktree.ts";
import { parseCommandArgs, positiveInt } from "./args.ts";
import { warnAboutDefaultHead } from "./head-default.ts";
import { type CommandIo, CommandUsageError } from "./io.ts";
import { progressReporter } from "./progress.ts";

export const EVAL_USAGE = `Usage: modelgate eval --repo DIR --base REF [--head REF] [--out FILE] [--markdown FILE] [--all]
                      [--concurrency N] [--max-cases N] [--no-cache] [--cache-dir DIR] [--config PATH]
                      [--base-url URL] [--api-key-env NAME] [--simulator-profile FILE]
                      [--baseline FILE] [--force] [--providers FILE|JSON] [--batch]

Runs the cases a change affects on the base and the head revision and compares their KPIs.
--head REF: the revision to evaluate (default: HEAD, the last commit; uncommitted edits are not
included, and a warning on stderr says how many there are).
Provider: OPENAI_BASE_URL / OPENAI_API_KEY (or --base-url / --api-key-env); with neither, the
built-in simulator answers (numbers are labelled simulated). An endpoint that is a modelgate
simulator ('modelgate simulate') needs no key, and its numbers are labelled simulated too.
Other providers (cross-provider comparisons): --providers FILE|JSON, else MODELGATE_PROVIDERS,
a JSON or YAML map {name: {base_url: "https://…/v1", api_key_env: "NAME"}}; the policy's
evals.providers sends models to them by name (e.g. claude-* → anthropic), the rest to the
provider above ('default'). Each key is read from the variable its entry names.
Attempt cache: --cache-dir, else $XDG_CACHE_HOME/modelgate, else ~/.cache/modelgate; never a
folder holding files the head commit tracks (a pull request could forge entries there).
Cost: before any completion request, an estimate per side goes to stderr (from cached attempts,
else the base side of --baseline FILE, a previous result file, else prompt sizes and output caps);
above budget.max_run_cost_usd the run does not start unless --force is given.
Batch: --batch (or evals.mode: batch) sends the requests through the Batch API (/v1/files,
/v1/batches) at the batch price (pricing.<model>.batch_discount, default 0.5): rounds of
batches until every tool loop ends, up to the 24h window each; every selected pair runs (no
early stop). The attempt cache is shared with interactive runs.
Output: the result file (--out, else stdout) and the PR comment body (--markdown); progress on stderr.
Exit: 0 pass/skipped or inconclusive with on_inconclusive neutral, 1 fail or inconclusive with
on_inconclusive fail (the default for a model change), 2 usage or config error.`;

/** `--baseline FILE`: a previous result file, checked whole by the result schema. */
async function readBaseline(file: string): Promise<EvalResult> {
  const text = await readUserFile(file, "--baseline");
  try {
    return parseResultText(text, file);
  } catch (error) {
    if (error instanceof UserError) throw new UserError(`--baseline: ${error.message}`);
    throw error;
  }
}

/** How long after SIGTERM/SIGINT the process ends even if the run has not (the contract: within 5 s). */
const FORCED_EXIT_MS = 4000;

/**
 * Tests shorten the retry waits (`MODELGATE_INTERNAL_RETRY_FLOOR_MS`); not a user setting. Even
 * at 0 the retry budgets still bound every step, so it cannot turn into a busy loop.
 */
function retryOverrides(env: NodeJS.ProcessEnv): { retry?: Partial<RetryPolicy> } {
  const floor = Number(env.MODELGATE_INTERNAL_RETRY_FLOOR_MS);
  if (env.MODELGATE_INTERNAL_RETRY_FLOOR_MS === undefined || !(floor >= 0)) return {};
  return { retry: { rateLimitFloorMs: floor, backoffBaseMs: floor } };
}

export async function evalCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseCommandArgs("eval", argv, {
    repo: { type: "string", default: "." },
    base: { type: "string" },
    head: { type: "string" },
    out: { type: "string" },
    markdown: { type: "string" },
    all: { type: "boolean", default: false },
    concurrency: { type: "string" },
    "max-cases": { type: "string" },
    "no-cache": { type: "boolean", default: false },
    "cache-dir": { type: "string" },
    config: { type: "string", default: DEFAULT_CONFIG_PATH },
    "base-url": { type: "string" },
    "api-key-env": { type: "string" },
    "simulator-profile": { type: "string" },
    "simulator-time-scale": { type: "string" },
    baseline: { type: "string" },
    force: { type: "boolean", default: false },
    providers: { type: "string" },
    batch: { type: "boolean", default: false },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    io.stdout(`${EVAL_USAGE}\n`);
    return 0;
  }
  if (!values.base) throw new CommandUsageError("eval", "--base REF is required");
  const concurrency = positiveInt("eval", values.concurrency, "--concurrency");
  const maxCases = positiveInt("eval", values["max-cases"], "--max-cases");
  const timeScale =
    values["simulator-time-scale"] === undefined ? undefined : Number(values["simulator-time-scale"]);
  if (timeScale !== undefined && !(timeScale >= 0)) {
    throw new CommandUsageError(
      "eval",
      `--simulator-time-scale: expected a number ≥ 0, found '${values["simulator-time-scale"]}'`,
    );
  }

  // The provider map is the user's own text: a mistake in it stops before anything else.
  const mapText = providerMapText(
    values.providers === undefined ? undefined : await readProvidersFlag(values.providers),
    io.env,
  );
  const providerMap = parseProviderMapText(mapText);
  // Output paths and the baseline are checked before anything is spent on the provider.
  const baseline = values.baseline === undefined ? undefined : await readBaseline(values.baseline);
  if (values.out) await assertWritable(values.out);
  if (values.markdown) await assertWritable(values.markdown);
  const repo = await openLocalRepo(values.repo);
  if (values.head === undefined) await warnAboutDefaultHead(values.repo, io);
  const [base, head] = await Promise.all([repo.resolve(values.base), repo.resolve(values.head ?? "HEAD")]);
  const config = await loadPolicyAt(repo, base, values.config, "--config");
  const classification = await classifyRefs(repo, { base, head }, config);
  const cacheDir = values["no-cache"] ? undefined : resolve(values["cache-dir"] ?? defaultCacheDir(io.env));
  await checkWritePlaces({
    repoDir: values.repo,
    tracked: () => repo.listFiles(head),
    cacheDir,
  });
  const apiKeyEnv = values["api-key-env"] ?? "OPENAI_API_KEY";
  const provider = await openProvider({
    baseURL: values["base-url"] ?? io.env.OPENAI_BASE_URL,
    apiKey: ownGet(io.env, apiKeyEnv),
    simulatorProfile: values["simulator-profile"],
    simulatorTimeScale: timeScale,
  });
  io.stderr(`modelgate: provider: ${provider.label}\n`);
  let named: Map<string, Provider>;
  try {
    named = await openProviderMap(providerMap, io.env, mapText?.source ?? "MODELGATE_PROVIDERS");
  } catch (error) {
    await provider.close();
    throw error;
  }
  for (const other of named.values()) io.stderr(`modelgate: provider: ${other.label}\n`);
  const cacheLog = (message: string) => io.stderr(`modelgate: ${message}\n`);

  const controller = new AbortController();
  let snapshot: ((reason: string) => EvalResult) | undefined;
  let finished = false;
  const interrupt = () => {
    controller.abort(new Error("interrupted"));
    // The run stops on the abort; this is the backstop for anything that ignores it (a
    // blocked call, a socket that keeps the process alive): SIGTERM always ends the run
    // within 5 s, leaving the partial result.
    setTimeout(() => {
      if (!finished && values.out && snapshot) {
        writeFileAtomicSync(values.out, resultJson(snapshot("interrupted")));
      }
      process.exit(130);
    }, FORCED_EXIT_MS).unref();
  };
  process.once("SIGINT", interrupt);
  process.once("SIGTERM", interrupt);
  const progress = progressReporter(io.stderr, io.isTTY);
  const writeOut = async (result: EvalResult) => {
    if (values.out) await writeFileAtomic(values.out, resultJson(result));
  };
  let checkpointWrite = Promise.resolve();
  try {
    const result = await evaluate({
      base: commitSource(repo, base, "base"),
      head: commitSource(repo, head, "head"),
      config,
      classification,
      client: provider.client,
      all: values.all,
      ...(maxCases ? { maxCases } : {}),
      ...(concurrency ? { concurrency } : {}),
      ...(cacheDir ? { cache: directoryCache(cacheDir, provider.identity, cacheLog) } : {}),
      providers: routeTargets(named, cacheDir, cacheLog),
      ...(mapText ? { providerSource: mapText.source } : {}),
      policyFile: values.config,
      signal: controller.signal,
      simulated: provider.simulated,
      ...(provider.keyless ? { keyless: provider.keyless } : {}),
      warnings: [...endpointWarnings(classification), ...formatWarnings(classification)] satisfies Warning[],
      ...(baseline ? { baseline } : {}),
      force: values.force,
      ...(values.batch ? { mode: "batch" as const } : {}),
      batch: {
        onEvent: (message) => io.stderr(`modelgate: ${message.replace(/\p{Cc}/gu, "?")}\n`),
        ...internalBatchPolling(io.env.MODELGATE_INTERNAL_BATCH_POLL_MS),
      },
      onEstimate: (estimate) => {
        for (const line of estimateLines(estimate)) io.stderr(`modelgate: ${line}\n`);
      },
      onProgress: (p) => progress.update(p),
      onCheckpoint: (partial) => {
        checkpointWrite = checkpointWrite.then(() => writeOut(partial)).catch(() => {});
      },
      onSnapshot: (build) => {
        snapshot = build;
      },
      ...retryOverrides(io.env),
    });
    progress.done();
    await checkpointWrite;
    await writeOut(result);
    finished = true;
    if (!values.out) io.stdout(resultJson(result));
    if (result.simulated && !provider.simulated) {
      io.stderr(
        `modelgate: ${provider.label} answered as the modelgate simulator: the numbers are labelled simulated\n`,
      );
    }
    if (values.markdown) await writeFileAtomic(values.markdown, renderComment(result, { headSha: head }));
    for (const change of result.coverage?.uncovered ?? []) {
      // Route names and paths are repo text: no control characters reach the terminal.
      const reason = change.reason.replace(/\p{Cc}/gu, "?");
      io.stderr(`modelgate: not covered${change.model_change ? " (model change)" : ""}: ${reason}\n`);
    }
    io.stderr(
      `modelgate: verdict ${result.verdict}${result.partial ? ` (partial: ${result.partial_reason})` : ""}\n`,
    );
    if (controller.signal.aborted) return 130;
    // A verdict that blocks: fail, or inconclusive where the change's policy resolves it to fail.
    return resultBlocks(result) ? 1 : 0;
  } catch (error) {
    progress.done();
    if (error instanceof ProviderUnavailable) {
      // A provider of the map names itself in the message.
      io.stderr(`modelgate: ${error.provider ? "" : `provider ${provider.label}: `}${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    process.off("SIGINT", interrupt);
    process.off("SIGTERM", interrupt);
    await Promise.all([provider.close(), closeAll(named.values())]);
  }
}

/** The XDG Base Directory cache folder: outside any repository, so no pull request can write it. */
export function defaultCacheDir(env: NodeJS.ProcessEnv): string {
  // The spec says to ignore a relative XDG_CACHE_HOME.
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, "modelgate");
  return join(env.HOME || homedir(), ".cache", "modelgate");
}

/** The cache folder is checked before a request is spent (the output files are, above). */
async function checkWritePlaces(places: {
  repoDir: string;
  tracked: () => Promise<string[]>;
  cacheDir: string | undefined;
}): Promise<void> {
  if (places.cacheDir) {
    await refuseTrackedCacheDir(places.cacheDir, places.repoDir, await places.tracked());
    await assertWritableDirectory(
      places.cacheDir,
      `--cache-dir ${places.cacheDir}`,
      "pass a writable folder or --no-cache",
    );
  }
}

/**
 * A cache folder that holds files tracked at the head is refused: once checked out, those are
 * the pull request's files, and entries found there would be trusted as this run's answers.
 */
async function refuseTrackedCacheDir(cacheDir: string, repoDir: string, tracked: readonly string[]) {
  const root = await worktreeRoot(repoDir);
  if (!root) return;
  const path = trackedInCacheDir(cacheDir, root, tracked);
  if (path === undefined) return;
  throw new UserError(
    `--cache-dir ${cacheDir} holds files tracked at the head commit (e.g. ${JSON.stringify(path)}): a pull request could plant forged cache entries there; use a folder outside the repository (the default is $XDG_CACHE_HOME/modelgate or ~/.cache/modelgate)`,
  );
}
