import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppHarness, sign, startAppHarness } from "./support/app-harness.ts";
import { ROOT } from "./support/cli.ts";
import { freePort, waitForOutput } from "./support/net.ts";
import { type RedisServer, startRedis } from "./support/redis.ts";

/**
 * Several replicas of the App behind one load balancer share GitHub's rate limits through Redis
 * (Probot's REDIS_URL: Bottleneck clustering). Two App processes from the current sources, one
 * real Redis, the GitHub emulator; deliveries spread over both.
 */

async function startReplica(
  h: AppHarness,
  redis: RedisServer,
): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(ROOT, "src/app/server.ts")], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      APP_ID: "1",
      PRIVATE_KEY: h.privateKey,
      WEBHOOK_SECRET: h.secret,
      GHE_HOST: h.emu.host,
      GHE_PROTOCOL: "http",
      REDIS_URL: redis.url,
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "info",
      NODE_ENV: "test",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  await waitForOutput(child, /listening on/);
  return { url: `http://127.0.0.1:${port}`, child };
}

describe("App replicas sharing one Redis", () => {
  let h: AppHarness;
  let redis: RedisServer;
  const replicas: ChildProcess[] = [];

  beforeAll(async () => {
    [h, redis] = await Promise.all([startAppHarness(), startRedis()]);
  }, 60_000);
  afterAll(async () => {
    for (const child of replicas) child.kill("SIGTERM");
    await Promise.all([h?.close(), redis?.close()]);
  });

  it("handles deliveries on either replica, with rate limiting state in Redis", async () => {
    const [a, b] = await Promise.all([startReplica(h, redis), startReplica(h, redis)]);
    replicas.push(a.child, b.child);
    const mixed = h.openPR("mixed", {
      "config/llm.json": '{"llm": {"default_model": "gpt-5.5", "timeout_ms": 1}}\n',
    });
    const clean = h.openPR("docs", { "README.md": "docs only\n" });
    const post = async (url: string, number: number) => {
      const body = JSON.stringify(h.pullRequestEvent("opened", number));
      const response = await fetch(`${url}/api/github/webhooks`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-github-event": "pull_request",
          "x-github-delivery": `replica-${number}`,
          "x-hub-signature-256": sign(h.secret, body),
        },
        body,
      });
      return response.status;
    };
    expect(await Promise.all([post(a.url, mixed), post(b.url, clean)])).toEqual([200, 200]);

    const conclusion = (number: number) =>
      h.checks(h.headSha(number)).find((check) => check.name === "modelgate/attribution")?.conclusion;
    expect(conclusion(mixed)).toBe("failure");
    expect(conclusion(clean)).toBe("neutral"); // nothing LLM-relevant changed
    // Bottleneck keeps its cluster state under b_* keys: both replicas' limiters live in Redis.
    expect(await redis.command("KEYS b_*")).toMatch(/^\*[1-9]/);
  });
});
