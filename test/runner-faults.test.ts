import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../src/cli/main.ts";
import { judgeAnswer } from "../src/core/cases/assertions.ts";
import { parseCaseFile } from "../src/core/cases/parse.ts";
import { caseSchema } from "../src/core/cases/schema.ts";
import { defaultConfig } from "../src/core/config/load.ts";
import { UserError } from "../src/core/errors.ts";
import type { EvalResult } from "../src/core/result.ts";
import { redactUrl } from "../src/core/text/redact-url.ts";
import { createOpenAIClient } from "../src/eval/openai-client.ts";
import { listProviderModels } from "../src/eval/preflight.ts";
import type { RetryPolicy } from "../src/eval/retry-policy.ts";
import {
  type EvalTask,
  type RunnerOptions,
  runRequestBound,
  runTasks,
  type Side,
} from "../src/eval/runner.ts";
import { ROOT } from "./support/cli.ts";
import {
  answer,
  type ChatRequest,
  type FaultProvider,
  type Reply,
  startFaultProvider,
  USAGE,
} from "./support/fault-provider.ts";
import { commitFiles, git, tempDir } from "./support/git.ts";

/**
 * Issue 9 items 6 and 7 on the wire: the real `openai` SDK against a loopback provider that
 * answers 429 with Retry-After 0 / -1, 500 forever, and malformed bodies.
 */

const providers: FaultProvider[] = [];
afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.close()));
});

async function provider(chat: (request: ChatRequest) => Reply): Promise<FaultProvider> {
  const started = await startFaultProvider({ chat });
  providers.push(started);
  return started;
}

const MODEL = "gpt-test";
/** Fast waits so a storm takes milliseconds; the budgets are the real defaults unless a test says. */
const FAST: Partial<RetryPolicy> = { rateLimitFloorMs: 1, backoffBaseMs: 1 };

function tasks(count: number, retryLimit = 2): EvalTask[] {
  return Array.from({ length: count }, (_, i) => i).flatMap((i) =>
    (["base", "head"] as Side[]).map((side) => {
      const testCase = caseSchema.parse({
        id: `case-${i}`,
        route: "qna",
        input: `question ${i}`,
        assert: [{ type: "contains", value: "fine" }],
      });
      return {
        side,
        testCase,
        route: "qna",
        resolved: { model: MODEL, max_output_tokens: null, timeout_ms: 10_000, retry_limit: retryLimit },
        messages: [{ role: "user" as const, content: `question ${i}` }],
      };
    }),
  );
}

function options(p: FaultProvider, retry: Partial<RetryPolicy> = {}): RunnerOptions {
  const config = defaultConfig();
  return {
    client: createOpenAIClient({ baseURL: p.url, apiKey: "sk-test" }),
    concurrency: 4,
    maxSteps: config.evals.max_steps,
    pricing: config.pricing,
    budget: {},
    retry: { ...FAST, ...retry },
  };
}

function repoWith(cases: object[]): string {
  const dir = tempDir();
  git(dir, "init", "--quiet", "--initial-branch=main");
  const llm = (model: string) =>
    JSON.stringify({ llm: { default_model: "gpt-test", routes: { qna: model }, retry_limit: 0 } });
  commitFiles(
    dir,
    {
      "config/llm.json": llm("gpt-test"),
      "evals/cases.jsonl": cases.map((c) => JSON.stringify(c)).join("\n"),
    },
    "base",
  );
  git(dir, "checkout", "--quiet", "-b", "pr");
  commitFiles(dir, { "config/llm.json": llm("gpt-test-2") }, "move qna");
  return dir;
}

const qnaCases = Array.from({ length: 30 }, (_, i) => ({
  id: `q-${i}`,
  route: "qna",
  input: `question ${i}`,
  assert: [{ type: "contains", value: "fine" }],
}));

const ok = (): Reply => answer(MODEL, "all fine", USAGE);
const rateLimited = (after: string): Reply => ({
  status: 429,
  headers: { "retry-after": after },
  body: { error: { message: "slow down" } },
});
const serverError: Reply = { status: 500, body: { error: { message: "boom" } } };

describe("retries are bounded (issue 9 item 6)", () => {
  for (const after of ["0", "-1"]) {
    it(`a 429 storm with Retry-After ${after} waits at least the floor and stops the run within the bound`, async () => {
      const p = await provider(() => rateLimited(after));
      const work = tasks(3);
      const started = performance.now();
      const run = await runTasks(work, options(p, { rateLimitFloorMs: 20, rateLimitRetries: 5 }));
      const elapsed = performance.now() - started;
      expect(run.stopped?.reason).toBe("rate limited: 6 429 answers in a row for one request");
      // Concurrency 4: at most four steps each spend their 5 retries, every one after ≥ 20 ms.
      expect(p.chatRequests).toBeLessThanOrEqual(4 * 6);
      expect(p.chatRequests).toBe(run.totals.requests);
      expect(elapsed).toBeGreaterThanOrEqual(5 * 20);
      expect(p.chatRequests).toBeLessThanOrEqual(
        runRequestBound(work, 8, { serverRetries: 2, rateLimitRetries: 5 }),
      );
    });
  }

  it("500 forever interleaved with 429s exhausts the server retries: 3 server errors per attempt", async () => {
    const seen = new Map<string, number>();
    const p = await provider(({ prompt }) => {
      const n = (seen.get(prompt) ?? 0) + 1;
      seen.set(prompt, n);
      return n % 2 === 1 ? rateLimited("0") : serverError;
    });
    const work = tasks(1, 2);
    const run = await runTasks(work, options(p));
    expect(run.stopped).toBeUndefined();
    for (const side of run.results.values()) {
      expect(side.outcome).toBe("error");
      expect(side.detail).toMatch(/^HTTP 500/);
      expect(side.attempts).toBe(3);
    }
    // Per attempt: 429, 500, 429, 500, 429, 500 — the 429s never hand back a server retry.
    expect(p.chatRequests).toBe(2 * 3 * 6);
  });

  it("under a 429 storm at 1/3 of requests plus one always-500 case, total requests stay within the bound", async () => {
    const p = await provider(({ prompt, n }) => {
      if (n % 3 === 0) return rateLimited("0");
      if (prompt === "question 0") return serverError;
      return ok();
    });
    const work = tasks(20, 2);
    const run = await runTasks(work, options(p));
    const bound = runRequestBound(work, 8, { serverRetries: 2, rateLimitRetries: 30 });
    expect(run.stopped).toBeUndefined();
    expect(p.chatRequests).toBe(run.totals.requests);
    expect(p.chatRequests).toBeLessThanOrEqual(bound);
    const outcomes = [...run.results].map(([task, side]) => [task.testCase.id, side.outcome]);
    expect(outcomes.filter(([id]) => id === "case-0").every(([, o]) => o === "error")).toBe(true);
    expect(outcomes.filter(([id]) => id !== "case-0").every(([, o]) => o === "pass")).toBe(true);
  });

  it("a 429 asking for more than the run may wait stops at once and says so", async () => {
    const p = await provider(() => rateLimited("3600"));
    const started = performance.now();
    const run = await runTasks(tasks(1), { ...options(p), maxRateLimitWaitMs: 900_000 });
    expect(performance.now() - started).toBeLessThan(2000);
    expect(run.stopped?.reason).toBe(
      "rate limited: the provider asked to wait 3600 s (Retry-After), more than the 900 s this run may still wait (900 s in total)",
    );
    expect(p.chatRequests).toBeLessThanOrEqual(2);
  });
});

describe("malformed answers are error attempts (issue 9 item 7)", () => {
  const bodies: Record<string, Reply> = {
    "question 0": answer(null as unknown as string, "all fine", USAGE),
    "question 1": { status: 200, body: { choices: [{ message: { content: "all fine" } }], usage: USAGE } },
    "question 2": answer(MODEL, 42, USAGE),
    "question 3": answer(MODEL, { text: "all fine" }, USAGE),
    "question 4": answer(MODEL, "all fine", { prompt_tokens: -5, completion_tokens: 3 }),
    "question 5": answer(MODEL, "all fine"),
    "question 6": { status: 200, body: { model: MODEL, choices: [] } },
  };

  it("model null or missing, content a number or an object, negative usage: error with the reason, no crash", async () => {
    const p = await provider(({ prompt }) => bodies[prompt] ?? ok());
    const work = tasks(7, 0).filter((t) => t.side === "head");
    const run = await runTasks(work, options(p));
    const byId = new Map([...run.results].map(([task, side]) => [task.testCase.id, side]));
    expect(byId.get("case-0")).toMatchObject({
      outcome: "error",
      detail: expect.stringMatching(
        /^malformed answer from the provider: model: expected string, received null/,
      ),
    });
    expect(byId.get("case-1")).toMatchObject({
      outcome: "error",
      detail: expect.stringMatching(/^malformed answer from the provider: model: expected string/),
    });
    expect(byId.get("case-2")).toMatchObject({
      outcome: "error",
      detail: expect.stringContaining("choices.0.message.content"),
    });
    expect(byId.get("case-3")).toMatchObject({
      outcome: "error",
      detail: expect.stringContaining("choices.0.message.content"),
    });
    expect(byId.get("case-4")).toMatchObject({
      outcome: "error",
      detail: expect.stringContaining("usage.prompt_tokens"),
    });
    expect(byId.get("case-6")).toMatchObject({
      outcome: "error",
      detail: expect.stringContaining("no choices"),
    });
  });

  it("the CLI finishes (no exit 3, no result left in progress) when every answer is malformed", async () => {
    const p = await startFaultProvider({
      chat: ({ n }) => [bodies["question 0"], bodies["question 2"], bodies["question 4"]][n % 3] ?? ok(),
      modelIds: ["gpt-test", "gpt-test-2"],
    });
    providers.push(p);
    const out = join(tempDir(), "result.json");
    let stderr = "";
    const code = await runCli(
      [
        "eval",
        "--repo",
        repoWith(qnaCases.slice(0, 4)),
        "--base",
        "main",
        "--head",
        "pr",
        "--out",
        out,
        "--no-cache",
      ],
      {
        stdout: () => {},
        stderr: (text) => {
          stderr += text;
        },
        isTTY: false,
        env: { OPENAI_BASE_URL: p.url, OPENAI_API_KEY: "sk-test", MODELGATE_INTERNAL_RETRY_FLOOR_MS: "1" },
      },
    );
    expect(stderr).not.toMatch(/internal error/);
    expect([0, 1]).toContain(code);
    const result = JSON.parse(readFileSync(out, "utf8")) as EvalResult;
    expect(result.partial).toBe(false);
    expect(result.cases.every((c) => c.head?.outcome === "error" && c.base?.outcome === "error")).toBe(true);
    expect(result.cases[0]?.head?.detail).toMatch(/^malformed answer from the provider: /);
  });

  it("missing usage makes tokens and cost unknown (null) with a warning, never 0", async () => {
    const p = await provider(({ prompt }) => bodies[prompt] ?? ok());
    const work = tasks(6, 0).filter((t) => t.side === "head" && t.testCase.id === "case-5");
    const run = await runTasks(work, options(p));
    const [side] = run.results.values();
    expect(side?.detail).toBeUndefined();
    expect(side).toMatchObject({ outcome: "pass", tokens: null, cost: null });
    expect(run.totals.missingUsage).toEqual([{ route: "qna", model: MODEL }]);
  });
});

describe("hangs end, SIGTERM ends the run (issue 9 item 8)", () => {
  it("a hung GET /v1/models fails pre-flight after its short timeout, naming GET /models", async () => {
    const p = await startFaultProvider({ chat: ok, models: () => "hang" });
    providers.push(p);
    const client = createOpenAIClient({ baseURL: p.url, apiKey: "sk-test" });
    const started = performance.now();
    await expect(listProviderModels(client, { timeoutMs: 300 })).rejects.toThrow(
      "cannot list the provider's models: no answer from GET /models within 0 s",
    );
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it("a ReDoS regex (^(a+)+$) on a 35-character answer is linear: the case fails at once", () => {
    const testCase = caseSchema.parse({
      id: "redos",
      route: "qna",
      input: "x",
      assert: [{ type: "regex", value: "^(a+)+$" }],
    });
    const started = performance.now();
    const outcome = judgeAnswer(testCase, { text: `${"a".repeat(34)}!`, toolCalls: [] });
    expect(performance.now() - started).toBeLessThan(500);
    expect(outcome).toEqual({ outcome: "fail", reason: "expected the answer to match /^(a+)+$/" });
  });

  it("invalid or unsupported regexes are rejected when the cases load, with file:line (case id)", () => {
    const text = [
      JSON.stringify({
        id: "ok",
        route: "qna",
        input: "x",
        assert: [{ type: "regex", value: "^a+$", flags: "i" }],
      }),
      JSON.stringify({ id: "broken", route: "qna", input: "x", assert: [{ type: "regex", value: "(a" }] }),
      JSON.stringify({
        id: "lookbehind",
        route: "qna",
        input: "x",
        assert: [{ type: "regex", value: "(?<=a)b" }],
      }),
    ].join("\n");
    expect(() => parseCaseFile(text, "evals/cases.jsonl")).toThrow(UserError);
    expect(() => parseCaseFile(text, "evals/cases.jsonl")).toThrow(
      /^evals\/cases\.jsonl:2 \(case broken\) assert\.0\.value: not a supported regex \(missing closing \): `\(a`\)[^\n]*\nevals\/cases\.jsonl:3 \(case lookbehind\) assert\.0\.value: not a supported regex/,
    );
  });

  function spawnEval(repo: string, url: string, out: string): ChildProcess {
    return spawn(
      process.execPath,
      [join(ROOT, "src/cli/bin.ts"), "eval", "--repo", repo, "--base", "main", "--head", "pr"].concat([
        "--out",
        out,
        "--no-cache",
        "--all",
      ]),
      { env: { ...process.env, OPENAI_BASE_URL: url, OPENAI_API_KEY: "sk-test" }, stdio: "ignore" },
    );
  }

  it("the CLI refuses a case with an unsupported regex before any request: exit 2, file:line (case id)", async () => {
    const p = await startFaultProvider({ chat: ok, modelIds: ["gpt-test", "gpt-test-2"] });
    providers.push(p);
    const cases = [
      ...qnaCases.slice(0, 2),
      { id: "backref", route: "qna", input: "x", assert: [{ type: "regex", value: "(a)\\1" }] },
    ];
    let stderr = "";
    const code = await runCli(
      ["eval", "--repo", repoWith(cases), "--base", "main", "--head", "pr", "--no-cache"],
      {
        stdout: () => {},
        stderr: (text) => {
          stderr += text;
        },
        isTTY: false,
        env: { OPENAI_BASE_URL: p.url, OPENAI_API_KEY: "sk-test" },
      },
    );
    expect(code).toBe(2);
    expect(stderr).toMatch(
      /\nmodelgate: evals\/cases\.jsonl:3 \(case backref\) assert\.0\.value: not a supported regex/,
    );
    expect(p.chatRequests).toBe(0);
  });

  async function waitFor(condition: () => boolean, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (!condition()) throw new Error("condition not reached");
  }

  for (const where of ["GET /v1/models", "every chat completion"] as const) {
    it(`SIGTERM while ${where} hangs ends the CLI within 5 s with a partial result file`, async () => {
      const p = await startFaultProvider({
        chat: () => "hang",
        ...(where === "GET /v1/models" ? { models: () => "hang" as const } : {}),
        modelIds: ["gpt-test", "gpt-test-2"],
      });
      providers.push(p);
      const out = join(tempDir(), "result.json");
      const child = spawnEval(repoWith(qnaCases), p.url, out);
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      try {
        await waitFor(() => (where === "GET /v1/models" ? p.modelRequests > 0 : p.chatRequests > 0), 20_000);
        const killed = Date.now();
        child.kill("SIGTERM");
        const code = await Promise.race([
          exited,
          new Promise((r) => setTimeout(() => r("still running"), 5000)),
        ]);
        expect(code).toBe(130);
        expect(Date.now() - killed).toBeLessThan(5000);
        const result = JSON.parse(readFileSync(out, "utf8")) as EvalResult;
        expect(result.partial).toBe(true);
        expect(result.partial_reason).toBe("interrupted");
        expect(result.cases).toHaveLength(30);
      } finally {
        child.kill("SIGKILL");
      }
    }, 30_000);
  }
});

describe("credentials in the base URL are never printed", () => {
  it("redactUrl hides user:pass and query values, keeping api-version", () => {
    expect(
      redactUrl("https://user:hunter2@llm.example.com/v1?api-key=sk-SECRET&api-version=2024-10-21"),
    ).toBe("https://***@llm.example.com/v1?api-key=***&api-version=2024-10-21");
    expect(redactUrl("ht!tp://user:hunter2@x/v1?key=sk-SECRET")).toBe("ht!tp://***@x/v1?***");
    expect(redactUrl("https://api.openai.com/v1")).toBe("https://api.openai.com/v1");
  });

  it("the CLI's logs, errors, result file and comment carry no credentials from OPENAI_BASE_URL", async () => {
    const p = await startFaultProvider({ chat: ok, modelIds: ["gpt-test", "gpt-test-2"] });
    providers.push(p);
    const secretUrl = p.url.replace("http://", "http://alice:hunter2@").concat("?api-key=sk-SECRET-IN-URL");
    const out = join(tempDir(), "result.json");
    const md = join(tempDir(), "comment.md");
    let printed = "";
    const code = await runCli(
      ["eval", "--repo", repoWith(qnaCases.slice(0, 3)), "--base", "main", "--head", "pr"].concat([
        "--out",
        out,
        "--markdown",
        md,
        "--no-cache",
      ]),
      {
        stdout: (text) => {
          printed += text;
        },
        stderr: (text) => {
          printed += text;
        },
        isTTY: false,
        env: { OPENAI_BASE_URL: secretUrl, OPENAI_API_KEY: "sk-test" },
      },
    );
    const everything = [printed, readIfExists(out), readIfExists(md)].join("\n");
    expect(everything).toContain("***");
    expect(everything).not.toContain("hunter2");
    expect(everything).not.toContain("sk-SECRET-IN-URL");
    expect(code).not.toBe(3);
  });
});

function readIfExists(path: string): string {
  return existsSync(path) ? readFileSync(path, "utf8") : "";
}
