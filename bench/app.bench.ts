import { performance } from "node:perf_hooks";
import {
  type AppHarness,
  INFRA_CHANGE,
  MODEL_CHANGE,
  PROMPT_CHANGE,
  startAppHarness,
} from "../test/support/app-harness.ts";
import { type BenchResult, round, summarize } from "./harness.ts";

/**
 * Webhook-to-check latency of the Probot app (issue 5, point 10): 50 `pull_request.opened`
 * deliveries sent at once to the real server on loopback, GitHub served by the REST emulator
 * in the same process. Latency runs from sending a delivery to its check run appearing
 * completed on the emulator (polled every 2 ms). Peak memory is the process's RSS (app,
 * emulator and benchmark together), sampled every 10 ms.
 *
 * Two runs: Octokit throttling off (our own latency: GitHub round trips, classification,
 * rendering) and on (production: Octokit paces writes per installation about 1 s apart and
 * comments 3 s apart, so 50 deliveries to one installation queue behind each other).
 */
const DELIVERIES = 50;
/** One PR in five mixes categories and gets a sticky comment too. */
const MIXED_EVERY = 5;

export async function runAppBench(options: { throttled?: boolean } = {}): Promise<BenchResult[]> {
  const results = [await scenario(false)];
  if (options.throttled !== false) results.push(await scenario(true));
  return results;
}

async function scenario(throttle: boolean): Promise<BenchResult> {
  const h = await startAppHarness({ client: { throttle, retries: 3 } });
  try {
    const numbers: number[] = [];
    for (let i = 0; i < DELIVERIES; i++) {
      const files =
        i % MIXED_EVERY === 0
          ? { ...MODEL_CHANGE, ...PROMPT_CHANGE, ...INFRA_CHANGE }
          : i % 2
            ? MODEL_CHANGE
            : { ...PROMPT_CHANGE, [`docs/page-${i}.md`]: `page ${i}\n` };
      numbers.push(h.openPR(`bench-${i}`, files));
    }
    // Warm-up on a PR of its own: app token, `GET /app`, module code paths.
    const warm = h.openPR("bench-warm", MODEL_CHANGE);
    await h.deliver("pull_request", h.pullRequestEvent("opened", warm));

    const payloads = numbers.map((n) => ({ n, sha: h.headSha(n), payload: h.pullRequestEvent("opened", n) }));
    const baselineRss = process.memoryUsage().rss;
    let peakRss = baselineRss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 10);
    const started = performance.now();
    const latencies = await Promise.all(
      payloads.map(async ({ sha, payload }) => {
        const sent = performance.now();
        const delivery = h.deliver("pull_request", payload);
        const done = await checkCompleted(h, sha);
        const response = await delivery;
        if (response.status >= 300 && response.status !== 202)
          throw new Error(`delivery failed: ${response.status} ${response.body}`);
        return done - sent;
      }),
    );
    const wall = performance.now() - started;
    clearInterval(sampler);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    // Let the sticky comments (paced 3 s apart when throttled) land before the servers close.
    await settle(
      h,
      numbers.filter((_, i) => i % MIXED_EVERY === 0),
    );
    const writes = h.emu.requests.filter((r) => r.method !== "GET").length;
    return summarize(
      `app: webhook → completed check, ${DELIVERIES} concurrent deliveries, Octokit throttling ${throttle ? "ON (GitHub pacing)" : "off"}`,
      latencies,
      {
        extra: {
          "wall time for all deliveries (ms)": round(wall),
          "peak RSS (MiB, app + emulator + bench)": round(peakRss / 2 ** 20),
          "RSS before the burst (MiB)": round(baselineRss / 2 ** 20),
          "mixed PRs (check + sticky comment)": Math.ceil(DELIVERIES / MIXED_EVERY),
          "emulator write requests (checks, comments)": writes,
        },
      },
    );
  } finally {
    await h.close();
  }
}

async function checkCompleted(h: AppHarness, sha: string): Promise<number> {
  const deadline = performance.now() + 600_000;
  while (performance.now() < deadline) {
    if (h.checks(sha).some((run) => run.status === "completed")) return performance.now();
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  throw new Error(`no completed check for ${sha} after 10 minutes`);
}

async function settle(h: AppHarness, mixed: number[]): Promise<void> {
  const deadline = performance.now() + 120_000;
  while (performance.now() < deadline && !mixed.every((n) => h.comments(n).length === 1)) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
