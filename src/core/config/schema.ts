import { z } from "zod";
import { filePatternProblem } from "../classify/file-globs.ts";
import { DEFAULT_LITERAL_SKIP_FILES, literalPatternProblem } from "../classify/model-literals.ts";
import { keyPatternProblem } from "../keys.ts";
import { isWorkflowOnlySetting, PROVIDER_NAME } from "../providers.ts";

/**
 * `.github/modelgate.yml`: the policy of a repo. Every field has a default that fits the
 * layout of README.md#configuration, so a repo shaped like it needs no file at all.
 */

const keyPattern = z
  .string()
  .min(1)
  .superRefine((pattern, ctx) => {
    const problem = keyPatternProblem(pattern);
    if (problem) ctx.addIssue({ code: "custom", message: `not a supported key pattern (${problem})` });
  });

const fileScopedKeys = z
  .strictObject({
    file: z
      .string()
      .min(1)
      .describe("File glob (relative to the repo root) the keys below apply to, e.g. `config/llm.yaml`."),
    keys: z.array(keyPattern).min(1).describe("Key patterns that apply only inside that file."),
  })
  .describe(
    "Key rules for one file (or glob): they apply only there and win over rules without a file (docs/policy.md#precedence).",
  );

const keyPatterns = z
  .array(
    z.union([keyPattern, fileScopedKeys], {
      error: "expected a key pattern (a string) or {file: glob, keys: [patterns]}",
    }),
  )
  .describe(
    'Key paths in structured files, or `{file, keys}` to scope some to one file. Segments are joined by `.`; `*` is one segment, `**` any number, `*` inside a segment globs one key (`llm.*_model`); a key holding dots is quoted (`pricing."gpt-4.1".input`); a list item is `[name=value]` by its `name`, `id` or `model` field (`models[name=gpt-4o].edit_format`), else its index. The most specific matching pattern wins, whatever its category.',
  );
/** Globs read in order like .gitignore; each is checked when the policy loads. */
const orderedGlobs = (description: string) =>
  z
    .array(
      z
        .string()
        .min(1)
        .superRefine((pattern, ctx) => {
          const problem = filePatternProblem(pattern);
          if (problem) ctx.addIssue({ code: "custom", message: problem });
        }),
    )
    .describe(description);
const filePatterns = orderedGlobs(
  "File globs relative to the repo root, read in order like .gitignore: a later `!glob` takes back files an earlier glob matched.",
);
const envPatterns = orderedGlobs(
  "Variable-name globs matched against KEY=VALUE lines of `.env` and `.env.*` files, in order: a later `!glob` takes names back.",
);

const categoryRule = z
  .strictObject({
    files: filePatterns.default([]),
    keys: keyPatterns.default([]),
    env: envPatterns.default([]),
  })
  .describe("What counts as this kind of change: whole files, keys inside structured files, env variables.");

const literals = z
  .strictObject({
    patterns: z
      .array(
        z
          .string()
          .min(1)
          .superRefine((pattern, ctx) => {
            const problem = literalPatternProblem(pattern);
            if (problem) ctx.addIssue({ code: "custom", message: problem });
          }),
      )
      .default([])
      .describe(
        "Extra model-ID regexes (RE2 syntax, matched against a whole quoted string or a whole structured value, case-insensitive), e.g. `acme-llm-[0-9]+`.",
      ),
    replace_defaults: z
      .boolean()
      .default(false)
      .describe(
        "Use only `patterns`, not the built-in model families (gpt-*, o1/o3/o4, claude-*, gemini-*, …).",
      ),
    skip_files: filePatterns
      .default([...DEFAULT_LITERAL_SKIP_FILES])
      .describe(
        "Files never scanned for model-ID literals (by default: `.github/`, eval cases, docs, tests, lock files).",
      ),
    enabled: z.boolean().default(true).describe("Turn model-ID literal detection off entirely."),
  })
  .describe(
    "Model IDs in code: a quoted string (or a structured value no key rule names) that is a model ID and whose count changed in a file is a model change at file:line.",
  );

const modelRule = categoryRule.extend({ literals: literals.prefault({}) });

export const price = z
  .strictObject({
    input: z.number().nonnegative().describe("USD per 1M uncached prompt tokens."),
    cached_input: z
      .number()
      .nonnegative()
      .optional()
      .describe("USD per 1M cached prompt tokens; defaults to input."),
    output: z.number().nonnegative().describe("USD per 1M completion tokens (reasoning included)."),
    batch_discount: z
      .number()
      .positive()
      .max(1)
      .optional()
      .describe(
        "Share of the list price a Batch API request costs (evals.mode: batch): 0 < d ≤ 1, default 0.5.",
      ),
  })
  .describe("List price of one model, USD per 1M tokens.");

const settingsKeys = z.strictObject({
  max_output_tokens: z
    .string()
    .default("llm.max_output_tokens")
    .describe("Key of the global output-token cap."),
  timeout_ms: z.string().default("llm.timeout_ms").describe("Key of the global per-attempt timeout."),
  retry_limit: z.string().default("llm.retry_limit").describe("Key of the global retry limit."),
  per_task_token_cap: z
    .string()
    .default("budget_controls.per_task_token_cap")
    .describe(
      "Key of the app's own per-task token cap: a case whose tokens exceed it fails in the eval as the app would stop it.",
    ),
  route_caps: z
    .string()
    .default("budget_controls.route_caps")
    .describe(
      "Key of the app's own per-route token caps (a mapping route -> tokens; in an env file, a variable prefix); a route's cap wins over the per-task cap.",
    ),
});

const llm = z.strictObject({
  config: z
    .string()
    .default("config/llm.json")
    .describe("The app's LLM runtime config: JSON, YAML or an env file."),
  default_model_key: z
    .string()
    .default("llm.default_model")
    .describe("Key of the model used by routes without one."),
  routes_key: z
    .string()
    .default("llm.routes")
    .describe(
      "Key of the route map: route -> model ID, or -> {model, max_output_tokens, timeout_ms, retry_limit}; or a list of such objects, each with a `name` (the route).",
    ),
  settings: settingsKeys.prefault({}).describe("Keys of the global call settings, overridable per route."),
});

const changes = z.strictObject({
  model: modelRule.prefault({
    keys: ["llm.default_model", "llm.routes.*", "llm.routes.*.model", "models.**"],
    env: ["*_MODEL_*", "*_MODEL"],
  }),
  prompt: categoryRule.prefault({ files: ["prompts/**"] }),
  infra: categoryRule.prefault({
    files: ["Dockerfile", "**/Dockerfile", "infra/**", "deploy/**", "k8s/**", "helm/**", "terraform/**"],
    keys: [
      "llm.timeout_ms",
      "llm.retry_limit",
      "llm.max_output_tokens",
      "llm.routes.*.timeout_ms",
      "llm.routes.*.retry_limit",
      "llm.routes.*.max_output_tokens",
      "budget_controls.**",
    ],
  }),
});

/**
 * One `evals.providers` rule. Endpoint or key settings copied in from a workflow's map (`url`,
 * `base_url`, `api_key_env`…) are tolerated so the policy still loads, ignored, and warned about
 * (`policyProviderWarnings`); any other unknown key is a mistake.
 */
const providerRule = z
  .object({
    models: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .describe("Model-ID glob (or list of globs): `*` any characters, `?` one, e.g. `claude-*`."),
    provider: z
      .string()
      .regex(PROVIDER_NAME, "expected a provider name: lowercase letters, digits, '-' and '_'")
      .describe(
        "A provider name defined by the workflow (`providers` input / `MODELGATE_PROVIDERS`), or `default`.",
      ),
  })
  .catchall(z.unknown())
  .superRefine((rule, ctx) => {
    for (const key of Object.keys(rule)) {
      if (key === "models" || key === "provider" || isWorkflowOnlySetting(key)) continue;
      ctx.addIssue({ code: "custom", path: [key], message: "unknown key (expected models and provider)" });
    }
  })
  .describe("Models matching `models` are sent to the provider named `provider`.");

const evals = z.strictObject({
  cases: z.array(z.string().min(1)).default(["evals/**/*.jsonl", "evals/**/*.yaml", "evals/**/*.yml"]),
  max_cases: z
    .int()
    .positive()
    .default(200)
    .describe("Cases run per side at most; a larger selection is sampled."),
  concurrency: z.int().positive().max(256).default(8).describe("Requests in flight at once."),
  max_steps: z.int().positive().max(64).default(8).describe("Tool-loop steps per attempt."),
  judge_model: z
    .string()
    .optional()
    .describe("Model that grades `judge` asserts; never the model under test."),
  seed: z
    .string()
    .default("modelgate")
    .describe(
      "Seed of the pair sequence: cases run in this seeded order, and a sample below the selection is its first max_cases.",
    ),
  sequential: z
    .boolean()
    .default(true)
    .describe(
      "Judge the gates after every pair with anytime-valid confidence sequences and stop once the verdict is settled; false runs every selected case and judges once with fixed-N intervals.",
    ),
  providers: z
    .array(providerRule)
    .default([])
    .describe(
      'Which provider answers which model, by name: the first rule whose `models` glob matches the model ID wins, else `default` (OPENAI_BASE_URL / OPENAI_API_KEY, or the built-in simulator). Applies to both sides and to the judge. Endpoints and keys are never set here: the workflow defines each name in the `providers` input or `MODELGATE_PROVIDERS`; a name it lacks fails the eval. Example: `[{models: "claude-*", provider: anthropic}]`.',
    ),
  mode: z
    .enum(["interactive", "batch"])
    .default("interactive")
    .describe(
      "interactive: one request at a time per slot, with early stopping; batch: every request of a round through the Batch API (files + batches, 24h window) at the batch price, all pairs judged at the end (no early stop). `--batch` / the Action's `batch` input set batch for one run.",
    ),
  require_coverage: z
    .boolean()
    .default(true)
    .describe(
      "Fail the eval when a model changes where no case runs: a changed route without cases, no case file matching `cases`, or a model change outside `llm.config`. `false` reports these as warnings only.",
    ),
});

const budget = z
  .strictObject({
    max_run_tokens: z
      .int()
      .positive()
      .optional()
      .describe("Stop new requests once a run used this many tokens."),
    max_task_tokens: z
      .int()
      .positive()
      .optional()
      .describe("Stop a case's attempts once it used this many tokens."),
    max_run_cost_usd: z
      .number()
      .positive()
      .optional()
      .describe(
        "Refuse to start a run whose estimated new spend exceeds this (`--force` / input `force` overrides), and stop new requests once a run cost this much.",
      ),
  })
  .describe("Caps that stop an eval early; the result is then marked partial.");

const positiveLimit = (what: string) =>
  z
    .number()
    .gt(0, {
      message: `expected a limit above 0: ${what} of 0 can never be shown to hold on a finite sample (use a small positive limit such as 0.01)`,
    })
    .max(1);

const gates = z
  .strictObject({
    max_error_rate: positiveLimit("an error rate")
      .default(0.02)
      .describe(
        "Rollback trigger: error rate above this. The eval fails when the head's error rate is above it beyond noise; production (the first rollout phase) proves the rate is below it.",
      ),
    eval_max_error_rate: positiveLimit("an error rate")
      .default(0.05)
      .describe(
        "The eval's coarse error ceiling: the error gate passes once the head's error rate is shown below this. At least max_error_rate.",
      ),
    max_completion_rate_drop: positiveLimit("a completion drop")
      .default(0.05)
      .describe("Fail when the completion rate drops more than this (absolute), beyond noise."),
    max_cost_increase: z
      .number()
      .gt(0, {
        message:
          "expected a limit above 0: a cost increase of 0 can never be shown to hold on a finite sample (use e.g. 0.05)",
      })
      .optional()
      .describe(
        "Optional: fail when cost per completed task grows by more than this fraction (0.25 = +25 %).",
      ),
    min_cases: z
      .int()
      .positive()
      .default(20)
      .describe("Fewer judged pairs than this never decide a gate (each gate also has its own minimum)."),
    on_inconclusive: z
      .enum(["fail", "neutral"])
      .optional()
      .describe(
        "Check conclusion of an inconclusive verdict. Default: fail when the change includes a model change, neutral otherwise.",
      ),
    min_requests: z.int().positive().default(200).describe("Production gates: fewer requests per arm hold."),
  })
  .refine((g) => g.eval_max_error_rate >= g.max_error_rate, {
    path: ["eval_max_error_rate"],
    message:
      "expected at least max_error_rate: the eval's ceiling is the coarse one, production proves the finer max_error_rate",
  });

const metricQuery = (fallback: string, what: string) =>
  z
    .string()
    .min(1)
    .default(fallback)
    .describe(
      `PromQL instant query: ${what} of one arm during the current phase. \`{{arm}}\` is replaced by the arm's label value (rollout.metrics.arms), \`{{phase}}\` by the current share, \`{{phase_window}}\` by the time since the commit on the base branch that set the current share (a Prometheus duration such as \`5400s\`): running totals since the phase began, which the always-valid production gates need.`,
    );

const rolloutMetrics = z
  .strictObject({
    source: z
      .enum(["prometheus", "file"])
      .default("prometheus")
      .describe(
        "Where production counts come from: Prometheus (address from the App's PROMETHEUS_URL, never from the repo) or a JSON file on the base branch.",
      ),
    queries: z
      .strictObject({
        requests: metricQuery(
          'sum(increase(llm_requests_total{arm="{{arm}}"}[{{phase_window}}]))',
          "requests",
        ),
        errors: metricQuery(
          'sum(increase(llm_requests_total{arm="{{arm}}",outcome="error"}[{{phase_window}}]))',
          "requests that got no model answer",
        ),
        tasks: metricQuery(
          'sum(increase(llm_tasks_total{arm="{{arm}}"}[{{phase_window}}]))',
          "user tasks started (the completion rate is completed tasks / tasks, never / requests: a task can take several requests)",
        ),
        completed: metricQuery(
          'sum(increase(llm_tasks_total{arm="{{arm}}",outcome="completed"}[{{phase_window}}]))',
          "completed tasks",
        ),
      })
      .prefault({})
      .describe("One instant query per count; a vector answer is summed, an empty one is missing data."),
    arms: z
      .strictObject({
        control: z.string().min(1).default("control").describe("`{{arm}}` for traffic on the current model."),
        candidate: z.string().min(1).default("candidate").describe("`{{arm}}` for traffic on the candidate."),
      })
      .prefault({}),
    file: z
      .string()
      .min(1)
      .default(".github/modelgate-metrics.json")
      .describe(
        "source: file: JSON `{phase, control: {requests, errors, tasks, completed}, candidate: {…}}`, read from the base branch.",
      ),
  })
  .describe("Production metrics that gate phases after the first and trigger rollbacks.");

const rollout = z.strictObject({
  key: z
    .string()
    .default("rollout.candidate_percent")
    .describe("Where the candidate's traffic share lives in llm.config."),
  phases: z
    .array(z.int().min(1).max(100))
    .min(1)
    .default([10, 30, 50, 100])
    .refine((p) => p.every((v, i) => i === 0 || v > (p[i - 1] ?? 0)), "phases must increase"),
  label_prefix: z.string().min(1).default("rollout:"),
  allow_skip: z.boolean().default(false).describe("Allow a label to skip phases."),
  trusted_bot: z
    .string()
    .default("github-actions[bot]")
    .describe("Login whose published eval evidence the App trusts."),
  candidate_key: z
    .string()
    .default("models.candidate")
    .describe("Key of the candidate model ID in llm.config: routes on it go back to the rollback model."),
  rollback_key: z
    .string()
    .default("models.rollback")
    .describe("Key of the rollback model ID in llm.config, rehearsed before the second phase."),
  metrics: rolloutMetrics.prefault({}),
});

const attribution = z.strictObject({
  override_label: z.string().min(1).default("modelgate:allow-mixed"),
  allow_author_override: z
    .boolean()
    .default(false)
    .describe("Count the override label when the PR's author applied it."),
});

export const configSchema = z
  .strictObject({
    version: z.literal(1).default(1),
    llm: llm.prefault({}),
    changes: changes.prefault({}),
    evals: evals.prefault({}),
    pricing: z.record(z.string(), price).default({
      "gpt-5.4": { input: 2.5, cached_input: 0.25, output: 15 },
      "gpt-5.5": { input: 5, cached_input: 0.5, output: 30 },
    }),
    budget: budget.prefault({}),
    gates: gates.prefault({}),
    rollout: rollout.prefault({}),
    attribution: attribution.prefault({}),
  })
  .describe("modelgate policy (.github/modelgate.yml)");

export type Config = z.output<typeof configSchema>;
export type CategoryRule = z.output<typeof categoryRule>;
export type ModelRule = z.output<typeof modelRule>;
export type KeyRule = CategoryRule["keys"][number];
export type Price = z.output<typeof price>;
