/**
 * Issue 9, item 9: the App's resources under abuse, over the wire. Bodies are capped at
 * GitHub's 25 MB and the signature is checked while the body streams; a hung GitHub call fails
 * its delivery within the request timeout instead of wedging the PR's queue; a signed body that
 * is not a JSON object is a 400; a payload for a PR that does not exist writes nothing.
 */
import { createHmac } from "node:crypto";
import { request } from "node:http";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { createGitHub } from "../src/action/github-client.ts";
import { KeyedQueue, QueueTimeoutError } from "../src/app/keyed-queue.ts";
import {
  type AppHarness,
  INFRA_CHANGE,
  MODEL_CHANGE,
  OWNER,
  REPO,
  sign,
  startAppHarness,
} from "./support/app-harness.ts";
import { WORKFLOW_TOKEN } from "./support/github-emulator.ts";

const MB = 1024 * 1024;
const REQUEST_TIMEOUT_MS = 400;

let h: AppHarness;

beforeEach(async () => {
  h = await startAppHarness({
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
    client: { throttle: false, retries: 1, retryAfterBaseValue: 10 },
  });
  h.user("dev", "write");
});

afterEach(async () => {
  await h.close();
});

interface Streamed {
  status: number;
  body: string;
  /** Peak RSS growth over the baseline while the request ran, in bytes. */
  rssGrowth: number;
  /** Bytes the client managed to send before the server answered or closed. */
  sent: number;
}

/**
 * POSTs `total` bytes of `{"x":"aaaa…` in 1 MB chunks, with backpressure, sampling RSS. The
 * server may answer (and close) long before the upload ends: that is the point.
 */
function streamBody(
  total: number,
  options: { signature?: string | null; contentLength?: boolean; path?: string } = {},
): Promise<Streamed> {
  const chunk = Buffer.alloc(MB, "a");
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-github-event": "pull_request",
    "x-github-delivery": "big-1",
  };
  if (options.signature !== null) headers["x-hub-signature-256"] = options.signature ?? sign(h.secret, "{}");
  if (options.contentLength) headers["content-length"] = String(total);
  return new Promise((resolve, reject) => {
    let sent = 0;
    let done = false;
    const finish = (result: Omit<Streamed, "rssGrowth" | "sent">) => {
      if (done) return;
      done = true;
      clearInterval(sampler);
      resolve({ ...result, rssGrowth: peak - baseline, sent });
    };
    const path = options.path ?? "/api/github/webhooks";
    const req = request(`${h.server.url}${path}`, { method: "POST", headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (data: string) => {
        body += data;
      });
      res.on("end", () => finish({ status: res.statusCode ?? 0, body }));
      res.on("error", () => finish({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", (error) => {
      // The server closed the socket after answering; the answer has already been seen or not.
      if (!done) setTimeout(() => (done ? undefined : reject(error)), 200);
    });
    const pump = () => {
      while (sent < total && !done && !req.destroyed) {
        const piece = sent === 0 ? Buffer.concat([Buffer.from('{"x":"'), chunk.subarray(6)]) : chunk;
        sent += piece.length;
        if (!req.write(piece)) {
          req.once("drain", pump);
          return;
        }
      }
      if (sent >= total && !req.destroyed) req.end();
    };
    pump();
  });
}

describe("request bodies", () => {
  test("100 MB with a (wrong) signature, streamed without a length: 413, RSS grows < 100 MB", async () => {
    const result = await streamBody(100 * MB);
    expect(result.status).toBe(413);
    expect(result.body).toMatch(/25 MB/);
    expect(result.rssGrowth).toBeLessThan(100 * MB);
  }, 60_000);

  test("a path Probot resolves to the webhook path (`x/../webhooks`) is capped too", async () => {
    const result = await streamBody(100 * MB, { path: "/api/github/x/../webhooks/" });
    expect(result.status).toBe(413);
    expect(result.rssGrowth).toBeLessThan(100 * MB);
  }, 60_000);

  test("a Content-Length over 25 MB is refused before the body is read", async () => {
    const result = await streamBody(100 * MB, { contentLength: true });
    expect(result.status).toBe(413);
    expect(result.rssGrowth).toBeLessThan(100 * MB);
  }, 60_000);

  test("100 MB unsigned: refused without buffering it", async () => {
    const result = await streamBody(100 * MB, { signature: null });
    expect(result.status).toBe(400);
    expect(result.rssGrowth).toBeLessThan(100 * MB);
  }, 60_000);

  test("a signed body under the cap is still accepted (padding of 2 MB)", async () => {
    const number = h.openPR("padded", MODEL_CHANGE);
    const payload = { ...h.pullRequestEvent("opened", number), padding: "p".repeat(2 * MB) };
    const delivery = await h.deliver("pull_request", payload);
    expect(delivery.status).toBe(200);
    expect(h.checks(h.headSha(number))).toHaveLength(1);
  }, 30_000);

  test("a wrong signature is 401 and runs nothing", async () => {
    const number = h.openPR("forged", MODEL_CHANGE);
    const payload = h.pullRequestEvent("opened", number);
    const forged = `sha256=${createHmac("sha256", "not-the-secret").update(JSON.stringify(payload)).digest("hex")}`;
    const delivery = await h.deliver("pull_request", payload, { signature: forged });
    expect(delivery.status).toBe(401);
    expect(h.checks()).toHaveLength(0);
  });

  test.each([
    ["null", null],
    ["an array", []],
    ["a number", 42],
    ["a string", "hi"],
  ])("a signed body that is %s gets 400, not 500", async (_name, payload) => {
    const delivery = await h.deliver("pull_request", payload);
    expect(delivery.status).toBe(400);
    expect(delivery.body).toMatch(/JSON object/);
  });

  test("a signed body that is not JSON gets 400", async () => {
    const body = '{"action": "opened",';
    const response = await fetch(`${h.server.url}/api/github/webhooks`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-github-event": "pull_request",
        "x-github-delivery": "bad-json",
        "x-hub-signature-256": sign(h.secret, body),
      },
      body,
    });
    expect(response.status).toBe(400);
  });
});

/** GitHub writes since request `before`, leaving out installation-token requests. */
function writesSince(before: number) {
  return h.emu.requests.slice(before).filter((r) => r.method !== "GET" && !r.path.includes("/access_tokens"));
}

describe("a PR that does not exist", () => {
  test("a signed payload for PR #999 writes nothing", async () => {
    const number = h.openPR("real", MODEL_CHANGE);
    const payload = h.pullRequestEvent("opened", number);
    (payload.pull_request as { number: number }).number = 999;
    payload.number = 999;
    const before = h.emu.requests.length;
    const delivery = await h.deliver("pull_request", payload);
    expect(delivery.status).toBe(200);
    expect(writesSince(before)).toEqual([]);
    expect(h.checks()).toHaveLength(0);
  });

  test("a rollout label on PR #999 answers 200 and writes nothing", async () => {
    const number = h.openPR("real-rollout", MODEL_CHANGE);
    const payload = h.pullRequestEvent("labeled", number, { label: { name: "rollout:25" } });
    (payload.pull_request as { number: number; labels: unknown[] }).number = 999;
    payload.number = 999;
    const before = h.emu.requests.length;
    const delivery = await h.deliver("pull_request", payload);
    expect(delivery.status).toBe(200);
    expect(writesSince(before)).toEqual([]);
  });
});

describe("a hung GitHub call", () => {
  test("fails its delivery within the timeout, the check says which call; the next delivery is handled", async () => {
    const number = h.openPR("hang", { ...MODEL_CHANGE, ...INFRA_CHANGE });
    // Every attempt (1 + 1 retry) at the PR's file list hangs.
    h.emu.hangNext({ method: "GET", pathIncludes: `/pulls/${number}/files` }, 2);
    const started = performance.now();
    const first = await h.deliver("pull_request", h.pullRequestEvent("opened", number));
    const elapsed = performance.now() - started;
    expect(first.status).toBe(200);
    expect(elapsed).toBeLessThan(5_000);
    const [check] = h.checks(h.headSha(number));
    expect(check).toMatchObject({ status: "completed", conclusion: "failure" });
    expect(check?.output.summary).toMatch(/did not answer GET \S*\/pulls\/\d+\/files\S* within 0\.4 s/);

    // The redelivery (same id) is not stuck behind the hung one.
    const second = await h.deliver("pull_request", h.pullRequestEvent("opened", number), { id: first.id });
    expect(second.status).toBe(200);
    const after = h.checks(h.headSha(number));
    expect(after).toHaveLength(1);
    expect(after[0]?.output.title).toMatch(/Mixed change/);
  }, 30_000);
});

describe("the Action's GitHub client", () => {
  test("a hung call fails after its deadline and is retried; a call that always hangs fails naming the route", async () => {
    const emu = h.emu;
    const warnings: string[] = [];
    const gh = createGitHub(
      WORKFLOW_TOKEN,
      emu.url,
      { warning: (m) => warnings.push(m) },
      { retryBaseMs: 10, secondaryMinWaitSeconds: 60, secondMs: 1 },
      300,
    );
    const route = "GET /repos/{owner}/{repo}/pulls/{pull_number}" as const;
    const number = h.openPR("action-hang", MODEL_CHANGE);
    const pull = { owner: OWNER, repo: REPO, pull_number: number };

    emu.hangNext({ method: "GET", pathIncludes: `/pulls/${number}` }, 1);
    let started = performance.now();
    const { data } = await gh.request(route, pull);
    expect(data.number).toBe(number);
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(warnings.join("\n")).toMatch(/retrying/);

    emu.hangNext({ method: "GET", pathIncludes: `/pulls/${number}` }, 10);
    started = performance.now();
    await expect(gh.request(route, pull)).rejects.toThrow(
      new RegExp(`did not answer GET \\S*/pulls/${number} within 0\\.3 s`),
    );
    // 4 attempts of 0.3 s plus short back-offs: bounded, not forever.
    expect(performance.now() - started).toBeLessThan(5_000);
  }, 20_000);
});

describe("the per-PR queue", () => {
  test("a task past the deadline fails its caller, and the next task for the key runs", async () => {
    const queue = new KeyedQueue({ timeoutMs: 100 });
    const stuck = queue.run("acme/app#1", () => new Promise<never>(() => {}));
    const next = queue.run("acme/app#1", async () => "handled");
    await expect(stuck).rejects.toBeInstanceOf(QueueTimeoutError);
    await expect(stuck).rejects.toThrow(/acme\/app#1: gave up after 0\.1 s/);
    await expect(next).resolves.toBe("handled");
  });
});

describe("a hung installation-token request", () => {
  test("is bounded by the same deadline: the delivery ends, and the next one is handled", async () => {
    const number = h.openPR("token-hang", MODEL_CHANGE);
    h.emu.hangNext({ method: "POST", pathIncludes: "/access_tokens" }, 1);
    const started = performance.now();
    const first = await h.deliver("pull_request", h.pullRequestEvent("opened", number));
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(first.status).toBeGreaterThanOrEqual(200);
    // The hang was hit (the emulator logs an unanswered request with status 0).
    expect(h.emu.requests.some((r) => r.status === 0 && r.path.includes("/access_tokens"))).toBe(true);
    const second = await h.deliver("pull_request", h.pullRequestEvent("opened", number), { id: first.id });
    expect(second.status).toBe(200);
    expect(h.checks(h.headSha(number))[0]).toMatchObject({ status: "completed", conclusion: "success" });
  }, 30_000);
});
