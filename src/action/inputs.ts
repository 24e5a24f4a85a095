import { tmpdir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { DEFAULT_CONFIG_PATH } from "../core/config/load.ts";
import { UserError } from "../core/errors.ts";
import { ownGet, ownRecordFrom } from "../core/own.ts";
import type { ProviderMap } from "../core/providers.ts";
import { redactUrl } from "../core/text/redact-url.ts";
import { internalBatchPolling } from "../eval/batch-runner.ts";
import { overlaps } from "../eval/cache.ts";
import { parseProviderMapText, providerMapText } from "../eval/providers.ts";

/** Everything the Action was asked to do, parsed and checked once, before any work starts. */
export interface Settings {
  /** `watch`: judge the live rollout phase of this repository (no pull request, no eval). */
  mode: "eval" | "merge" | "watch";
  /** Watch mode: the branch production is deployed from; undefined = the default branch. */
  base: string | undefined;
  /** `openai` (inputs / environment) or the built-in simulator, which only a workflow can choose. */
  provider: "openai" | "simulator";
  apiKey: string | undefined;
  /** From the `openai-base-url` input, else `OPENAI_BASE_URL`; never from repository files. */
  baseUrl: string | undefined;
  simulatorProfile: string | undefined;
  /**
   * The provider map (input `providers`, else `MODELGATE_PROVIDERS`): name → base URL and the
   * environment variable holding its key. Empty when neither is set.
   */
  providerMap: ProviderMap;
  /** How errors name where the map came from. */
  providerSource: string;
  /** The map's key variables (`api_key_env`) and their values, read once here: secrets, masked. */
  providerKeys: NodeJS.ProcessEnv;
  githubToken: string;
  config: string;
  failOnGate: boolean;
  maxCases: number | undefined;
  concurrency: number | undefined;
  shard: { index: number; count: number };
  all: boolean;
  /** Run even when the cost estimate exceeds `budget.max_run_cost_usd`. */
  force: boolean;
  /** Send the eval's requests through the Batch API (`evals.mode: batch` for this run). */
  batch: boolean;
  /** Tests shorten the batch polling (`MODELGATE_INTERNAL_BATCH_POLL_MS`, see `internalBatchPolling`). */
  batchPolling: { pollIntervalMs?: number; maxPollIntervalMs?: number };
  comment: boolean;
  checkRun: boolean;
  /**
   * `auto`: on a rollout PR whose head names a rollback model, also evaluate the rollback config
   * and publish it as the `modelgate/rollback-rehearsal` check run; `off`: never.
   */
  rollbackRehearsal: "auto" | "off";
  /** Login whose marked comment is ours; undefined = find out from the token (see author.ts). */
  commentAuthor: string | undefined;
  allowPullRequestTarget: boolean;
  /** Absolute and outside the workspace, or undefined when caching is off (`cache-dir: none`). */
  cacheDir: string | undefined;
  resultFile: string;
  /** Merge mode: result files and folders of result files. */
  results: string[];
  env: RunnerEnv;
}

/** What the runner tells every step through its environment. */
export interface RunnerEnv {
  eventName: string;
  eventPath: string | undefined;
  repository: string;
  apiUrl: string;
  serverUrl: string;
  workspace: string;
  runUrl: string | undefined;
  actor: string | undefined;
}

/** Reads one input as the runner passes it (`INPUT_<NAME>`), trimmed; "" when not set. */
export type InputReader = (name: string) => string;

/**
 * The runner's own lookup: `INPUT_` + the name upper-cased with spaces as underscores
 * (hyphens stay). Defaults from action.yml are filled in by the runner; the same defaults are
 * applied below, so a step run without them (tests, other runners) behaves the same.
 */
export function envInputReader(env: NodeJS.ProcessEnv): InputReader {
  // The trim also drops a pasted BOM or trailing newline from a secret, which would otherwise
  // be sent as part of the key.
  return (name) =>
    (env[`INPUT_${name.replace(/ /g, "_").toUpperCase()}`] ?? "").replace(/^\uFEFF/, "").trim();
}

export function parseSettings(input: InputReader, env: NodeJS.ProcessEnv): Settings {
  const runner = runnerEnv(env);
  const mode = oneOf(input, "mode", ["eval", "merge", "watch"], "eval");
  const provider = oneOf(input, "provider", ["openai", "simulator"], "openai");
  const apiKey = input("openai-api-key") || env.OPENAI_API_KEY?.trim() || undefined;
  const baseUrl = url(input("openai-base-url") || env.OPENAI_BASE_URL?.trim() || "", "openai-base-url");
  const githubToken = input("github-token") || env.GITHUB_TOKEN?.trim() || "";
  if (!githubToken) {
    throw new UserError(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a workflow expression, quoted for the user
      "Input 'github-token' is empty. Expected a token with pull-requests: write, e.g. github-token: ${{ github.token }} (the default).",
    );
  }
  const simulatorProfile = input("simulator-profile") || undefined;
  if (simulatorProfile && provider !== "simulator") {
    throw new UserError(
      `Invalid input 'simulator-profile': it only applies with 'provider: simulator' (the provider is '${provider}').`,
    );
  }
  const mapText = providerMapText({ source: "input providers", text: input("providers") }, env);
  const providerMap = parseProviderMapText(mapText);
  const shard = parseShard(input("shard") || "1/1");
  const resultFile = input("result-file");
  const defaultResult = join(
    env.RUNNER_TEMP || tmpdir(),
    shard.count > 1 ? `modelgate-result-${shard.index}-of-${shard.count}.json` : "modelgate-result.json",
  );
  return {
    mode,
    base: input("base") || undefined,
    provider,
    apiKey,
    baseUrl,
    simulatorProfile,
    providerMap,
    providerKeys: ownRecordFrom(
      [...providerMap.values()].map((spec) => [spec.api_key_env, ownGet(env, spec.api_key_env)?.trim()]),
    ),
    providerSource: mapText?.source ?? "the workflow's providers input or MODELGATE_PROVIDERS",
    githubToken,
    config: input("config") || DEFAULT_CONFIG_PATH,
    failOnGate: boolean(input, "fail-on-gate", true),
    maxCases: positiveInt(input, "max-cases"),
    concurrency: positiveInt(input, "concurrency"),
    shard,
    all: boolean(input, "all", false),
    force: boolean(input, "force", false),
    batch: boolean(input, "batch", false),
    batchPolling: internalBatchPolling(env.MODELGATE_INTERNAL_BATCH_POLL_MS),
    comment: boolean(input, "comment", true),
    checkRun: boolean(input, "check-run", true),
    rollbackRehearsal: oneOf(input, "rollback-rehearsal", ["auto", "off"], "auto"),
    commentAuthor: input("comment-author") || undefined,
    allowPullRequestTarget: boolean(input, "allow-pull-request-target", false),
    cacheDir: cacheDir(input("cache-dir"), runner.workspace, env.RUNNER_TEMP || tmpdir()),
    resultFile: resultFile ? inWorkspace(runner.workspace, resultFile) : defaultResult,
    results: input("results")
      .split(/[\n,]/)
      .map((item) => item.trim())
      .filter((item) => item !== "")
      .map((item) => inWorkspace(runner.workspace, item)),
    env: runner,
  };
}

function runnerEnv(env: NodeJS.ProcessEnv): RunnerEnv {
  const repository = env.GITHUB_REPOSITORY ?? "";
  if (!/^[^/\s]+\/[^/\s]+$/.test(repository)) {
    throw new UserError(
      `Invalid GITHUB_REPOSITORY '${repository}'. Expected format {owner}/{repo}: run this action in a GitHub Actions job.`,
    );
  }
  const serverUrl = (env.GITHUB_SERVER_URL || "https://github.com").replace(/\/+$/, "");
  const runId = env.GITHUB_RUN_ID;
  const attempt = env.GITHUB_RUN_ATTEMPT;
  return {
    eventName: env.GITHUB_EVENT_NAME ?? "",
    eventPath: env.GITHUB_EVENT_PATH || undefined,
    repository,
    apiUrl: (env.GITHUB_API_URL || "https://api.github.com").replace(/\/+$/, ""),
    serverUrl,
    workspace: env.GITHUB_WORKSPACE || process.cwd(),
    runUrl: runId
      ? `${serverUrl}/${repository}/actions/runs/${runId}${attempt && attempt !== "1" ? `/attempts/${attempt}` : ""}`
      : undefined,
    actor: env.GITHUB_ACTOR || undefined,
  };
}

/** `i/n` with 1 ≤ i ≤ n. */
export function parseShard(value: string): { index: number; count: number } {
  const match = /^(\d{1,4})\s*\/\s*(\d{1,4})$/.exec(value);
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || index < 1 || count < 1 || index > count) {
    throw new UserError(
      `Invalid input 'shard': '${value}'. Expected i/n with 1 ≤ i ≤ n, e.g. 1/1 (no sharding) or 2/4 (the second of four), as in shard: \${{ matrix.shard }}/4.`,
    );
  }
  return { index, count };
}

function positiveInt(input: InputReader, name: string): number | undefined {
  const value = input(name);
  if (value === "") return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new UserError(
      `Invalid input '${name}': '${value}'. Expected a positive whole number, e.g. ${name}: 8.`,
    );
  }
  return Number(value);
}

/** The YAML 1.2 core-schema booleans, as `core.getBooleanInput` accepts them. */
function boolean(input: InputReader, name: string, fallback: boolean): boolean {
  const value = input(name);
  if (value === "") return fallback;
  if (["true", "True", "TRUE"].includes(value)) return true;
  if (["false", "False", "FALSE"].includes(value)) return false;
  throw new UserError(`Invalid input '${name}': '${value}'. Expected true or false.`);
}

function oneOf<T extends string>(input: InputReader, name: string, allowed: readonly T[], fallback: T): T {
  const value = input(name);
  if (value === "") return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UserError(`Invalid input '${name}': '${value}'. Expected one of: ${allowed.join(", ")}.`);
}

function url(value: string, name: string): string | undefined {
  if (value === "") return undefined;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new UserError(
      `Invalid input '${name}': '${redactUrl(value)}'. Expected an http(s) URL, e.g. https://api.openai.com/v1.`,
    );
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new UserError(
      `Invalid input '${name}': '${redactUrl(value)}'. Expected an http(s) URL, e.g. https://api.openai.com/v1.`,
    );
  }
  return value;
}

/**
 * The attempt cache: by default under RUNNER_TEMP (restored by an actions/cache step), never in
 * or around the workspace. The workspace is where checkout steps put the pull request's files,
 * at a ref and a sub-path this step cannot know (the merge commit, the head under
 * pull_request_target, a `path:`), so "tracked at the head" cannot be decided from the head tree
 * alone; any overlap with it is refused instead, which covers every checkout layout.
 */
function cacheDir(value: string, workspace: string, runnerTemp: string): string | undefined {
  if (value === "none") return undefined;
  const dir = value === "" ? join(runnerTemp, "modelgate-cache") : inWorkspace(workspace, value);
  if (overlaps(dir, workspace)) {
    throw new UserError(
      `Invalid input 'cache-dir': '${value || "(default)"}' (${dir}) overlaps the workspace ${workspace}, where the pull request's files are checked out: a PR could commit forged cache entries there. Leave it unset (the default is under RUNNER_TEMP) or use a folder outside the workspace, e.g. \${{ runner.temp }}/modelgate-cache, restored with actions/cache.`,
    );
  }
  return dir;
}

function inWorkspace(workspace: string, path: string): string {
  return isAbsolute(path) ? path : resolve(workspace, path);
}
