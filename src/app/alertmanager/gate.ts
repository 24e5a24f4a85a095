import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { readCappedBody } from "../capped-body.ts";

/**
 * Everything the receiver checks before it parses a byte of an Alertmanager request: the
 * token is configured, the method, no browser origin, the bearer token, JSON, and a body of at
 * most `MAX_ALERTMANAGER_BYTES`. The body is read only once the token matched.
 */

/** Alertmanager payloads are a few KB (it truncates groups past `max_alerts`); 1 MB is generous. */
export const MAX_ALERTMANAGER_BYTES = 1024 * 1024;

export const TOKEN_ENV = "MODELGATE_ALERTMANAGER_TOKEN";

/** Shorter tokens are guessable; the receiver stays off rather than take one. */
export const MIN_TOKEN_LENGTH = 16;

export type ReceiverConfig =
  | { on: true; token: string }
  /** `misconfigured`: a token is set but refused (an error, not the quiet default of no token). */
  | { on: false; reason: string; misconfigured: boolean };

export function receiverConfig(env: Readonly<Record<string, string | undefined>>): ReceiverConfig {
  const token = env[TOKEN_ENV]?.trim();
  if (!token) {
    return {
      on: false,
      reason: `the Alertmanager receiver is off: ${TOKEN_ENV} is not set in the App's environment`,
      misconfigured: false,
    };
  }
  if (token.length < MIN_TOKEN_LENGTH) {
    return {
      on: false,
      reason: `the Alertmanager receiver is off: ${TOKEN_ENV} is shorter than ${MIN_TOKEN_LENGTH} characters`,
      misconfigured: true,
    };
  }
  return { on: true, token };
}

export type GateResult =
  | { ok: true; body: unknown }
  | {
      ok: false;
      status: 400 | 401 | 403 | 405 | 413 | 415 | 503;
      error: string;
      headers?: Record<string, string>;
      /** The body was not read to its end: the connection must be closed, not reused. */
      unread: boolean;
    };

/**
 * Browsers: a cross-origin `fetch` or form cannot carry `Authorization` without a CORS
 * preflight, which this server never grants (no `Access-Control-Allow-*` header anywhere), just as
 * it cannot carry the GitHub webhook's `X-Hub-Signature-256`. On top of that, anything a
 * browser sends with an `Origin` header is refused outright: Alertmanager never sends one.
 */
export async function readAlertmanagerRequest(
  req: IncomingMessage,
  config: ReceiverConfig,
  maxBytes = MAX_ALERTMANAGER_BYTES,
): Promise<GateResult> {
  const refuse = (
    status: 400 | 401 | 403 | 405 | 413 | 415 | 503,
    error: string,
    headers?: Record<string, string>,
  ): Promise<GateResult> =>
    Promise.resolve({ ok: false, status, error, unread: true, ...(headers ? { headers } : {}) });
  if (!config.on) return refuse(503, config.reason);
  if (req.method !== "POST") return refuse(405, "only POST is accepted here", { allow: "POST" });
  if (req.headers.origin !== undefined || req.headers["sec-fetch-site"] === "cross-site")
    return refuse(403, "browser requests are refused: Alertmanager sends no Origin header");
  if (!bearerMatches(req.headers.authorization, config.token)) {
    return refuse(401, `expected Authorization: Bearer <${TOKEN_ENV}>`, {
      "www-authenticate": 'Bearer realm="modelgate-alertmanager"',
    });
  }
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json")
    return refuse(415, `expected Content-Type: application/json, found ${JSON.stringify(type ?? "")}`);
  const tooLarge = `body over ${Math.round(maxBytes / 1024)} KB: Alertmanager does not send payloads that large`;
  const body = await readCappedBody(req, maxBytes, tooLarge);
  if (!body.ok) return body;
  try {
    return { ok: true, body: JSON.parse(body.raw.toString("utf8")) };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, status: 400, error: `body is not JSON: ${reason}`, unread: false };
  }
}

/** Constant time whatever the lengths: both sides are hashed to 32 bytes before comparing. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? "");
  const given = match?.[1] ?? "";
  const digest = (text: string) => createHash("sha256").update(text, "utf8").digest();
  return timingSafeEqual(digest(given), digest(token)) && given.length > 0;
}
