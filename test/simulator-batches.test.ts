import OpenAI, { BadRequestError, ConflictError, NotFoundError, toFile } from "openai";
import type { Batch } from "openai/resources/batches";
import type {
  ChatCompletion,
  ChatCompletionCreateParamsNonStreaming,
} from "openai/resources/chat/completions";
import { afterEach, describe, expect, it } from "vitest";
import {
  type BatchOutputLine,
  builtinProfiles,
  mergeProfiles,
  type Simulator,
  type SimulatorOptions,
  type SimulatorProfiles,
  startSimulator,
} from "../src/simulator/index.ts";

/**
 * The simulator's Files and Batches endpoints over the wire, with the real `openai` SDK's
 * `files` and `batches` clients.
 */

const running: Simulator[] = [];

async function start(opts: SimulatorOptions = {}): Promise<Simulator> {
  const sim = await startSimulator({ timeScale: 0, profiles: quiet(), ...opts });
  running.push(sim);
  return sim;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

function client(sim: Simulator): OpenAI {
  return new OpenAI({ baseURL: sim.url, apiKey: "sk-sim", maxRetries: 0 });
}

/** Built-ins without random transport faults, so counts are exact. */
function quiet(errors: Partial<SimulatorProfiles["defaults"] & object>["errors"] = {}): SimulatorProfiles {
  return mergeProfiles(builtinProfiles(), {
    defaults: {
      errors: { server_error: 0, unavailable: 0, rate_limit: 0, hang: 0, malformed: 0, ...errors },
    },
  });
}

const QUESTIONS = [
  "How do I reset my password?",
  "Can I get a refund for my last order?",
  "What is the capital of France?",
  "How do I cancel my subscription?",
  "Write fizz buzz in Python",
  "How do I export my data?",
  "Where can I change my billing address?",
  "Reverse a linked list, please",
  "Is there a mobile app?",
  "How do I add a team member?",
];

function request(question: string, model = "gpt-5.4"): ChatCompletionCreateParamsNonStreaming {
  return {
    model,
    messages: [
      { role: "system", content: "You are a helpful support assistant." },
      { role: "user", content: question },
    ],
    max_completion_tokens: 400,
  };
}

function jsonl(rows: unknown[]): string {
  return `${rows.map((r) => JSON.stringify(r)).join("\n")}\n`;
}

function lines(bodies: ChatCompletionCreateParamsNonStreaming[]): string {
  return jsonl(
    bodies.map((body, i) => ({ custom_id: `case-${i}`, method: "POST", url: "/v1/chat/completions", body })),
  );
}

async function upload(c: OpenAI, text: string, name = "batch.jsonl") {
  return c.files.create({ file: await toFile(Buffer.from(text), name), purpose: "batch" });
}

const TERMINAL = new Set(["completed", "failed", "expired", "cancelled"]);

async function until(c: OpenAI, id: string, done: (b: Batch) => boolean = (b) => TERMINAL.has(b.status)) {
  for (let i = 0; i < 4000; i++) {
    const batch = await c.batches.retrieve(id);
    if (done(batch)) return batch;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`batch ${id} did not get there`);
}

async function readLines(c: OpenAI, fileId: string | null | undefined): Promise<BatchOutputLine[]> {
  if (!fileId) return [];
  const text = await (await c.files.content(fileId)).text();
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as BatchOutputLine);
}

async function runBatch(c: OpenAI, bodies: ChatCompletionCreateParamsNonStreaming[]) {
  const file = await upload(c, lines(bodies));
  const created = await c.batches.create({
    input_file_id: file.id,
    endpoint: "/v1/chat/completions",
    completion_window: "24h",
    metadata: { suite: "support" },
  });
  const batch = await until(c, created.id);
  return {
    file,
    created,
    batch,
    output: await readLines(c, batch.output_file_id),
    errors: await readLines(c, batch.error_file_id),
  };
}

describe("files", () => {
  it("stores an uploaded JSONL file: retrieve, content, list, delete", async () => {
    const sim = await start();
    const c = client(sim);
    const text = lines([request("hi")]);
    const file = await upload(c, text, "cases.jsonl");
    expect(file).toMatchObject({
      id: expect.stringMatching(/^file-/),
      object: "file",
      bytes: Buffer.byteLength(text),
      filename: "cases.jsonl",
      purpose: "batch",
      status: "processed",
    });
    expect(await c.files.retrieve(file.id)).toEqual(file);
    expect(await (await c.files.content(file.id)).text()).toBe(text);
    const listed = [];
    for await (const f of c.files.list()) listed.push(f.id);
    expect(listed).toEqual([file.id]);
    expect(await c.files.delete(file.id)).toEqual({ id: file.id, object: "file", deleted: true });
    await expect(c.files.retrieve(file.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it("refuses a file over OpenAI's 50,000 requests, and wrong methods with 405", async () => {
    const sim = await start();
    const c = client(sim);
    const row = JSON.stringify({
      custom_id: "x",
      method: "POST",
      url: "/v1/chat/completions",
      body: request("hi"),
    });
    const text = Array.from({ length: 50_001 }, (_, i) => row.replace('"x"', `"c${i}"`)).join("\n");
    const err = await upload(c, text).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).code).toBe("too_many_tasks");
    expect((err as BadRequestError).message).toMatch(/50001 lines; a batch holds at most 50000/);
    for (const [method, path] of [
      ["PUT", "/batches"],
      ["DELETE", "/batches/batch_x"],
      ["GET", "/batches/batch_x/cancel"],
      ["POST", "/files/file-x/content"],
    ] as const) {
      const res = await fetch(`${sim.url}${path}`, { method });
      expect(res.status, `${method} ${path}`).toBe(405);
    }
  });

  it("refuses uploads once the file store is full, and takes them again after a delete", async () => {
    const text = lines([request("hi")]);
    const sim = await start({ batch: { maxStoredBytes: Buffer.byteLength(text) * 2 } });
    const c = client(sim);
    const first = await upload(c, text);
    await upload(c, text);
    const err = await upload(c, text).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).code).toBe("storage_full");
    expect((err as BadRequestError).message).toMatch(/file store is full .*DELETE \/v1\/files/);
    await c.files.delete(first.id);
    expect((await upload(c, text)).purpose).toBe("batch");
  });

  it("refuses a bad JSONL line with a 400 naming the line", async () => {
    const sim = await start();
    const c = client(sim);
    const good = { custom_id: "a", method: "POST", url: "/v1/chat/completions", body: request("hi") };
    const cases: Array<[string, RegExp, string]> = [
      [
        `${JSON.stringify(good)}\n{"custom_id": "b", "method": "POST",\n`,
        /Line 2 .*not valid JSON/,
        "invalid_json_line",
      ],
      [
        jsonl([good, { ...good, custom_id: "b" }, good]),
        /Line 3 .*repeats custom_id "a" of line 1/,
        "duplicate_custom_id",
      ],
      [
        jsonl([good, { ...good, custom_id: "b", url: "/v1/embeddings" }]),
        /Line 2 .*'url' must be one of \/v1\/chat\/completions/,
        "invalid_request",
      ],
      [jsonl([{ ...good, method: "GET" }]), /Line 1 .*'method' must be "POST"/, "invalid_request"],
      [jsonl([{ ...good, custom_id: "" }]), /Line 1 .*'custom_id'/, "invalid_request"],
      [jsonl([{ ...good, body: { messages: [] } }]), /Line 1 .*'body.model'/, "invalid_request"],
      [
        `${JSON.stringify(good)}\n\n${JSON.stringify({ ...good, custom_id: "b" })}\n`,
        /Line 2 .*empty/,
        "invalid_json_line",
      ],
      ["", /empty/, "empty_file"],
    ];
    for (const [text, message, code] of cases) {
      const err = await upload(c, text).catch((e: unknown) => e);
      expect(err, text).toBeInstanceOf(BadRequestError);
      expect((err as BadRequestError).message).toMatch(message);
      expect((err as BadRequestError).code).toBe(code);
      expect((err as BadRequestError).param).toBe("file");
      expect((err as BadRequestError).type).toBe("invalid_request_error");
    }
    const wrongPurpose = await c.files
      .create({ file: await toFile(Buffer.from("x"), "x.txt"), purpose: "assistants" })
      .catch((e: unknown) => e);
    expect((wrongPurpose as BadRequestError).param).toBe("purpose");
    expect(sim.stats.byStatus).toEqual({ "400": cases.length + 1 });
  });
});

describe("batches", () => {
  it("runs a batch to completed: status, counts, timestamps, usage and the output file", async () => {
    const sim = await start();
    const c = client(sim);
    const bodies = QUESTIONS.slice(0, 4).map((q) => request(q));
    const { file, created, batch, output, errors } = await runBatch(c, bodies);
    expect(created).toMatchObject({
      object: "batch",
      endpoint: "/v1/chat/completions",
      input_file_id: file.id,
      completion_window: "24h",
      status: "validating",
      metadata: { suite: "support" },
      request_counts: { total: 4, completed: 0, failed: 0 },
      output_file_id: null,
      in_progress_at: null,
      completed_at: null,
    });
    expect(batch.status).toBe("completed");
    expect(batch.request_counts).toEqual({ total: 4, completed: 4, failed: 0 });
    for (const key of [
      "created_at",
      "in_progress_at",
      "finalizing_at",
      "completed_at",
      "expires_at",
    ] as const)
      expect(batch[key], key).toBeTypeOf("number");
    expect(batch.error_file_id).toBeNull();
    expect((await c.files.retrieve(batch.output_file_id ?? "")).purpose).toBe("batch_output");
    expect(output.map((l) => l.custom_id)).toEqual(["case-0", "case-1", "case-2", "case-3"]);
    let input = 0;
    let out = 0;
    for (const line of output) {
      expect(line.id).toMatch(/^batch_req_/);
      expect(line.error).toBeNull();
      expect(line.response?.status_code).toBe(200);
      expect(line.response?.request_id).toMatch(/^req_/);
      const body = line.response?.body as ChatCompletion;
      expect(body.object).toBe("chat.completion");
      expect(body.choices[0]?.message.content).toBeTypeOf("string");
      input += body.usage?.prompt_tokens ?? 0;
      out += body.usage?.completion_tokens ?? 0;
    }
    expect(errors).toEqual([]);
    expect(batch.usage).toMatchObject({ input_tokens: input, output_tokens: out, total_tokens: input + out });
    expect(sim.stats.batchLines).toBe(4);
    expect(sim.stats.byModel).toEqual({ "gpt-5.4": 4 });
  });

  it("answers each line exactly as the interactive endpoint answers the same request", async () => {
    const bodies = [
      ...QUESTIONS.map((q) => request(q, "gpt-5.5")),
      {
        ...request("Where is my order 12345?", "gpt-5.5"),
        tools: [
          {
            type: "function" as const,
            function: {
              name: "lookup_order",
              parameters: {
                type: "object",
                properties: { order_id: { type: "string" } },
                required: ["order_id"],
              },
            },
          },
        ],
      },
      // The same request twice: the second sighting is a fresh draw, in both ways of sending.
      request(QUESTIONS[0] ?? "", "gpt-5.5"),
    ];
    const interactive = await start();
    const batched = await start();
    const answers: ChatCompletion[] = [];
    for (const body of bodies) answers.push(await client(interactive).chat.completions.create(body));
    const { batch, output } = await runBatch(client(batched), bodies);
    expect(batch.request_counts).toEqual({ total: bodies.length, completed: bodies.length, failed: 0 });
    const strip = ({ created: _, ...rest }: ChatCompletion) => rest;
    expect(output.map((l) => strip(l.response?.body as ChatCompletion))).toEqual(answers.map(strip));
    expect(answers.some((a) => (a.choices[0]?.message.tool_calls?.length ?? 0) > 0)).toBe(true);
  });

  it("turns the profile's per-line faults into error-file lines with their status", async () => {
    const sim = await start({
      profiles: mergeProfiles(quiet({ server_error: 1 }), {
        models: { "gpt-5.5": { errors: { server_error: 0 } } },
      }),
    });
    const c = client(sim);
    const { batch, output, errors } = await runBatch(c, [request("hi"), request("hello")]);
    expect(batch.status).toBe("completed");
    expect(batch.request_counts).toEqual({ total: 2, completed: 0, failed: 2 });
    expect(output).toEqual([]);
    expect(batch.output_file_id).toBeNull();
    expect(errors.map((l) => [l.custom_id, l.response?.status_code, l.error])).toEqual([
      ["case-0", 500, null],
      ["case-1", 500, null],
    ]);
    expect(errors[0]?.response?.body).toMatchObject({ error: { type: "server_error" } });
  });

  it("answers an invalid request body or unknown model per line, as OpenAI does", async () => {
    const sim = await start();
    const c = client(sim);
    const text = jsonl([
      { custom_id: "ok", method: "POST", url: "/v1/chat/completions", body: request("hi", "gpt-5.4") },
      {
        custom_id: "bad",
        method: "POST",
        url: "/v1/chat/completions",
        body: { model: "gpt-5.4", messages: [] },
      },
      {
        custom_id: "stream",
        method: "POST",
        url: "/v1/chat/completions",
        body: { ...request("hi"), stream: true },
      },
    ]);
    const created = await c.batches.create({
      input_file_id: (await upload(c, text)).id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    const batch = await until(c, created.id);
    expect(batch.request_counts).toEqual({ total: 3, completed: 1, failed: 2 });
    const [bad, stream] = await readLines(c, batch.error_file_id);
    expect(bad?.custom_id).toBe("bad");
    expect(bad?.response?.status_code).toBe(400);
    expect(bad?.response?.body).toMatchObject({ error: { param: "messages" } });
    expect(stream?.response?.status_code).toBe(400);
    expect(stream?.response?.body).toMatchObject({ error: { param: "stream" } });
  });

  it("fails validation when lines name two models, naming the line", async () => {
    const sim = await start();
    const c = client(sim);
    const file = await upload(
      c,
      lines([request("a", "gpt-5.4"), request("b", "gpt-5.4"), request("c", "gpt-5.5")]),
    );
    const created = await c.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    const batch = await until(c, created.id);
    expect(batch.status).toBe("failed");
    expect(batch.failed_at).toBeTypeOf("number");
    expect(batch.errors?.data).toEqual([
      expect.objectContaining({ code: "model_mismatch", line: 3, param: "body.model" }),
    ]);
    expect(batch.output_file_id).toBeNull();
    expect(sim.stats.batchLines).toBeUndefined();
  });

  it("refuses bad create parameters with 400s naming the parameter", async () => {
    const sim = await start();
    const c = client(sim);
    const file = await upload(c, lines([request("a")]));
    const base = {
      input_file_id: file.id,
      endpoint: "/v1/chat/completions" as const,
      completion_window: "24h" as const,
    };
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ ...base, endpoint: "/v1/embeddings" }, "endpoint"],
      [{ ...base, completion_window: "1h" }, "completion_window"],
      [{ ...base, input_file_id: undefined }, "input_file_id"],
      [{ ...base, metadata: { k: 1 } }, "metadata"],
    ];
    for (const [params, param] of bad) {
      const err = await c.batches.create(params as never).catch((e: unknown) => e);
      expect(err, param).toBeInstanceOf(BadRequestError);
      expect((err as BadRequestError).param).toBe(param);
    }
  });

  it("cancel keeps the lines that ran in the output file and ends cancelled", async () => {
    const sim = await start({ batch: { stopAt: 0.5 } });
    const c = client(sim);
    const file = await upload(c, lines(QUESTIONS.map((q) => request(q))));
    const created = await c.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    const stalled = await until(c, created.id, (b) => (b.request_counts?.completed ?? 0) === 5);
    expect(stalled.status).toBe("in_progress");
    const cancelling = await c.batches.cancel(created.id);
    expect(["cancelling", "cancelled"]).toContain(cancelling.status);
    expect(cancelling.cancelling_at).toBeTypeOf("number");
    const batch = await until(c, created.id);
    expect(batch.status).toBe("cancelled");
    expect(batch.cancelled_at).toBeTypeOf("number");
    expect(batch.request_counts).toEqual({ total: 10, completed: 5, failed: 5 });
    const output = await readLines(c, batch.output_file_id);
    expect(output.map((l) => l.custom_id)).toEqual(["case-0", "case-1", "case-2", "case-3", "case-4"]);
    const errors = await readLines(c, batch.error_file_id);
    expect(errors.map((l) => [l.custom_id, l.response, l.error?.code])).toEqual(
      [5, 6, 7, 8, 9].map((i) => [`case-${i}`, null, "batch_cancelled"]),
    );
    await expect(c.batches.cancel(created.id)).rejects.toBeInstanceOf(ConflictError);
    expect(sim.stats.batchLines).toBe(5);
  });

  it("expiry keeps the lines that ran and marks the rest batch_expired", async () => {
    const sim = await start({ batch: { expireAt: 0.3 } });
    const c = client(sim);
    const { batch, output, errors } = await runBatch(
      c,
      QUESTIONS.map((q) => request(q)),
    );
    expect(batch.status).toBe("expired");
    expect(batch.expired_at).toBeTypeOf("number");
    expect(batch.request_counts).toEqual({ total: 10, completed: 3, failed: 7 });
    expect(output.map((l) => l.custom_id)).toEqual(["case-0", "case-1", "case-2"]);
    expect(errors).toHaveLength(7);
    expect(errors.every((l) => l.error?.code === "batch_expired" && l.response === null)).toBe(true);
  });

  it("a hook picks one batch; its unanswered lines re-sent in a new batch get the interactive answers", async () => {
    const bodies = QUESTIONS.map((q) => request(q, "gpt-5.5"));
    const interactive = await start();
    const answers: ChatCompletion[] = [];
    for (const body of bodies) answers.push(await client(interactive).chat.completions.create(body));
    const sim = await start({ batch: { expireAt: (b) => (b.ordinal === 1 ? 0.4 : undefined) } });
    const c = client(sim);
    const first = await runBatch(c, bodies);
    expect(first.batch.status).toBe("expired");
    const rest = bodies.slice(first.output.length);
    const second = await runBatch(c, rest);
    expect(second.batch.status).toBe("completed");
    const strip = ({ created: _, ...rest }: ChatCompletion) => rest;
    const got = [...first.output, ...second.output].map((l) => strip(l.response?.body as ChatCompletion));
    expect(got).toEqual(answers.map(strip));
  });

  it("a hook that throws fails the batch with the reason instead of leaving it in progress", async () => {
    const sim = await start({
      batch: {
        stopAt: () => {
          throw new Error("hook broke");
        },
      },
    });
    const { batch } = await runBatch(client(sim), [request("a")]);
    expect(batch.status).toBe("failed");
    expect(batch.errors?.data?.[0]).toMatchObject({ code: "simulator_error", message: "hook broke" });
  });

  it("expires by the (scaled) completion window", async () => {
    const sim = await start({
      timeScale: 1,
      batch: { validatingMs: 0, finalizingMs: 0, windowMs: 300, stopAt: 0.5 },
      profiles: mergeProfiles(quiet(), {
        defaults: { latency: { base_ms: 1, per_token_ms: 0, jitter_ms: 0 } },
      }),
    });
    const c = client(sim);
    const { batch, output } = await runBatch(
      c,
      QUESTIONS.slice(0, 4).map((q) => request(q)),
    );
    expect(batch.status).toBe("expired");
    expect(output).toHaveLength(2);
  });

  it("404s unknown file and batch ids in OpenAI's error shape", async () => {
    const sim = await start();
    const c = client(sim);
    const calls: Array<[string, () => Promise<unknown>]> = [
      ["batches.retrieve", () => c.batches.retrieve("batch_nope")],
      ["batches.cancel", () => c.batches.cancel("batch_nope")],
      ["files.retrieve", () => c.files.retrieve("file-nope")],
      ["files.content", () => c.files.content("file-nope")],
      ["files.delete", () => c.files.delete("file-nope")],
      [
        "batches.create",
        () =>
          c.batches.create({
            input_file_id: "file-nope",
            endpoint: "/v1/chat/completions",
            completion_window: "24h",
          }),
      ],
    ];
    for (const [name, call] of calls) {
      const err = await call().catch((e: unknown) => e);
      expect(err, name).toBeInstanceOf(NotFoundError);
      expect((err as NotFoundError).type).toBe("invalid_request_error");
      expect((err as NotFoundError).message).toMatch(/nope/);
    }
    const raw = await fetch(`${sim.url}/batches/batch_nope`);
    const body = (await raw.json()) as { error: Record<string, unknown> };
    expect(Object.keys(body.error).sort()).toEqual(["code", "message", "param", "type"]);
  });

  it("lists batches newest first, page by page with after/limit", async () => {
    const sim = await start();
    const c = client(sim);
    const file = await upload(c, lines([request("a")]));
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const b = await c.batches.create({
        input_file_id: file.id,
        endpoint: "/v1/chat/completions",
        completion_window: "24h",
      });
      ids.push(b.id);
    }
    const first = await c.batches.list({ limit: 2 });
    expect(first.data.map((b) => b.id)).toEqual([ids[4], ids[3]]);
    expect(first.has_more).toBe(true);
    const all: string[] = [];
    for await (const b of c.batches.list({ limit: 2 })) all.push(b.id);
    expect(all).toEqual([...ids].reverse());
    const after = await c.batches.list({ after: ids[1], limit: 10 });
    expect(after.data.map((b) => b.id)).toEqual([ids[0]]);
    expect(after.has_more).toBe(false);
    await expect(c.batches.list({ limit: 0 })).rejects.toBeInstanceOf(BadRequestError);
  });

  it("runs lines concurrently: far faster than one after another, but not instant", async () => {
    // 100 lines of ~400 ms (scaled 0.05 → ~20 ms each): in sequence ≈ 2 s; the batch ≈ one line.
    const sim = await start({
      timeScale: 0.05,
      batch: { validatingMs: 0, finalizingMs: 0 },
      profiles: mergeProfiles(quiet(), {
        defaults: { latency: { base_ms: 400, per_token_ms: 0, jitter_ms: 0 } },
      }),
    });
    const c = client(sim);
    const bodies = Array.from({ length: 100 }, (_, i) => request(`question number ${i}`));
    const started = Date.now();
    const { batch } = await runBatch(c, bodies);
    const elapsed = Date.now() - started;
    expect(batch.request_counts?.completed).toBe(100);
    expect(elapsed).toBeGreaterThanOrEqual(20);
    expect(elapsed).toBeLessThan(1000);
  });
});
