import { z } from "zod";

/**
 * The Batch API's file formats (https://platform.openai.com/docs/guides/batch): the input file is
 * one `{custom_id, method, url, body}` per line; the output and error files are one
 * `{custom_id, response: {status_code, request_id, body} | null, error: {code, message} | null}`
 * per line, in any order. Pure: text in, data out (the uploads and downloads are `src/eval/batch-wire.ts`).
 */

/** OpenAI's per-file limits: 50,000 requests and 200 MB. */
export const BATCH_FILE_LIMITS = { maxLines: 50_000, maxBytes: 200 * 1024 * 1024 } as const;

export type BatchFileLimits = { maxLines: number; maxBytes: number };

/** The one endpoint modelgate batches: the same chat completions the interactive runner calls. */
export const BATCH_ENDPOINT = "/v1/chat/completions" as const;

/** One request line of an input file, newline included. */
export function batchInputLine(customId: string, body: unknown): string {
  return `${JSON.stringify({ custom_id: customId, method: "POST", url: BATCH_ENDPOINT, body })}\n`;
}

/**
 * Lines split into files under the limits, in order. A single line over the byte limit still
 * gets a file of its own: the provider then rejects that request, which names it, rather than
 * the run silently dropping it.
 */
export function splitBatchFiles(lines: readonly string[], limits: BatchFileLimits = BATCH_FILE_LIMITS) {
  const files: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  const utf8 = new TextEncoder();
  for (const line of lines) {
    const size = utf8.encode(line).length;
    if (current.length > 0 && (current.length >= limits.maxLines || bytes + size > limits.maxBytes)) {
      files.push(current);
      current = [];
      bytes = 0;
    }
    current.push(line);
    bytes += size;
  }
  if (current.length > 0) files.push(current);
  return files;
}

/** What one output or error line says about its request. */
export type BatchLineResult =
  | { kind: "answer"; body: unknown; requestId: string | undefined }
  | { kind: "http_error"; status: number; body: unknown; requestId: string | undefined }
  | { kind: "line_error"; code: string; message: string };

const outputLine = z.looseObject({
  custom_id: z.string().min(1),
  response: z
    .looseObject({
      status_code: z.int(),
      request_id: z.string().optional(),
      body: z.unknown(),
    })
    .nullable()
    .optional(),
  error: z
    .looseObject({ code: z.string().nullable().optional(), message: z.string().nullable().optional() })
    .nullable()
    .optional(),
});

export interface ParsedBatchFile {
  results: Map<string, BatchLineResult>;
  /** `file line N: why` for lines that are not a batch result (their requests stay unanswered). */
  malformed: string[];
}

/**
 * An output or error file read whole. A line that cannot be read answers nothing: its request
 * stays unanswered and the caller fails that attempt closed, naming the file and line.
 */
export function parseBatchFile(text: string, fileName: string): ParsedBatchFile {
  const results = new Map<string, BatchLineResult>();
  const malformed: string[] = [];
  const lines = text.split("\n");
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === "") continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      malformed.push(`${fileName} line ${index + 1}: not JSON`);
      continue;
    }
    const parsed = outputLine.safeParse(json);
    if (!parsed.success) {
      malformed.push(`${fileName} line ${index + 1}: not a batch result line`);
      continue;
    }
    const { custom_id, response, error } = parsed.data;
    results.set(custom_id, lineResult(response ?? null, error ?? null));
  }
  return { results, malformed };
}

function lineResult(
  response: { status_code: number; request_id?: string | undefined; body?: unknown } | null,
  error: { code?: string | null | undefined; message?: string | null | undefined } | null,
): BatchLineResult {
  if (response && response.status_code >= 200 && response.status_code < 300) {
    return { kind: "answer", body: response.body, requestId: response.request_id };
  }
  if (response) {
    return {
      kind: "http_error",
      status: response.status_code,
      body: response.body,
      requestId: response.request_id,
    };
  }
  return {
    kind: "line_error",
    code: error?.code ?? "unknown",
    message: error?.message ?? "the batch gave no response for this request",
  };
}

/** Error codes of a line the batch never ran: the batch ended before it (not a model failure). */
export function neverRan(result: BatchLineResult): boolean {
  return (
    result.kind === "line_error" && (result.code === "batch_expired" || result.code === "batch_cancelled")
  );
}

/** Terminal statuses of a batch; only `completed` ran every line. */
export const TERMINAL_BATCH_STATUSES = ["completed", "failed", "expired", "cancelled"] as const;

export function isTerminalBatchStatus(status: string): boolean {
  return (TERMINAL_BATCH_STATUSES as readonly string[]).includes(status);
}
