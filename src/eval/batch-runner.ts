import type OpenAI from "openai";
import { APIError } from "openai";
import type { Batch } from "openai/resources/batches";
import type { ChatCompletionCreateParamsNonStreaming } from "openai/resources/chat/completions";
import {
  BATCH_FILE_LIMITS,
  type BatchFileLimits,
  type BatchLineResult,
  batchInputLine,
  isTerminalBatchStatus,
  neverRan,
  parseBatchFile,
  splitBatchFiles,
} from "../core/batch-jsonl.ts";
import type { BatchRecord } from "../core/result.ts";
import { BatchCallError, cancelBatch, readBatchFile, retrieveBatch, submitBatchFile } from "./batch-wire.ts";
import type { AttemptCache } from "./cache.ts";
import { createLimiter, sleep } from "./limiter.ts";

/**
 * Batch mode's transport for the runner (docs/batch.md). The runner's attempt state machine is
 * unchanged: each step still calls one function for one chat completion. Here that call parks
 * the request; once every running task is parked (or done), the parked requests become one
 * round: JSONL files under OpenAI's limits (one model per file), one batch each, polled with a growing interval until
 * they end. Each output line then answers its request exactly as an interactive answer would
 * (the runner validates it, continues the tool loop, retries), and whatever asks for another
 * request parks it for the next round. Rounds go on until no task is running.
 */
/**
 * How many of a round's requests (in the order they parked) may be sent: the runner's budget
 * decides, because a round is paid for all at once. The refused ones end the run with `reason`.
 */
export type RoundAdmission = (requests: readonly ChatCompletionCreateParamsNonStreaming[]) => {
  count: number;
  reason?: string;
  cap?: string;
};

export interface CompletionBatch {
  /** The completion body for this request, or the error the provider gave for it. */
  send(params: ChatCompletionCreateParamsNonStreaming): Promise<unknown>;
  /** The runner's say over each round before it is sent (its budget). */
  admit?(admission: RoundAdmission): void;
  /** A task started: the next round waits for it to park or finish. */
  enter(): void;
  /** A task finished (or stopped). */
  leave(): void;
}

/** Cache reads and writes in flight at once in batch mode (every task runs at once there). */
export const BATCH_CACHE_CONCURRENCY = 64;

/**
 * The cache with at most `limit` lookups and stores in flight. Batch mode starts every task at
 * once, and 100,000 cache files opened together would run out of file descriptors: an EMFILE is
 * an unreadable entry, so the run would quietly re-send (and pay for) what it had cached.
 */
export function boundedCache(cache: AttemptCache, limit = BATCH_CACHE_CONCURRENCY): AttemptCache {
  const run = createLimiter(limit);
  return {
    get: (key, options) => run(() => cache.get(key, options)),
    set: (key, value) => run(() => cache.set(key, value)),
    warnings: () => cache.warnings(),
  };
}

/** The batch ended without answering this request (cancelled, expired, failed, interrupted): the run stops, partial. */
export class BatchHalted extends Error {
  /** The budget key that stopped it, when a budget did. */
  readonly cap: string | undefined;
  constructor(reason: string, cap?: string) {
    super(reason);
    this.cap = cap;
  }
}

export interface BatchRoundsOptions {
  client: OpenAI;
  /** The client of the provider that serves `model` (the provider map); else `client`. */
  clientFor?: (model: string) => OpenAI;
  signal?: AbortSignal;
  /** First wait before reading a batch's status; each wait is 1.5× the last, up to `maxPollIntervalMs`. */
  pollIntervalMs?: number;
  maxPollIntervalMs?: number;
  /** Longest a round waits for its batches (the 24h window plus finalizing); then they are cancelled. */
  maxWaitMs?: number;
  limits?: BatchFileLimits;
  /** One line per batch event, for the door's progress output. */
  onEvent?: (message: string) => void;
}

/**
 * `MODELGATE_INTERNAL_BATCH_POLL_MS`, read by the doors: tests shorten the polling. Not a user
 * setting: polling from 5 s up to once a minute is plenty for a 24h window.
 */
export function internalBatchPolling(value: string | undefined): {
  pollIntervalMs?: number;
  maxPollIntervalMs?: number;
} {
  const ms = Number(value);
  if (value === undefined || !(ms > 0)) return {};
  return { pollIntervalMs: ms, maxPollIntervalMs: ms };
}

const DEFAULT_POLL_MS = 5_000;
const DEFAULT_MAX_POLL_MS = 60_000;
const DEFAULT_MAX_WAIT_MS = 26 * 3600_000;
/** Consecutive failed status reads before the run gives up on a batch (each read retries in the SDK too). */
const MAX_STATUS_FAILURES = 5;
const CANCEL_TIMEOUT_MS = 1500;

interface Parked {
  params: ChatCompletionCreateParamsNonStreaming;
  resolve: (body: unknown) => void;
  reject: (error: unknown) => void;
}

export class BatchRounds implements CompletionBatch {
  readonly #options: BatchRoundsOptions;
  #parked: Parked[] = [];
  #active = 0;
  #flushing = false;
  #checkScheduled = false;
  #halted: string | undefined;
  #rounds = 0;
  readonly #batches: BatchRecord[] = [];
  #admission: RoundAdmission | undefined;

  constructor(options: BatchRoundsOptions) {
    this.#options = options;
  }

  /** Rounds sent and every batch of them, for the result file. */
  summary(): { rounds: number; batches: BatchRecord[] } {
    return { rounds: this.#rounds, batches: this.#batches.map((b) => ({ ...b })) };
  }

  send(params: ChatCompletionCreateParamsNonStreaming): Promise<unknown> {
    if (this.#halted !== undefined) return Promise.reject(new BatchHalted(this.#halted));
    return new Promise((resolve, reject) => {
      this.#parked.push({ params, resolve, reject });
      this.#scheduleCheck();
    });
  }

  admit(admission: RoundAdmission): void {
    this.#admission = admission;
  }

  enter(): void {
    this.#active++;
  }

  leave(): void {
    this.#active--;
    this.#scheduleCheck();
  }

  /**
   * After the current turn of the event loop: every task that can still park this turn has, so
   * "all running tasks are parked" is exact, not a guess (a task reading the cache is running).
   */
  #scheduleCheck(): void {
    if (this.#checkScheduled) return;
    this.#checkScheduled = true;
    setImmediate(() => {
      this.#checkScheduled = false;
      if (this.#flushing || this.#parked.length === 0 || this.#parked.length < this.#active) return;
      const parked = this.#parked;
      this.#parked = [];
      this.#flushing = true;
      this.#round(parked)
        .catch((error: unknown) => {
          // A round that could not be sent ends the run: nothing later may be sent in its place.
          this.#halted ??= error instanceof Error ? error.message : String(error);
          const halted = error instanceof BatchHalted ? error : new BatchHalted(this.#halted);
          for (const item of parked) item.reject(halted);
        })
        .finally(() => {
          this.#flushing = false;
          this.#scheduleCheck();
        });
    });
  }

  async #round(all: readonly Parked[]): Promise<void> {
    const { signal, onEvent } = this.#options;
    // A round is paid for at once: only what the budget covers at worst is sent; the rest waits
    // for a later round, judged on what was really spent. Nothing admitted at all ends the run.
    const admitted = this.#admission?.(all.map((item) => item.params)) ?? { count: all.length };
    if (admitted.count === 0) {
      const reason = `batch round not sent: ${admitted.reason ?? "the run's budget cannot cover it"}`;
      onEvent?.(reason);
      const refused = new BatchHalted(reason, admitted.cap);
      for (const item of all) item.reject(refused);
      return;
    }
    const parked = all.slice(0, admitted.count);
    const deferred = all.slice(admitted.count);
    if (deferred.length > 0)
      onEvent?.(
        `batch round: ${deferred.length} requests wait for a later round (${admitted.reason ?? "budget"})`,
      );
    const round = ++this.#rounds;
    const ids = parked.map((_, index) => `modelgate-r${round}-${index}`);
    const waiting = new Map(ids.map((id, index) => [id, parked[index] as Parked]));
    // OpenAI takes one model per batch file: the lines are grouped by model (in first-seen
    // order, each group in sequence order), then split under the file limits.
    const byModel = new Map<string, number[]>();
    for (const [index, item] of parked.entries()) {
      const group = byModel.get(item.params.model) ?? [];
      group.push(index);
      byModel.set(item.params.model, group);
    }
    const files: string[][] = [];
    // Which requests each batch holds: files keep their group's order.
    const groups: string[][] = [];
    // Each file goes to the provider of its one model.
    const clients: OpenAI[] = [];
    for (const [model, indexes] of byModel) {
      let offset = 0;
      const lines = indexes.map((index) => batchInputLine(ids[index] as string, parked[index]?.params));
      for (const file of splitBatchFiles(lines, this.#options.limits ?? BATCH_FILE_LIMITS)) {
        files.push(file);
        clients.push(this.#clientOf(model));
        groups.push(indexes.slice(offset, offset + file.length).map((index) => ids[index] as string));
        offset += file.length;
      }
    }

    const submitted: Array<{ batch: Batch; record: BatchRecord; ids: string[]; client: OpenAI }> = [];
    for (const [index, lines] of files.entries()) {
      const client = clients[index] ?? this.#options.client;
      let batch: Batch;
      try {
        batch = await submitBatchFile(client, lines, `modelgate-round${round}-${index + 1}.jsonl`, signal);
      } catch (error) {
        await this.#cancelAll(submitted);
        const why = signal?.aborted ? "interrupted" : describe(error);
        // A provider without the Batch API (vLLM, Ollama, many gateways) answers 404/405 here.
        const hint =
          error instanceof BatchCallError && (error.status === 404 || error.status === 405)
            ? "; does this provider offer the Batch API? run without --batch / evals.mode: batch"
            : "";
        throw new BatchHalted(`batch round ${round}: could not submit file ${index + 1} (${why})${hint}`);
      }
      const record: BatchRecord = { id: batch.id, round, status: batch.status, requests: lines.length };
      this.#batches.push(record);
      submitted.push({ batch, record, ids: groups[index] ?? [], client });
      onEvent?.(`batch ${batch.id}: round ${round}, ${lines.length} requests submitted`);
    }

    const ended = await Promise.allSettled(submitted.map((s) => this.#awaitEnd(s.batch, s.record, s.client)));
    // Everything is read before any request is answered: an answered task parks its next step
    // at once, and once a batch of the round has ended badly that step must not be sent.
    const halts: string[] = [];
    const answers: Array<{ item: Parked; result: BatchLineResult; batchId: string }> = [];
    const lost: Array<{ item: Parked; why: string }> = [];
    for (const [index, settled] of ended.entries()) {
      const entry = submitted[index];
      if (!entry) continue;
      if (settled.status === "rejected") {
        halts.push(settled.reason instanceof Error ? settled.reason.message : String(settled.reason));
        continue;
      }
      const batch = settled.value;
      const read = await this.#readResults(batch, entry.client);
      for (const id of entry.ids) {
        const item = waiting.get(id);
        const result = read.results.get(id);
        if (!item || !result || neverRan(result)) continue;
        waiting.delete(id);
        answers.push({ item, result, batchId: batch.id });
      }
      if (batch.status !== "completed") halts.push(haltReason(batch));
      else {
        // A completed batch that lost a line: that request failed, named, never a silent pass.
        const why = read.malformed[0] ?? read.unread[0] ?? "no result line for this request";
        for (const id of entry.ids) {
          const item = waiting.get(id);
          if (!item) continue;
          waiting.delete(id);
          lost.push({ item, why: `batch ${batch.id}: ${why}` });
        }
      }
    }
    if (halts.length > 0) {
      this.#halted = halts.join("; ");
      onEvent?.(this.#halted);
    }
    for (const { item, result, batchId } of answers) settle(item, result, batchId);
    for (const { item, why } of lost) item.reject(new Error(why));
    const halted = this.#halted;
    if (halted !== undefined)
      for (const item of [...waiting.values(), ...deferred]) item.reject(new BatchHalted(halted));
    // Ahead of what parks meanwhile: they were first in the sequence.
    else this.#parked.unshift(...deferred);
  }

  #clientOf(model: string): OpenAI {
    return this.#options.clientFor?.(model) ?? this.#options.client;
  }

  async #cancelAll(batches: ReadonlyArray<{ batch: Batch; client: OpenAI }>): Promise<void> {
    await Promise.all(batches.map(({ batch, client }) => cancelBatch(client, batch.id, CANCEL_TIMEOUT_MS)));
  }

  /** Polls until the batch ends; interrupted, too slow or unreadable, it is cancelled and halts the run. */
  async #awaitEnd(submitted: Batch, record: BatchRecord, client: OpenAI): Promise<Batch> {
    const { signal, onEvent } = this.#options;
    const started = Date.now();
    const maxWait = this.#options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
    let wait = this.#options.pollIntervalMs ?? DEFAULT_POLL_MS;
    let failures = 0;
    let batch = submitted;
    while (!isTerminalBatchStatus(batch.status)) {
      if (Date.now() - started > maxWait) {
        const cancelled = await cancelBatch(client, batch.id, CANCEL_TIMEOUT_MS);
        record.status = cancelled ? "cancelling" : batch.status;
        throw new BatchHalted(
          `batch ${batch.id} still ${batch.status} after ${Math.round(maxWait / 60_000)} min${cancelled ? " (cancel requested)" : ""}`,
        );
      }
      try {
        await sleep(wait, signal);
      } catch {
        throw await this.#interrupted(batch, record, client);
      }
      wait = Math.min(wait * 1.5, this.#options.maxPollIntervalMs ?? DEFAULT_MAX_POLL_MS);
      try {
        const next = await retrieveBatch(client, batch.id, signal);
        if (next.status !== batch.status) onEvent?.(`batch ${next.id}: ${next.status}${counts(next)}`);
        batch = next;
        record.status = batch.status;
        failures = 0;
      } catch (error) {
        if (signal?.aborted) throw await this.#interrupted(batch, record, client);
        if (++failures >= MAX_STATUS_FAILURES) {
          const cancelled = await cancelBatch(client, batch.id, CANCEL_TIMEOUT_MS);
          throw new BatchHalted(
            `batch ${batch.id}: status unreadable ${failures} times in a row (${describe(error)})${cancelled ? "; cancel requested" : ""}`,
          );
        }
      }
    }
    record.status = batch.status;
    const { completed, failed } = batch.request_counts ?? {};
    if (completed !== undefined) record.completed = completed;
    if (failed !== undefined) record.failed = failed;
    return batch;
  }

  async #interrupted(batch: Batch, record: BatchRecord, client: OpenAI): Promise<BatchHalted> {
    const cancelled = await cancelBatch(client, batch.id, CANCEL_TIMEOUT_MS);
    record.status = batch.status;
    return new BatchHalted(
      `interrupted while batch ${batch.id} was ${batch.status}${cancelled ? " (cancel requested)" : ""}`,
    );
  }

  /** The output and error files of an ended batch; a file that cannot be read answers none of its lines. */
  async #readResults(batch: Batch, client: OpenAI) {
    const results = new Map<string, BatchLineResult>();
    const malformed: string[] = [];
    const unread: string[] = [];
    for (const [kind, fileId] of [
      ["output", batch.output_file_id],
      ["error", batch.error_file_id],
    ] as const) {
      if (!fileId) continue;
      let text: string;
      try {
        text = await readBatchFile(client, fileId, this.#options.signal);
      } catch (error) {
        unread.push(`its ${kind} file ${fileId} could not be read (${describe(error)})`);
        continue;
      }
      const parsed = parseBatchFile(text, `${kind} file ${fileId}`);
      malformed.push(...parsed.malformed);
      // An output line wins over an error line for the same request.
      for (const [id, result] of parsed.results) if (!results.has(id)) results.set(id, result);
    }
    return { results, malformed, unread };
  }
}

/** One line answers its request as an interactive call would: a body, or the provider's error. */
function settle(item: Parked, result: BatchLineResult, batchId: string): void {
  switch (result.kind) {
    case "answer":
      item.resolve(result.body);
      return;
    case "http_error": {
      const headers = new Headers(result.requestId ? { "x-request-id": result.requestId } : {});
      const body = isRecord(result.body) ? result.body : undefined;
      item.reject(APIError.generate(result.status, body, undefined, headers));
      return;
    }
    case "line_error":
      item.reject(new Error(`batch ${batchId}: ${result.code}: ${result.message.split("\n")[0]}`));
  }
}

function haltReason(batch: Batch): string {
  const why = batch.errors?.data?.[0]?.message;
  return `batch ${batch.id} ${batch.status}${counts(batch)}${why ? `: ${why.split("\n")[0]}` : ""}`;
}

function counts(batch: Batch): string {
  const c = batch.request_counts;
  return c ? ` (${c.completed}/${c.total} completed, ${c.failed} failed)` : "";
}

function describe(error: unknown): string {
  if (error instanceof APIError) return `HTTP ${error.status ?? "error"}: ${error.message.split("\n")[0]}`;
  return error instanceof Error ? (error.message.split("\n")[0] ?? "error") : String(error);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
