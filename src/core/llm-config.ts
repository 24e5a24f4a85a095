import type { Config } from "./config/schema.ts";
import { UserError } from "./errors.ts";
import { getAtPath } from "./keys.ts";
import { ownGet, ownRecord } from "./own.ts";
import { parseStructuredFile, structuredKind } from "./structured-files.ts";

/** Everything a call needs to know about one route, after defaults are applied. */
export interface ResolvedRoute {
  model: string;
  max_output_tokens: number | null;
  timeout_ms: number | null;
  retry_limit: number;
}

export type RouteSettings = Omit<ResolvedRoute, "model">;

export interface LlmConfig {
  /** The parsed document (a flat variable map for env files). */
  document: unknown;
  default_model: string | null;
  settings: RouteSettings;
  /** Keyed by route names from the repo: built with `ownRecord`, read with `ownGet`. */
  routes: Record<string, ResolvedRoute>;
}

/** Retries default to none: a config that does not say so should not multiply spend. */
const DEFAULT_RETRY_LIMIT = 0;

/**
 * Reads the app's LLM runtime config (JSON, YAML or env) and resolves every route:
 * the route's own values first, then the global settings, then `default_model`.
 */
export function readLlmConfig(text: string, file: string, config: Config): LlmConfig {
  const kind = structuredKind(file) ?? "json";
  let document: unknown;
  try {
    document = parseStructuredFile(kind, text);
  } catch (error) {
    throw new UserError(`${file}: cannot parse the LLM config (${firstLine(error)})`);
  }
  const keys = config.llm;
  const settings: RouteSettings = {
    max_output_tokens: readNumber(document, keys.settings.max_output_tokens, file) ?? null,
    timeout_ms: readNumber(document, keys.settings.timeout_ms, file) ?? null,
    retry_limit: readNumber(document, keys.settings.retry_limit, file) ?? DEFAULT_RETRY_LIMIT,
  };
  const defaultModel = readString(document, keys.default_model_key, file) ?? null;
  const routes = ownRecord<ResolvedRoute>();
  for (const [route, entry] of Object.entries(
    readRouteMap(document, keys.routes_key, kind === "env", file),
  )) {
    routes[route] = resolveRoute(route, entry, settings, defaultModel, `${file} ${keys.routes_key}.${route}`);
  }
  return { document, default_model: defaultModel, settings, routes };
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

/**
 * The route map. In an env file, `routes_key` is a variable prefix such as `OPENAI_MODEL_`:
 * `OPENAI_MODEL_COMPLEX=gpt-5.5` is the route `complex`.
 */
function readRouteMap(
  document: unknown,
  routesKey: string,
  isEnv: boolean,
  file: string,
): Record<string, unknown> {
  if (isEnv) {
    const prefix = routesKey.replace(/\*$/, "");
    const routes = ownRecord<unknown>();
    for (const [name, value] of Object.entries(document as Record<string, string>)) {
      if (name.startsWith(prefix) && name !== prefix) routes[name.slice(prefix.length).toLowerCase()] = value;
    }
    return routes;
  }
  const map = getAtPath(document, routesKey);
  if (map === undefined) return {};
  if (Array.isArray(map)) return routeList(map, routesKey, file);
  if (map === null || typeof map !== "object") {
    throw new UserError(`${file} ${routesKey}: expected a mapping of route -> model, found ${typeof map}`);
  }
  return map as Record<string, unknown>;
}

/**
 * A list as the route map (`- {name: coding, model: gpt-5.4, timeout_ms: …}`): each item is the
 * route its `name` names. An item without a name, or a name used twice, is the user's mistake.
 */
function routeList(items: unknown[], routesKey: string, file: string): Record<string, unknown> {
  const routes = ownRecord<unknown>();
  for (const [index, item] of items.entries()) {
    const name =
      item !== null && typeof item === "object" && !Array.isArray(item)
        ? ownGet(item as Record<string, unknown>, "name")
        : undefined;
    if (typeof name !== "string" || name === "") {
      throw new UserError(
        `${file} ${routesKey}.${index}: a route list item needs a "name" (the route) and a "model"`,
      );
    }
    if (Object.hasOwn(routes, name)) {
      throw new UserError(
        `${file} ${routesKey}: the route "${name}" is listed twice; give each item its own name`,
      );
    }
    routes[name] = item;
  }
  return routes;
}

function readNumber(document: unknown, key: string, file: string): number | undefined {
  const value = getAtPath(document, key);
  if (value === undefined || value === null) return undefined;
  const number = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof number !== "number" || !Number.isFinite(number) || number < 0) {
    throw new UserError(`${file} ${key}: expected a non-negative number, found ${JSON.stringify(value)}`);
  }
  return number;
}

function readString(document: unknown, key: string, file: string): string | undefined {
  const value = getAtPath(document, key);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string")
    throw new UserError(`${file} ${key}: expected a model ID string, found ${typeof value}`);
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
