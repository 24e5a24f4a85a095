import * as core from "@actions/core";
import { estimateLines } from "../core/cost-estimate.ts";
import type { BaselineFacts, ProviderFacts } from "../core/doctor/types.ts";
import { errorMessage, UserError } from "../core/errors.ts";
import { resultBlocks } from "../core/inconclusive.ts";
import { renderComment } from "../core/report/markdown.ts";
import type { EvalResult } from "../core/result.ts";
import type { Progress } from "../eval/evaluate.ts";
import { ProviderUnavailable } from "../eval/preflight.ts";
import { openProvider, type Provider } from "../eval/provider.ts";
import { closeAll, openProviderMap } from "../eval/providers.ts";
import { assertWritable, resultJson, writeFileAtomic } from "../eval/result-file.ts";
import { assertWritableDirectory } from "../eval/writable.ts";
import { baselineFacts, type DoctorSectionInput, doctorSection, isModelChange } from "./doctor.ts";
import { type PreparedPull, preparePull, runEval } from "./eval-pr.ts";
import { type PullContext, planEvent } from "./event.ts";
import { createGitHub } from "./github-client.ts";
import { envInputReader, parseSettings, type Settings } from "./inputs.ts";
import { readShardResults } from "./merge-mode.ts";
import { Publisher } from "./publish.ts";
import {
  commentWithRehearsal,
  planRehearsal,
  type RehearsalOutcome,
  type RehearsalPlan,
  rehearsalCheck,
  rehearsalResultFile,
  rehearsalSection,
  rehearse,
} from "./rehearsal.ts";
import { errorComment, gateFailureMessage, skippedSummary } from "./report.ts";
import { watchMode } from "./watch-mode.ts";

/**
 * The Action: inputs → settings → event → (eval | merge) → comment, check run, job summary,
 * outputs. Every failure ends here as one line through `core.setFailed`, whatever was thrown.
 */
export async function run(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  try {
    // Mask the secrets before anything can print them.
    const input = envInputReader(env);
    const secrets = [input("openai-api-key"), env.OPENAI_API_KEY, input("github-token")];
    for (const secret of [...secrets, env.PROMETHEUS_BEARER_TOKEN]) {
      if (secret) core.setSecret(secret.trim());
    }
    const settings = parseSettings(input, env);
    for (const key of Object.values(settings.providerKeys)) if (key) core.setSecret(key);
    // The watch judges the repository's live rollout, whatever event started the job (a
    // schedule, by design): no pull request, no eval, no result file.
    if (settings.mode === "watch") return await watchMode(settings, env, writeSummary);
    // An unwritable result-file is an input error now, not after the whole eval has run.
    await assertResultFileWritable(settings);
    const plan = planEvent(settings);
    if (plan.kind === "ignore") {
      if (settings.mode === "merge") return await merge(settings, undefined);
      core.notice(plan.message);
      core.setOutput("verdict", "skipped");
      await writeSummary(skippedSummary(plan.message));
      return;
    }
    if (settings.mode === "merge") return await merge(settings, plan.pull);
    await evalPull(settings, plan.pull);
  } catch (error) {
    core.setFailed(failureMessage(error));
  }
}

async function evalPull(settings: Settings, pull: PullContext): Promise<void> {
  const missingKey = !settings.apiKey && settings.provider === "openai";
  if (missingKey && (pull.fork || isDependabot(pull))) {
    const message = `Skipped: this ${pull.fork ? "fork " : ""}PR runs without access to secrets, so there is no OpenAI API key; the eval needs one. A maintainer can run it from a branch of this repository.`;
    core.notice(message);
    core.setOutput("verdict", "skipped");
    await writeSummary(skippedSummary(message));
    return;
  }
  if (missingKey) {
    throw new UserError(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a workflow expression, quoted for the user
      "No API key: set the input openai-api-key (e.g. openai-api-key: ${{ secrets.OPENAI_API_KEY }}) or OPENAI_API_KEY; or use provider: simulator for simulated numbers.",
    );
  }

  // Where the run writes is checked before anything is spent or posted.
  if (settings.cacheDir) {
    await assertWritableDirectory(
      settings.cacheDir,
      `Invalid input 'cache-dir': ${settings.cacheDir}`,
      "use a folder under RUNNER_TEMP, or cache-dir: none",
    );
  }

  const gh = createGitHub(settings.githubToken, settings.env.apiUrl, core);
  const sharded = settings.shard.count > 1;
  const publisher = new Publisher({
    gh,
    pull,
    // A shard sees a slice: the merge job posts the comment and the check run.
    comment: settings.comment && !sharded,
    checkRun: settings.checkRun && !sharded,
    // The rehearsal is not sliced: the first shard runs it whole and publishes its check run.
    rehearsalCheckRun: settings.checkRun,
    commentAuthor: settings.commentAuthor,
    runUrl: settings.env.runUrl,
    serverUrl: settings.env.serverUrl,
    log: core,
  });

  const prepared = await preparePull(gh, pull, settings);
  core.info(
    `modelgate: PR #${pull.number} ${pull.baseSha.slice(0, 7)}...${pull.headSha.slice(0, 7)} (merge base ${prepared.baseSha.slice(0, 7)}): ${
      prepared.classification.files.length
    } files changed, categories: ${prepared.classification.categories.join(", ") || "none"}`,
  );
  for (const warning of prepared.warnings) {
    if (warning.code === "endpoint_in_repo")
      core.warning(
        `${warning.file} sets a provider endpoint (${warning.key}); it is ignored: requests go only to the endpoint from the workflow's inputs or environment.`,
      );
    if (warning.code === "truncated_file_list")
      core.warning(
        `GitHub lists at most 3,000 files of a PR and this one changes ${prepared.changedFiles}: the change is judged on the files listed, and every route is evaluated.`,
      );
  }
  const plan = await planFor(settings, prepared);
  if (plan.kind === "none") {
    if (plan.reason) core.info(`modelgate: no rollback rehearsal: ${plan.reason}`);
  } else {
    core.info(
      `modelgate: rollout PR (${prepared.config.rollout.key} ${plan.share.from} → ${plan.share.to}): the rollback is rehearsed after the eval`,
    );
  }
  if (prepared.relevant) await publisher.running();
  if (plan.kind === "run") await publisher.rehearsalRunning();

  const provider = await openProviderFor(settings);
  core.info(`modelgate: provider: ${provider.label}`);
  let providers: Map<string, Provider>;
  try {
    providers = await openProviderMap(settings.providerMap, settings.providerKeys, settings.providerSource);
  } catch (error) {
    await provider.close();
    throw error;
  }
  for (const other of providers.values()) core.info(`modelgate: provider: ${other.label}`);
  const controller = new AbortController();
  const stop = (signal: string) => () => controller.abort(new Error(`stopped by ${signal}`));
  const onInt = stop("SIGINT");
  const onTerm = stop("SIGTERM");
  process.once("SIGINT", onInt);
  process.once("SIGTERM", onTerm);
  let checkpoint: EvalResult | undefined;
  let result: EvalResult;
  // A model change gets the readiness section (in the comment, which a shard does not post);
  // its baseline is counted before the eval stores one.
  const readiness =
    isModelChange(prepared) && !sharded ? await readinessBefore(prepared, settings, provider) : undefined;
  let listed: ProviderFacts = { kind: "unavailable", reason: "the eval did not list the provider's models" };
  let rehearsal: RehearsalOutcome | undefined;
  try {
    try {
      result = await runEval({
        prepared,
        provider,
        providers,
        settings,
        signal: controller.signal,
        onProgress: progressLog("modelgate:"),
        onCheckpoint: (partial) => {
          checkpoint = partial;
        },
        onEstimate: (estimate) => {
          for (const line of estimateLines(estimate)) core.info(`modelgate: ${line}`);
        },
        onPreflight: (models) => {
          listed = { kind: "listed", ids: models.ids };
        },
        onBatchEvent: (message) => core.info(`modelgate: ${message}`),
        debug: (message) => core.debug(message),
      });
    } catch (error) {
      // Whatever was finished is evidence too: post it, marked partial, with the reason.
      const message = failureMessage(error);
      const body = checkpoint
        ? renderComment({ ...checkpoint, partial: true, partial_reason: message }, publisher.renderOptions())
        : errorComment(message, publisher.renderOptions());
      await publisher.failed(body);
      if (plan.kind !== "none") {
        const failed = `not run: the eval did not finish (${message})`;
        await publishRehearsal(publisher, { kind: "error", share: plan.share, message: failed });
      }
      await writeSummary(body);
      throw error;
    }
    // The rehearsal runs after the eval (its base side is then all cache hits) and never
    // throws: whatever happens to it is reported, and only the eval's gates decide the step.
    if (plan.kind === "error") rehearsal = plan;
    if (plan.kind === "run") {
      rehearsal = await rehearse({
        plan,
        prepared,
        provider,
        providers,
        settings,
        signal: controller.signal,
        onProgress: progressLog("modelgate: rollback rehearsal:"),
        debug: (message) => core.debug(message),
        describeError: failureMessage,
      });
    }
  } finally {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
    await Promise.all([provider.close(), closeAll(providers.values())]);
  }
  const doctor = readiness
    ? () =>
        readinessSection({
          gh,
          pull,
          prepared,
          settings,
          result,
          provider: listed,
          baseline: readiness,
        })
    : undefined;
  await finish(settings, result, publisher, { sharded, ...(doctor ? { doctor } : {}) }, rehearsal);
}

/** The baseline fact, or why it could not be counted: the readiness section never stops the eval. */
async function readinessBefore(
  prepared: PreparedPull,
  settings: Settings,
  provider: Provider,
): Promise<BaselineFacts> {
  try {
    return await baselineFacts(prepared, settings, provider);
  } catch (error) {
    return { kind: "not_checked", reason: failureMessage(error) };
  }
}

/** The readiness section, or none with a warning that says why (it is advice, not a gate). */
async function readinessSection(input: DoctorSectionInput): Promise<string | undefined> {
  try {
    return await doctorSection(input);
  } catch (error) {
    core.warning(`modelgate: readiness section not added: ${failureMessage(error)}`);
    return undefined;
  }
}

/** Whether this run rehearses the rollback: `auto`, and the first (or only) shard. */
async function planFor(settings: Settings, prepared: PreparedPull): Promise<RehearsalPlan> {
  if (settings.rollbackRehearsal === "off") return { kind: "none", reason: "" };
  if (settings.shard.index !== 1) return { kind: "none", reason: "" };
  return planRehearsal(prepared);
}

/**
 * The rehearsal's check run. Its verdict never decides the step (it is evidence for the App);
 * an error is a warning here and is written into the check run and the comment.
 */
async function publishRehearsal(
  publisher: Publisher,
  outcome: RehearsalOutcome,
): Promise<string | undefined> {
  if (outcome.kind === "error") core.warning(`modelgate rollback rehearsal: ${outcome.message}`);
  else
    core.info(
      `modelgate: rollback rehearsal verdict ${outcome.result.verdict}${outcome.result.partial ? " (partial)" : ""}; base ${outcome.result.base.requests} requests / ${outcome.result.base.cache_hits} cached, head ${outcome.result.head.requests} / ${outcome.result.head.cache_hits}`,
    );
  return publisher.reportRehearsal(rehearsalCheck(outcome, publisher.renderOptions()));
}

async function merge(settings: Settings, pull: PullContext | undefined): Promise<void> {
  await assertResultFileWritable(settings);
  const result = await readShardResults(settings.results);
  core.info(
    `modelgate: merged ${result.selection.case_ids.length} cases from ${settings.results.length} input(s)`,
  );
  const publisher = pull
    ? new Publisher({
        gh: createGitHub(settings.githubToken, settings.env.apiUrl, core),
        pull,
        comment: settings.comment,
        checkRun: settings.checkRun,
        commentAuthor: settings.commentAuthor,
        runUrl: settings.env.runUrl,
        serverUrl: settings.env.serverUrl,
        log: core,
      })
    : undefined;
  await finish(settings, result, publisher, { sharded: false });
}

async function assertResultFileWritable(settings: Settings): Promise<void> {
  try {
    await assertWritable(settings.resultFile);
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    throw new UserError(
      `Invalid input 'result-file': ${settings.resultFile} is not writable (${error.message}); use a path under RUNNER_TEMP or the workspace`,
    );
  }
}

/** Result file, comment, check run, job summary and outputs; then the gate decides the step. */
async function finish(
  settings: Settings,
  result: EvalResult,
  publisher: Publisher | undefined,
  options: { sharded: boolean; doctor?: () => Promise<string | undefined> },
  rehearsal?: RehearsalOutcome,
): Promise<void> {
  await writeFileAtomic(settings.resultFile, resultJson(result));
  const rehearsalFile = rehearsalResultFile(settings.resultFile);
  if (rehearsal?.kind === "done") await writeFileAtomic(rehearsalFile, resultJson(rehearsal.result));
  const checkUrl = rehearsal && publisher ? await publishRehearsal(publisher, rehearsal) : undefined;
  const section = rehearsal ? rehearsalSection(rehearsal, checkUrl ? { checkUrl } : {}) : undefined;
  // After the rehearsal's check run is published, so the readiness section sees it.
  const doctor = options.doctor ? await options.doctor() : undefined;
  const body = commentWithRehearsal(
    (maxChars) =>
      renderComment(result, {
        ...(publisher?.renderOptions() ?? {}),
        maxChars,
        ...(doctor ? { doctor } : {}),
      }),
    section,
  );
  await publisher?.report(result, body);
  await writeSummary(body);
  core.setOutput("verdict", result.verdict);
  core.setOutput("result-file", settings.resultFile);
  core.setOutput("comment-url", publisher?.commentUrl ?? "");
  core.setOutput(
    "rollback-rehearsal",
    rehearsal === undefined ? "" : rehearsal.kind === "error" ? "error" : rehearsal.result.verdict,
  );
  core.setOutput("rollback-rehearsal-file", rehearsal?.kind === "done" ? rehearsalFile : "");
  core.info(
    `modelgate: verdict ${result.verdict}${result.partial ? ` (partial: ${result.partial_reason})` : ""}; base ${result.base.requests} requests / ${result.base.cache_hits} cached, head ${result.head.requests} / ${result.head.cache_hits}`,
  );
  // Inconclusive blocks too when the policy resolves it to fail (a model change by default).
  if (!resultBlocks(result)) return;
  if (options.sharded) {
    core.warning(
      `Shard ${settings.shard.index}/${settings.shard.count} fails a gate on its slice; the merge job decides.`,
    );
  } else if (settings.failOnGate) {
    core.setFailed(gateFailureMessage(result));
  } else {
    core.warning(`${gateFailureMessage(result)} (fail-on-gate: false, so the step passes)`);
  }
}

async function openProviderFor(settings: Settings): Promise<Provider> {
  if (settings.provider === "simulator") {
    return openProvider({ simulatorProfile: settings.simulatorProfile });
  }
  return openProvider({ baseURL: settings.baseUrl, apiKey: settings.apiKey });
}

/** A progress line every 2 s at most, and always the last one. */
function progressLog(prefix: string): (progress: Progress) => void {
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (now - last < 2000 && p.done < p.total) return;
    last = now;
    core.info(`${prefix} ${p.done}/${p.total} case runs, ${p.cacheHits} from cache, ${p.tokens} tokens`);
  };
}

function isDependabot(pull: PullContext): boolean {
  return pull.author === "dependabot[bot]";
}

async function writeSummary(markdown: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  try {
    await core.summary.addRaw(markdown, true).write();
  } catch (error) {
    core.warning(`Could not write the job summary: ${errorMessage(error)}`);
  }
}

/** One line for the user, never a stack: ours say what to do; anything else is a bug. */
export function failureMessage(error: unknown): string {
  try {
    if (error instanceof UserError) return error.message;
    if (error instanceof ProviderUnavailable) return `Provider: ${error.message}`;
    const status = (error as { status?: unknown } | null)?.status;
    const first = errorMessage(error).split("\n")[0];
    if (typeof status === "number") return `GitHub API: HTTP ${status}: ${first}`;
    return `modelgate internal error: ${first}`;
  } catch {
    // A thrown value that cannot even be turned into a string (an object without a prototype).
    return "modelgate internal error: an unprintable value was thrown";
  }
}
