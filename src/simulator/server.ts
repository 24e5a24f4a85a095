import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { ownRecord } from "../core/own.ts";
import { batchRoute, isBatchPath } from "./batch-routes.ts";
import { type BatchHook, BatchStore, type LineOutcome } from "./batches.ts";
import { type ForcedFaults, type Plan, parseFaultHeader, planCompletion } from "./behaviour.ts";
import { builtinProfiles } from "./builtin-profiles.ts";
import { FileStore } from "./files.ts";
import { HttpError } from "./http-error.ts";
import { buildCatalog, type ModelBehaviour, type ModelCatalog, type SimulatorProfiles } from "./profiles.ts";
import {
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatRequest,
  chatRequestSchema,
  errorBody,
  invalidRequest,
  type Model,
} from "./protocol.ts";
import { canonicalJson, sha256 } from "./rng.ts";

/**
 * The built-in OpenAI-compatible simulator: the default provider, so the whole flow runs
 * without an API key, and the provider every test talks to over loopback HTTP.
 *
 * Endpoints (under `/v1`): `GET /models`, `GET /models/{id}`, `POST /chat/completions`
 * (plain and streaming), and the Batch API: `/files` (upload, get, content, delete, list) and
 * `/batches` (create, get, cancel, list; see batches.ts). Also `GET /health`. Every response carries
 * `x-modelgate-simulated: true`; `x-simulator-trace` says what was drawn (hit/miss, drift,
 * fault…).
 *
 * Faults can be forced per request with the header `x-simulator-fault` (comma-separated):
 *
 * | value | effect |
 * |---|---|
 * | `429` / `429=MS` | 429 `rate_limit_exceeded` with `retry-after` (s) and `retry-after-ms` (profile's, scaled; or MS) |
 * | `500`, `503` | server error in OpenAI's error shape |
 * | `hang` | never answers (until the client gives up or the server closes) |
 * | `malformed` | 200 with a body cut in the middle (not JSON; for a stream, a broken `data:` line) |
 * | `wrong-model` / `wrong-model=ID` | answer with another `model` field (another profile's, or ID) and that model's behaviour |
 * | `drift`, `takeover`, `hit`, `miss`, `tool`, `no-tool` | force that behaviour draw |
 *
 * `x-simulator-fault-count: N` limits the faults to the first N sightings of this exact request
 * body, e.g. `429` + `1` = one 429, then the SDK's retry succeeds.
 */

export interface SimulatorOptions {
  /** 0 (default) = a free port. */
  port?: number;
  host?: "127.0.0.1";
  /** Default: the built-in profiles. */
  profiles?: SimulatorProfiles;
  /** Seed of every random draw (default "modelgate"). */
  seed?: string;
  /** Multiplies every simulated latency and Retry-After; tests use 0 or 0.01. Default 1. */
  timeScale?: number;
  /**
   * Default true: every response carries `x-modelgate-simulated: true`, so an eval pointed at it
   * by URL labels its numbers simulated and needs no key. Tests that use the simulator as a
   * stand-in for a real provider turn it off.
   */
  announce?: boolean;
  /**
   * When set, every request must carry `Authorization: Bearer <this>`; others get OpenAI's 401
   * (`invalid_api_key`). Tests use it to prove a request reached the provider with its own key.
   */
  requireApiKey?: string;
  /** The Batch API's pace and test hooks (not reachable over HTTP). */
  batch?: SimulatorBatchOptions;
}

export interface SimulatorBatchOptions {
  /** Lines of one batch in flight at once. Default 128 (an interactive run uses ~16). */
  concurrency?: number;
  /** Unscaled wait in `validating`, ms (default 1000), and in `finalizing` (default 500). */
  validatingMs?: number;
  finalizingMs?: number;
  /**
   * Unscaled completion window, ms (default 24 h, OpenAI's only window). Scaled like every
   * latency; with time scale 0 a batch never expires by time.
   */
  windowMs?: number;
  /**
   * Test hook: a batch expires once this fraction (0–1) of its lines has finished (lines start in
   * file order, so exactly the first ⌊fraction × total⌋ are answered). A number applies to every
   * batch; a function picks per batch (by ordinal, model, metadata), undefined = runs normally.
   */
  expireAt?: BatchHook;
  /** Test hook: a batch stops at this fraction and stays `in_progress` until cancelled (or its window closes). */
  stopAt?: BatchHook;
  /** Bytes of uploads the file store holds before refusing more (default 2 GiB). */
  maxStoredBytes?: number;
}

export interface SimulatorStats {
  /** HTTP requests received. */
  requests: number;
  /** Chat completion requests per requested model ID. */
  byModel: Record<string, number>;
  /** Responses per HTTP status ("200", "429"…); "hang" for requests left hanging. */
  byStatus: Record<string, number>;
  /** Batch lines carried out (each also counts in `byModel`, not in `requests`); absent before the first. */
  batchLines?: number;
}

export interface Simulator {
  /** `http://127.0.0.1:PORT/v1`, the `baseURL` of an OpenAI client. */
  url: string;
  stats: SimulatorStats;
  close(): Promise<void>;
}

export const SIMULATED_HEADER = "x-modelgate-simulated";
export const FAULT_HEADER = "x-simulator-fault";
export const FAULT_COUNT_HEADER = "x-simulator-fault-count";

/** The line `modelgate simulate` prints once the server listens. */
export function formatListening(url: string): string {
  return `listening on ${url}`;
}

const MAX_BODY_BYTES = 32 * 1024 * 1024;
const noFaults = () => ({ forced: { names: new Set<never>() } as ForcedFaults });
/** A hang in a batch: the line is given up after this long (unscaled), as a request timeout. */
const BATCH_HANG_MS = 60_000;

/** OpenAI's answers to a missing or wrong key (the key itself is never echoed). */
function checkApiKey(req: IncomingMessage, expected: string): void {
  const header = req.headers.authorization;
  if (!header?.startsWith("Bearer ")) {
    throw new HttpError(
      401,
      errorBody(
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        "invalid_request_error",
      ),
    );
  }
  if (header.slice("Bearer ".length) !== expected) {
    throw new HttpError(
      401,
      errorBody("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"),
    );
  }
}

function modelObject(id: string, model: ModelBehaviour): Model {
  return { id, object: "model", created: model.created, owned_by: model.owned_by };
}

function listModels(catalog: ModelCatalog): Model[] {
  const out: Model[] = [];
  for (const model of catalog.models) {
    out.push(modelObject(model.id, model));
    for (const alias of model.aliases)
      if (catalog.byId.get(alias) === model) out.push(modelObject(alias, model));
  }
  return out;
}

function notFoundModel(id: string): HttpError {
  return new HttpError(
    404,
    errorBody(
      `The model \`${id}\` does not exist or you do not have access to it.`,
      "invalid_request_error",
      "model_not_found",
      "model",
    ),
  );
}

/** Split text into pieces of `size` code points (never inside a surrogate pair). */
function pieces(text: string, size: number): string[] {
  const points = Array.from(text);
  const out: string[] = [];
  for (let i = 0; i < points.length; i += size) out.push(points.slice(i, i + size).join(""));
  return out;
}

async function readBytes(req: IncomingMessage, limit: number, what = "Request body"): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) {
      throw new HttpError(
        413,
        errorBody(`${what} is larger than ${limit} bytes.`, "invalid_request_error", "body_too_large"),
      );
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

async function readBody(req: IncomingMessage): Promise<string> {
  return (await readBytes(req, MAX_BODY_BYTES)).toString("utf8");
}

function fraction(value: BatchHook | undefined, name: string): BatchHook | undefined {
  if (value === undefined || typeof value === "function") return value;
  if (!(value >= 0 && value <= 1)) throw new Error(`batch.${name} must be a fraction from 0 to 1`);
  return value;
}

/** The chat completion a 200 plan answers with (interactive body and batch line alike). */
function completionBody(plan: Extract<Plan, { kind: "answer" }>, created: number): ChatCompletion {
  return {
    id: plan.id,
    object: "chat.completion",
    created,
    model: plan.model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: plan.content,
          refusal: null,
          ...(plan.toolCalls.length > 0
            ? {
                tool_calls: plan.toolCalls.map((c) => ({
                  id: c.id,
                  type: "function" as const,
                  function: { name: c.name, arguments: c.arguments },
                })),
              }
            : {}),
        },
        logprobs: null,
        finish_reason: plan.finishReason,
      },
    ],
    usage: plan.usage,
    service_tier: "default",
    system_fingerprint: "fp_modelgate_sim",
  };
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const host = opts.host ?? "127.0.0.1";
  if (host !== "127.0.0.1") throw new Error("the simulator listens on 127.0.0.1 only");
  const catalog = buildCatalog(opts.profiles ?? builtinProfiles());
  const seed = opts.seed ?? "modelgate";
  const timeScale = opts.timeScale ?? 1;
  if (!(timeScale >= 0) || !Number.isFinite(timeScale))
    throw new Error("timeScale must be a finite number ≥ 0");

  const stats: SimulatorStats = { requests: 0, byModel: ownRecord(), byStatus: ownRecord() };
  const occurrences = new Map<string, number>();
  const throttledCounts = new Map<string, number>();
  const prefixCache = new Set<string>();
  const closing = new AbortController();
  let requestCounter = 0;

  const count = (status: string) => {
    stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
  };

  const wait = async (ms: number) => {
    if (ms <= 0) return;
    await sleep(ms, undefined, { signal: closing.signal });
  };

  const baseHeaders = (requestId: string): Record<string, string> => ({
    ...(opts.announce === false ? {} : { [SIMULATED_HEADER]: "true" }),
    "x-request-id": requestId,
  });

  const sendJson = (
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string>,
    raw?: string,
  ) => {
    const text = raw ?? JSON.stringify(body);
    res.writeHead(status, {
      ...headers,
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength(text)),
    });
    res.end(text);
    count(String(status));
  };

  /**
   * Validates a chat request and plans its answer, keeping the per-body sighting counts: the one
   * path for interactive requests and batch lines, so both get the same answer for a request.
   */
  const planChat = (json: unknown, faults: () => { forced: ForcedFaults; limit?: number } = noFaults) => {
    const parsed = chatRequestSchema.safeParse(json);
    if (!parsed.success) {
      const model = (json as { model?: unknown } | null)?.model;
      if (typeof model === "string") stats.byModel[model] = (stats.byModel[model] ?? 0) + 1;
      throw new HttpError(400, invalidRequest(parsed.error));
    }
    const body: ChatRequest = parsed.data;
    stats.byModel[body.model] = (stats.byModel[body.model] ?? 0) + 1;
    const model = catalog.byId.get(body.model);
    if (!model) throw notFoundModel(body.model);
    const { forced: forcedOrNone, limit: faultLimit } = faults();

    const bodyKey = sha256(canonicalJson(json));
    // Only requests that reach the model count as sightings; a 429 is answered before it.
    const occurrence = occurrences.get(bodyKey) ?? 0;
    const throttledKey = `${bodyKey}#${occurrence}`;
    const throttled = throttledCounts.get(throttledKey) ?? 0;
    const sightings = occurrence + throttled;
    const forced: ForcedFaults =
      faultLimit !== undefined && sightings >= faultLimit ? { names: new Set() } : forcedOrNone;

    const plan = planCompletion(body, model, {
      seed,
      occurrence,
      throttled,
      catalog,
      forced,
      prefixCache,
      timeScale,
    });
    if (plan.kind === "error" && plan.status === 429) throttledCounts.set(throttledKey, throttled + 1);
    else {
      occurrences.set(bodyKey, occurrence + 1);
      throttledCounts.delete(throttledKey);
    }
    return { plan, body };
  };

  const handleChat = async (
    req: IncomingMessage,
    res: ServerResponse,
    headers: Record<string, string>,
    started: number,
  ) => {
    const text = await readBody(req);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new HttpError(
        400,
        errorBody(
          "We could not parse the JSON body of your request. (The simulator expects JSON.)",
          "invalid_request_error",
        ),
      );
    }
    // The fault headers are judged after the body and the model, so a bad body is a 400 first.
    const faults = () => {
      const faultHeader = req.headers[FAULT_HEADER];
      const forced = parseFaultHeader(Array.isArray(faultHeader) ? faultHeader.join(",") : faultHeader);
      if ("error" in forced) {
        throw new HttpError(400, errorBody(forced.error, "invalid_request_error", null, FAULT_HEADER));
      }
      const countHeader = req.headers[FAULT_COUNT_HEADER];
      if (typeof countHeader !== "string" || countHeader.trim() === "") return { forced };
      const limit = Number(countHeader);
      if (!Number.isInteger(limit) || limit < 0) {
        throw new HttpError(
          400,
          errorBody(
            `${FAULT_COUNT_HEADER} must be a whole number ≥ 0.`,
            "invalid_request_error",
            null,
            FAULT_COUNT_HEADER,
          ),
        );
      }
      return { forced, limit };
    };
    const { plan, body } = planChat(json, faults);
    headers["x-simulator-trace"] = plan.trace;
    await carryOut(plan, body, res, headers, started);
  };

  /** One batch line, planned now exactly as the same request sent interactively. */
  const executeLine = (json: Record<string, unknown>): LineOutcome => {
    stats.batchLines = (stats.batchLines ?? 0) + 1;
    requestCounter += 1;
    const requestId = `req_sim_${requestCounter.toString(16).padStart(8, "0")}`;
    try {
      if (json.stream === true) {
        // A batch answers whole bodies only; a streaming request cannot be honoured as asked.
        throw new HttpError(
          400,
          errorBody(
            "'stream' is not supported in a batch request.",
            "invalid_request_error",
            "invalid_value",
            "stream",
          ),
        );
      }
      const { plan } = planChat(json);
      if (plan.kind === "hang") return { kind: "timeout", latencyMs: BATCH_HANG_MS * timeScale };
      if (plan.kind === "error")
        return {
          kind: "response",
          status: plan.status,
          body: plan.body,
          latencyMs: plan.latencyMs,
          requestId,
        };
      const completion = completionBody(plan, Math.floor(Date.now() / 1000));
      const text = JSON.stringify(completion);
      return {
        kind: "response",
        status: 200,
        // A `malformed` draw: the body is cut in half, as the interactive endpoint sends it.
        body: plan.malformed ? text.slice(0, Math.floor(text.length / 2)) : completion,
        latencyMs: plan.latencyMs,
        requestId,
      };
    } catch (err) {
      if (err instanceof HttpError)
        return { kind: "response", status: err.status, body: err.body, latencyMs: 0, requestId };
      throw err;
    }
  };

  const batchSettings = opts.batch ?? {};
  const concurrency = batchSettings.concurrency ?? 128;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new Error("batch.concurrency must be a whole number ≥ 1");
  const files = new FileStore(batchSettings.maxStoredBytes ?? 2 * 1024 * 1024 * 1024);
  const batches = new BatchStore({
    files,
    execute: executeLine,
    wait,
    closing: closing.signal,
    settings: {
      concurrency,
      validatingMs: (batchSettings.validatingMs ?? 1000) * timeScale,
      finalizingMs: (batchSettings.finalizingMs ?? 500) * timeScale,
      windowMs: timeScale > 0 ? (batchSettings.windowMs ?? 24 * 3600 * 1000) * timeScale : undefined,
      expireAt: fraction(batchSettings.expireAt, "expireAt"),
      stopAt: fraction(batchSettings.stopAt, "stopAt"),
    },
  });

  const carryOut = async (
    plan: Plan,
    body: ChatRequest,
    res: ServerResponse,
    headers: Record<string, string>,
    started: number,
  ) => {
    if (plan.kind === "hang") {
      count("hang");
      // Never answer: the client's timeout (or close()) ends it.
      await new Promise<void>((resolve) => {
        res.on("close", () => resolve());
        closing.signal.addEventListener("abort", () => resolve(), { once: true });
      });
      return;
    }
    if (plan.kind === "error") {
      await wait(plan.latencyMs);
      if (plan.retryAfterMs !== undefined) {
        headers["retry-after-ms"] = String(Math.round(plan.retryAfterMs));
        headers["retry-after"] = String(Math.ceil(plan.retryAfterMs / 1000));
        headers["x-ratelimit-remaining-requests"] = "0";
      }
      sendJson(res, plan.status, plan.body, headers);
      return;
    }
    const created = Math.floor(Date.now() / 1000);
    if (!body.stream) {
      await wait(plan.latencyMs);
      if (res.destroyed) return;
      const completion = completionBody(plan, created);
      headers["openai-processing-ms"] = String(Math.round(Date.now() - started));
      const text = JSON.stringify(completion);
      sendJson(
        res,
        200,
        completion,
        headers,
        plan.malformed ? text.slice(0, Math.floor(text.length / 2)) : undefined,
      );
      return;
    }

    // Streaming.
    await wait(plan.firstTokenMs);
    if (res.destroyed) return;
    const includeUsage = body.stream_options?.include_usage === true;
    res.writeHead(200, {
      ...headers,
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
    });
    count("200");
    const chunk = (
      choices: ChatCompletionChunk["choices"],
      usage?: ChatCompletionChunk["usage"],
    ): ChatCompletionChunk => ({
      id: plan.id,
      object: "chat.completion.chunk",
      created,
      model: plan.model,
      service_tier: "default",
      system_fingerprint: "fp_modelgate_sim",
      choices,
      ...(includeUsage ? { usage: usage ?? null } : {}),
    });
    const send = (data: ChatCompletionChunk | string) => {
      res.write(`data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`);
    };
    send(
      chunk([
        {
          index: 0,
          delta: { role: "assistant", content: plan.toolCalls.length > 0 ? null : "", refusal: null },
          logprobs: null,
          finish_reason: null,
        },
      ]),
    );
    if (plan.malformed) {
      const text = JSON.stringify(
        chunk([{ index: 0, delta: { content: "…" }, logprobs: null, finish_reason: null }]),
      );
      res.end(`data: ${text.slice(0, Math.floor(text.length / 2))}\n\n`);
      return;
    }
    const piece = 16; // ≈ 4 tokens per chunk
    for (const part of pieces(plan.content ?? "", piece)) {
      await wait(plan.perTokenMs * Math.ceil(part.length / 4));
      if (res.destroyed) return;
      send(chunk([{ index: 0, delta: { content: part }, logprobs: null, finish_reason: null }]));
    }
    for (const [index, call] of plan.toolCalls.entries()) {
      send(
        chunk([
          {
            index: 0,
            delta: {
              tool_calls: [
                { index, id: call.id, type: "function", function: { name: call.name, arguments: "" } },
              ],
            },
            logprobs: null,
            finish_reason: null,
          },
        ]),
      );
      for (const part of pieces(call.arguments, piece)) {
        await wait(plan.perTokenMs * Math.ceil(part.length / 4));
        if (res.destroyed) return;
        send(
          chunk([
            {
              index: 0,
              delta: { tool_calls: [{ index, function: { arguments: part } }] },
              logprobs: null,
              finish_reason: null,
            },
          ]),
        );
      }
    }
    send(chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: plan.finishReason }]));
    if (includeUsage) send(chunk([], plan.usage));
    send("[DONE]");
    res.end();
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    stats.requests += 1;
    requestCounter += 1;
    const started = Date.now();
    const requestId = `req_sim_${requestCounter.toString(16).padStart(8, "0")}`;
    const headers = baseHeaders(requestId);
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const path = url.pathname.replace(/\/+$/, "");
    const method = req.method ?? "GET";
    try {
      if (opts.requireApiKey !== undefined && path !== "/health") checkApiKey(req, opts.requireApiKey);
      if (path === "/health" && method === "GET") {
        sendJson(res, 200, { ok: true, simulated: true }, headers);
      } else if (path === "/v1/models" && method === "GET") {
        sendJson(res, 200, { object: "list", data: listModels(catalog) }, headers);
      } else if (path.startsWith("/v1/models/") && method === "GET") {
        const id = decodeURIComponent(path.slice("/v1/models/".length));
        const model = catalog.byId.get(id);
        if (!model) throw notFoundModel(id);
        sendJson(res, 200, modelObject(id, model), headers);
      } else if (path === "/v1/chat/completions" && method === "POST") {
        await handleChat(req, res, headers, started);
      } else if (isBatchPath(path)) {
        const reply = await batchRoute(
          {
            files,
            batches,
            readBody: (limit, what) => readBytes(req, limit, what),
            contentType: req.headers["content-type"],
          },
          method,
          path,
          url.searchParams,
        );
        if ("raw" in reply) {
          res.writeHead(reply.status, {
            ...headers,
            "content-type": reply.contentType,
            "content-length": String(reply.raw.length),
          });
          res.end(reply.raw);
          count(String(reply.status));
        } else sendJson(res, reply.status, reply.json, headers);
      } else if (path === "/v1/models" || path.startsWith("/v1/models/") || path === "/v1/chat/completions") {
        throw new HttpError(
          405,
          errorBody(
            `Method ${method} not allowed on ${path}.`,
            "invalid_request_error",
            "method_not_allowed",
          ),
        );
      } else {
        throw new HttpError(
          404,
          errorBody(
            `Unknown request URL: ${method} ${path}. The simulator serves /v1/models, /v1/chat/completions, /v1/files and /v1/batches.`,
            "invalid_request_error",
            "unknown_url",
          ),
        );
      }
    } catch (err) {
      if (closing.signal.aborted) return;
      if (res.headersSent || res.destroyed) {
        res.destroy();
        return;
      }
      if (err instanceof HttpError) sendJson(res, err.status, err.body, headers);
      else {
        const message = err instanceof Error ? err.message : String(err);
        sendJson(res, 500, errorBody(`Simulator failure: ${message}`, "server_error"), headers);
      }
    }
  };

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  let closed: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}/v1`,
    stats,
    close() {
      closed ??= new Promise<void>((resolve, reject) => {
        closing.abort();
        server.close((err) => (err ? reject(err) : batches.drain().then(resolve)));
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
