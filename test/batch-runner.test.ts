import OpenAI from "openai";
import type { ChatCompletion } from "openai/resources/chat/completions";
import { afterEach, describe, expect, it } from "vitest";
import { BatchRounds, boundedCache } from "../src/eval/batch-runner.ts";
import type { AttemptCache } from "../src/eval/cache.ts";
import { type Simulator, startSimulator } from "../src/simulator/index.ts";
import { exampleProfiles } from "./support/simulator.ts";

/**
 * The batch transport on its own, over the wire (the `openai` SDK's files and batches clients →
 * the simulator): a round is split into files by model and under the line limit, and every
 * line answers its own request with what the interactive endpoint gives for it.
 */
const sims: Simulator[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

async function simulator(): Promise<Simulator> {
  const sim = await startSimulator({ profiles: await exampleProfiles(), timeScale: 0, announce: false });
  sims.push(sim);
  return sim;
}

const request = (model: string, index: number) => ({
  model,
  messages: [{ role: "user" as const, content: `Question ${index}: how do I reset my password?` }],
});

describe("BatchRounds", () => {
  it("splits a round by model and under maxLines, and answers each request as the interactive endpoint does", async () => {
    const sim = await simulator();
    const client = new OpenAI({ baseURL: sim.url, apiKey: "sk-test", maxRetries: 0 });
    const rounds = new BatchRounds({
      client,
      pollIntervalMs: 5,
      maxPollIntervalMs: 5,
      limits: { maxLines: 5, maxBytes: 1e9 },
    });
    const requests = Array.from({ length: 12 }, (_, i) =>
      request(i % 2 === 0 || i > 8 ? "gpt-5.4" : "gpt-5.5", i),
    );
    const answers = await Promise.all(
      requests.map(async (params) => {
        rounds.enter();
        try {
          return (await rounds.send(params)) as ChatCompletion;
        } finally {
          rounds.leave();
        }
      }),
    );
    const summary = rounds.summary();
    expect(summary.rounds).toBe(1);
    // gpt-5.4: 8 requests → 5 + 3; gpt-5.5: 4 → one file.
    expect(summary.batches.map((b) => b.requests)).toEqual([5, 3, 4]);
    expect(summary.batches.every((b) => b.status === "completed" && b.completed === b.requests)).toBe(true);

    const fresh = await simulator();
    const direct = new OpenAI({ baseURL: fresh.url, apiKey: "sk-test", maxRetries: 0 });
    for (const [index, params] of requests.entries()) {
      const interactive = await direct.chat.completions.create(params);
      expect(answers[index]?.choices[0]?.message.content, `request ${index}`).toBe(
        interactive.choices[0]?.message.content,
      );
      expect(answers[index]?.model.startsWith(params.model)).toBe(true);
    }
  });

  it("waits for every running task before sending a round: a task still busy holds the round", async () => {
    const sim = await simulator();
    const client = new OpenAI({ baseURL: sim.url, apiKey: "sk-test" });
    const rounds = new BatchRounds({ client, pollIntervalMs: 5, maxPollIntervalMs: 5 });
    rounds.enter();
    rounds.enter();
    const first = rounds.send(request("gpt-5.4", 1));
    await new Promise((r) => setTimeout(r, 50));
    // One task parked, one still running (e.g. reading the cache): nothing sent yet.
    expect(rounds.summary().rounds).toBe(0);
    const second = rounds.send(request("gpt-5.4", 2));
    await Promise.all([first, second]);
    rounds.leave();
    rounds.leave();
    expect(rounds.summary()).toMatchObject({ rounds: 1, batches: [{ requests: 2, status: "completed" }] });
  });

  it("bounds cache reads in batch mode: every task starts at once, the file descriptors do not", async () => {
    let inFlight = 0;
    let most = 0;
    const slow: AttemptCache = {
      get: async () => {
        most = Math.max(most, ++inFlight);
        await new Promise((r) => setTimeout(r, 1));
        inFlight--;
        return undefined;
      },
      set: async () => {},
      warnings: () => [],
    };
    const cache = boundedCache(slow, 64);
    await Promise.all(Array.from({ length: 2000 }, (_, i) => cache.get(`k${i}`)));
    expect(most).toBe(64);
  });
});
