import { readFile } from "node:fs/promises";
import { parse as parseYaml, YAMLParseError } from "yaml";
import { z } from "zod";
import { ownGet, ownRecord, ownRecordFrom } from "../core/own.ts";
import { builtinProfiles } from "./builtin-profiles.ts";

/**
 * Behaviour profiles of the simulator: one entry per model ID, read from a YAML or JSON file.
 *
 * A file is a set of *partial* profiles: every field is optional, so a repo file can change one
 * knob of a built-in model (`models: { gpt-5.5: { format_drift: 0.3 } }`) or add a model.
 * Layering, lowest first: {@link DEFAULT_BEHAVIOUR} → `defaults` → `models.<id>`; merging a file
 * over another ({@link mergeProfiles}) puts the whole upper file above the lower one.
 */

const probability = z.number().min(0).max(1);
const ms = z.number().min(0);

const regexSource = z
  .string()
  .min(1)
  .superRefine((source, ctx) => {
    try {
      new RegExp(source, "i");
    } catch (err) {
      ctx.addIssue({
        code: "custom",
        message: `expected a valid regular expression (${err instanceof Error ? err.message : String(err)})`,
      });
    }
  });

const answerSchema = z
  .strictObject({
    match: regexSource.describe(
      "Regular expression (JavaScript, case-insensitive) on the last user message.",
    ),
    answer: z.string().describe("What a model returns on a quality hit; may be JSON text."),
    difficulty: z.enum(["easy", "hard"]).optional().describe("Which quality figure applies (default easy)."),
    tool_calls: z
      .array(
        z.strictObject({
          name: z.string().min(1),
          arguments: z.record(z.string(), z.unknown()).optional(),
        }),
      )
      .optional()
      .describe("On a hit, when these tools are offered, call them in this order (one per step) first."),
  })
  .describe("A scripted answer.");

const latencySchema = z.strictObject({
  base_ms: ms.optional().describe("Time to first token."),
  per_token_ms: ms.optional().describe("Added per completion token (reasoning included)."),
  jitter_ms: ms.optional().describe("Uniform ± jitter, seeded."),
});

const qualitySchema = z.union([
  probability,
  z.strictObject({ easy: probability.optional(), hard: probability.optional() }),
]);

const serveAsSchema = z.union([
  z.null(),
  z.string().min(1),
  z.strictObject({ model: z.string().min(1), rate: probability.optional() }),
]);

const errorsSchema = z
  .strictObject({
    server_error: probability.optional().describe("Share of requests answered 500."),
    unavailable: probability.optional().describe("Share of requests answered 503."),
    rate_limit: probability.optional().describe("Share of requests answered 429 with Retry-After."),
    hang: probability.optional().describe("Share of requests that never answer (until the client gives up)."),
    malformed: probability
      .optional()
      .describe("Share of requests answered 200 with a body that is not JSON."),
    retry_after_ms: ms.optional().describe("Retry-After of injected 429s (scaled by timeScale)."),
  })
  .refine(
    (e) =>
      (e.server_error ?? 0) +
        (e.unavailable ?? 0) +
        (e.rate_limit ?? 0) +
        (e.hang ?? 0) +
        (e.malformed ?? 0) <=
      1,
    "expected fault rates that add up to at most 1",
  );

const toolsSchema = z.strictObject({
  tendency: probability.optional().describe("Probability to call an offered tool instead of answering."),
  steps: z.int().min(1).max(64).optional().describe("Tool calls chained before answering."),
});

export const modelProfileSchema = z
  .strictObject({
    owned_by: z.string().min(1).optional(),
    created: z.int().nonnegative().optional().describe("Unix seconds, shown in /v1/models."),
    aliases: z
      .array(z.string().min(1))
      .optional()
      .describe("Other IDs served by this profile (dated snapshots)."),
    serve_as: serveAsSchema
      .optional()
      .describe("The `model` field returned: a snapshot ID, or another model (silent fallback) at `rate`."),
    latency: latencySchema.optional(),
    verbosity: z.number().min(0.1).max(20).optional().describe("Output length multiplier (1 = terse)."),
    reasoning_share: z
      .number()
      .min(0)
      .max(0.95)
      .optional()
      .describe("Share of completion tokens spent reasoning."),
    quality: qualitySchema
      .optional()
      .describe("Probability an answer satisfies the task: one number, or per difficulty."),
    tools: toolsSchema.optional(),
    format_drift: probability
      .optional()
      .describe("Probability JSON output is wrapped in prose or a ```json fence."),
    takeover: probability.optional().describe("Probability of answering with the hand-off marker [HANDOFF]."),
    errors: errorsSchema.optional(),
    cache_share: probability
      .optional()
      .describe("Share of a repeated system-prompt prefix reported as cached_tokens."),
    answers: z
      .array(answerSchema)
      .optional()
      .describe("Model-specific answers, tried before the shared ones."),
  })
  .describe("Behaviour of one simulated model.");

export const profilesFileSchema = z
  .strictObject({
    version: z.literal(1).optional(),
    builtin: z
      .boolean()
      .optional()
      .describe("When read with readProfileFile: layer this file over the built-in profiles (default true)."),
    defaults: modelProfileSchema.optional().describe("Applied to every model, below the model's own entry."),
    answers: z.array(answerSchema).optional().describe("Answers shared by all models."),
    models: z.record(z.string().min(1), modelProfileSchema).optional(),
  })
  .describe("modelgate simulator profiles");

export type AnswerSpec = z.output<typeof answerSchema>;
export type ModelProfile = z.output<typeof modelProfileSchema>;
export type SimulatorProfiles = z.output<typeof profilesFileSchema>;

/** A model's behaviour with every default filled in. */
export interface ModelBehaviour {
  id: string;
  owned_by: string;
  created: number;
  aliases: string[];
  serve_as: { model: string; rate: number } | null;
  latency: { base_ms: number; per_token_ms: number; jitter_ms: number };
  verbosity: number;
  reasoning_share: number;
  quality: { easy: number; hard: number };
  tools: { tendency: number; steps: number };
  format_drift: number;
  takeover: number;
  errors: {
    server_error: number;
    unavailable: number;
    rate_limit: number;
    hang: number;
    malformed: number;
    retry_after_ms: number;
  };
  cache_share: number;
  /** Model answers first, then the shared ones. */
  answers: AnswerSpec[];
}

export const SIMULATOR_OWNER = "modelgate-simulator";

export const DEFAULT_BEHAVIOUR: Omit<ModelBehaviour, "id"> = {
  owned_by: SIMULATOR_OWNER,
  created: 1_767_225_600, // 2026-01-01
  aliases: [],
  serve_as: null,
  latency: { base_ms: 300, per_token_ms: 3, jitter_ms: 50 },
  verbosity: 1,
  reasoning_share: 0,
  quality: { easy: 0.9, hard: 0.8 },
  tools: { tendency: 0.5, steps: 1 },
  format_drift: 0,
  takeover: 0,
  errors: { server_error: 0, unavailable: 0, rate_limit: 0, hang: 0, malformed: 0, retry_after_ms: 1000 },
  cache_share: 0.9,
  answers: [],
};

// ---------------------------------------------------------------------------------------------
// Loading

export class ProfileError extends Error {
  override name = "ProfileError";
}

function formatKey(key: PropertyKey): string {
  const text = String(key);
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(text) ? text : JSON.stringify(text);
}

/** `models."gpt-5.5".latency.base_ms`, `answers[2].match`. */
export function formatKeyPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? formatKey(key) : `.${formatKey(key)}`;
  }
  return out === "" ? "(top level)" : out;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys") {
    const where = formatKeyPath(issue.path);
    const keys = issue.keys.map((k) => formatKeyPath([...issue.path, k])).join(", ");
    return `${keys}: unknown key${issue.keys.length > 1 ? "s" : ""} (in ${where})`;
  }
  return `${formatKeyPath(issue.path)}: ${issue.message}`;
}

/**
 * Parse and validate a profile file (YAML, or JSON when `file` ends in `.json`). Errors name the
 * file, the key path and what was expected. The result is a partial layer: pass it through
 * {@link mergeProfiles} with {@link builtinProfiles} to keep the built-in models.
 */
export function loadProfiles(text: string, file: string): SimulatorProfiles {
  let raw: unknown;
  try {
    raw = file.toLowerCase().endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const pos = err.linePos?.[0];
      const where = pos ? `:${pos.line}:${pos.col}` : "";
      throw new ProfileError(`${file}${where}: invalid YAML: ${err.message.split("\n")[0]}`);
    }
    throw new ProfileError(`${file}: invalid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (raw === null || raw === undefined) return {};
  const parsed = profilesFileSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${file}: ${describeIssue(issue)}`);
    throw new ProfileError(lines.join("\n"));
  }
  return withProtoModel(parsed.data, raw, file);
}

/** zod's record drops a model named `__proto__`; take it back from the raw mapping, validated. */
function withProtoModel(profiles: SimulatorProfiles, raw: unknown, file: string): SimulatorProfiles {
  const rawModels = isPlain(raw) ? ownGet(raw, "models") : undefined;
  if (!profiles.models || !isPlain(rawModels) || !Object.hasOwn(rawModels, PROTO_KEY)) return profiles;
  const entry = modelProfileSchema.safeParse(ownGet(rawModels, PROTO_KEY));
  if (!entry.success)
    throw new ProfileError(
      `${file}: models.__proto__: ${describeIssue(entry.error.issues[0] as z.core.$ZodIssue)}`,
    );
  const models = ownRecordFrom(Object.entries(profiles.models));
  models[PROTO_KEY] = entry.data;
  return { ...profiles, models };
}

const PROTO_KEY = "__proto__";

/**
 * Read a profile file from disk. Unless it says `builtin: false`, it is layered over the
 * built-in profiles (what `modelgate simulate --profile FILE` serves).
 */
export async function readProfileFile(path: string): Promise<SimulatorProfiles> {
  const text = await readFile(path, "utf8");
  const profiles = loadProfiles(text, path);
  if (profiles.builtin === false) return profiles;
  return mergeProfiles(builtinProfiles(), profiles);
}

// ---------------------------------------------------------------------------------------------
// Merging and resolving

type Plain = Record<string, unknown>;

function isPlain(value: unknown): value is Plain {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Deep merge of partial profiles: objects merge, `answers` concatenate (upper first), `aliases` unite. */
function mergeProfile(lower: ModelProfile | undefined, upper: ModelProfile | undefined): ModelProfile {
  return mergeValues(lower ?? {}, upper ?? {}, "") as ModelProfile;
}

function mergeValues(lower: unknown, upper: unknown, key: string): unknown {
  if (upper === undefined) return lower;
  if (lower === undefined) return upper;
  if (key === "answers" && Array.isArray(lower) && Array.isArray(upper)) return [...upper, ...lower];
  if (key === "aliases" && Array.isArray(lower) && Array.isArray(upper))
    return [...new Set([...lower, ...upper])];
  // quality: a number and an object are both complete statements; the upper one wins as a whole
  // unless both are objects.
  if (isPlain(lower) && isPlain(upper)) {
    const out: Plain = ownRecordFrom(Object.entries(lower));
    for (const [k, v] of Object.entries(upper)) out[k] = mergeValues(ownGet(lower, k), v, k);
    return out;
  }
  return upper;
}

/**
 * Layer `upper` over `lower` (e.g. a repo's file over the built-ins): `upper.defaults` applies to
 * every model, the lower file's models included; `upper.models.<id>` wins over everything for that
 * model; answers of `upper` are tried first.
 */
export function mergeProfiles(lower: SimulatorProfiles, upper: SimulatorProfiles): SimulatorProfiles {
  // Model IDs are user text (`constructor`, `__proto__`): no prototype to find or overwrite.
  const models = ownRecord<ModelProfile>();
  const lowerModels = lower.models ?? {};
  const upperModels = upper.models ?? {};
  for (const [id, profile] of Object.entries(lowerModels)) {
    models[id] = mergeProfile(mergeProfile(profile, upper.defaults), ownGet(upperModels, id));
  }
  for (const [id, profile] of Object.entries(upperModels)) {
    if (!Object.hasOwn(lowerModels, id)) models[id] = profile;
  }
  const merged: SimulatorProfiles = { version: 1, models };
  const defaults = mergeProfile(lower.defaults, upper.defaults);
  if (Object.keys(defaults).length > 0) merged.defaults = defaults;
  const answers = [...(upper.answers ?? []), ...(lower.answers ?? [])];
  if (answers.length > 0) merged.answers = answers;
  return merged;
}

function normalizeServeAs(value: ModelProfile["serve_as"]): ModelBehaviour["serve_as"] {
  if (value === undefined || value === null) return null;
  if (typeof value === "string") return { model: value, rate: 1 };
  return { model: value.model, rate: value.rate ?? 1 };
}

function normalizeQuality(value: ModelProfile["quality"], fallback: ModelBehaviour["quality"]) {
  if (value === undefined) return fallback;
  if (typeof value === "number") return { easy: value, hard: value };
  return { easy: value.easy ?? fallback.easy, hard: value.hard ?? fallback.hard };
}

/** Fill every default of one model. */
export function resolveModel(profiles: SimulatorProfiles, id: string): ModelBehaviour {
  const partial = mergeProfile(profiles.defaults, ownGet(profiles.models, id));
  const d = DEFAULT_BEHAVIOUR;
  return {
    id,
    owned_by: partial.owned_by ?? d.owned_by,
    created: partial.created ?? d.created,
    aliases: partial.aliases ?? [],
    serve_as: normalizeServeAs(partial.serve_as),
    latency: { ...d.latency, ...partial.latency },
    verbosity: partial.verbosity ?? d.verbosity,
    reasoning_share: partial.reasoning_share ?? d.reasoning_share,
    quality: normalizeQuality(partial.quality, d.quality),
    tools: { ...d.tools, ...partial.tools },
    format_drift: partial.format_drift ?? d.format_drift,
    takeover: partial.takeover ?? d.takeover,
    errors: { ...d.errors, ...partial.errors },
    cache_share: partial.cache_share ?? d.cache_share,
    answers: [...(partial.answers ?? []), ...(profiles.answers ?? [])],
  };
}

/** Every model of a profile set, resolved, plus an index from every ID and alias to its model. */
export interface ModelCatalog {
  models: ModelBehaviour[];
  byId: Map<string, ModelBehaviour>;
}

export function buildCatalog(profiles: SimulatorProfiles): ModelCatalog {
  const models = Object.keys(profiles.models ?? {}).map((id) => resolveModel(profiles, id));
  const byId = new Map<string, ModelBehaviour>();
  for (const model of models) byId.set(model.id, model);
  for (const model of models) {
    for (const alias of model.aliases) if (!byId.has(alias)) byId.set(alias, model);
  }
  for (const model of models) {
    const errors = model.errors;
    const total =
      errors.server_error + errors.unavailable + errors.rate_limit + errors.hang + errors.malformed;
    if (total > 1) {
      throw new ProfileError(
        `models.${formatKey(model.id)}.errors: the fault rates add up to ${total}, expected at most 1`,
      );
    }
  }
  return { models, byId };
}
