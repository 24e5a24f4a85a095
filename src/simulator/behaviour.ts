import type { CompletionUsage } from "openai/resources/completions";
import { ownGet, ownRecord } from "../core/own.ts";
import type { AnswerSpec, ModelBehaviour, ModelCatalog } from "./profiles.ts";
import {
  type ChatMessage,
  type ChatRequest,
  errorBody,
  messageText,
  type OpenAIErrorBody,
  type ToolSpec,
} from "./protocol.ts";
import { canonicalJson, createRng, type Rng, requestKey, sha256 } from "./rng.ts";

/**
 * What a simulated model does with one chat request: a pure plan (status, text, tool calls, usage,
 * timing) computed from the request, the model's profile and seeded draws. The server only
 * carries the plan out.
 */

// ---------------------------------------------------------------------------------------------
// Per-request fault header

/**
 * Faults a test can force with `x-simulator-fault` (comma-separated):
 * `429[=retryAfterMs]`, `500`, `503`, `hang`, `malformed`, `wrong-model[=ID]`, and the
 * behaviour switches `drift`, `takeover`, `miss`, `hit`, `tool`, `no-tool`.
 * With `x-simulator-fault-count: N` they apply only to the first N sightings of this exact
 * request body (so `429` + count 1 is answered 429 once and normally on the SDK's retry).
 */
export const FAULT_NAMES = [
  "429",
  "500",
  "503",
  "hang",
  "malformed",
  "wrong-model",
  "drift",
  "takeover",
  "miss",
  "hit",
  "tool",
  "no-tool",
] as const;
export type FaultName = (typeof FAULT_NAMES)[number];

export interface ForcedFaults {
  names: Set<FaultName>;
  /** Retry-After of a forced 429, in ms (not scaled). */
  retryAfterMs?: number;
  /** The `model` a forced wrong-model answer reports. */
  wrongModel?: string;
}

export function parseFaultHeader(value: string | undefined): ForcedFaults | { error: string } {
  const forced: ForcedFaults = { names: new Set() };
  if (value === undefined || value.trim() === "") return forced;
  for (const item of value.split(",")) {
    const token = item.trim();
    if (token === "") continue;
    const eq = token.indexOf("=");
    const name = (eq === -1 ? token : token.slice(0, eq)).trim().toLowerCase();
    const arg = eq === -1 ? undefined : token.slice(eq + 1).trim();
    const known = FAULT_NAMES.find((f) => f === name);
    if (!known) {
      return { error: `Unknown x-simulator-fault '${name}'; expected one of ${FAULT_NAMES.join(", ")}.` };
    }
    forced.names.add(known);
    if (known === "429" && arg !== undefined) {
      const ms = Number(arg);
      if (!Number.isFinite(ms) || ms < 0)
        return { error: `x-simulator-fault 429=${arg}: expected milliseconds.` };
      forced.retryAfterMs = ms;
    }
    if (known === "wrong-model" && arg) forced.wrongModel = arg;
  }
  return forced;
}

// ---------------------------------------------------------------------------------------------
// Plans

export interface PlannedToolCall {
  id: string;
  name: string;
  arguments: string;
}

export type Plan =
  | {
      kind: "error";
      status: 429 | 500 | 503;
      body: OpenAIErrorBody;
      /** Only for 429. */
      retryAfterMs?: number;
      latencyMs: number;
      trace: string;
    }
  | { kind: "hang"; trace: string }
  | {
      kind: "answer";
      id: string;
      /** The `model` field of the response. */
      model: string;
      content: string | null;
      toolCalls: PlannedToolCall[];
      finishReason: "stop" | "length" | "tool_calls";
      usage: CompletionUsage;
      /** Wait before the first visible token (reasoning included), ms, scaled. */
      firstTokenMs: number;
      /** Wait per visible output token, ms, scaled. */
      perTokenMs: number;
      /** firstTokenMs + visible tokens × perTokenMs. */
      latencyMs: number;
      /** Answer 200 with a body that is not valid JSON. */
      malformed: boolean;
      trace: string;
    };

export interface PlanContext {
  seed: string;
  /** 0 the first time this exact request body reaches this server, 1 the second time… */
  occurrence: number;
  /**
   * How many times this same sighting was already answered 429. A rate-limited request never
   * reached the model, so it must not change what the model would answer: only the fault draw
   * moves on, and a 429 storm leaves every answer (and so every KPI) as in a clean run.
   */
  throttled?: number;
  catalog: ModelCatalog;
  forced: ForcedFaults;
  /** Prefixes (model + system prompt + tools) seen before, for cached_tokens. */
  prefixCache: Set<string>;
  timeScale: number;
}

// ---------------------------------------------------------------------------------------------
// Text helpers

export const CHARS_PER_TOKEN = 4;

export function estimateTokens(text: string): number {
  return text.length === 0 ? 0 : Math.ceil(text.length / CHARS_PER_TOKEN);
}

const STOP_WORDS = new Set(
  (
    "a an and are as at be but by can could did do does for from had has have how i if in into is it its " +
    "me my of on or our please should so than that the their them then there these this to was we what " +
    "when where which who why will with would you your yours about just any some tell give show"
  ).split(" "),
);

function words(text: string): string[] {
  return text.match(/[\p{L}\p{N}][\p{L}\p{N}'_-]*/gu) ?? [];
}

export function topicWords(text: string, max = 8): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const word of words(text)) {
    const lower = word.toLowerCase();
    if (lower.length < 2 || STOP_WORDS.has(lower) || seen.has(lower)) continue;
    seen.add(lower);
    out.push(word);
    if (out.length >= max) break;
  }
  return out;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function tryParseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  const trimmed = text.trim();
  if (!trimmed.startsWith("{") && !trimmed.startsWith("[")) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(trimmed) };
  } catch {
    return { ok: false };
  }
}

const UNHELPFUL = [
  "I'm not able to give a definite answer to that. It depends on your setup, so please check the documentation or contact support.",
  "That's a good question, but I don't have enough information to answer it reliably. Could you share more details?",
  "There are several possible approaches here, and the right one depends on details I don't have.",
  "I'm not sure about that one. You may want to look at the settings page or ask your administrator.",
];

const INTROS = [
  "Sure — here's what you need to know.",
  "Great question. Here's a clear answer.",
  "Happy to help with that.",
  "Here's a detailed answer.",
];

const OUTROS = [
  "If anything is unclear, I can walk you through it step by step.",
  "Let me know if you want more detail on any part of this.",
  "This should cover the common cases; unusual setups may need a closer look.",
  "As always, double-check the settings in your own environment before changing anything.",
  "I hope this helps — feel free to ask a follow-up question.",
  "In short, the steps above are the recommended path, and they are safe to repeat if something goes wrong.",
];

/** A wrong JSON answer of the same shape: strings blanked, numbers zeroed, booleans flipped. */
export function corruptJson(value: unknown): unknown {
  if (typeof value === "string") return value === "unknown" ? "n/a" : "unknown";
  if (typeof value === "number") return value === 0 ? 1 : 0;
  if (typeof value === "boolean") return !value;
  if (Array.isArray(value)) return value.map(corruptJson);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, corruptJson(v)]));
  }
  return value;
}

type JsonSchema = Record<string, unknown>;

function schemaType(schema: JsonSchema): string | undefined {
  const t = schema.type;
  if (typeof t === "string") return t;
  if (Array.isArray(t)) return t.find((x): x is string => typeof x === "string" && x !== "null");
  if (schema.properties) return "object";
  return undefined;
}

/** A value that fits a JSON schema (best effort), strings filled from `fill`. */
export function synthesize(
  schema: JsonSchema,
  fill: (name: string) => string,
  name = "value",
  depth = 0,
): unknown {
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  if ("const" in schema) return schema.const;
  const anyOf = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(anyOf) && anyOf.length > 0 && typeof anyOf[0] === "object" && anyOf[0] !== null) {
    return synthesize(anyOf[0] as JsonSchema, fill, name, depth + 1);
  }
  switch (schemaType(schema)) {
    case "string":
      return fill(name);
    case "number":
    case "integer":
      return typeof schema.minimum === "number" ? schema.minimum : 1;
    case "boolean":
      return true;
    case "null":
      return null;
    case "array": {
      const min = typeof schema.minItems === "number" ? schema.minItems : 0;
      const items = schema.items;
      if (min === 0 || depth > 6 || typeof items !== "object" || items === null) return [];
      return Array.from({ length: min }, () => synthesize(items as JsonSchema, fill, name, depth + 1));
    }
    case "object": {
      const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
      const out = ownRecord<unknown>();
      if (depth > 6) return out;
      for (const [key, sub] of Object.entries(props)) out[key] = synthesize(sub, fill, key, depth + 1);
      return out;
    }
    default:
      return fill(name);
  }
}

/** Tool arguments drawn from the user message: required string args get its words (or an ID in it). */
export function toolArguments(tool: ToolSpec, userText: string): Record<string, unknown> {
  const params = (tool.function.parameters ?? {}) as JsonSchema;
  const props = (params.properties ?? {}) as Record<string, JsonSchema>;
  const required = Array.isArray(params.required)
    ? params.required.filter((r): r is string => typeof r === "string")
    : [];
  const topic = topicWords(userText, 6).join(" ") || truncate(userText.trim(), 60) || "unknown";
  const idLike = words(userText).find((w) => /\d/.test(w));
  const firstNumber = userText.match(/-?\d+(?:\.\d+)?/)?.[0];
  const out = ownRecord<unknown>();
  for (const name of required) {
    const schema = ownGet(props, name) ?? { type: "string" };
    const type = schemaType(schema);
    if (Array.isArray(schema.enum) && schema.enum.length > 0) out[name] = schema.enum[0];
    else if (type === "number" || type === "integer")
      out[name] = firstNumber === undefined ? 1 : Number(firstNumber);
    else if (type === "string" || type === undefined)
      out[name] = idLike && /(id|number|code|ref|sku)$/i.test(name) ? idLike : topic;
    else out[name] = synthesize(schema, () => topic, name);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Conversation reading

interface Conversation {
  lastUser: string;
  /** Assistant turns with tool calls after the last user message. */
  stepsDone: number;
  toolResults: string[];
  systemText: string;
  /** Leading system/developer messages + tools: the cacheable prefix. */
  prefix: string;
  prefixTokens: number;
  promptTokens: number;
}

function messageTokens(message: ChatMessage): number {
  let tokens = 4 + estimateTokens(messageText(message));
  if (message.role === "assistant" && message.tool_calls)
    tokens += estimateTokens(JSON.stringify(message.tool_calls));
  return tokens;
}

function readConversation(req: ChatRequest): Conversation {
  const messages = req.messages;
  let lastUserIndex = -1;
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]?.role === "user") {
      lastUserIndex = i;
      break;
    }
  }
  const lastUserMessage = lastUserIndex >= 0 ? messages[lastUserIndex] : undefined;
  const after = messages.slice(lastUserIndex + 1);
  const toolsText = req.tools && req.tools.length > 0 ? JSON.stringify(req.tools) : "";
  const leading: ChatMessage[] = [];
  for (const m of messages) {
    if (m.role !== "system" && m.role !== "developer") break;
    leading.push(m);
  }
  const prefixTokens = leading.reduce((sum, m) => sum + messageTokens(m), 0) + estimateTokens(toolsText);
  return {
    lastUser: lastUserMessage ? messageText(lastUserMessage) : "",
    stepsDone: after.filter((m) => m.role === "assistant" && (m.tool_calls?.length ?? 0) > 0).length,
    toolResults: after.filter((m) => m.role === "tool").map((m) => messageText(m)),
    systemText: messages
      .filter((m) => m.role === "system" || m.role === "developer")
      .map((m) => messageText(m))
      .join("\n"),
    prefix: canonicalJson([leading, req.tools ?? null]),
    prefixTokens,
    promptTokens: 3 + messages.reduce((sum, m) => sum + messageTokens(m), 0) + estimateTokens(toolsText),
  };
}

function findAnswer(answers: readonly AnswerSpec[], text: string): AnswerSpec | undefined {
  return answers.find((a) => new RegExp(a.match, "i").test(text));
}

function jsonWanted(req: ChatRequest, conv: Conversation): boolean {
  const type = req.response_format?.type;
  return type === "json_object" || type === "json_schema" || /\bjson\b/i.test(conv.systemText);
}

// ---------------------------------------------------------------------------------------------
// Planning

function pickFallback(catalog: ModelCatalog, model: ModelBehaviour): string {
  const other = catalog.models.find((m) => m.id !== model.id);
  return other ? other.id : `${model.id}-fallback`;
}

function pad(core: string, verbosity: number, rng: Rng): string {
  if (verbosity <= 1) return core;
  const target = Math.round((verbosity - 1) * Math.max(core.length, 160));
  const intro = rng.pick("pad", INTROS);
  const outros: string[] = [];
  let added = intro.length;
  const pool = [...OUTROS];
  while (added < target && pool.length > 0) {
    const [sentence] = pool.splice(rng.int("pad", pool.length), 1);
    if (sentence === undefined) break;
    outros.push(sentence);
    added += sentence.length + 1;
  }
  return `${intro}\n\n${core}${outros.length > 0 ? `\n\n${outros.join(" ")}` : ""}`;
}

function answerText(conv: Conversation, matched: AnswerSpec | undefined, hit: boolean, rng: Rng): string {
  if (matched) {
    if (hit) return matched.answer;
    const parsed = tryParseJson(matched.answer);
    return parsed.ok ? JSON.stringify(corruptJson(parsed.value)) : rng.pick("miss", UNHELPFUL);
  }
  if (!hit) return rng.pick("miss", UNHELPFUL);
  const topic = topicWords(conv.lastUser).join(" ") || "your question";
  const lastResult = conv.toolResults.at(-1);
  const fromTool = lastResult
    ? ` Based on the tool result (${truncate(lastResult.trim(), 300)}), that is the answer.`
    : "";
  return `About ${topic}: start from the current configuration, change one thing at a time, and check the result after each step.${fromTool}`;
}

type TransportFault = "500" | "503" | "429" | "hang" | "malformed";

export function planCompletion(req: ChatRequest, requested: ModelBehaviour, ctx: PlanContext): Plan {
  const key = requestKey(ctx.seed, req.model, req.messages, ctx.occurrence);
  const rng = createRng(key);
  const forced = ctx.forced.names;
  const scale = ctx.timeScale;
  const trace: string[] = [`n=${ctx.occurrence}`];

  // 1. Transport faults.
  const e = requested.errors;
  let fault: TransportFault | undefined;
  for (const name of ["429", "500", "503", "hang", "malformed"] as const)
    if (!fault && forced.has(name)) fault = name;
  if (!fault) {
    const u = ctx.throttled
      ? createRng(`${key}\u0000throttled:${ctx.throttled}`).next("fault")
      : rng.next("fault");
    const bands: Array<[TransportFault, number]> = [
      ["500", e.server_error],
      ["503", e.unavailable],
      ["429", e.rate_limit],
      ["hang", e.hang],
      ["malformed", e.malformed],
    ];
    let edge = 0;
    for (const [name, rate] of bands) {
      edge += rate;
      if (u < edge) {
        fault = name;
        break;
      }
    }
  }
  if (fault) trace.push(`fault=${fault}`);
  if (fault === "hang") return { kind: "hang", trace: trace.join("; ") };
  if (fault === "429") {
    const retryAfterMs = ctx.forced.retryAfterMs ?? e.retry_after_ms * scale;
    return {
      kind: "error",
      status: 429,
      retryAfterMs,
      latencyMs: 0,
      body: errorBody(
        `Rate limit reached for ${req.model} (simulated). Please try again in ${Math.round(retryAfterMs)}ms.`,
        "requests",
        "rate_limit_exceeded",
      ),
      trace: trace.join("; "),
    };
  }
  if (fault === "500" || fault === "503") {
    return {
      kind: "error",
      status: fault === "500" ? 500 : 503,
      latencyMs: requested.latency.base_ms * 0.25 * scale,
      body:
        fault === "500"
          ? errorBody("The server had an error while processing your request (simulated).", "server_error")
          : errorBody(
              "The engine is currently overloaded, please try again later (simulated).",
              "server_error",
              "service_unavailable",
            ),
      trace: trace.join("; "),
    };
  }

  // 2. Which model answers (the silent fallback, or a dated snapshot name).
  let served = req.model;
  if (forced.has("wrong-model")) served = ctx.forced.wrongModel ?? pickFallback(ctx.catalog, requested);
  else if (requested.serve_as && rng.chance("serve_as", requested.serve_as.rate))
    served = requested.serve_as.model;
  const behaviour = ctx.catalog.byId.get(served) ?? requested;
  if (served !== req.model) trace.push(`served=${served}`);

  const conv = readConversation(req);
  const matched = findAnswer(behaviour.answers, conv.lastUser);
  const difficulty = matched?.difficulty ?? "easy";
  const qualityDraw = rng.next("quality");
  const hit = forced.has("hit") || (!forced.has("miss") && qualityDraw < behaviour.quality[difficulty]);

  // 3. Tool call or answer.
  const offered = req.tools ?? [];
  const choice = req.tool_choice ?? "auto";
  let toolCalls: PlannedToolCall[] = [];
  if (offered.length > 0 && choice !== "none" && !forced.has("no-tool")) {
    let tool: ToolSpec | undefined;
    let args: Record<string, unknown> | undefined;
    const scripted = (matched?.tool_calls ?? []).filter((c) =>
      offered.some((t) => t.function.name === c.name),
    );
    if (typeof choice === "object") {
      tool = offered.find((t) => t.function.name === choice.function.name);
    } else if (scripted.length > 0 && !forced.has("tool") && choice === "auto") {
      const step = scripted[conv.stepsDone];
      if (step && hit) {
        tool = offered.find((t) => t.function.name === step.name);
        args = step.arguments;
      }
    } else {
      const call =
        choice === "required" ||
        forced.has("tool") ||
        (conv.stepsDone === 0
          ? rng.chance("tool", behaviour.tools.tendency)
          : conv.stepsDone < behaviour.tools.steps);
      if (call) tool = offered[conv.stepsDone % offered.length];
    }
    if (tool) {
      toolCalls = [
        {
          id: `call_${sha256(`${key}|tool|${conv.stepsDone}`).slice(0, 24)}`,
          name: tool.function.name,
          arguments: JSON.stringify(args ?? toolArguments(tool, conv.lastUser)),
        },
      ];
      trace.push(`tool=${tool.function.name}`);
    }
  }

  let content: string | null = null;
  if (toolCalls.length === 0) {
    const wantsJson = jsonWanted(req, conv);
    if (forced.has("takeover") || rng.chance("takeover", behaviour.takeover)) {
      content = "[HANDOFF] I'll pass this conversation to a human colleague who can help further.";
      trace.push("takeover");
    } else {
      trace.push(matched ? `answer=${hit ? "hit" : "miss"}` : `generic=${hit ? "hit" : "miss"}`);
      const core = answerText(conv, matched, hit, rng);
      if (wantsJson) {
        const parsed = tryParseJson(core);
        let value: unknown;
        if (parsed.ok) value = parsed.value;
        else {
          const rf = req.response_format;
          const schema = rf?.type === "json_schema" ? rf.json_schema.schema : undefined;
          value = schema ? synthesize(schema, () => core) : { answer: core };
        }
        const json = behaviour.verbosity > 1 ? JSON.stringify(value, null, 2) : JSON.stringify(value);
        if (forced.has("drift") || rng.chance("drift", behaviour.format_drift)) {
          const style = rng.pick("drift-style", ["prose", "fence"] as const);
          trace.push(`drift=${style}`);
          content =
            style === "fence"
              ? `\`\`\`json\n${json}\n\`\`\``
              : `Here is the JSON you asked for:\n\n${json}\n\nLet me know if you need any changes.`;
        } else content = json;
      } else content = pad(core, behaviour.verbosity, rng);
    }
  }

  // 4. Tokens, the output cap, cached prompt tokens.
  const visibleText =
    content ?? JSON.stringify(toolCalls.map((c) => ({ name: c.name, arguments: c.arguments })));
  let visible = estimateTokens(visibleText);
  const share = behaviour.reasoning_share;
  let reasoning = Math.round((visible * share) / (1 - share));
  let finishReason: "stop" | "length" | "tool_calls" = toolCalls.length > 0 ? "tool_calls" : "stop";
  const cap = req.max_completion_tokens ?? req.max_tokens ?? undefined;
  if (cap !== undefined && visible + reasoning > cap) {
    reasoning = Math.min(reasoning, Math.floor(cap * share));
    const budget = cap - reasoning;
    if (toolCalls.length > 0) {
      toolCalls = [];
      content = "";
    } else content = (content ?? "").slice(0, budget * CHARS_PER_TOKEN);
    visible = estimateTokens(content ?? "");
    finishReason = "length";
    trace.push("truncated");
  }
  const completion = visible + reasoning;
  const prefixKey = `${behaviour.id}|${conv.prefix}`;
  let cached = 0;
  if (conv.prefixTokens > 0) {
    if (ctx.prefixCache.has(prefixKey)) cached = Math.floor(conv.prefixTokens * behaviour.cache_share);
    else ctx.prefixCache.add(prefixKey);
  }
  const promptTokens = conv.promptTokens;
  const usage: CompletionUsage = {
    prompt_tokens: promptTokens,
    completion_tokens: completion,
    total_tokens: promptTokens + completion,
    prompt_tokens_details: { cached_tokens: Math.min(cached, promptTokens), audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: reasoning,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };

  // 5. Timing.
  const lat = behaviour.latency;
  const jitter = (rng.next("latency") * 2 - 1) * lat.jitter_ms;
  const firstTokenMs = Math.max(0, lat.base_ms + jitter + reasoning * lat.per_token_ms) * scale;
  const perTokenMs = lat.per_token_ms * scale;

  return {
    kind: "answer",
    id: `chatcmpl-${sha256(key).slice(0, 29)}`,
    model: served,
    content,
    toolCalls,
    finishReason,
    usage,
    firstTokenMs,
    perTokenMs,
    latencyMs: firstTokenMs + visible * perTokenMs,
    malformed: fault === "malformed",
    trace: trace.join("; "),
  };
}
