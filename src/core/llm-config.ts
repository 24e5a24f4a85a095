import type { Config } from "./config/schema.ts";
import { UserError } from "./errors.ts";
import { getAtPath } from "./keys.ts";
import { ownGet, ownRecord } from "./own.ts";
import { parseStructuredFile, type StructuredKind, structuredKind } from "./structured-files.ts";

/** Everything a call needs to know about one route, after defaults are applied. */
export interface ResolvedRoute {
  model: string;
  max_output_tokens: number | null;
  timeout_ms: number | null;
  retry_limit: number;
  /**
   * The app's own token cap for a task on this route (its route cap, else its per-task cap),
   * applied inside the eval as production applies it. Absent or null: the app sets none.
   */
  token_cap?: TokenCap | null;
}

export type RouteSettings = Omit<ResolvedRoute, "model" | "token_cap">;

/** One of the app's own token caps and the key it was read from, so a fail can name both. */
export interface TokenCap {
  tokens: number;
  key: string;
  /** Which of the two caps it is, for messages: a custom key path need not say. */
  scope: "per-task" | "route";
}

/** The app's own caps from its LLM config (policy keys `llm.settings.per_task_token_cap`, `route_caps`). */
export interface AppTokenCaps {
  per_task: TokenCap | null;
  /** Keyed by route names from the repo: built with `ownRecord`, read with `ownGet`. */
  routes: Record<string, TokenCap>;
  /**
   * Why the caps could not be read (a cap that is not a positive number), else null. Then no
   * cap is applied: the eval refuses such a config (`load-side.ts`), the doctor reports it.
   */
  problem: string | null;
}

export interface LlmConfig {
  /** The parsed document (a flat variable map for env files). */
  document: unknown;
  default_model: string | null;
  settings: RouteSettings;
  /** Keyed by route names from the repo: built with `ownRecord`, read with `ownGet`. */
  routes: Record<string, ResolvedRoute>;
  token_caps: AppTokenCaps;
}

/** Retries default to none: a config that does not say so should not multiply spend. */
const DEFAULT_RETRY_LIMIT = 0;

/**
 * The app's LLM config document, parsed once by the one reader below. Eval (routes and
 * settings), selection (rollout share) and the rollout edits all read it through this module,
 * so they agree on formats, key paths and route names.
 */
export interface LlmDocument {
  /** How messages name the file, e.g. `config/llm.yaml (base 1a2b3c4)`. */
  file: string;
  /** The path in the repository: its extension decides the format. */
  path: string;
  kind: StructuredKind;
  text: string;
  /** The parsed document (a flat variable map for env files). */
  value: unknown;
}

/**
 * Parses the LLM config by its path's extension, through the same parser classification uses,
 * so every format `structured-files.ts` reads is a format eval and rollout read. `label` names
 * the file in messages (defaults to the path).
 */
export function parseLlmDocument(text: string, path: string, label: string = path): LlmDocument {
  const kind = structuredKind(path);
  if (kind === undefined) {
    throw new UserError(
      `${label}: modelgate cannot read this file as an LLM config (not a JSON, YAML or .env file by its name); set llm.config to such a file`,
    );
  }
  try {
    return { file: label, path, kind, text, value: parseStructuredFile(kind, text) };
  } catch (error) {
    throw new UserError(`${label}: cannot parse the LLM config (${firstLine(error)})`);
  }
}

/** A value at a key: a dot path in JSON/YAML, the variable name itself in an env file. */
export function valueAt(doc: LlmDocument, key: string): unknown {
  if (doc.kind === "env") return ownGet(doc.value as Record<string, string>, key);
  return getAtPath(doc.value, key);
}

/** One route of the route map, and where its model is written. */
export interface RouteEntry {
  /** The route name cases use (`complex` for the env variable `OPENAI_MODEL_COMPLEX`). */
  route: string;
  /** The route's raw value: a model ID or `{model, max_output_tokens, ...}`. */
  entry: unknown;
  /** Where the model ID sits: a dot path (JSON/YAML) or the variable name (env). */
  modelKey: string;
  /** `modelKey` as path segments, for edits. */
  segments: string[];
  /** The model written at `modelKey`, if any (a route object may leave it to the default). */
  model: unknown;
}

/**
 * The routes at `routesKey`. In an env file, `routesKey` is a variable prefix such as
 * `OPENAI_MODEL_`: `OPENAI_MODEL_COMPLEX=gpt-5.5` is the route `complex`. Anything but a
 * mapping at `routesKey` is the user's to fix (an unreadable route map cannot be evaluated or
 * rolled back). New shapes of the route map (e.g. a list of `{name, model}`) belong here.
 */
export function routeEntries(doc: LlmDocument, routesKey: string): RouteEntry[] {
  if (doc.kind === "env") {
    const prefix = routesKey.replace(/\*$/, "");
    return Object.entries(doc.value as Record<string, string>)
      .filter(([name]) => name.startsWith(prefix) && name !== prefix)
      .map(([name, model]) => ({
        route: name.slice(prefix.length).toLowerCase(),
        entry: model,
        modelKey: name,
        segments: [name],
        model,
      }));
  }
  const map = getAtPath(doc.value, routesKey);
  if (map === undefined) return [];
  if (Array.isArray(map)) return routeListEntries(doc, map, routesKey);
  if (map === null || typeof map !== "object") {
    throw new UserError(
      `${doc.file} ${routesKey}: expected a mapping of route -> model, found ${map === null ? "null" : Array.isArray(map) ? "a list" : typeof map}`,
    );
  }
  const base = routesKey.split(".");
  return Object.entries(map as Record<string, unknown>).map(([route, entry]) => {
    if (entry !== null && typeof entry === "object" && !Array.isArray(entry)) {
      return {
        route,
        entry,
        modelKey: `${routesKey}.${route}.model`,
        segments: [...base, route, "model"],
        model: ownGet(entry as Record<string, unknown>, "model"),
      };
    }
    return { route, entry, modelKey: `${routesKey}.${route}`, segments: [...base, route], model: entry };
  });
}

/**
 * A list as the route map (`- {name: coding, model: gpt-5.4, timeout_ms: …}`): each item is the
 * route its `name` names, its model at `<routesKey>.<index>.model`. An item without a name, or a
 * name used twice, is the user's mistake.
 */
function routeListEntries(doc: LlmDocument, items: readonly unknown[], routesKey: string): RouteEntry[] {
  const seen = new Set<string>();
  const base = routesKey.split(".");
  return items.map((item, index) => {
    const own =
      item !== null && typeof item === "object" && !Array.isArray(item)
        ? (item as Record<string, unknown>)
        : undefined;
    const name = own ? ownGet(own, "name") : undefined;
    if (typeof name !== "string" || name === "") {
      throw new UserError(
        `${doc.file} ${routesKey}.${index}: a route list item needs a "name" (the route) and a "model"`,
      );
    }
    if (seen.has(name)) {
      throw new UserError(
        `${doc.file} ${routesKey}: the route "${name}" is listed twice; give each item its own name`,
      );
    }
    seen.add(name);
    return {
      route: name,
      entry: item,
      modelKey: `${routesKey}.${index}.model`,
      segments: [...base, String(index), "model"],
      model: own ? ownGet(own, "model") : undefined,
    };
  });
}

/**
 * Reads the app's LLM runtime config and resolves every route: the route's own values first,
 * then the global settings, then `default_model`. `label` names the file in messages.
 */
export function readLlmConfig(text: string, path: string, config: Config, label: string = path): LlmConfig {
  return resolveLlmConfig(parseLlmDocument(text, path, label), config);
}

export function resolveLlmConfig(doc: LlmDocument, config: Config): LlmConfig {
  const keys = config.llm;
  const settings: RouteSettings = {
    max_output_tokens: readNumber(doc, keys.settings.max_output_tokens) ?? null,
    timeout_ms: readNumber(doc, keys.settings.timeout_ms) ?? null,
    retry_limit: readNumber(doc, keys.settings.retry_limit) ?? DEFAULT_RETRY_LIMIT,
  };
  const defaultModel = readString(doc, keys.default_model_key) ?? null;
  const tokenCaps = readTokenCapsOrProblem(doc, keys.settings.per_task_token_cap, keys.settings.route_caps);
  const routes = ownRecord<ResolvedRoute>();
  for (const { route, entry } of routeEntries(doc, keys.routes_key)) {
    const resolved = resolveRoute(
      route,
      entry,
      settings,
      defaultModel,
      `${doc.file} ${keys.routes_key}.${route}`,
    );
    const cap = tokenCapFor(tokenCaps, route);
    routes[route] = cap ? { ...resolved, token_cap: cap } : resolved;
  }
  return { document: doc.value, default_model: defaultModel, settings, routes, token_caps: tokenCaps };
}

/** The cap production applies to a task on `route`: its route cap, else the per-task cap. */
export function tokenCapFor(caps: AppTokenCaps, route: string): TokenCap | null {
  return ownGet(caps.routes, route) ?? caps.per_task;
}

function readTokenCapsOrProblem(doc: LlmDocument, perTaskKey: string, routeCapsKey: string): AppTokenCaps {
  try {
    return readTokenCaps(doc, perTaskKey, routeCapsKey);
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    return { per_task: null, routes: ownRecord<TokenCap>(), problem: error.message };
  }
}

/**
 * The app's own caps. A cap that is there but not a positive number cannot be applied as the
 * app applies it, so it is the user's to fix (fail closed), never silently skipped.
 */
function readTokenCaps(doc: LlmDocument, perTaskKey: string, routeCapsKey: string): AppTokenCaps {
  const routes = ownRecord<TokenCap>();
  const perTask = readCap(doc, perTaskKey, valueAt(doc, perTaskKey), "per-task");
  if (doc.kind === "env") {
    // In an env file the route caps are variables under a prefix, like the route map.
    const prefix = routeCapsKey.replace(/\*$/, "");
    for (const [name, value] of Object.entries(doc.value as Record<string, string>)) {
      if (!name.startsWith(prefix) || name === prefix) continue;
      const cap = readCap(doc, name, value, "route");
      if (cap) routes[name.slice(prefix.length).toLowerCase()] = cap;
    }
    return { per_task: perTask, routes, problem: null };
  }
  const map = getAtPath(doc.value, routeCapsKey);
  if (map === undefined || map === null) return { per_task: perTask, routes, problem: null };
  if (typeof map !== "object" || Array.isArray(map)) {
    throw new UserError(
      `${doc.file} ${routeCapsKey}: expected a mapping of route -> token cap, found ${Array.isArray(map) ? "a list" : typeof map}`,
    );
  }
  for (const [route, value] of Object.entries(map as Record<string, unknown>)) {
    const cap = readCap(doc, `${routeCapsKey}.${route}`, value, "route");
    if (cap) routes[route] = cap;
  }
  return { per_task: perTask, routes, problem: null };
}

function readCap(doc: LlmDocument, key: string, value: unknown, scope: TokenCap["scope"]): TokenCap | null {
  if (value === undefined || value === null) return null;
  const number = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof number !== "number" || !Number.isFinite(number) || number <= 0) {
    throw new UserError(`${doc.file} ${key}: expected a positive token cap, found ${JSON.stringify(value)}`);
  }
  return { tokens: number, key, scope };
}

/** A config with no LLM config file: no routes, nothing set (cases then need a default model). */
export function emptyLlmConfig(): LlmConfig {
  return {
    document: {},
    default_model: null,
    settings: { max_output_tokens: null, timeout_ms: null, retry_limit: DEFAULT_RETRY_LIMIT },
    routes: ownRecord<ResolvedRoute>(),
    token_caps: { per_task: null, routes: ownRecord<TokenCap>(), problem: null },
  };
}

function resolveRoute(
  route: string,
  entry: unknown,
  settings: RouteSettings,
  defaultModel: string | null,
  where: string,
): ResolvedRoute {
  if (typeof entry === "string") return { model: entry, ...settings };
  if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
    throw new UserError(
      `${where}: expected a model ID or {model, max_output_tokens, timeout_ms, retry_limit}`,
    );
  }
  const own = entry as Record<string, unknown>;
  const model = ownGet(own, "model") ?? defaultModel;
  if (typeof model !== "string" || model === "") {
    throw new UserError(`${where}: route "${route}" has no model and there is no default model`);
  }
  return {
    model,
    max_output_tokens: numberOr(
      ownGet(own, "max_output_tokens"),
      settings.max_output_tokens,
      `${where}.max_output_tokens`,
    ),
    timeout_ms: numberOr(ownGet(own, "timeout_ms"), settings.timeout_ms, `${where}.timeout_ms`),
    retry_limit: numberOr(ownGet(own, "retry_limit"), settings.retry_limit, `${where}.retry_limit`),
  };
}

function readNumber(doc: LlmDocument, key: string): number | undefined {
  const value = valueAt(doc, key);
  if (value === undefined || value === null) return undefined;
  const number = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof number !== "number" || !Number.isFinite(number) || number < 0) {
    throw new UserError(`${doc.file} ${key}: expected a non-negative number, found ${JSON.stringify(value)}`);
  }
  return number;
}

function readString(doc: LlmDocument, key: string): string | undefined {
  const value = valueAt(doc, key);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string")
    throw new UserError(`${doc.file} ${key}: expected a model ID string, found ${typeof value}`);
  return value;
}

function numberOr<T extends number | null>(value: unknown, fallback: T, where: string): number | T {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new UserError(`${where}: expected a non-negative number, found ${JSON.stringify(value)}`);
  }
  return value;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0] ?? message;
}
