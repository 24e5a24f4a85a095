/**
 * The production watch with real parts (issue 13): a real Prometheus evaluates the alerting
 * rules of docs/prometheus/modelgate-rollout-rules.yml over a loopback exporter and sends its
 * alerts to a real Alertmanager, whose webhook receiver posts to the App's
 * `POST /api/alertmanager` (the App's real server against the GitHub REST emulator). The App
 * re-judges from Prometheus itself and opens the rollback PR without any label.
 *
 * The rule file is used as shipped, with three edits a user would make: the repository label,
 * a short `for:` and a short window (the same window in the policy's queries, so the App's
 * queries stay the rule file's queries).
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, test } from "vitest";
import { defaultConfig } from "../src/core/config/load.ts";
import { type AlertmanagerServer, startAlertmanager } from "./support/alertmanager.ts";
import { type AppHarness, OWNER, REPO, startAppHarness } from "./support/app-harness.ts";
import { type MetricsExporter, type Series, startMetricsExporter } from "./support/metrics-exporter.ts";
import { freePort } from "./support/net.ts";
import { type PrometheusServer, startPrometheus } from "./support/prometheus.ts";

const TOKEN = "watch-token-0123456789abcdef";
const WINDOW = "10s";
const FOR = "5s";
const RULES = "docs/prometheus/modelgate-rollout-rules.yml";

/** Per second, per arm: requests (errors among them) and tasks (completed among them). */
interface Rates {
  requests: number;
  errors: number;
  tasks: number;
  completed: number;
}
const CONTROL: Rates = { requests: 2_000, errors: 10, tasks: 1_600, completed: 1_280 };
// Healthy: 0.4 % errors, 80 % completion like control. Breaching: 10 % errors, 60 % completion.
const HEALTHY: Rates = { requests: 500, errors: 2, tasks: 400, completed: 320 };
const BREACHING: Rates = { requests: 500, errors: 50, tasks: 400, completed: 240 };

/** Counters that grow at the current rates, as an app's would, so `increase()` sees traffic. */
function trafficExporter(exporter: MetricsExporter) {
  const totals = new Map<string, { labels: Record<string, string>; name: string; value: number }>();
  let candidate = HEALTHY;
  const add = (name: string, labels: Record<string, string>, by: number) => {
    const key = `${name}${JSON.stringify(labels)}`;
    const entry = totals.get(key) ?? { name, labels, value: 0 };
    entry.value += by;
    totals.set(key, entry);
  };
  const tick = (seconds: number) => {
    for (const [arm, rates] of [
      ["control", CONTROL],
      ["candidate", candidate],
    ] as const) {
      add("llm_requests_total", { arm, outcome: "ok" }, (rates.requests - rates.errors) * seconds);
      add("llm_requests_total", { arm, outcome: "error" }, rates.errors * seconds);
      add("llm_tasks_total", { arm, outcome: "completed" }, rates.completed * seconds);
      add("llm_tasks_total", { arm, outcome: "abandoned" }, (rates.tasks - rates.completed) * seconds);
    }
    exporter.set(
      [...totals.values()].map(
        (t): Series => ({ name: t.name, labels: t.labels, value: Math.round(t.value) }),
      ),
    );
  };
  tick(0.2);
  const timer = setInterval(() => tick(0.2), 200);
  return {
    set(rates: Rates) {
      candidate = rates;
    },
    stop: () => clearInterval(timer),
  };
}

/** The shipped rule file with the edits a user makes; each edit must have applied. */
function ruleFile(): string {
  const shipped = readFileSync(RULES, "utf8");
  expect(shipped).toContain("modelgate_repo: your-org/your-app");
  expect(shipped).toContain("for: 10m");
  expect(shipped).toContain("[1h]");
  return shipped
    .replaceAll("modelgate_repo: your-org/your-app", `modelgate_repo: ${OWNER}/${REPO}`)
    .replaceAll("for: 10m", `for: ${FOR}`)
    .replaceAll("[1h]", `[${WINDOW}]`);
}

/** The policy: default gates and queries (the rule file's), in the same short window. */
function policy(): string {
  const queries = defaultConfig().rollout.metrics.queries;
  const q = (text: string) => `'${text.replace("[1h]", `[${WINDOW}]`)}'`;
  return [
    "version: 1",
    "gates: { max_error_rate: 0.02, max_completion_rate_drop: 0.05, min_requests: 200 }",
    "rollout:",
    "  metrics:",
    "    source: prometheus",
    "    queries:",
    `      requests: ${q(queries.requests)}`,
    `      errors: ${q(queries.errors)}`,
    `      tasks: ${q(queries.tasks)}`,
    `      completed: ${q(queries.completed)}`,
    "",
  ].join("\n");
}

/**
 * Between Alertmanager and the App: forwards each delivery as is and records the App's status
 * and handling time (Alertmanager's own metrics count deliveries but do not time them).
 */
interface Delivery {
  status: number;
  ms: number;
  firing: number;
  resolved: number;
}
async function timingProxy(target: string): Promise<{ url: string; deliveries: Delivery[]; server: Server }> {
  const deliveries: Delivery[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", async () => {
      const body = Buffer.concat(chunks);
      const alerts = (JSON.parse(body.toString("utf8")) as { alerts: Array<{ status: string }> }).alerts;
      const started = performance.now();
      const response = await fetch(`${target}${req.url}`, {
        method: req.method ?? "POST",
        headers: {
          "content-type": req.headers["content-type"] ?? "",
          authorization: req.headers.authorization ?? "",
        },
        body,
      });
      const text = await response.text();
      deliveries.push({
        status: response.status,
        ms: performance.now() - started,
        firing: alerts.filter((a) => a.status === "firing").length,
        resolved: alerts.filter((a) => a.status === "resolved").length,
      });
      res.writeHead(response.status, { "content-type": "application/json" }).end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, deliveries, server };
}

let proxy: Awaited<ReturnType<typeof timingProxy>>;
let exporter: MetricsExporter;
let traffic: ReturnType<typeof trafficExporter>;
let app: AppHarness;
let alertmanager: AlertmanagerServer;
let prometheus: PrometheusServer;

beforeAll(async () => {
  exporter = await startMetricsExporter();
  traffic = trafficExporter(exporter);
  // The App is told where Prometheus will be; Alertmanager where the App is; Prometheus where
  // Alertmanager is.
  const prometheusPort = await freePort();
  app = await startAppHarness({
    env: { MODELGATE_ALERTMANAGER_TOKEN: TOKEN, PROMETHEUS_URL: `http://127.0.0.1:${prometheusPort}` },
  });
  app.push("main", { ".github/modelgate.yml": policy() });
  proxy = await timingProxy(app.server.url);
  alertmanager = await startAlertmanager({
    webhookUrl: `${proxy.url}/api/alertmanager`,
    bearerToken: TOKEN,
  });
  prometheus = await startPrometheus({
    port: prometheusPort,
    targets: [exporter.target],
    scrapeIntervalSeconds: 1,
    ruleFiles: [ruleFile()],
    alertmanagers: [alertmanager.target],
    resendDelay: "1s",
  });
}, 90_000);

afterAll(async () => {
  traffic?.stop();
  await prometheus?.stop();
  await alertmanager?.stop();
  await app?.close();
  await exporter?.close();
  proxy?.server.closeAllConnections();
  await new Promise((resolve) => proxy?.server.close(resolve));
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new Error(
        `${what}: not within ${timeoutMs} ms\nprometheus:\n${prometheus.log()}\nalertmanager:\n${alertmanager.log()}`,
      );
    }
    await sleep(100);
  }
}

function pulls(): Array<{ number: number; head: string; state: string; labels: string[] }> {
  const repo = app.emu.state.repos.get(`${OWNER}/${REPO}`.toLowerCase());
  return [...(repo?.issues.values() ?? [])]
    .filter((issue) => issue.pull)
    .map((issue) => ({
      number: issue.number,
      head: issue.pull?.headRef ?? "",
      state: issue.state,
      labels: issue.labels,
    }));
}

function mainSha(): string | undefined {
  return app.emu.state.repos.get(`${OWNER}/${REPO}`.toLowerCase())?.refs.get("refs/heads/main");
}

test("a breach in Prometheus becomes one rollback PR without a label; resolving comments and reverts nothing", async () => {
  // Healthy traffic for a full window: no alert, nothing on GitHub.
  await prometheus.waitFor(
    `sum(increase(llm_requests_total{arm="candidate"}[${WINDOW}]))`,
    (v) => v !== null && v > 1_000,
    30_000,
  );
  await sleep(5_000);
  expect(await prometheus.query('count(ALERTS{alertname=~"ModelgateCandidate.*"})')).toBeNull();
  expect(pulls()).toEqual([]);
  const mainBefore = mainSha();

  traffic.set(BREACHING);
  const breachAt = performance.now();
  let firingAt: number | undefined;
  const pr = await until(
    "the rollback PR",
    async () => {
      if (firingAt === undefined && (await prometheus.query('count(ALERTS{alertstate="firing"})')) !== null)
        firingAt = performance.now();
      return pulls()[0];
    },
    60_000,
  );
  const prAt = performance.now();
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  process.stdout.write(
    `watch: breach → alert firing in Prometheus ${firingAt === undefined ? "?" : seconds(firingAt - breachAt)}, ` +
      `breach → rollback PR ${seconds(prAt - breachAt)} (for: ${FOR}, window ${WINDOW}, scrape/eval 1 s, group_wait 1 s)\n`,
  );
  expect(pr.head).toBe("modelgate/rollback-gpt-5.5");
  expect(pr.state).toBe("open");
  const body = app.emu.getPullRequest(OWNER, REPO, pr.number).body ?? "";
  expect(body).toMatch(
    /Alertmanager alert ModelgateCandidate(ErrorRate|CompletionDrop) \(fingerprint [0-9a-f]+\)/,
  );
  expect(body).toMatch(/re-judged by modelgate/);
  // The upper bound the brief sets: for: + evaluation and group intervals + handling, with slack
  // for the window to tip over the limit and a shared CI machine.
  expect(prAt - breachAt).toBeLessThan(30_000);

  // The alert keeps firing and Alertmanager repeats it (repeat_interval 3 s): still one PR.
  const atPr = await alertmanager.notifications();
  await until(
    "two more notifications",
    async () => ((await alertmanager.notifications()).sent >= atPr.sent + 2 ? true : undefined),
    30_000,
  );
  expect(pulls()).toHaveLength(1);
  // Nobody labelled anything: the only label is the one the App puts on its own rollback PR.
  expect(pulls()[0]?.labels).toEqual(["modelgate:rollback"]);
  const watchComments = [...app.emu.state.comments.values()].filter(
    (c) => c.issueNumber === pr.number && c.body.includes("<!-- modelgate:watch -->"),
  );
  expect(watchComments).toHaveLength(1);

  // Healthy again: once the window forgets the breach, the alerts resolve; a comment, no revert.
  traffic.set(HEALTHY);
  const healthyAt = performance.now();
  const note = await until(
    "the resolved comment",
    () =>
      [...app.emu.state.comments.values()].find(
        (c) => c.issueNumber === pr.number && c.body.includes("<!-- modelgate:alert-resolved "),
      ),
    60_000,
  );
  process.stdout.write(`watch: healthy again → resolved comment ${seconds(performance.now() - healthyAt)}\n`);
  expect(note.body).toMatch(/the rollback is not reverted/);
  expect(pulls()).toEqual([expect.objectContaining({ number: pr.number, state: "open" })]);
  expect(mainSha()).toBe(mainBefore);
  // Alertmanager never had to retry: every answer was a 200.
  expect((await alertmanager.notifications()).failed).toBe(0);
  expect(proxy.deliveries.length).toBeGreaterThanOrEqual(3);
  expect(proxy.deliveries.every((d) => d.status === 200)).toBe(true);
  const handling = proxy.deliveries.map((d) => d.ms).sort((a, b) => a - b);
  const firstFiring = proxy.deliveries.find((d) => d.firing > 0);
  process.stdout.write(
    `watch: ${proxy.deliveries.length} deliveries, App handling: first firing (opens the PR) ${firstFiring?.ms.toFixed(0)} ms, ` +
      `median ${handling[Math.floor(handling.length / 2)]?.toFixed(0)} ms, max ${handling.at(-1)?.toFixed(0)} ms\n`,
  );
}, 180_000);
