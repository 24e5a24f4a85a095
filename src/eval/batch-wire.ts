import type OpenAI from "openai";
import { APIError, toFile } from "openai";
import type { Batch } from "openai/resources/batches";
import { BATCH_ENDPOINT } from "../core/batch-jsonl.ts";

/**
 * The Batch API calls, one function each, through the one OpenAI client: upload an input file,
 * create a batch over it, read its status, read a result file, cancel. Everything here is the
 * SDK's wire contract (`openai/resources/batches`, `files`); what the lines mean is
 * `src/core/batch-jsonl.ts` and what a round does with them is `batch-runner.ts`.
 */

/** Deadline of one files/batches call (an upload of 200 MB included); the SDK retries it itself. */
const CALL_TIMEOUT_MS = 300_000;

/** A files/batches call that failed, with the route it called (for a one-line reason). */
export class BatchCallError extends Error {
  readonly route: string;
  readonly status: number | undefined;
  constructor(route: string, error: unknown) {
    const status = error instanceof APIError ? error.status : undefined;
    const line = error instanceof Error ? (error.message.split("\n")[0] ?? "error") : String(error);
    // The SDK's message starts with the status ("404 Not Found"): said once, as HTTP 404.
    const detail = status !== undefined ? line.replace(new RegExp(`^${status}\\s*`), "") : line;
    super(`${route}: ${status !== undefined ? `HTTP ${status}: ` : ""}${detail || "error"}`);
    this.route = route;
    this.status = status;
  }
}

export async function submitBatchFile(
  client: OpenAI,
  lines: readonly string[],
  name: string,
  signal?: AbortSignal,
): Promise<Batch> {
  const options = { timeout: CALL_TIMEOUT_MS, ...(signal ? { signal } : {}) };
  const file = await client.files
    .create({ file: await toFile(Buffer.from(lines.join(""), "utf8"), name), purpose: "batch" }, options)
    .catch((error: unknown) => {
      throw new BatchCallError("POST /files", error);
    });
  return client.batches
    .create(
      {
        input_file_id: file.id,
        endpoint: BATCH_ENDPOINT,
        completion_window: "24h",
        metadata: { source: "modelgate" },
      },
      options,
    )
    .catch((error: unknown) => {
      throw new BatchCallError("POST /batches", error);
    });
}

export function retrieveBatch(client: OpenAI, id: string, signal?: AbortSignal): Promise<Batch> {
  return client.batches.retrieve(id, { timeout: CALL_TIMEOUT_MS, ...(signal ? { signal } : {}) });
}

export async function readBatchFile(client: OpenAI, fileId: string, signal?: AbortSignal): Promise<string> {
  const response = await client.files.content(fileId, {
    timeout: CALL_TIMEOUT_MS,
    ...(signal ? { signal } : {}),
  });
  return response.text();
}

/**
 * Best effort, bounded: a run that stops reading a batch asks the provider to stop it, so
 * nothing keeps spending on answers no one will read. Never throws (the run is already ending).
 */
export async function cancelBatch(client: OpenAI, id: string, timeoutMs: number): Promise<boolean> {
  try {
    await client.batches.cancel(id, { timeout: timeoutMs, maxRetries: 0 });
    return true;
  } catch {
    return false;
  }
}
