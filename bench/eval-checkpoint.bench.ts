import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { classifyChange, compilePolicy } from "../src/core/classify/classify.ts";
import { defaultConfig } from "../src/core/config/load.ts";
import type { EvalResult } from "../src/core/result.ts";
import type { TreeSource } from "../src/core/source.ts";
import { evaluate } from "../src/eval/evaluate.ts";
import { createOpenAIClient } from "../src/eval/openai-client.ts";
import { resultJson } from "../src/eval/result-file.ts";
import { startSimulatorProcess } from "./eval.bench.ts";
import { type BenchResult, round, summarize } from "./harness.ts";

/**
 * Issue 10: a checkpoint costs O(new pairs), not a rebuild with every bootstrap. 2,000 cases ×
 * 2 sides at 20 ms simulated latency, checkpoints written to disk as the CLI writes them, in
 * fixed-N mode so all 2,000 pairs run. The ideal wall time is pairs × 2 sides × latency ÷
 * concurrency (every slot busy all the time, nothing else costing anything); target ≤ 2×.
 */
const CASES = 2000;
const LATENCY_MS = 20;
const CONCURRENCY = 16;

function memorySource(label: string, files: Record<string, string>): TreeSource {
  return {
    label,
    readFiles: async (paths) => new Map(paths.map((p) => [p, files[p] ?? null])),
    listFiles: async () => Object.keys(files),
  };
}

export async function runCheckpointBench(): Promise<BenchResult[]> {
  const cases = Array.from({ length: CASES }, (_, i) =>
    JSON.stringify({
      id: `case-${i}`,
      route: "qna",
      input: `Question number ${i}?`,
      assert: [{ type: "contains", value: "About" }],
    }),
  ).join("\n");
  const llm = (model: string) =>
    JSON.stringify({ llm: { default_model: "gpt-5.4", routes: { qna: model }, retry_limit: 0 } });
  const base = memorySource("base", { "config/llm.json": llm("gpt-5.4"), "evals/cases.jsonl": cases });
  const head = memorySource("head", { "config/llm.json": llm("gpt-5.5"), "evals/cases.jsonl": cases });
  const fixedLatency = {
    latency: { base_ms: LATENCY_MS, per_token_ms: 0, jitter_ms: 0 },
    errors: { server_error: 0, unavailable: 0, rate_limit: 0 },
  };
  const profile = join(tmpdir(), `modelgate-bench-checkpoint-${process.pid}.json`);
  writeFileSync(
    profile,
    JSON.stringify({ version: 1, models: { "gpt-5.4": fixedLatency, "gpt-5.5": fixedLatency } }),
  );
  const simulator = await startSimulatorProcess(profile);
  const defaults = defaultConfig();
  const config = { ...defaults, evals: { ...defaults.evals, sequential: false } };
  const classification = classifyChange(compilePolicy(config), {
    changes: [{ path: "config/llm.json", status: "modified" }],
    base: () => llm("gpt-5.4"),
    head: () => llm("gpt-5.5"),
  });
  const client = createOpenAIClient({ baseURL: simulator.url, apiKey: "sk-bench", maxRetries: 0 });
  const out = join(tmpdir(), `modelgate-bench-checkpoint-${process.pid}.result.json`);
  let lastSideDone = 0;
  let checkpoints = 0;
  let checkpointMs = 0;
  const started = performance.now();
  let result: EvalResult;
  try {
    result = await evaluate({
      base,
      head,
      config,
      classification,
      client,
      concurrency: CONCURRENCY,
      maxCases: CASES,
      onProgress: () => {
        lastSideDone = performance.now();
      },
      onCheckpoint: (partial) => {
        const t = performance.now();
        writeFileSync(out, resultJson(partial));
        checkpoints++;
        checkpointMs += performance.now() - t;
      },
    });
  } finally {
    await simulator.close();
  }
  const wall = performance.now() - started;
  const pairs = result.sequential?.pairs ?? 0;
  const ideal = (pairs * 2 * LATENCY_MS) / CONCURRENCY;
  const summary = summarize(
    `eval ${CASES} cases × 2 sides, ${LATENCY_MS} ms latency, concurrency ${CONCURRENCY}, checkpoints on`,
    [wall],
  );
  return [
    {
      ...summary,
      extra: {
        "pairs judged": pairs,
        requests: result.base.requests + result.head.requests,
        "ideal (pairs × 2 × latency ÷ concurrency)": `${round(ideal)} ms`,
        "wall ÷ ideal": `${(wall / ideal).toFixed(2)}× (target ≤ 2×)`,
        "last side done → result built": `${round(started + wall - lastSideDone)} ms (the bootstrap deltas, once)`,
        "checkpoints written": `${checkpoints} (${round(checkpointMs)} ms writing them)`,
      },
    },
  ];
}
