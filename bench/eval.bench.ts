import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { classifyChange, compilePolicy } from "../src/core/classify/classify.ts";
import { defaultConfig } from "../src/core/config/load.ts";
import type { TreeSource } from "../src/core/source.ts";
import { evaluate } from "../src/eval/evaluate.ts";
import { createOpenAIClient } from "../src/eval/openai-client.ts";
import { type BenchResult, round, summarize } from "./harness.ts";

/**
 * Issue 3's benchmark: 200 cases × 2 sides at 100 ms simulated latency, concurrency 16.
 * The ideal is requests × latency ÷ concurrency; the peer figure (promptfoo 0.123 on the same
 * shape: ~6 s, 2.4× its ideal) comes from shared/FACTS.md, measured on these machines.
 */
const CASES = 200;
const LATENCY_MS = 100;
const CONCURRENCY = 16;
const RUNS = 3;

function memorySource(label: string, files: Record<string, string>): TreeSource {
  return {
    label,
    readFiles: async (paths) => new Map(paths.map((p) => [p, files[p] ?? null])),
    listFiles: async () => Object.keys(files),
  };
}

export async function runEvalBench(): Promise<BenchResult[]> {
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
  // The provider runs in its own process, as a real one would, so it does not share our event loop.
  const profile = join(tmpdir(), `modelgate-bench-${process.pid}.json`);
  writeFileSync(
    profile,
    JSON.stringify({ version: 1, models: { "gpt-5.4": fixedLatency, "gpt-5.5": fixedLatency } }),
  );
  const simulator = await startSimulatorProcess(profile);
  const config = defaultConfig();
  const classification = classifyChange(compilePolicy(config), {
    changes: [{ path: "config/llm.json", status: "modified" }],
    base: () => llm("gpt-5.4"),
    head: () => llm("gpt-5.5"),
  });
  const client = createOpenAIClient({ baseURL: simulator.url, apiKey: "sk-bench", maxRetries: 0 });
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
  await simulator.close();
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
export async function startSimulatorProcess(
  profile: string,
): Promise<{ url: string; close(): Promise<void> }> {
  const child = spawn(
    process.execPath,
    [join(import.meta.dirname, "../src/cli/bin.ts"), "simulate", "--profile", profile],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (\S+)/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`simulator exited with ${code}`)));
  });
  return {
    url,
    close: () =>
      new Promise((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
