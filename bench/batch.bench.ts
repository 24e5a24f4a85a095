import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { toFile } from "openai";
import type {
  ChatCompletion,
  ChatCompletionCreateParamsNonStreaming,
} from "openai/resources/chat/completions";
import { defaultConfig } from "../src/core/config/load.ts";
import { costOf } from "../src/core/pricing.ts";
import type { EvalResult } from "../src/core/result.ts";
import { evaluate } from "../src/eval/evaluate.ts";
import { createOpenAIClient } from "../src/eval/openai-client.ts";
import { type BenchResult, round, summarize } from "./harness.ts";
import { simulatedMigration, startSimulatorProcess } from "./simulated-migration.ts";

/**
 * Issue 14, part 1: the eval itself, `evaluate()` interactive vs `mode: "batch"`, on the same
 * 1,000-case simulated suite (bench/simulated-migration.ts: gpt-5.4 → gpt-5.5, fixed latency, no
 * faults), each run on its own simulator process with the same seed. Fixed-N, so all 1,000 pairs
 * run in both modes; a third run is the interactive default (sequential), which stops as soon as
 * the verdict is settled: the early stop a batch run cannot have.
 */
const EVAL_CASES = 1000;

async function evalRun(name: string, mode: "interactive" | "batch", sequential: boolean) {
  const defaults = defaultConfig();
  const config = { ...defaults, evals: { ...defaults.evals, sequential } };
  const sim = await simulatedMigration(EVAL_CASES, LATENCY_MS, config, name);
  const started = performance.now();
  let result: EvalResult;
  try {
    result = await evaluate({
      base: sim.base,
      head: sim.head,
      config,
      classification: sim.classification,
      client: sim.client,
      concurrency: CONCURRENCY,
      maxCases: EVAL_CASES,
      mode,
      batch: { pollIntervalMs: POLL_MS, maxPollIntervalMs: POLL_MS },
    });
  } finally {
    await sim.close();
  }
  return { wall: performance.now() - started, result };
}

function evalFigures(result: EvalResult): Record<string, string | number> {
  const actual = result.cost_estimate?.actual?.total;
  return {
    verdict: `${result.verdict}${result.partial ? ` (partial: ${result.partial_reason})` : ""}`,
    "pairs judged": `${result.sequential?.pairs ?? 0} of ${result.sequential?.planned_pairs ?? 0}`,
    "attempts sent (base + head)": result.base.requests + result.head.requests,
    tokens: actual?.tokens ?? "n/a",
    "cost (actual)":
      actual?.cost_usd === null || actual?.cost_usd === undefined ? "n/a" : `$${actual.cost_usd.toFixed(4)}`,
    ...(result.batch
      ? { "batches (rounds)": `${result.batch.batches.length} (${result.batch.rounds})` }
      : {}),
  };
}

export async function runBatchEvalBench(): Promise<BenchResult[]> {
  const interactive = await evalRun("eval-interactive", "interactive", false);
  const batch = await evalRun("eval-batch", "batch", false);
  const early = await evalRun("eval-sequential", "interactive", true);
  const outcomes = (r: EvalResult) =>
    new Map(r.cases.map((c) => [c.id, `${c.base?.outcome ?? "-"}/${c.head?.outcome ?? "-"}`]));
  const a = outcomes(interactive.result);
  const b = outcomes(batch.result);
  const same = [...a].filter(([id, o]) => b.get(id) === o).length;
  const cost = (r: EvalResult) => r.cost_estimate?.actual?.total.cost_usd ?? Number.NaN;
  return [
    {
      ...summarize(
        `eval interactive, fixed-N: ${EVAL_CASES} cases × 2 sides, ${LATENCY_MS} ms latency, concurrency ${CONCURRENCY}`,
        [interactive.wall],
      ),
      extra: evalFigures(interactive.result),
    },
    {
      ...summarize(`eval --batch: the same suite through the Batch API, polled every ${POLL_MS} ms`, [
        batch.wall,
      ]),
      extra: {
        ...evalFigures(batch.result),
        "cost ÷ interactive": `${((cost(batch.result) / cost(interactive.result)) * 100).toFixed(0)} %`,
        "wall ÷ interactive": `${(batch.wall / interactive.wall).toFixed(2)}×`,
        "case outcomes identical to interactive": `${same} / ${a.size}`,
      },
    },
    {
      ...summarize(`eval interactive, sequential (the default): stops once the verdict is settled`, [
        early.wall,
      ]),
      extra: {
        ...evalFigures(early.result),
        "cost ÷ interactive fixed-N": `${((cost(early.result) / cost(interactive.result)) * 100).toFixed(0)} %`,
      },
    },
  ];
}

/**
 * Issue 14, part 2: the Batch API against interactive calls, on the endpoints themselves. A 1,000-case
 * suite × 2 sides (gpt-5.4 base, gpt-5.5 head) = 2,000 chat requests at a fixed simulated latency,
 * each mode on its own simulator process with the same seed (so the answers must be identical):
 * - interactive: 2,000 calls, 16 in flight (the eval's default concurrency);
 * - batch: one batch per model (the Batch API takes one model per batch), both submitted at once,
 *   polled every 200 ms, the output files read back.
 * Tokens come from the answers' `usage`; cost from the default price table, batch at
 * `batch_discount` 0.5 (OpenAI's Batch API price).
 */
const CASES = 1000;
const LATENCY_MS = 100;
const CONCURRENCY = 16;
const POLL_MS = 200;
const BATCH_DISCOUNT = 0.5;
const MODELS = ["gpt-5.4", "gpt-5.5"] as const;

function body(model: string, i: number): ChatCompletionCreateParamsNonStreaming {
  return {
    model,
    messages: [
      { role: "system", content: "You are a helpful support assistant." },
      { role: "user", content: `Question number ${i}?` },
    ],
    max_completion_tokens: 400,
  };
}

interface Tally {
  input: number;
  cached: number;
  output: number;
  cost: number;
}

function add(t: Tally, completion: ChatCompletion, discount: number): void {
  const u = completion.usage;
  if (!u) throw new Error(`answer ${completion.id} has no usage`);
  const usage = {
    prompt_tokens: u.prompt_tokens,
    cached_tokens: u.prompt_tokens_details?.cached_tokens ?? 0,
    completion_tokens: u.completion_tokens,
  };
  t.input += usage.prompt_tokens;
  t.cached += usage.cached_tokens;
  t.output += usage.completion_tokens;
  const cost = costOf(usage, completion.model, defaultConfig().pricing);
  if (cost === null) throw new Error(`no price for ${completion.model}`);
  t.cost += cost * discount;
}

async function simulator(name: string) {
  const fixed = {
    latency: { base_ms: LATENCY_MS, per_token_ms: 0, jitter_ms: 0 },
    errors: { server_error: 0, unavailable: 0, rate_limit: 0 },
  };
  const profile = join(tmpdir(), `modelgate-bench-batch-${name}-${process.pid}.json`);
  writeFileSync(profile, JSON.stringify({ version: 1, models: { "gpt-5.4": fixed, "gpt-5.5": fixed } }));
  const sim = await startSimulatorProcess(profile);
  return { ...sim, client: createOpenAIClient({ baseURL: sim.url, apiKey: "sk-bench", maxRetries: 0 }) };
}

const requests = MODELS.flatMap((model) => Array.from({ length: CASES }, (_, i) => body(model, i)));

async function interactive(): Promise<{
  wall: number;
  http: number;
  tally: Tally;
  answers: ChatCompletion[];
}> {
  const sim = await simulator("interactive");
  const answers: ChatCompletion[] = new Array(requests.length);
  const tally: Tally = { input: 0, cached: 0, output: 0, cost: 0 };
  let next = 0;
  const started = performance.now();
  try {
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < requests.length) {
          const index = next++;
          const request = requests[index];
          if (request) answers[index] = await sim.client.chat.completions.create(request);
        }
      }),
    );
  } finally {
    await sim.close();
  }
  const wall = performance.now() - started;
  for (const a of answers) add(tally, a, 1);
  return { wall, http: requests.length, tally, answers };
}

async function batch(): Promise<{
  wall: number;
  http: number;
  polls: number;
  tally: Tally;
  answers: ChatCompletion[];
}> {
  const sim = await simulator("batch");
  const c = sim.client;
  const answers: ChatCompletion[] = new Array(requests.length);
  const tally: Tally = { input: 0, cached: 0, output: 0, cost: 0 };
  let http = 0;
  let polls = 0;
  const started = performance.now();
  try {
    await Promise.all(
      MODELS.map(async (model, side) => {
        const jsonl = Array.from(
          { length: CASES },
          (_, i) =>
            `${JSON.stringify({ custom_id: `${side}-${i}`, method: "POST", url: "/v1/chat/completions", body: requests[side * CASES + i] })}\n`,
        ).join("");
        const file = await c.files.create({
          file: await toFile(Buffer.from(jsonl), `${model}.jsonl`),
          purpose: "batch",
        });
        let b = await c.batches.create({
          input_file_id: file.id,
          endpoint: "/v1/chat/completions",
          completion_window: "24h",
        });
        http += 2;
        while (!["completed", "failed", "expired", "cancelled"].includes(b.status)) {
          await new Promise((r) => setTimeout(r, POLL_MS));
          b = await c.batches.retrieve(b.id);
          http += 1;
          polls += 1;
        }
        if (b.status !== "completed" || !b.output_file_id || b.error_file_id)
          throw new Error(`batch ${b.id} ended ${b.status} with errors ${b.error_file_id ?? "none"}`);
        const text = await (await c.files.content(b.output_file_id)).text();
        http += 1;
        for (const line of text.split("\n")) {
          if (line === "") continue;
          const parsed = JSON.parse(line) as { custom_id: string; response: { body: ChatCompletion } };
          const [s, i] = parsed.custom_id.split("-").map(Number);
          answers[(s ?? 0) * CASES + (i ?? 0)] = parsed.response.body;
        }
      }),
    );
  } finally {
    await sim.close();
  }
  const wall = performance.now() - started;
  for (const a of answers) add(tally, a, BATCH_DISCOUNT);
  return { wall, http, polls, tally, answers };
}

function tokens(t: Tally): string {
  return `${t.input} in (${t.cached} cached) + ${t.output} out`;
}

export async function runBatchBench(): Promise<BenchResult[]> {
  const i = await interactive();
  const b = await batch();
  const strip = ({ created: _, ...rest }: ChatCompletion) => JSON.stringify(rest);
  const same = i.answers.filter(
    (a, k) => b.answers[k] && strip(a) === strip(b.answers[k] as ChatCompletion),
  ).length;
  const ideal = (requests.length * LATENCY_MS) / CONCURRENCY;
  return [
    {
      ...summarize(
        `interactive: ${CASES} cases × 2 sides = ${requests.length} chat calls, ${LATENCY_MS} ms latency, concurrency ${CONCURRENCY}`,
        [i.wall],
      ),
      extra: {
        "HTTP requests": i.http,
        tokens: tokens(i.tally),
        "cost (list price)": `$${i.tally.cost.toFixed(4)}`,
        "ideal (calls × latency ÷ concurrency)": `${round(ideal)} ms`,
      },
    },
    {
      ...summarize(
        `batch: the same ${requests.length} requests as 2 batches (one per model), polled every ${POLL_MS} ms`,
        [b.wall],
      ),
      extra: {
        "HTTP requests": `${b.http} (2 uploads, 2 creates, ${b.polls} polls, 2 downloads)`,
        tokens: tokens(b.tally),
        [`cost (batch_discount ${BATCH_DISCOUNT})`]: `$${b.tally.cost.toFixed(4)} (${((b.tally.cost / i.tally.cost) * 100).toFixed(0)} % of interactive)`,
        "wall ÷ interactive": `${(b.wall / i.wall).toFixed(2)}× (validating 1 s + finalizing 0.5 s + lines at 128 in flight + poll granularity)`,
        "answers identical to interactive": `${same} / ${requests.length}`,
      },
    },
  ];
}
