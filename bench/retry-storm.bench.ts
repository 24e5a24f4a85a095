import { performance } from "node:perf_hooks";
import { caseSchema } from "../src/core/cases/schema.ts";
import { defaultConfig } from "../src/core/config/load.ts";
import { createOpenAIClient } from "../src/eval/openai-client.ts";
import { DEFAULT_RETRY_POLICY } from "../src/eval/retry-policy.ts";
import { type EvalTask, runRequestBound, runTasks } from "../src/eval/runner.ts";
import { answer, type Reply, startFaultProvider } from "../test/support/fault-provider.ts";
import { type BenchResult, summarize } from "./harness.ts";

/**
 * Issue 9 item 6: a 429 storm (every third request, `Retry-After: 0`) plus one case whose
 * provider answers 500 forever. Before the retry budget this never ended; now the total
 * requests must stay under cases × sides × (retry_limit + 1) × (retries per step + 1) × max_steps.
 * Real waits (1 s floor after a 429, 0.5 s server backoff), so the wall time is the cost of
 * honouring them.
 */
const CASES = 100;
const CONCURRENCY = 16;
const RETRY_LIMIT = 2;

export async function runRetryStormBench(): Promise<BenchResult[]> {
  const provider = await startFaultProvider({
    chat: ({ prompt, n }): Reply => {
      if (n % 3 === 0)
        return { status: 429, headers: { "retry-after": "0" }, body: { error: { message: "slow" } } };
      if (prompt === "question 0") return { status: 500, body: { error: { message: "down" } } };
      return answer("gpt-test", "fine", { prompt_tokens: 10, completion_tokens: 5 });
    },
  });
  const config = defaultConfig();
  const tasks: EvalTask[] = Array.from({ length: CASES }, (_, i) => i).flatMap((i) =>
    (["base", "head"] as const).map((side) => ({
      side,
      testCase: caseSchema.parse({
        id: `case-${i}`,
        route: "qna",
        input: `question ${i}`,
        assert: [{ type: "contains", value: "fine" }],
      }),
      route: "qna",
      resolved: { model: "gpt-test", max_output_tokens: null, timeout_ms: 60_000, retry_limit: RETRY_LIMIT },
      messages: [{ role: "user" as const, content: `question ${i}` }],
    })),
  );
  const started = performance.now();
  const run = await runTasks(tasks, {
    client: createOpenAIClient({ baseURL: provider.url, apiKey: "sk-bench" }),
    concurrency: CONCURRENCY,
    maxSteps: config.evals.max_steps,
    pricing: config.pricing,
    budget: {},
  });
  const wall = performance.now() - started;
  await provider.close();
  const bound = runRequestBound(tasks, config.evals.max_steps, DEFAULT_RETRY_POLICY);
  const outcomes = [...run.results.values()].map((side) => side.outcome);
  return [
    summarize(`retry storm: ${CASES} cases × 2 sides, 429 on 1/3 of requests, one case 500 forever`, [wall], {
      extra: {
        "requests sent": provider.chatRequests,
        "request bound": `${bound} (${CASES * 2} tasks × ${RETRY_LIMIT + 1} attempts × ${config.evals.max_steps} steps × ${DEFAULT_RETRY_POLICY.serverRetries + DEFAULT_RETRY_POLICY.rateLimitRetries + 1} requests per step)`,
        "within bound": provider.chatRequests <= bound ? "yes" : "NO",
        outcomes: `${outcomes.filter((o) => o === "pass").length} pass, ${outcomes.filter((o) => o === "error").length} error${run.stopped ? `; stopped: ${run.stopped.reason}` : ""}`,
      },
    }),
  ];
}
