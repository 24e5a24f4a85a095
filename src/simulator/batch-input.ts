/**
 * The Batch API's input file: one JSON request per line,
 * `{custom_id, method: "POST", url: "/v1/chat/completions", body: {model, …}}`.
 * Checked whole when the file is uploaded, so a bad line is refused with its number before any
 * batch is created (OpenAI reports some of these only when the batch validates; the simulator
 * fails earlier, never later).
 */

/** OpenAI's documented caps for a batch input file. */
export const MAX_BATCH_FILE_BYTES = 200 * 1024 * 1024;
export const MAX_BATCH_LINES = 50_000;
const MAX_CUSTOM_ID_CHARS = 512;

/** Endpoints the simulator answers, so the only ones a batch line may name. */
export const BATCH_ENDPOINTS = ["/v1/chat/completions"] as const;
export type BatchEndpoint = (typeof BATCH_ENDPOINTS)[number];

export interface BatchInputLine {
  /** 1-based line number in the file. */
  line: number;
  customId: string;
  url: BatchEndpoint;
  /** The request body, validated against the endpoint only when the line runs (as OpenAI does). */
  body: Record<string, unknown>;
  model: string;
}

export class BatchInputError extends Error {
  readonly line: number | null;
  readonly code: string;
  constructor(code: string, line: number | null, message: string) {
    super(message);
    this.code = code;
    this.line = line;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function isEndpoint(value: unknown): value is BatchEndpoint {
  return BATCH_ENDPOINTS.some((e) => e === value);
}

function checkLine(value: unknown, n: number): BatchInputLine {
  const bad = (what: string) =>
    new BatchInputError("invalid_request", n, `Line ${n} of the batch file: ${what}.`);
  if (!isRecord(value)) throw bad("expected a JSON object");
  const { custom_id: customId, method, url, body } = value;
  if (typeof customId !== "string" || customId === "") throw bad("'custom_id' must be a non-empty string");
  if (customId.length > MAX_CUSTOM_ID_CHARS)
    throw bad(`'custom_id' is longer than ${MAX_CUSTOM_ID_CHARS} characters`);
  if (method !== "POST") throw bad(`'method' must be "POST", found ${JSON.stringify(method) ?? "nothing"}`);
  if (!isEndpoint(url)) {
    throw bad(
      `'url' must be one of ${BATCH_ENDPOINTS.join(", ")} (the endpoints the simulator serves), found ${JSON.stringify(url) ?? "nothing"}`,
    );
  }
  if (!isRecord(body)) throw bad("'body' must be a JSON object");
  const model = body.model;
  if (typeof model !== "string" || model === "") throw bad("'body.model' must be a non-empty string");
  return { line: n, customId, url, body, model };
}

/** Every line of a batch input file, or a `BatchInputError` naming the first bad line. */
export function parseBatchInput(text: string): BatchInputLine[] {
  const rows = text.split("\n");
  // One trailing newline (or CRLF) ends the last line; it is not an empty request.
  if (rows.at(-1) === "") rows.pop();
  if (rows.length === 0) throw new BatchInputError("empty_file", null, "The batch file is empty.");
  if (rows.length > MAX_BATCH_LINES) {
    throw new BatchInputError(
      "too_many_tasks",
      null,
      `The batch file has ${rows.length} lines; a batch holds at most ${MAX_BATCH_LINES} requests.`,
    );
  }
  const out: BatchInputLine[] = [];
  const seen = new Map<string, number>();
  for (const [i, raw] of rows.entries()) {
    const n = i + 1;
    const row = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (row.trim() === "")
      throw new BatchInputError("invalid_json_line", n, `Line ${n} of the batch file is empty.`);
    let value: unknown;
    try {
      value = JSON.parse(row);
    } catch {
      throw new BatchInputError("invalid_json_line", n, `Line ${n} of the batch file is not valid JSON.`);
    }
    const line = checkLine(value, n);
    const first = seen.get(line.customId);
    if (first !== undefined) {
      throw new BatchInputError(
        "duplicate_custom_id",
        n,
        `Line ${n} of the batch file repeats custom_id ${JSON.stringify(line.customId)} of line ${first}; each custom_id must be unique.`,
      );
    }
    seen.set(line.customId, n);
    out.push(line);
  }
  return out;
}
