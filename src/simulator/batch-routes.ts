import { BatchInputError, MAX_BATCH_FILE_BYTES, parseBatchInput } from "./batch-input.ts";
import { type BatchStore, notFound } from "./batches.ts";
import type { FileStore } from "./files.ts";
import { HttpError } from "./http-error.ts";
import { errorBody } from "./protocol.ts";

/**
 * HTTP routes of the Files and Batches APIs (`/v1/files…`, `/v1/batches…`): request parsing and
 * OpenAI's error shapes; the stores do the work.
 */

export interface BatchRouteContext {
  files: FileStore;
  batches: BatchStore;
  /** The request body, refused with a 413 past `limit` bytes. */
  readBody(limit: number, what: string): Promise<Buffer>;
  contentType: string | undefined;
}

export type RouteReply =
  | { status: number; json: unknown }
  | { status: number; raw: Buffer; contentType: string };

/** Multipart framing around a 200 MB file is small; the file itself is checked exactly. */
const MULTIPART_SLACK_BYTES = 1024 * 1024;
const MAX_JSON_BYTES = 1024 * 1024;

function badRequest(message: string, param: string | null = null, code: string | null = null): HttpError {
  return new HttpError(400, errorBody(message, "invalid_request_error", code, param));
}

function methodNotAllowed(method: string, path: string): HttpError {
  return new HttpError(
    405,
    errorBody(`Method ${method} not allowed on ${path}.`, "invalid_request_error", "method_not_allowed"),
  );
}

async function uploadFile(ctx: BatchRouteContext): Promise<RouteReply> {
  const type = ctx.contentType ?? "";
  if (!/^multipart\/form-data\b/i.test(type))
    throw badRequest("POST /v1/files expects multipart/form-data with the fields 'file' and 'purpose'.");
  const raw = await ctx.readBody(MAX_BATCH_FILE_BYTES + MULTIPART_SLACK_BYTES, "The file upload");
  let form: FormData;
  try {
    // undici's multipart parser (the one behind fetch), so the SDK's own encoding is read as sent.
    form = await new Response(new Uint8Array(raw), { headers: { "content-type": type } }).formData();
  } catch {
    throw badRequest("The multipart/form-data body could not be parsed.");
  }
  const purpose = form.get("purpose");
  if (typeof purpose !== "string")
    throw badRequest("Missing required parameter: 'purpose'.", "purpose", "missing_required_parameter");
  if (purpose !== "batch")
    throw badRequest(
      `Invalid 'purpose': '${purpose}'. The simulator stores files for purpose 'batch' only.`,
      "purpose",
    );
  const file = form.get("file");
  if (file === null || typeof file === "string")
    throw badRequest(
      "Missing required parameter: 'file' (a file part).",
      "file",
      "missing_required_parameter",
    );
  if (file.size > MAX_BATCH_FILE_BYTES)
    throw badRequest(
      `The file is ${file.size} bytes; a batch file may be at most ${MAX_BATCH_FILE_BYTES} bytes (200 MB).`,
      "file",
    );
  if (!ctx.files.fits(file.size)) {
    throw badRequest(
      `The simulator's file store is full (${ctx.files.storedBytes} of ${ctx.files.maxBytes} bytes); delete files (DELETE /v1/files/{id}) or restart it.`,
      "file",
      "storage_full",
    );
  }
  const content = Buffer.from(await file.arrayBuffer());
  const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  let decoded: string;
  try {
    decoded = text.decode(content);
  } catch {
    throw badRequest(`File ${file.name || "(unnamed)"} is not UTF-8 text; a batch file is JSONL.`, "file");
  }
  try {
    const lines = parseBatchInput(decoded);
    return { status: 200, json: ctx.files.add(file.name || "upload.jsonl", "batch", content, lines) };
  } catch (err) {
    if (err instanceof BatchInputError) throw badRequest(err.message, "file", err.code);
    throw err;
  }
}

async function jsonBody(ctx: BatchRouteContext): Promise<Record<string, unknown>> {
  const raw = await ctx.readBody(MAX_JSON_BYTES, "The request body");
  let value: unknown;
  try {
    value = JSON.parse(raw.toString("utf8"));
  } catch {
    throw badRequest("We could not parse the JSON body of your request. (The simulator expects JSON.)");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw badRequest("The request body must be a JSON object.");
  return value as Record<string, unknown>;
}

function listLimit(query: URLSearchParams): number {
  const raw = query.get("limit");
  if (raw === null) return 20;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100)
    throw badRequest(`Invalid 'limit': ${raw}; expected a whole number from 1 to 100.`, "limit");
  return limit;
}

function listReply<T extends { id: string }>(data: T[], hasMore: boolean): RouteReply {
  return {
    status: 200,
    json: {
      object: "list",
      data,
      first_id: data[0]?.id ?? null,
      last_id: data.at(-1)?.id ?? null,
      has_more: hasMore,
    },
  };
}

async function filesRoute(ctx: BatchRouteContext, method: string, rest: string[]): Promise<RouteReply> {
  const path = `/v1/files${rest.length > 0 ? `/${rest.join("/")}` : ""}`;
  if (rest.length === 0) {
    if (method === "POST") return uploadFile(ctx);
    if (method === "GET") {
      const all = ctx.files.list();
      return listReply(all, false);
    }
    throw methodNotAllowed(method, path);
  }
  const id = decodeURIComponent(rest[0] ?? "");
  if (rest.length === 1) {
    if (method === "GET") {
      const file = ctx.files.get(id);
      if (!file) throw notFound("File", id);
      return { status: 200, json: file.object };
    }
    if (method === "DELETE") {
      if (!ctx.files.delete(id)) throw notFound("File", id);
      return { status: 200, json: { id, object: "file", deleted: true } };
    }
    throw methodNotAllowed(method, path);
  }
  if (rest.length === 2 && rest[1] === "content") {
    if (method !== "GET") throw methodNotAllowed(method, path);
    const file = ctx.files.get(id);
    if (!file) throw notFound("File", id);
    return { status: 200, raw: file.content, contentType: "application/octet-stream" };
  }
  throw new HttpError(
    404,
    errorBody(`Unknown request URL: ${method} ${path}.`, "invalid_request_error", "unknown_url"),
  );
}

async function batchesRoute(
  ctx: BatchRouteContext,
  method: string,
  rest: string[],
  query: URLSearchParams,
): Promise<RouteReply> {
  const path = `/v1/batches${rest.length > 0 ? `/${rest.join("/")}` : ""}`;
  if (rest.length === 0) {
    if (method === "POST") return { status: 200, json: ctx.batches.create(await jsonBody(ctx)) };
    if (method === "GET") {
      const page = ctx.batches.list(query.get("after"), listLimit(query));
      return listReply(page.data, page.has_more);
    }
    throw methodNotAllowed(method, path);
  }
  const id = decodeURIComponent(rest[0] ?? "");
  if (rest.length === 1) {
    if (method !== "GET") throw methodNotAllowed(method, path);
    return { status: 200, json: ctx.batches.get(id) };
  }
  if (rest.length === 2 && rest[1] === "cancel") {
    if (method !== "POST") throw methodNotAllowed(method, path);
    return { status: 200, json: ctx.batches.cancel(id) };
  }
  throw new HttpError(
    404,
    errorBody(`Unknown request URL: ${method} ${path}.`, "invalid_request_error", "unknown_url"),
  );
}

/** Whether `path` belongs to the Files or Batches API. */
export function isBatchPath(path: string): boolean {
  return /^\/v1\/(files|batches)(\/|$)/.test(path);
}

/** The reply for a Files or Batches route (`path` passed `isBatchPath`). */
export async function batchRoute(
  ctx: BatchRouteContext,
  method: string,
  path: string,
  query: URLSearchParams,
): Promise<RouteReply> {
  const parts = path.split("/").filter((p) => p !== "");
  if (parts[1] === "files") return filesRoute(ctx, method, parts.slice(2));
  return batchesRoute(ctx, method, parts.slice(2), query);
}
