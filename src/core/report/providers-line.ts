import type { EvalResult } from "../result.ts";
import { inlineCode } from "./escape.ts";

function names(list: readonly string[]): string {
  return list.length === 0 ? "none" : list.map((name) => inlineCode(name, { max: 40 })).join(", ");
}

/**
 * The header's line on who answered each side of a cross-provider comparison (the names the
 * workflow's provider map defines; `default` is OPENAI_BASE_URL or the built-in simulator).
 */
export function providersSentence(result: EvalResult): string {
  const providers = result.providers;
  if (!providers) return "";
  return `**Providers:** base ${names(providers.base)} → head ${names(providers.head)}.`;
}

/** ` (default → anthropic)` after a route's name when its sides went to different providers. */
export function routeProviders(result: EvalResult, route: string): string {
  const routes = result.providers?.routes;
  const entry = routes && Object.hasOwn(routes, route) ? routes[route] : undefined;
  if (!entry || entry.base === entry.head) return "";
  return ` (${entry.base ?? "—"} → ${entry.head ?? "—"})`;
}
