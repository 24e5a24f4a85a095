/**
 * The App's Alertmanager receiver alone (`POST /api/alertmanager`, issue 13): the real server
 * on loopback against the GitHub REST emulator, requests over real HTTP. The real Prometheus and
 * Alertmanager drive it in test/watch-alertmanager.test.ts.
 */
import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { parse as parseYaml } from "yaml";
import { defaultConfig } from "../src/core/config/load.ts";
import { renderQuery } from "../src/metrics/prometheus.ts";
import { type AppHarness, llmJson, OWNER, REPO, startAppHarness } from "./support/app-harness.ts";
import { freePort } from "./support/net.ts";
import { BREACH, FILE_METRICS_POLICY, HEALTHY, metricsFile } from "./support/watch-fixtures.ts";

const TOKEN = "am-token-0123456789abcdef";
const PATH = "/api/alertmanager";

interface AlertSpec {
  status?: "firing" | "resolved";
  labels?: Record<string, string>;
  fingerprint?: string;
  startsAt?: string;
}

function alert(spec: AlertSpec = {}): Record<string, unknown> {
  const status = spec.status ?? "firing";
  return {
    status,
    labels: spec.labels ?? {
      alertname: "ModelgateCandidateErrorRate",
      modelgate_repo: `${OWNER}/${REPO}`,
      modelgate_rule: "rollback",
    },
    annotations: { summary: "candidate error rate 99 %" },
    startsAt: spec.startsAt ?? "2026-11-02T09:00:00.000Z",
    endsAt: status === "resolved" ? "2026-11-02T09:30:00.000Z" : "0001-01-01T00:00:00Z",
    generatorURL: "http://prometheus/graph",
    fingerprint: spec.fingerprint ?? "0123456789abcdef",
  };
}

function payload(alerts: Array<Record<string, unknown>>): Record<string, unknown> {
  return {
    version: "4",
    groupKey: '{}:{modelgate_repo="acme/support-bot"}',
    truncatedAlerts: 0,
    status: alerts.some((a) => a.status === "firing") ? "firing" : "resolved",
    receiver: "modelgate",
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: "http://alertmanager",
    alerts,
  };
}

let app: AppHarness;

async function post(
  body: unknown,
  options: { token?: string | null; headers?: Record<string, string>; method?: string; raw?: string } = {},
): Promise<{ status: number; body: string; json: () => unknown }> {
  const headers: Record<string, string> = { "content-type": "application/json", ...options.headers };
  const token = options.token === undefined ? TOKEN : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${app.server.url}${PATH}`, {
    method: options.method ?? "POST",
    headers,
    ...((options.method ?? "POST") === "GET" ? {} : { body: options.raw ?? JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text, json: () => JSON.parse(text) };
}

function openPulls(): Array<{ number: number; head: string }> {
  const repo = app.emu.state.repos.get(`${OWNER}/${REPO}`.toLowerCase());
  return [...(repo?.issues.values() ?? [])]
    .filter((issue) => issue.pull && issue.state === "open")
    .map((issue) => ({ number: issue.number, head: issue.pull?.headRef ?? "" }));
}

function commentsOn(number: number): string[] {
  return [...app.emu.state.comments.values()].filter((c) => c.issueNumber === number).map((c) => c.body);
}

describe("with the token configured", () => {
  beforeEach(async () => {
    app = await startAppHarness({ env: { MODELGATE_ALERTMANAGER_TOKEN: TOKEN } });
    app.push("main", { ".github/modelgate.yml": FILE_METRICS_POLICY });
  });
  afterEach(async () => {
    await app.close();
  });

  test("a wrong or missing bearer token is a 401 and nothing is read", async () => {
    const wrong = await post(payload([alert()]), { token: "am-token-0123456789abcdeX" });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatch(/Bearer <MODELGATE_ALERTMANAGER_TOKEN>/);
    expect((await post(payload([alert()]), { token: null })).status).toBe(401);
    expect((await post(payload([alert()]), { token: "" })).status).toBe(401);
    expect(openPulls()).toEqual([]);
  });

  test("browser requests, other methods and other content types are refused", async () => {
    const cross = await post(payload([alert()]), { headers: { origin: "https://evil.example" } });
    expect(cross.status).toBe(403);
    expect(cross.body).toMatch(/Origin/);
    const get = await post(undefined, { method: "GET" });
    expect(get.status).toBe(405);
    const form = await post(undefined, {
      headers: { "content-type": "text/plain" },
      raw: JSON.stringify(payload([alert()])),
    });
    expect(form.status).toBe(415);
    expect(openPulls()).toEqual([]);
  });

  test("a bad payload is a 400 that names the key and what was expected", async () => {
    const notJson = await post(undefined, { raw: "{nope" });
    expect(notJson.status).toBe(400);
    expect(notJson.body).toMatch(/body is not JSON/);

    const v3 = await post({ ...payload([alert()]), version: "3" });
    expect(v3.status).toBe(400);
    expect(v3.json()).toEqual({ error: expect.stringMatching(/^version: .*"4"/) });

    const badLabels = await post(payload([{ ...alert(), labels: "modelgate" }]));
    expect(badLabels.status).toBe(400);
    expect(badLabels.json()).toEqual({ error: expect.stringMatching(/^alerts\[0\]\.labels: .*record/i) });

    const badFingerprint = await post(payload([alert({ fingerprint: "--><script>" })]));
    expect(badFingerprint.status).toBe(400);
    expect(badFingerprint.json()).toEqual({
      error: expect.stringMatching(/^alerts\[0\]\.fingerprint: 16 lowercase hex digits/),
    });
    expect(openPulls()).toEqual([]);
  });

  test("a body over 1 MB is a 413, declared or streamed", async () => {
    const big = JSON.stringify({ ...payload([alert()]), pad: "x".repeat(1024 * 1024) });
    const declared = await post(undefined, { raw: big });
    expect(declared.status).toBe(413);
    expect(declared.body).toMatch(/body over 1024 KB/);
    // Chunked, without a Content-Length: cut off while it streams.
    const chunks = [big.slice(0, 600_000), big.slice(600_000)];
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(new TextEncoder().encode(next));
      },
    });
    const response = await fetch(`${app.server.url}${PATH}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(response.status).toBe(413);
  });

  test("alerts that are not ours are ignored with a 200 and a reason; hostile repo labels never reach GitHub", async () => {
    const before = app.emu.state.requestCount;
    const answer = await post(
      payload([
        alert({ labels: { alertname: "DiskFull" }, fingerprint: "aa" }),
        alert({
          labels: { modelgate_repo: "acme/support-bot", modelgate_rule: "rollforward" },
          fingerprint: "bb",
        }),
        alert({
          labels: { modelgate_repo: "__proto__/../x", modelgate_rule: "rollback" },
          fingerprint: "cc",
        }),
        alert({
          labels: { modelgate_repo: "acme/support-bot/x", modelgate_rule: "rollback" },
          fingerprint: "dd",
        }),
        alert({
          labels: {
            modelgate_repo: "acme/support-bot",
            modelgate_rule: "rollback",
            modelgate_branch: "../x",
          },
          fingerprint: "ee",
        }),
      ]),
    );
    expect(answer.status).toBe(200);
    const body = answer.json() as {
      handled: unknown[];
      ignored: Array<{ fingerprint: string; reason: string }>;
    };
    expect(body.handled).toEqual([]);
    expect(body.ignored.map((i) => i.fingerprint)).toEqual(["aa", "bb", "cc", "dd", "ee"]);
    expect(body.ignored[0]?.reason).toMatch(/not a modelgate alert/);
    expect(body.ignored[1]?.reason).toMatch(/"rollforward" is not a rule modelgate knows/);
    expect(body.ignored[2]?.reason).toMatch(/is not owner\/name/);
    expect(body.ignored[3]?.reason).toMatch(/is not owner\/name/);
    expect(body.ignored[4]?.reason).toMatch(/modelgate_branch "..\/x" is not a branch name/);
    expect(app.emu.state.requestCount).toBe(before);
    expect(openPulls()).toEqual([]);
  });

  test("labels named like Object.prototype members are plain labels, never inherited values", async () => {
    const raw = JSON.stringify(payload([alert({ labels: { alertname: "X" }, fingerprint: "ab" })])).replace(
      '"labels":{"alertname":"X"}',
      '"labels":{"__proto__":"acme/support-bot","constructor":"rollback","toString":"x","alertname":"X"}',
    );
    expect(raw).toContain('"__proto__":"acme/support-bot"');
    const answer = await post(undefined, { raw });
    expect(answer.status).toBe(200);
    expect(answer.json()).toMatchObject({
      handled: [],
      ignored: [{ fingerprint: "ab", reason: expect.stringMatching(/not a modelgate alert/) }],
    });
  });

  test("a repository the App is not installed on: 200, said in the answer (a retry cannot help)", async () => {
    const answer = await post(
      payload([alert({ labels: { modelgate_repo: "elsewhere/app", modelgate_rule: "rollback" } })]),
    );
    expect(answer.status).toBe(200);
    expect(answer.json()).toMatchObject({
      handled: [{ repo: "elsewhere/app", result: expect.stringMatching(/^not installed: .*elsewhere\/app/) }],
    });
  });

  test("a firing alert re-judges from the repository's own numbers: healthy numbers open nothing", async () => {
    app.push("main", metricsFile(HEALTHY));
    const answer = await post(payload([alert()]));
    expect(answer.status).toBe(200);
    expect(answer.json()).toMatchObject({
      handled: [
        {
          repo: `${OWNER}/${REPO}`,
          fingerprints: ["0123456789abcdef"],
          result: expect.stringMatching(/^healthy/),
        },
      ],
    });
    expect(openPulls()).toEqual([]);
  });

  test("a breach opens one rollback PR; the same alert again links it; resolving comments once and reverts nothing", async () => {
    app.push("main", metricsFile(BREACH));
    const first = await post(payload([alert()]));
    expect(first.status).toBe(200);
    expect(first.json()).toMatchObject({
      handled: [{ result: expect.stringMatching(/rollback PR #\d+ opened/) }],
    });
    const open = openPulls();
    expect(open).toHaveLength(1);
    expect(open[0]?.head).toBe("modelgate/rollback-gpt-5.5");
    const number = open[0]?.number ?? 0;
    const body = app.emu.getPullRequest(OWNER, REPO, number).body ?? "";
    expect(body).toMatch(/Alertmanager alert ModelgateCandidateErrorRate \(fingerprint 0123456789abcdef\)/);
    expect(body).not.toMatch(/99 %/);

    const again = await post(payload([alert(), alert({ fingerprint: "fedcba9876543210" })]));
    expect(again.json()).toMatchObject({
      handled: [{ result: expect.stringMatching(/already open, updated/) }],
    });
    expect(openPulls()).toHaveLength(1);

    const mainBefore = app.emu.state.repos.get(`${OWNER}/${REPO}`.toLowerCase())?.refs.get("refs/heads/main");
    const resolved = payload([alert({ status: "resolved" })]);
    const r1 = await post(resolved);
    expect(r1.status).toBe(200);
    expect(r1.json()).toMatchObject({ handled: [{ result: expect.stringMatching(/commented on #\d+/) }] });
    const r2 = await post(resolved);
    expect(r2.json()).toMatchObject({ handled: [{ result: expect.stringMatching(/already has it/) }] });
    const notes = commentsOn(number).filter((c) => c.includes("<!-- modelgate:alert-resolved "));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/the rollback is not reverted/);
    // Still open, and main still carries the candidate at 10 %.
    expect(openPulls()).toHaveLength(1);
    expect(app.emu.state.repos.get(`${OWNER}/${REPO}`.toLowerCase())?.refs.get("refs/heads/main")).toBe(
      mainBefore,
    );
  });

  test("a policy the user must fix: 200 (a retry cannot fix it) and the answer names the file", async () => {
    app.push("main", { ".github/modelgate.yml": "rollout: { phases: [10, oops\n" });
    const answer = await post(payload([alert()]));
    expect(answer.status).toBe(200);
    expect(answer.json()).toMatchObject({
      handled: [{ result: expect.stringMatching(/^config error: .*\.github\/modelgate\.yml/) }],
    });
  });

  test("a breach whose rollback the repository makes impossible: 200 with the reason, not a retry loop", async () => {
    // No `models.rollback`: the rollback PR cannot be written; sending the alert again cannot help.
    app.push("main", {
      ...metricsFile(BREACH),
      "config/llm.json": llmJson((c) => {
        delete (c.models as Record<string, unknown>).rollback;
      }),
    });
    const answer = await post(payload([alert()]));
    expect(answer.status).toBe(200);
    expect(answer.json()).toMatchObject({
      handled: [
        {
          result: expect.stringMatching(
            /^config error: breach, but the rollback PR cannot be made: .*models\.rollback/,
          ),
        },
      ],
    });
    expect(openPulls()).toHaveLength(0);
  });

  test("GitHub failing: 502, so Alertmanager retries", async () => {
    app.push("main", metricsFile(BREACH));
    app.emu.failNext({ method: "GET", pathIncludes: "/installation" }, 500, 10);
    const answer = await post(payload([alert()]));
    expect(answer.status).toBe(502);
    expect(answer.json()).toMatchObject({
      handled: [{ result: expect.stringMatching(/^failed, Alertmanager should retry/) }],
    });
    expect(openPulls()).toEqual([]);
  });

  test("Prometheus unreachable: 502, not a hold answered 200", async () => {
    const closed = await startAppHarness({
      env: { MODELGATE_ALERTMANAGER_TOKEN: TOKEN, PROMETHEUS_URL: `http://127.0.0.1:${await freePort()}` },
    });
    try {
      closed.push("main", {
        ".github/modelgate.yml": FILE_METRICS_POLICY.replace(
          "metrics: { source: file, file: ops/metrics.json }",
          "metrics: { source: prometheus }",
        ),
      });
      const response = await fetch(`${closed.server.url}${PATH}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify(payload([alert()])),
      });
      expect(response.status).toBe(502);
      expect(await response.text()).toMatch(/cannot reach Prometheus/);
    } finally {
      await closed.close();
    }
  });
});

test("without MODELGATE_ALERTMANAGER_TOKEN the route is off: 503 saying so", async () => {
  app = await startAppHarness();
  try {
    const answer = await post(payload([alert()]));
    expect(answer.status).toBe(503);
    expect(answer.json()).toEqual({
      error:
        "the Alertmanager receiver is off: MODELGATE_ALERTMANAGER_TOKEN is not set in the App's environment",
    });
  } finally {
    await app.close();
  }
});

test("a token shorter than 16 characters keeps the route off too", async () => {
  app = await startAppHarness({ env: { MODELGATE_ALERTMANAGER_TOKEN: "short" } });
  try {
    const answer = await post(payload([alert()]), { token: "short" });
    expect(answer.status).toBe(503);
    expect(answer.body).toMatch(/MODELGATE_ALERTMANAGER_TOKEN is shorter than 16 characters/);
  } finally {
    await app.close();
  }
});

test("the shipped rule file alerts on the gates' default queries and limits, with the labels the receiver reads", () => {
  const config = defaultConfig();
  const { queries, arms } = config.rollout.metrics;
  const rules = (
    parseYaml(readFileSync("docs/prometheus/modelgate-rollout-rules.yml", "utf8")) as {
      groups: Array<{
        rules: Array<{ alert: string; expr: string; for: string; labels: Record<string, string> }>;
      }>;
    }
  ).groups.flatMap((g) => g.rules);
  const flat = (text: string) => text.replace(/\s+/g, "");
  const byName = new Map(rules.map((r) => [r.alert, { ...r, expr: flat(r.expr) }]));
  // Prometheus cannot know when the phase began: the rules look at the last hour where the gates'
  // queries say `{{phase_window}}` (the App re-judges with the running totals).
  const q = (template: string, arm: string) =>
    flat(renderQuery(template, { arm, phase: 0, phase_window: "1h" }));
  const errors = byName.get("ModelgateCandidateErrorRate");
  const completion = byName.get("ModelgateCandidateCompletionDrop");
  expect(errors?.expr).toContain(
    `(${q(queries.errors, arms.candidate)}/${q(queries.requests, arms.candidate)})>${config.gates.max_error_rate}`,
  );
  expect(errors?.expr).toContain(`${q(queries.requests, arms.candidate)}>=${config.gates.min_requests}`);
  expect(completion?.expr).toContain(
    `(${q(queries.completed, arms.control)}/${q(queries.tasks, arms.control)})-(${q(queries.completed, arms.candidate)}/${q(queries.tasks, arms.candidate)})>${config.gates.max_completion_rate_drop}`,
  );
  expect(completion?.expr).toContain(`${q(queries.requests, arms.control)}>=${config.gates.min_requests}`);
  for (const rule of rules) {
    expect(rule.labels).toMatchObject({ modelgate_repo: "your-org/your-app", modelgate_rule: "rollback" });
    expect(rule.for).toBe("10m");
  }
});
