import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI, {
  APIConnectionTimeoutError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  RateLimitError,
} from "openai";
import type {
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionTool,
} from "openai/resources/chat/completions";
import { afterEach, describe, expect, it } from "vitest";
import {
  BUILTIN_SNAPSHOTS,
  buildCatalog,
  builtinProfiles,
  formatListening,
  loadProfiles,
  mergeProfiles,
  ProfileError,
  planCompletion,
  readProfileFile,
  resolveModel,
  type Simulator,
  type SimulatorOptions,
  type SimulatorProfiles,
  startSimulator,
} from "../src/simulator/index.ts";
import { chatRequestSchema } from "../src/simulator/protocol.ts";

const running: Simulator[] = [];

async function start(opts: SimulatorOptions = {}): Promise<Simulator> {
  const sim = await startSimulator({ timeScale: 0, ...opts });
  running.push(sim);
  return sim;
}

function client(sim: Simulator, extra: Partial<ConstructorParameters<typeof OpenAI>[0]> = {}): OpenAI {
  return new OpenAI({ baseURL: sim.url, apiKey: "sk-sim", maxRetries: 0, ...extra });
}

/** Built-ins without random transport faults, so counts in tests are exact. */
function quietBuiltins(): SimulatorProfiles {
  return mergeProfiles(builtinProfiles(), {
    defaults: { errors: { server_error: 0, unavailable: 0, rate_limit: 0, hang: 0, malformed: 0 } },
  });
}

function custom(
  models: SimulatorProfiles["models"],
  answers: SimulatorProfiles["answers"] = [],
): SimulatorProfiles {
  return { models, answers };
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

const lookupTool: ChatCompletionTool = {
  type: "function",
  function: {
    name: "lookup_order",
    description: "Find an order",
    parameters: {
      type: "object",
      properties: { order_id: { type: "string" }, note: { type: "string" }, limit: { type: "integer" } },
      required: ["order_id", "note"],
    },
  },
};
const refundTool: ChatCompletionTool = {
  type: "function",
  function: {
    name: "issue_refund",
    parameters: { type: "object", properties: { reason: { type: "string" } }, required: ["reason"] },
  },
};

describe("formatListening", () => {
  it("prints the line the CLI contract names", () => {
    expect(formatListening("http://127.0.0.1:4010/v1")).toBe("listening on http://127.0.0.1:4010/v1");
  });
});

describe("models", () => {
  it("lists built-in models and dated aliases, labelled simulated", async () => {
    const sim = await start();
    expect(sim.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const { data, response } = await client(sim).models.list().withResponse();
    expect(response.headers.get("x-modelgate-simulated")).toBe("true");
    const page = data.data;
    const ids = page.map((m) => m.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        "gpt-5.4",
        "gpt-5.5",
        "gpt-5.4-mini",
        "gpt-5.5-2026-04-23",
        BUILTIN_SNAPSHOTS["gpt-5.4"],
      ]),
    );
    for (const m of page) {
      expect(m).toEqual({
        id: m.id,
        object: "model",
        created: expect.any(Number),
        owned_by: "modelgate-simulator",
      });
    }
    const raw = (await (await fetch(`${sim.url}/models`)).json()) as { object: string };
    expect(raw.object).toBe("list");
  });

  it("retrieves one model, and 404s an unknown one", async () => {
    const sim = await start();
    const c = client(sim);
    expect(await c.models.retrieve("gpt-5.5-2026-04-23")).toMatchObject({
      id: "gpt-5.5-2026-04-23",
      object: "model",
      owned_by: "modelgate-simulator",
    });
    await expect(c.models.retrieve("gpt-5.5-turbo")).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe("chat completions", () => {
  it("answers in OpenAI's shape", async () => {
    const sim = await start({ profiles: quietBuiltins() });
    const { data: r, response } = await client(sim)
      .chat.completions.create({
        model: "gpt-5.4",
        messages: [
          { role: "system", content: "You are a helpful support assistant." },
          { role: "user", content: "How do I reset my password?" },
        ],
      })
      .withResponse();
    expect(response.headers.get("x-modelgate-simulated")).toBe("true");
    expect(r.id).toMatch(/^chatcmpl-/);
    expect(r.object).toBe("chat.completion");
    expect(r.created).toBeTypeOf("number");
    expect(r.model).toBe(BUILTIN_SNAPSHOTS["gpt-5.4"]);
    expect(r.choices).toHaveLength(1);
    const choice = r.choices[0];
    expect(choice?.index).toBe(0);
    expect(choice?.finish_reason).toBe("stop");
    expect(choice?.message.role).toBe("assistant");
    expect(choice?.message.refusal).toBeNull();
    expect(choice?.message.content).toBeTypeOf("string");
    expect(choice?.message.tool_calls).toBeUndefined();
    const u = r.usage;
    expect(u?.total_tokens).toBe((u?.prompt_tokens ?? 0) + (u?.completion_tokens ?? 0));
    expect(u?.prompt_tokens).toBeGreaterThan(0);
    expect(u?.prompt_tokens_details?.cached_tokens).toBe(0);
    expect(u?.completion_tokens_details?.reasoning_tokens).toBeGreaterThan(0);
    expect(u?.completion_tokens_details?.reasoning_tokens).toBeLessThan(u?.completion_tokens ?? 0);
    expect(sim.stats).toEqual({ requests: 1, byModel: { "gpt-5.4": 1 }, byStatus: { "200": 1 } });
  });

  it("404s an unknown model with NotFoundError / model_not_found", async () => {
    const sim = await start();
    const err = await client(sim)
      .chat.completions.create({ model: "gpt-5.5-pro-typo", messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as NotFoundError).code).toBe("model_not_found");
    expect((err as NotFoundError).type).toBe("invalid_request_error");
    expect(sim.stats.byStatus).toEqual({ "404": 1 });
    expect(sim.stats.byModel).toEqual({ "gpt-5.5-pro-typo": 1 });
  });

  it("400s an invalid body in OpenAI's error shape", async () => {
    const sim = await start();
    const bad = { model: "gpt-5.4", messages: [{ role: "wizard", content: "hi" }] };
    const err = await client(sim)
      .chat.completions.create(bad as unknown as ChatCompletionCreateParamsNonStreaming)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).param).toBe("messages[0].role");
    const res = await fetch(`${sim.url}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{not json",
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: Record<string, unknown> };
    expect(Object.keys(body.error).sort()).toEqual(["code", "message", "param", "type"]);
    expect(body.error.type).toBe("invalid_request_error");
  });

  it("streams chunks and a usage chunk only when asked", async () => {
    const sim = await start({ profiles: quietBuiltins() });
    const c = client(sim);
    const messages = [{ role: "user" as const, content: "What is the capital of France?" }];
    const plain = await c.chat.completions.create({ model: "gpt-5.5", messages });

    const stream = await c.chat.completions.create({
      model: "gpt-5.5",
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let finish: string | null = null;
    let usageChunks = 0;
    let lastUsage: OpenAI.CompletionUsage | null | undefined;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      expect(chunk.object).toBe("chat.completion.chunk");
      expect(chunk.model).toBe("gpt-5.5-2026-04-23");
      for (const ch of chunk.choices) {
        text += ch.delta.content ?? "";
        finish = ch.finish_reason ?? finish;
      }
      if (chunk.usage) {
        usageChunks++;
        lastUsage = chunk.usage;
        expect(chunk.choices).toEqual([]);
      }
    }
    expect(chunks).toBeGreaterThan(3);
    expect(finish).toBe("stop");
    expect(usageChunks).toBe(1);
    // Same messages, same draw: the stream says what the plain answer said.
    expect(text).toBe(plain.choices[0]?.message.content);
    expect(lastUsage?.completion_tokens).toBe(plain.usage?.completion_tokens);

    const noUsage = await c.chat.completions.create({ model: "gpt-5.5", messages, stream: true });
    for await (const chunk of noUsage) expect(chunk.usage).toBeUndefined();
  });

  it("truncates at max_completion_tokens with finish_reason length", async () => {
    const sim = await start({ profiles: quietBuiltins() });
    const c = client(sim);
    const messages = [{ role: "user" as const, content: "Explain how refunds work." }];
    const full = await c.chat.completions.create({ model: "gpt-5.5", messages });
    const fullContent = full.choices[0]?.message.content ?? "";
    expect(full.usage?.completion_tokens).toBeGreaterThan(20);
    const r = await c.chat.completions.create({ model: "gpt-5.5", messages, max_completion_tokens: 20 });
    expect(r.choices[0]?.finish_reason).toBe("length");
    expect(r.usage?.completion_tokens).toBeLessThanOrEqual(20);
    const cut = r.choices[0]?.message.content ?? "";
    expect(cut.length).toBeGreaterThan(0);
    expect(cut.length).toBeLessThan(fullContent.length);
    expect(fullContent.startsWith(cut)).toBe(true);
  });

  it("reports cached prompt tokens when a system prompt prefix repeats", async () => {
    const sim = await start({ profiles: quietBuiltins() });
    const c = client(sim);
    const system = "You are the billing assistant of a large company. Answer briefly and politely. ".repeat(
      8,
    );
    const ask = (q: string) =>
      c.chat.completions.create({
        model: "gpt-5.4",
        messages: [
          { role: "system", content: system },
          { role: "user", content: q },
        ],
      });
    const first = await ask("Where is my invoice?");
    const second = await ask("Can I change my billing address?");
    expect(first.usage?.prompt_tokens_details?.cached_tokens).toBe(0);
    const cached = second.usage?.prompt_tokens_details?.cached_tokens ?? 0;
    expect(cached).toBeGreaterThan(100);
    expect(cached).toBeLessThan(second.usage?.prompt_tokens ?? 0);
  });
});

describe("tool calls", () => {
  const profiles = custom(
    { toolbot: { tools: { tendency: 1, steps: 2 }, quality: 1, takeover: 0, serve_as: null } },
    [],
  );

  it("calls the first offered tool with args from the user message, chains, then answers", async () => {
    const sim = await start({ profiles });
    const c = client(sim);
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: "user", content: "Where is my order A-1234? It was a birthday gift." },
    ];
    const tools = [lookupTool, refundTool];
    const first = await c.chat.completions.create({ model: "toolbot", messages, tools });
    const choice = first.choices[0];
    expect(choice?.finish_reason).toBe("tool_calls");
    expect(choice?.message.content).toBeNull();
    const call = choice?.message.tool_calls?.[0];
    expect(call?.type).toBe("function");
    expect(call?.id).toMatch(/^call_/);
    if (call?.type !== "function") throw new Error("expected a function call");
    expect(call.function.name).toBe("lookup_order");
    const args = JSON.parse(call.function.arguments) as Record<string, unknown>;
    expect(args.order_id).toBe("A-1234");
    expect(args.note).toEqual(expect.stringContaining("order"));
    expect(args).not.toHaveProperty("limit"); // only required args are filled

    messages.push(choice?.message as OpenAI.ChatCompletionMessageParam, {
      role: "tool",
      tool_call_id: call.id,
      content: "Order A-1234 shipped on Monday via parcel post.",
    });
    const second = await c.chat.completions.create({ model: "toolbot", messages, tools });
    const call2 = second.choices[0]?.message.tool_calls?.[0];
    expect(second.choices[0]?.finish_reason).toBe("tool_calls");
    expect(call2?.type === "function" && call2.function.name).toBe("issue_refund");

    messages.push(second.choices[0]?.message as OpenAI.ChatCompletionMessageParam, {
      role: "tool",
      tool_call_id: call2?.id ?? "",
      content: "No refund needed.",
    });
    const third = await c.chat.completions.create({ model: "toolbot", messages, tools });
    expect(third.choices[0]?.finish_reason).toBe("stop");
    expect(third.choices[0]?.message.content).toContain("No refund needed.");
  });

  it("honours tool_choice none / named, and scripted tool calls of an answer", async () => {
    const sim = await start({
      profiles: custom({ bot: { tools: { tendency: 1 }, quality: 1, serve_as: null } }, [
        {
          match: "refund",
          answer: "Refund issued.",
          tool_calls: [{ name: "issue_refund", arguments: { reason: "late" } }],
        },
      ]),
    });
    const c = client(sim);
    const tools = [lookupTool, refundTool];
    const none = await c.chat.completions.create({
      model: "bot",
      messages: [{ role: "user", content: "order 5" }],
      tools,
      tool_choice: "none",
    });
    expect(none.choices[0]?.finish_reason).toBe("stop");
    const named = await c.chat.completions.create({
      model: "bot",
      messages: [{ role: "user", content: "order 5" }],
      tools,
      tool_choice: { type: "function", function: { name: "issue_refund" } },
    });
    const namedCall = named.choices[0]?.message.tool_calls?.[0];
    expect(namedCall?.type === "function" && namedCall.function.name).toBe("issue_refund");
    const scripted = await c.chat.completions.create({
      model: "bot",
      messages: [{ role: "user", content: "I want a refund" }],
      tools,
    });
    const sc = scripted.choices[0]?.message.tool_calls?.[0];
    expect(sc?.type === "function" && JSON.parse(sc.function.arguments)).toEqual({ reason: "late" });
  });

  it("streams tool calls", async () => {
    const sim = await start({ profiles });
    const stream = await client(sim).chat.completions.create({
      model: "toolbot",
      messages: [{ role: "user", content: "Find order 99 please" }],
      tools: [lookupTool],
      stream: true,
    });
    let name = "";
    let args = "";
    let finish: string | null = null;
    for await (const chunk of stream) {
      for (const ch of chunk.choices) {
        for (const tc of ch.delta.tool_calls ?? []) {
          name += tc.function?.name ?? "";
          args += tc.function?.arguments ?? "";
        }
        finish = ch.finish_reason ?? finish;
      }
    }
    expect(name).toBe("lookup_order");
    expect(JSON.parse(args)).toMatchObject({ order_id: "99" });
    expect(finish).toBe("tool_calls");
  });
});

describe("answers, quality, takeover", () => {
  const answers = [
    { match: "reset.*password", answer: "Use the reset link in Settings." },
    { match: "classify", answer: '{"label":"billing","urgent":true,"score":0.9}' },
  ];

  it("returns the matched answer on a hit and a wrong one on a miss", async () => {
    const sim = await start({
      profiles: custom(
        {
          good: { quality: 1, verbosity: 1, serve_as: null },
          bad: { quality: 0, verbosity: 1, serve_as: null },
          wordy: { quality: 1, verbosity: 3, serve_as: null },
        },
        answers,
      ),
    });
    const c = client(sim);
    const ask = async (model: string, content: string, system?: string) => {
      const messages: OpenAI.ChatCompletionMessageParam[] = [];
      if (system) messages.push({ role: "system", content: system });
      messages.push({ role: "user", content });
      const r = await c.chat.completions.create({ model, messages });
      return r.choices[0]?.message.content ?? "";
    };
    expect(await ask("good", "How do I reset my password?")).toBe("Use the reset link in Settings.");
    const miss = await ask("bad", "How do I reset my password?");
    expect(miss).not.toContain("reset link");
    expect(miss.length).toBeGreaterThan(20);
    const wordy = await ask("wordy", "How do I reset my password?");
    expect(wordy).toContain("Use the reset link in Settings.");
    expect(wordy.length).toBeGreaterThan(2 * "Use the reset link in Settings.".length);

    // JSON answers: a miss is valid JSON of the same shape with wrong values.
    expect(JSON.parse(await ask("good", "Please classify this ticket", "Reply in JSON."))).toEqual({
      label: "billing",
      urgent: true,
      score: 0.9,
    });
    const wrong = JSON.parse(await ask("bad", "Please classify this ticket", "Reply in JSON.")) as Record<
      string,
      unknown
    >;
    expect(Object.keys(wrong).sort()).toEqual(["label", "score", "urgent"]);
    expect(wrong.label).not.toBe("billing");
    expect(wrong.urgent).toBe(false);

    // No match: a generic answer echoing the topic.
    expect(await ask("good", "Tell me about quarterly budget forecasting")).toMatch(
      /quarterly budget forecasting/,
    );
  });

  it("hands off with [HANDOFF] at the takeover rate", async () => {
    const sim = await start({ profiles: custom({ shy: { takeover: 1, serve_as: null } }) });
    const r = await client(sim).chat.completions.create({
      model: "shy",
      messages: [{ role: "user", content: "Help me with my account" }],
    });
    expect(r.choices[0]?.message.content).toContain("[HANDOFF]");
  });

  it("fills a json_schema response format", async () => {
    const sim = await start({ profiles: custom({ m: { quality: 1, serve_as: null } }) });
    const r = await client(sim).chat.completions.create({
      model: "m",
      messages: [{ role: "user", content: "Summarize the meeting notes" }],
      response_format: {
        type: "json_schema",
        json_schema: {
          name: "summary",
          schema: {
            type: "object",
            properties: {
              title: { type: "string" },
              items: { type: "array" },
              priority: { enum: ["low", "high"] },
            },
            required: ["title", "items", "priority"],
          },
        },
      },
    });
    const value = JSON.parse(r.choices[0]?.message.content ?? "") as Record<string, unknown>;
    expect(value).toMatchObject({ items: [], priority: "low" });
    expect(value.title).toEqual(expect.stringContaining("meeting notes"));
  });
});

describe("format drift", () => {
  async function driftRate(model: string, n: number): Promise<number> {
    const sim = await start({ profiles: quietBuiltins() });
    const c = client(sim);
    let drifted = 0;
    let answered = 0;
    for (let i = 0; i < n; i++) {
      const r = await c.chat.completions.create({
        model,
        messages: [
          { role: "system", content: "Extract the order number. Respond with JSON only." },
          { role: "user", content: `Ticket ${i}: my order ${1000 + i} never arrived` },
        ],
        ...(i % 2 === 0 ? { response_format: { type: "json_object" as const } } : {}),
      });
      const content = r.choices[0]?.message.content ?? "";
      if (content.includes("[HANDOFF]")) continue; // a hand-off is not a JSON answer
      answered++;
      try {
        JSON.parse(content);
      } catch {
        drifted++;
        expect(content).toMatch(/```json|Here is the JSON/);
      }
    }
    expect(answered).toBeGreaterThan(n * 0.9);
    return drifted / answered;
  }

  it("wraps JSON in prose or a fence at the configured rate (gpt-5.5 ≈ 15 %, gpt-5.4 never)", async () => {
    const rate55 = await driftRate("gpt-5.5", 300);
    expect(rate55).toBeGreaterThan(0.09);
    expect(rate55).toBeLessThan(0.21);
    expect(await driftRate("gpt-5.4", 100)).toBe(0);
  });
});

describe("determinism", () => {
  async function transcript(seed: string): Promise<string[]> {
    const sim = await start({
      seed,
      profiles: custom({ coin: { quality: 0.5, tools: { tendency: 0.5 } } }, []),
    });
    const c = client(sim);
    const out: string[] = [];
    for (let i = 0; i < 12; i++) {
      for (let repeat = 0; repeat < 2; repeat++) {
        const r = await c.chat.completions.create({
          model: "coin",
          messages: [{ role: "user", content: `Question number ${i % 6} about onboarding` }],
          ...(i % 3 === 0 ? { tools: [lookupTool] } : {}),
        });
        out.push(
          JSON.stringify([r.id, r.model, r.choices[0]?.message, r.choices[0]?.finish_reason, r.usage]),
        );
      }
    }
    return out;
  }

  it("gives identical results on two fresh servers, and different draws on a repeat", async () => {
    const a = await transcript("s1");
    const b = await transcript("s1");
    expect(a).toEqual(b);
    expect(await transcript("s2")).not.toEqual(a);
    // The same body sent again (a retry) is a new draw: not all repeats agree.
    const sim = await start({ profiles: custom({ coin: { quality: 0.5 } }, []) });
    const c = client(sim);
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const r = await c.chat.completions.create({
        model: "coin",
        messages: [{ role: "user", content: "How do I export my data?" }],
      });
      seen.add(r.choices[0]?.message.content ?? "");
    }
    expect(seen.size).toBeGreaterThan(1);
  });
});

describe("faults", () => {
  const ask = (c: OpenAI, headers: Record<string, string>, model = "gpt-5.4") =>
    c.chat.completions.create(
      { model, messages: [{ role: "user", content: "Is the service up?" }] },
      { headers },
    );

  it("429 carries retry-after headers and the SDK retries it", async () => {
    const sim = await start({ profiles: quietBuiltins() });
    const err = await ask(client(sim), { "x-simulator-fault": "429" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    const headers = (err as RateLimitError).headers;
    expect(headers.get("retry-after")).toBe("0");
    expect(headers.get("retry-after-ms")).toBe("0");
    expect((err as RateLimitError).code).toBe("rate_limit_exceeded");

    const retrying = client(sim, { maxRetries: 2 });
    const started = Date.now();
    const r = await ask(
      retrying,
      { "x-simulator-fault": "429=150", "x-simulator-fault-count": "1" },
      "gpt-5.5",
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(r.choices[0]?.finish_reason).toBe("stop");
    expect(sim.stats.byStatus).toEqual({ "429": 2, "200": 1 });
  });

  it("injects 429s at the profile rate, with a scaled Retry-After", async () => {
    const sim = await start({
      timeScale: 0.01,
      profiles: custom({ busy: { errors: { rate_limit: 1, retry_after_ms: 3000 }, serve_as: null } }),
    });
    const err = await ask(client(sim), {}, "busy").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    expect((err as RateLimitError).headers.get("retry-after-ms")).toBe("30");
  });

  it("500 and 503 raise InternalServerError", async () => {
    const sim = await start();
    for (const code of ["500", "503"]) {
      const err = await ask(client(sim), { "x-simulator-fault": code }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InternalServerError);
      expect((err as InternalServerError).status).toBe(Number(code));
    }
  });

  it("a malformed body surfaces as an SDK error", async () => {
    const sim = await start();
    await expect(ask(client(sim), { "x-simulator-fault": "malformed" })).rejects.toThrow();
    const stream = await client(sim, { logLevel: "off" }).chat.completions.create(
      { model: "gpt-5.4", messages: [{ role: "user", content: "hi" }], stream: true },
      { headers: { "x-simulator-fault": "malformed" } },
    );
    const consume = async () => {
      for await (const _ of stream) {
        // drain
      }
    };
    await expect(consume()).rejects.toThrow();
    expect(sim.stats.byStatus["200"]).toBe(2);
  });

  it("a hang outlasts the client timeout, and close() still returns", async () => {
    const sim = await start();
    const err = await ask(client(sim, { timeout: 200 }), { "x-simulator-fault": "hang" }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(APIConnectionTimeoutError);
    expect(sim.stats.byStatus.hang).toBe(1);
    // A request still hanging when the server closes.
    const pending = ask(client(sim), { "x-simulator-fault": "hang" }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await sim.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await pending).toBeInstanceOf(Error);
  });

  it("serves the wrong model: forced by header, or the profile's serve_as", async () => {
    const sim = await start({ profiles: quietBuiltins() });
    const forced = await ask(client(sim), { "x-simulator-fault": "wrong-model" }, "gpt-5.5");
    expect(forced.model).toBe("gpt-5.4");
    const named = await ask(client(sim), { "x-simulator-fault": "wrong-model=gpt-4o" }, "gpt-5.5");
    expect(named.model).toBe("gpt-4o");
    const snapshot = await ask(client(sim), {}, "gpt-5.5");
    expect(snapshot.model).toBe("gpt-5.5-2026-04-23");

    const fallback = await start({
      profiles: mergeProfiles(quietBuiltins(), {
        models: { "gpt-5.5": { serve_as: { model: "gpt-5.4", rate: 1 } } },
      }),
    });
    const r = await ask(client(fallback), {}, "gpt-5.5");
    expect(r.model).toBe("gpt-5.4");
  });

  it("rejects an unknown fault name", async () => {
    const sim = await start();
    const err = await ask(client(sim), { "x-simulator-fault": "explode" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).message).toMatch(/explode/);
  });
});

describe("timing", () => {
  it("scales latency with timeScale; gpt-5.5 is slower and uses more tokens than gpt-5.4", async () => {
    const catalog = buildCatalog(builtinProfiles());
    const totals: Record<string, { latency: number; tokens: number }> = {};
    for (const id of ["gpt-5.4", "gpt-5.5"]) {
      const model = catalog.byId.get(id);
      if (!model) throw new Error(id);
      totals[id] = { latency: 0, tokens: 0 };
      for (let i = 0; i < 50; i++) {
        const req = chatRequestSchema.parse({
          model: id,
          messages: [{ role: "user", content: `Explain topic ${i}` }],
        });
        const plan = planCompletion(req, model, {
          seed: "t",
          occurrence: 0,
          catalog,
          forced: { names: new Set(["no-tool"]) },
          prefixCache: new Set(),
          timeScale: 1,
        });
        if (plan.kind !== "answer") continue;
        const t = totals[id];
        if (t) {
          t.latency += plan.latencyMs;
          t.tokens += plan.usage.total_tokens;
        }
      }
    }
    expect(totals["gpt-5.5"]?.latency).toBeGreaterThan((totals["gpt-5.4"]?.latency ?? 0) * 1.5);
    expect(totals["gpt-5.5"]?.tokens).toBeGreaterThan((totals["gpt-5.4"]?.tokens ?? 0) * 1.3);

    const sim = await start({
      timeScale: 0.02,
      profiles: custom({ slow: { latency: { base_ms: 1000, jitter_ms: 0 } } }),
    });
    const started = Date.now();
    await client(sim).chat.completions.create({ model: "slow", messages: [{ role: "user", content: "hi" }] });
    expect(Date.now() - started).toBeGreaterThanOrEqual(18);
  });
});

describe("profile files", () => {
  const yamlExample = `
version: 1
defaults:
  errors: { rate_limit: 0.05, retry_after_ms: 2000 }
answers:
  - match: "reset.*password"
    answer: "Use the reset link."
models:
  gpt-5.5:
    format_drift: 0.3
    serve_as: { model: gpt-5.4, rate: 0.1 }
  acme-small:
    aliases: [acme-small-2026-01-01]
    latency: { base_ms: 50, per_token_ms: 1, jitter_ms: 5 }
    quality: 0.7
    tools: { tendency: 0.2, steps: 1 }
`;

  it("loads YAML and JSON and merges over the built-ins", () => {
    const file = loadProfiles(yamlExample, "sim.yml");
    expect(file.models?.["acme-small"]?.quality).toBe(0.7);
    const fromJson = loadProfiles(JSON.stringify(file), "sim.json");
    expect(fromJson).toEqual(file);

    const merged = mergeProfiles(builtinProfiles(), file);
    const g55 = resolveModel(merged, "gpt-5.5");
    expect(g55.format_drift).toBe(0.3);
    expect(g55.verbosity).toBe(1.8); // kept from the built-in
    expect(g55.serve_as).toEqual({ model: "gpt-5.4", rate: 0.1 });
    expect(g55.errors.rate_limit).toBe(0.05); // the file's defaults reach built-in models
    expect(g55.errors.server_error).toBe(0.003);
    expect(g55.aliases).toContain("gpt-5.5-2026-04-23");
    expect(g55.answers[0]?.answer).toBe("Use the reset link."); // the repo's answers come first
    const small = resolveModel(merged, "acme-small");
    expect(small.owned_by).toBe("modelgate-simulator");
    expect(small.quality).toEqual({ easy: 0.7, hard: 0.7 });
    expect(buildCatalog(merged).byId.get("acme-small-2026-01-01")?.id).toBe("acme-small");
    expect(loadProfiles("", "empty.yml")).toEqual({});
  });

  it("names the file, the key path and the expectation in errors", () => {
    const bad = (text: string, file = "sim.yml") => {
      try {
        loadProfiles(text, file);
      } catch (err) {
        expect(err).toBeInstanceOf(ProfileError);
        return (err as Error).message;
      }
      throw new Error("expected an error");
    };
    expect(bad("models:\n  gpt-5.5:\n    quality: 1.5\n")).toMatch(
      /^sim\.yml: models\."gpt-5\.5"\.quality: .*1/,
    );
    expect(bad("models:\n  m:\n    verbosty: 2\n")).toMatch(/sim\.yml: models\.m\.verbosty: unknown key/);
    expect(bad("answers:\n  - match: '(['\n    answer: x\n")).toMatch(
      /sim\.yml: answers\[0\]\.match: expected a valid regular expression/,
    );
    expect(bad("models:\n  m:\n    latency: { base_ms: fast }\n")).toMatch(
      /models\.m\.latency\.base_ms: .*expected number/,
    );
    expect(bad("models: [\n", "broken.yml")).toMatch(/^broken\.yml:\d+:\d+: invalid YAML/);
    expect(bad("{", "p.json")).toMatch(/^p\.json: invalid JSON/);
    expect(bad("models:\n  m:\n    errors: { hang: 0.6, malformed: 0.6 }\n")).toMatch(
      /models\.m\.errors: .*at most 1/,
    );
  });

  it("reads a file from disk over the built-ins unless builtin: false", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sim-profiles-"));
    try {
      const withBuiltins = join(dir, "a.yml");
      await writeFile(withBuiltins, yamlExample);
      const merged = await readProfileFile(withBuiltins);
      expect(Object.keys(merged.models ?? {})).toEqual(["gpt-5.4", "gpt-5.5", "gpt-5.4-mini", "acme-small"]);
      const alone = join(dir, "b.json");
      await writeFile(alone, JSON.stringify({ builtin: false, models: { solo: {} } }));
      const solo = await readProfileFile(alone);
      expect(Object.keys(solo.models ?? {})).toEqual(["solo"]);
      const sim = await start({ profiles: solo });
      const list = await client(sim).models.list();
      expect(list.data.map((m) => m.id)).toEqual(["solo"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
