import { performance } from "node:perf_hooks";
import { defaultConfig } from "../src/core/config/load.ts";
import { evaluate } from "../src/eval/evaluate.ts";
import { type BenchResult, round, summarize } from "./harness.ts";
import { simulatedMigration } from "./simulated-migration.ts";

/**
 * Issue 3's benchmark: 200 cases × 2 sides at 100 ms simulated latency, concurrency 16.
 * The ideal is requests × latency ÷ concurrency; the peer figure (promptfoo 0.123 on the same
 * shape: ~6 s, 2.4× its ideal) comes from shared/FACTS.md, measured on these machines.
 */
const CASES = 200;
const LATENCY_MS = 100;
const CONCURRENCY = 16;
const RUNS = 3;

export async function runEvalBench(): Promise<BenchResult[]> {
  const config = defaultConfig();
  const { base, head, classification, client, close } = await simulatedMigration(
    CASES,
    LATENCY_MS,
    config,
    "eval",
  );
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 20);
  // Three runs on one warm provider; the simulator's answers differ per run (it counts sightings),
  // but every request still takes the same fixed latency.
  const walls: number[] = [];
  let result: Awaited<ReturnType<typeof evaluate>> | undefined;
  for (let run = 0; run < RUNS; run++) {
    const started = performance.now();
    result = await evaluate({
      base,
      head,
      config,
      classification,
      client,
      concurrency: CONCURRENCY,
      maxCases: CASES,
    });
    walls.push(performance.now() - started);
  }
  clearInterval(sampler);
  await close();
  if (!result) throw new Error("no run");
  const requests = result.base.requests + result.head.requests;
  const ideal = (requests * LATENCY_MS) / CONCURRENCY;
  const summary = summarize(
    `eval ${CASES} cases × 2 sides, ${LATENCY_MS} ms latency, concurrency ${CONCURRENCY}`,
    walls,
  );
  return [
    {
      ...summary,
      extra: {
        "requests per run": requests,
        "ideal (requests × latency ÷ concurrency)": `${round(ideal)} ms`,
        "median wall ÷ ideal": `${(summary.median_ms / ideal).toFixed(2)}× (aim ≤ 1.2×; promptfoo 0.123 measured 2.4× here)`,
        "peak RSS": `${Math.round(peakRss / 1024 / 1024)} MiB`,
      },
    },
  ];
}
