import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { readCappedBody } from "./capped-body.ts";

/**
 * GitHub does not deliver a webhook payload over 25 MB, so anything larger is not GitHub.
 * https://docs.github.com/en/webhooks/webhook-events-and-payloads#payload-cap
 */
export const MAX_WEBHOOK_BYTES = 25 * 1024 * 1024;

const SIGNATURE = /^sha256=([0-9a-f]{64})$/i;

export type SignedBody =
  | { ok: true; raw: Buffer; payload: Record<string, unknown> }
  | {
      ok: false;
      status: 400 | 401 | 413;
      error: string;
      /** The body was not read to its end: the connection must be closed, not reused. */
      unread: boolean;
    };

/**
 * Reads a webhook request's body at most `maxBytes` long, computing the HMAC of
 * `X-Hub-Signature-256` chunk by chunk, and parses it only once the signature matches. Probot
 * buffers the whole body before it checks anything (a 100 MB unsigned POST cost 1.7 GB of
 * RSS); this runs in front of it, so an unsigned or oversized body is refused while it streams
 * and at most `maxBytes` is ever held. The payload must be a JSON object: `null`, arrays and
 * scalars are a 400, not a crash in a handler.
 */
export function readSignedBody(
  req: IncomingMessage,
  secret: string,
  maxBytes = MAX_WEBHOOK_BYTES,
): Promise<SignedBody> {
  const tooLarge = `body over ${Math.round(maxBytes / (1024 * 1024))} MB: GitHub does not send webhook payloads that large`;
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes)
    return Promise.resolve({ ok: false, status: 413, error: tooLarge, unread: true });
  const header = req.headers["x-hub-signature-256"];
  const match = typeof header === "string" ? SIGNATURE.exec(header) : null;
  if (!match?.[1]) {
    const error =
      header === undefined
        ? "Required headers missing: x-hub-signature-256"
        : "x-hub-signature-256 is not sha256=<64 hex digits>";
    return Promise.resolve({ ok: false, status: 400, error, unread: true });
  }
  const expected = Buffer.from(match[1], "hex");
  const hmac = createHmac("sha256", secret);
  return readCappedBody(req, maxBytes, tooLarge, (chunk) => hmac.update(chunk)).then((body) => {
    if (!body.ok) return body;
    if (!timingSafeEqual(hmac.digest(), expected))
      return { ok: false, status: 401, error: "signature does not match", unread: false };
    return parseObject(body.raw);
  });
}

function parseObject(raw: Buffer): SignedBody {
  let payload: unknown;
  try {
    payload = JSON.parse(raw.toString("utf8"));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, status: 400, error: `body is not JSON: ${reason}`, unread: false };
  }
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
    const kind = payload === null ? "null" : Array.isArray(payload) ? "an array" : typeof payload;
    return { ok: false, status: 400, error: `body is ${kind}, not a JSON object`, unread: false };
  }
  return { ok: true, raw, payload: payload as Record<string, unknown> };
}
