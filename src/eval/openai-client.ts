import OpenAI from "openai";
import { UserError } from "../core/errors.ts";
import { redactUrl } from "../core/text/redact-url.ts";

export interface ProviderSettings {
  baseURL: string;
  apiKey: string;
  /**
   * Transport retries (connection errors, 408, 409, 5xx) per request. The runner does them
   * itself from this number (see `retry-policy.ts`); other calls (pre-flight) leave them to the SDK.
   */
  maxRetries?: number;
  /** Ceiling for one request when a route sets no timeout. The SDK default (10 min × 3) would stall CI. */
  defaultTimeoutMs?: number;
}

export const DEFAULT_BASE_URL = "https://api.openai.com/v1";

/**
 * The one place an OpenAI client is built: explicit baseURL, timeout and retries.
 * 429s are not retried by the SDK: the fetch below marks them `x-should-retry: false` so the
 * runner waits them out itself (Retry-After honoured above a floor, within the run's total
 * allowance) without counting them against the route's timeout or the attempt.
 */
export function createOpenAIClient(settings: ProviderSettings): OpenAI {
  let url: URL;
  try {
    url = new URL(settings.baseURL);
  } catch {
    throw new UserError(
      `provider base URL '${redactUrl(settings.baseURL)}' is not a URL (expected e.g. ${DEFAULT_BASE_URL})`,
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new UserError(`provider base URL '${redactUrl(settings.baseURL)}' must be http(s)`);
  }
  return new OpenAI({
    baseURL: settings.baseURL,
    apiKey: settings.apiKey,
    maxRetries: settings.maxRetries ?? 2,
    timeout: settings.defaultTimeoutMs ?? 300_000,
    fetch: rateLimitAwareFetch,
  });
}

async function rateLimitAwareFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const response = await fetch(input, init);
  if (response.status !== 429) return response;
  const headers = new Headers(response.headers);
  headers.set("x-should-retry", "false");
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

/** How long a 429 asks us to wait, from `retry-after-ms` or `retry-after` (seconds or HTTP date). */
export function retryAfterMs(headers: Headers | undefined, fallbackMs: number, now = Date.now()): number {
  const ms = Number(headers?.get("retry-after-ms"));
  if (Number.isFinite(ms) && ms >= 0 && headers?.get("retry-after-ms") !== null) return ms;
  const after = headers?.get("retry-after");
  if (after) {
    const seconds = Number(after);
    if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
    const date = Date.parse(after);
    if (Number.isFinite(date)) return Math.max(0, date - now);
  }
  return fallbackMs;
}
