import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { defaultConfig } from "../src/core/config/load.ts";
import type { EvalResult } from "../src/core/result.ts";
import { evaluate } from "../src/eval/evaluate.ts";
import { resultJson } from "../src/eval/result-file.ts";
import { type BenchResult, round, summarize } from "./harness.ts";
import { simulatedMigration } from "./simulated-migration.ts";

/**
 * Issue 10: a checkpoint costs O(new pairs), not a rebuild with every bootstrap. 2,000 cases ×
 * 2 sides at 20 ms simulated latency, checkpoints written to disk as the CLI writes them, in
 * fixed-N mode so all 2,000 pairs run. The ideal wall time is pairs × 2 sides × latency ÷
 * concurrency (every slot busy all the time, nothing else costing anything); target ≤ 2×.
 */
const CASES = 2000;
const LATENCY_MS = 20;
const CONCURRENCY = 16;

export async function runCheckpointBench(): Promise<BenchResult[]> {
  const defaults = defaultConfig();
  // Fixed-N, so all 2,000 pairs run.
  const config = { ...defaults, evals: { ...defaults.evals, sequential: false } };
  const { base, head, classification, client, close } = await simulatedMigration(
    CASES,
    LATENCY_MS,
    config,
    "checkpoint",
  );
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
    await close();
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
