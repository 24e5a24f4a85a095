import type { Batch, BatchError, BatchUsage } from "openai/resources/batches";
import { BATCH_ENDPOINTS, type BatchInputLine } from "./batch-input.ts";
import type { FileStore } from "./files.ts";
import { HttpError } from "./http-error.ts";
import { errorBody } from "./protocol.ts";

/**
 * The simulator's `/v1/batches`: a batch runs in the background through the SAME planning as
 * the interactive endpoint (the server injects `execute`), so one request gives one answer
 * whichever way it is sent. Lines start in file order, at most `concurrency` at a time, each
 * taking its planned (scaled) latency; results are written to an output file (2xx lines) and an
 * error file (everything else) when the batch ends, in input order.
 *
 * Status machine: validating → in_progress → finalizing → completed; validating → failed (a line
 * names another endpoint or model); in_progress → expired (the window, or the `expireAt` hook);
 * any live status → cancelling → cancelled. Lines that started before a cancel or expiry finish
 * and are kept; lines that never started get `batch_cancelled` / `batch_expired` error lines, as
 * OpenAI does, and count as failed.
 */

/** What one line's request came to, planned synchronously by the server's chat planner. */
export type LineOutcome =
  | { kind: "response"; status: number; body: unknown; latencyMs: number; requestId: string }
  /** The model never answered (a `hang` draw): OpenAI's `request_timeout` line. */
  | { kind: "timeout"; latencyMs: number };

/** One line of an output or error file, as OpenAI writes it. */
export interface BatchOutputLine {
  id: string;
  custom_id: string;
  response: { status_code: number; request_id: string; body: unknown } | null;
  error: { code: string; message: string } | null;
}

/**
 * A batch as OpenAI sends it: every field present, `null` until it applies (the SDK's type marks
 * them optional; the real API sends nulls, so a client must cope with both).
 */
export type WireBatch = Omit<Batch, Nullable> & { [K in Nullable]-?: Exclude<Batch[K], undefined> | null };
type Nullable = (typeof NULLABLE)[number];

const NULLABLE = [
  "output_file_id",
  "error_file_id",
  "errors",
  "in_progress_at",
  "finalizing_at",
  "completed_at",
  "failed_at",
  "expired_at",
  "cancelling_at",
  "cancelled_at",
  "metadata",
  "usage",
] as const;

function wire(batch: Batch): WireBatch {
  const b = structuredClone(batch);
  return {
    ...b,
    output_file_id: b.output_file_id ?? null,
    error_file_id: b.error_file_id ?? null,
    errors: b.errors ?? null,
    in_progress_at: b.in_progress_at ?? null,
    finalizing_at: b.finalizing_at ?? null,
    completed_at: b.completed_at ?? null,
    failed_at: b.failed_at ?? null,
    expired_at: b.expired_at ?? null,
    cancelling_at: b.cancelling_at ?? null,
    cancelled_at: b.cancelled_at ?? null,
    metadata: b.metadata ?? null,
    usage: b.usage ?? null,
  };
}

export interface BatchSettings {
  /** Lines in flight at once per batch (interactive clients use ~16; a batch far more). */
  concurrency: number;
  /** Scaled waits of the validating and finalizing steps, ms. */
  validatingMs: number;
  finalizingMs: number;
  /** The 24 h completion window, scaled, ms; undefined = never (time scale 0). */
  windowMs: number | undefined;
  /** Test hook: the batch expires once this fraction of its lines has finished. */
  expireAt?: BatchHook;
  /** Test hook: processing stops (status stays `in_progress`) once this fraction has finished. */
  stopAt?: BatchHook;
}

/** What a test hook sees of a batch when it starts. */
export interface BatchHookInfo {
  /** 1 for the server's first batch, 2 for the second… */
  ordinal: number;
  id: string;
  model: string;
  total: number;
  metadata: Record<string, string> | null;
}

/** A fraction (0–1) for every batch, or per batch (undefined = not this one). */
export type BatchHook = number | ((batch: BatchHookInfo) => number | undefined);

export interface BatchDeps {
  files: FileStore;
  settings: BatchSettings;
  execute(body: Record<string, unknown>): LineOutcome;
  /** Resolves after ms; rejects once the server closes. */
  wait(ms: number): Promise<void>;
  closing: AbortSignal;
}

export interface CreateBatchParams {
  input_file_id?: unknown;
  endpoint?: unknown;
  completion_window?: unknown;
  metadata?: unknown;
}

interface BatchState {
  ordinal: number;
  batch: Batch;
  lines: BatchInputLine[];
  results: Array<BatchOutputLine | undefined>;
  cancelRequested: boolean;
  windowClosed: boolean;
  /** Wakes a stalled (`stopAt`) batch when it is cancelled or its window closes. */
  wake?: () => void;
}

const nowS = () => Math.floor(Date.now() / 1000);
const WINDOW_S = 24 * 3600;
const MAX_METADATA_KEYS = 16;

function badParam(message: string, param: string, code: string | null = "invalid_value"): HttpError {
  return new HttpError(400, errorBody(message, "invalid_request_error", code, param));
}

function checkMetadata(value: unknown): Record<string, string> | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "object" || Array.isArray(value))
    throw badParam("'metadata' must be an object of strings.", "metadata");
  const entries = Object.entries(value);
  if (entries.length > MAX_METADATA_KEYS)
    throw badParam(`'metadata' has ${entries.length} keys; at most ${MAX_METADATA_KEYS}.`, "metadata");
  const out: Record<string, string> = Object.create(null);
  for (const [key, v] of entries) {
    if (key.length > 64)
      throw badParam(`metadata key '${key.slice(0, 64)}…' is longer than 64 characters.`, "metadata");
    if (typeof v !== "string" || v.length > 512)
      throw badParam(`metadata.${key} must be a string of at most 512 characters.`, "metadata");
    out[key] = v;
  }
  return out;
}

function isTerminal(status: Batch["status"]): boolean {
  return status === "completed" || status === "failed" || status === "expired" || status === "cancelled";
}

function addUsage(total: BatchUsage, body: unknown): void {
  if (body === null || typeof body !== "object") return;
  const usage = (body as { usage?: unknown }).usage;
  if (usage === null || typeof usage !== "object") return;
  const u = usage as {
    prompt_tokens?: number;
    completion_tokens?: number;
    prompt_tokens_details?: { cached_tokens?: number };
    completion_tokens_details?: { reasoning_tokens?: number };
  };
  total.input_tokens += u.prompt_tokens ?? 0;
  total.output_tokens += u.completion_tokens ?? 0;
  total.total_tokens += (u.prompt_tokens ?? 0) + (u.completion_tokens ?? 0);
  total.input_tokens_details.cached_tokens += u.prompt_tokens_details?.cached_tokens ?? 0;
  total.output_tokens_details.reasoning_tokens += u.completion_tokens_details?.reasoning_tokens ?? 0;
}

export class BatchStore {
  readonly #deps: BatchDeps;
  readonly #batches = new Map<string, BatchState>();
  /** Batches (and their workers) still running, so close() does not leave timers behind. */
  readonly #running = new Set<Promise<void>>();
  #counter = 0;
  #lineCounter = 0;

  constructor(deps: BatchDeps) {
    this.#deps = deps;
  }

  create(params: CreateBatchParams): WireBatch {
    const { input_file_id: inputFileId, endpoint, completion_window: window } = params;
    if (typeof inputFileId !== "string" || inputFileId === "")
      throw badParam(
        "Missing required parameter: 'input_file_id'.",
        "input_file_id",
        "missing_required_parameter",
      );
    if (typeof endpoint !== "string")
      throw badParam("Missing required parameter: 'endpoint'.", "endpoint", "missing_required_parameter");
    if (!BATCH_ENDPOINTS.some((e) => e === endpoint)) {
      throw badParam(
        `Invalid 'endpoint': ${JSON.stringify(endpoint)}. The simulator batches only ${BATCH_ENDPOINTS.join(", ")}.`,
        "endpoint",
      );
    }
    if (window !== "24h")
      throw badParam(
        `Invalid 'completion_window': ${JSON.stringify(window) ?? "missing"}; only "24h" is supported.`,
        "completion_window",
      );
    const metadata = checkMetadata(params.metadata);
    const file = this.#deps.files.get(inputFileId);
    if (!file) throw notFound("File", inputFileId);
    if (file.object.purpose !== "batch" || !file.lines) {
      throw badParam(
        `File ${inputFileId} has purpose '${file.object.purpose}'; a batch's input file must be uploaded with purpose 'batch'.`,
        "input_file_id",
      );
    }
    this.#counter += 1;
    const createdAt = nowS();
    const { windowMs } = this.#deps.settings;
    const batch: Batch = {
      id: `batch_sim${this.#counter.toString(16).padStart(8, "0")}`,
      object: "batch",
      endpoint,
      model: file.lines[0]?.model ?? "",
      input_file_id: inputFileId,
      completion_window: "24h",
      status: "validating",
      created_at: createdAt,
      expires_at: createdAt + (windowMs === undefined ? WINDOW_S : Math.max(1, Math.ceil(windowMs / 1000))),
      request_counts: { total: file.lines.length, completed: 0, failed: 0 },
      metadata,
    };
    const state: BatchState = {
      ordinal: this.#counter,
      batch,
      lines: file.lines,
      results: new Array(file.lines.length).fill(undefined),
      cancelRequested: false,
      windowClosed: false,
    };
    this.#batches.set(batch.id, state);
    const run = this.#run(state).catch((err: unknown) => {
      // A closing server ends a run early (nothing is left to report to); anything else is a
      // simulator fault, shown on the batch rather than leaving it in progress for ever.
      if (this.#deps.closing.aborted) return;
      batch.status = "failed";
      batch.failed_at = nowS();
      const message = err instanceof Error ? err.message : String(err);
      batch.errors = {
        object: "list",
        data: [{ code: "simulator_error", line: null, message, param: null }],
      };
    });
    this.#running.add(run);
    void run.finally(() => this.#running.delete(run));
    return wire(batch);
  }

  get(id: string): WireBatch {
    const state = this.#batches.get(id);
    if (!state) throw notFound("Batch", id);
    return wire(state.batch);
  }

  cancel(id: string): WireBatch {
    const state = this.#batches.get(id);
    if (!state) throw notFound("Batch", id);
    const { batch } = state;
    if (isTerminal(batch.status) || batch.status === "finalizing") {
      throw new HttpError(
        409,
        errorBody(
          `Cannot cancel a batch with status '${batch.status}'.`,
          "invalid_request_error",
          "batch_not_cancellable",
        ),
      );
    }
    if (!state.cancelRequested) {
      state.cancelRequested = true;
      batch.status = "cancelling";
      batch.cancelling_at = nowS();
      state.wake?.();
    }
    return wire(batch);
  }

  /** Newest first; `after` is the last id of the previous page (the SDK's cursor). */
  list(after: string | null, limit: number): { data: WireBatch[]; has_more: boolean } {
    const all = [...this.#batches.values()].map((s) => s.batch).reverse();
    let start = 0;
    if (after !== null) {
      const at = all.findIndex((b) => b.id === after);
      if (at === -1) throw badParam(`Invalid 'after': no batch ${after}.`, "after");
      start = at + 1;
    }
    const page = all.slice(start, start + limit);
    return { data: page.map(wire), has_more: start + limit < all.length };
  }

  /** Waits for every running batch to stop (after the server's closing signal). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.#running]);
  }

  async #run(state: BatchState): Promise<void> {
    const { settings } = this.#deps;
    const { batch, lines } = state;
    await this.#deps.wait(settings.validatingMs);
    if (state.cancelRequested) return this.#end(state, "cancelled");
    const invalid = this.#validate(state);
    if (invalid) {
      batch.status = "failed";
      batch.failed_at = nowS();
      batch.errors = { object: "list", data: [invalid] };
      return;
    }
    batch.status = "in_progress";
    batch.in_progress_at = nowS();
    let timer: NodeJS.Timeout | undefined;
    if (settings.windowMs !== undefined) {
      timer = setTimeout(() => {
        state.windowClosed = true;
        state.wake?.();
      }, settings.windowMs);
      timer.unref();
    }
    try {
      const total = lines.length;
      const info: BatchHookInfo = {
        ordinal: state.ordinal,
        id: batch.id,
        model: batch.model ?? "",
        total,
        metadata: batch.metadata ?? null,
      };
      const limitOf = (hook: BatchHook | undefined) => {
        const fraction = typeof hook === "function" ? hook(info) : hook;
        if (fraction === undefined) return total;
        if (!(fraction >= 0 && fraction <= 1))
          throw new Error(`batch hook: ${fraction} is not a fraction from 0 to 1`);
        return Math.min(total, Math.floor(fraction * total));
      };
      const expireLimit = limitOf(settings.expireAt);
      const stopLimit = Math.min(limitOf(settings.stopAt), expireLimit);
      let next = 0;
      const halted = () => state.cancelRequested || state.windowClosed || this.#deps.closing.aborted;
      const worker = async () => {
        while (!halted() && next < stopLimit) {
          const index = next;
          next += 1;
          await this.#runLine(state, index);
          // At time scale 0 lines take no time: let polls and other requests in now and then.
          if (index % 64 === 63) await new Promise<void>((resolve) => setImmediate(resolve));
        }
      };
      const workers = Math.max(1, Math.min(settings.concurrency, stopLimit));
      await Promise.all(Array.from({ length: workers }, () => worker()));
      if (this.#deps.closing.aborted) return;
      if (next < total && !state.cancelRequested && !state.windowClosed && next < expireLimit) {
        // The stopAt hook: hold at in_progress until cancelled or the window closes.
        await new Promise<void>((resolve) => {
          state.wake = resolve;
          this.#deps.closing.addEventListener("abort", () => resolve(), { once: true });
        });
        state.wake = undefined;
        if (this.#deps.closing.aborted) return;
      }
    } finally {
      clearTimeout(timer);
    }
    if (state.cancelRequested) return this.#end(state, "cancelled");
    if (state.results.some((r) => r === undefined)) return this.#end(state, "expired");
    batch.status = "finalizing";
    batch.finalizing_at = nowS();
    await this.#deps.wait(settings.finalizingMs);
    this.#end(state, "completed");
  }

  /** OpenAI's validation step: one endpoint and one model per batch. */
  #validate(state: BatchState): BatchError | undefined {
    const { batch, lines } = state;
    const model = lines[0]?.model;
    for (const line of lines) {
      if (line.url !== batch.endpoint) {
        return {
          code: "url_mismatch",
          line: line.line,
          param: "url",
          message: `Line ${line.line}: the url ${line.url} does not match the batch's endpoint ${batch.endpoint}.`,
        };
      }
      if (line.model !== model) {
        return {
          code: "model_mismatch",
          line: line.line,
          param: "body.model",
          message: `Line ${line.line}: model ${line.model} differs from ${model} of line 1; a batch's requests must all use one model.`,
        };
      }
    }
    return undefined;
  }

  async #runLine(state: BatchState, index: number): Promise<void> {
    const line = state.lines[index];
    if (!line) return;
    const outcome = this.#deps.execute(line.body);
    await this.#deps.wait(outcome.latencyMs);
    this.#lineCounter += 1;
    const id = `batch_req_sim${this.#lineCounter.toString(16).padStart(8, "0")}`;
    const counts = state.batch.request_counts;
    if (outcome.kind === "timeout") {
      state.results[index] = {
        id,
        custom_id: line.customId,
        response: null,
        error: {
          code: "request_timeout",
          message: "The underlying call to the model timed out (simulated).",
        },
      };
      if (counts) counts.failed += 1;
      return;
    }
    state.results[index] = {
      id,
      custom_id: line.customId,
      response: { status_code: outcome.status, request_id: outcome.requestId, body: outcome.body },
      error: null,
    };
    if (counts) {
      if (outcome.status >= 200 && outcome.status < 300) counts.completed += 1;
      else counts.failed += 1;
    }
  }

  #end(state: BatchState, status: "completed" | "cancelled" | "expired"): void {
    const { batch } = state;
    const code = status === "cancelled" ? "batch_cancelled" : "batch_expired";
    const message =
      status === "cancelled"
        ? "This request was not executed because the batch was cancelled."
        : "This request could not be executed before the completion window expired.";
    const output: string[] = [];
    const errors: string[] = [];
    const usage: BatchUsage = {
      input_tokens: 0,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: 0,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 0,
    };
    for (const [index, line] of state.lines.entries()) {
      let result = state.results[index];
      if (!result) {
        this.#lineCounter += 1;
        result = {
          id: `batch_req_sim${this.#lineCounter.toString(16).padStart(8, "0")}`,
          custom_id: line.customId,
          response: null,
          error: { code, message },
        };
        if (batch.request_counts) batch.request_counts.failed += 1;
      }
      const ok =
        result.response !== null && result.response.status_code >= 200 && result.response.status_code < 300;
      if (ok) addUsage(usage, result.response?.body);
      (ok ? output : errors).push(JSON.stringify(result));
    }
    const files = this.#deps.files;
    if (output.length > 0)
      batch.output_file_id = files.add(
        `${batch.id}_output.jsonl`,
        "batch_output",
        Buffer.from(`${output.join("\n")}\n`),
      ).id;
    if (errors.length > 0)
      batch.error_file_id = files.add(
        `${batch.id}_error.jsonl`,
        "batch_output",
        Buffer.from(`${errors.join("\n")}\n`),
      ).id;
    batch.usage = usage;
    batch.status = status;
    const at = nowS();
    if (status === "completed") batch.completed_at = at;
    else if (status === "cancelled") batch.cancelled_at = at;
    else batch.expired_at = at;
  }
}

export function notFound(kind: "File" | "Batch", id: string): HttpError {
  return new HttpError(404, errorBody(`No such ${kind} object: ${id}`, "invalid_request_error", null, "id"));
}
