import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test, vi } from "vitest";
import { embedEvidence } from "../src/core/report/evidence.ts";
import type { EvalResult, Kpis, Verdict } from "../src/core/result.ts";
import { type AppHarness, BASE_FILES, example, OWNER, REPO, startAppHarness } from "./support/app-harness.ts";
import { WORKFLOW_TOKEN } from "./support/github-emulator.ts";
import type { MetricsExporter, Series } from "./support/metrics-exporter.ts";
import { freePort } from "./support/net.ts";
import { type PrometheusServer, startScrapedSeries } from "./support/prometheus.ts";

const ROLLOUT_CHECK = "modelgate/rollout";
const EVAL_MARKER = "<!-- modelgate:eval -->";
const REHEARSAL_MARKER = "<!-- modelgate:rollback-rehearsal -->";
const LLM = "config/llm.json";

// ---------------------------------------------------------------------------------------------
// Production series: per scenario and phase, counts of the two arms.

interface Arm {
  requests: number;
  errors: number;
  tasks: number;
  completed: number;
}

// Both arms complete 80 % of their tasks; the candidate takes 1.6 requests per task, the
// control 1.2. Per request that would read 50 % vs 67 %: a false 17-point drop.
const HEALTHY: { control: Arm; candidate: Arm } = {
  control: { requests: 20_000, errors: 100, tasks: 16_667, completed: 13_334 },
  candidate: { requests: 5_000, errors: 20, tasks: 3_125, completed: 2_500 },
};
const BREACH: { control: Arm; candidate: Arm } = {
  control: { requests: 20_000, errors: 100, tasks: 16_667, completed: 13_334 },
  candidate: { requests: 5_000, errors: 400, tasks: 5_000, completed: 3_000 },
};
const SPARSE: { control: Arm; candidate: Arm } = {
  control: { requests: 20_000, errors: 100, tasks: 16_667, completed: 13_334 },
  candidate: { requests: 40, errors: 0, tasks: 40, completed: 33 },
};

function seriesOf(
  scenario: string,
  phase: number,
  arms: { control: Arm; candidate: Arm },
  withTasks = true,
): Series[] {
  return (["control", "candidate"] as const).flatMap((arm) => {
    const labels = { arm, phase: String(phase), scenario };
    return [
      { name: "llm_requests_total", labels, value: arms[arm].requests },
      { name: "llm_errors_total", labels, value: arms[arm].errors },
      ...(withTasks ? [{ name: "llm_tasks_total", labels, value: arms[arm].tasks }] : []),
      { name: "llm_completed_total", labels, value: arms[arm].completed },
    ];
  });
}

const SERIES: Series[] = [
  ...[10, 30, 50].flatMap((phase) => seriesOf("healthy", phase, HEALTHY)),
  ...seriesOf("breach", 10, BREACH),
  ...seriesOf("sparse", 10, SPARSE),
  // An app that does not export task counts yet.
  ...seriesOf("notasks", 10, HEALTHY, false),
];

let scraped: Awaited<ReturnType<typeof startScrapedSeries>> | undefined;
let exporter: MetricsExporter;
let prometheus: PrometheusServer;

beforeAll(async () => {
  scraped = await startScrapedSeries(SERIES);
  ({ exporter, prometheus } = scraped);
}, 60_000);

afterAll(async () => {
  await scraped?.stop();
});

// ---------------------------------------------------------------------------------------------
// Repository state

function policy(scenario: string, extra = "", source = "prometheus"): string {
  const q = (metric: string) => `sum(${metric}{arm="{{arm}}",phase="{{phase}}",scenario="${scenario}"})`;
  return [
    "version: 1",
    "gates:",
    "  max_error_rate: 0.02",
    "  max_completion_rate_drop: 0.05",
    "  min_requests: 200",
    "rollout:",
    "  key: rollout.candidate_percent",
    "  phases: [10, 30, 50, 100]",
    '  label_prefix: "rollout:"',
    "  metrics:",
    `    source: ${source}`,
    "    queries:",
    `      requests: '${q("llm_requests_total")}'`,
    `      errors: '${q("llm_errors_total")}'`,
    `      tasks: '${q("llm_tasks_total")}'`,
    `      completed: '${q("llm_completed_total")}'`,
    extra,
    "",
  ].join("\n");
}

type LlmConfig = {
  llm: { default_model: string; routes: Record<string, string> };
  models: Record<string, string>;
  rollout: { candidate_percent: number };
};

function llmJson(edit: (config: LlmConfig) => void): string {
  const config = JSON.parse(BASE_FILES[LLM] ?? "{}") as LlmConfig;
  edit(config);
  return `${JSON.stringify(config, null, 2)}\n`;
}

function atShare(share: number, edit: (config: LlmConfig) => void = () => {}): string {
  return llmJson((c) => {
    c.rollout.candidate_percent = share;
    edit(c);
  });
}

/** The route change of a typical first rollout PR: general_qna moves to the candidate. */
const moveQna = (c: LlmConfig) => {
  c.llm.routes.general_qna = "gpt-5.5";
};

/** A later rollout PR: the candidate pinned to its dated snapshot (a model-key change). */
const onSnapshot = (c: LlmConfig) => {
  c.models.candidate = "gpt-5.5-2026-04-23";
  moveQna(c);
};

// ---------------------------------------------------------------------------------------------
// The Action's evidence, as it publishes it (github-actions[bot] through the workflow token).

const KPI = (completion: number, errors: number): Kpis => ({
  completion_rate: completion,
  retry_count: 0.1,
  tokens_per_completed_task: 1200,
  cost_per_completed_task: 0.01,
  human_takeover_rate: 0.02,
  error_rate: errors,
  latency_p50_ms: 900,
  latency_p95_ms: 2400,
  tool_calls_per_task: 1.5,
});

function evalResult(verdict: Verdict, extra: Partial<EvalResult> = {}): EvalResult {
  const side = (completion: number) => ({
    kpis: KPI(completion, 0.01),
    cases: 200,
    requests: 220,
    cache_hits: 0,
  });
  return {
    schema_version: 1,
    verdict,
    partial: false,
    base: side(0.8),
    head: side(0.83),
    routes: {},
    deltas: { completion_rate: { delta: 0.03, ci95: [-0.01, 0.07] } },
    min_detectable_effect: 0.06,
    gates: [
      { name: "max_error_rate", status: "pass", value: 0.01, threshold: 0.02, ci95: [0.003, 0.019] },
      {
        name: "max_completion_rate_drop",
        status: "pass",
        value: -0.03,
        threshold: 0.05,
        ci95: [-0.07, 0.01],
      },
    ],
    warnings: [],
    selection: { case_ids: [], reasons: [], selected: 200, all: false },
    cases: [],
    ...extra,
  };
}

let h: AppHarness;

async function api(token: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${h.emu.url}/repos/${OWNER}/${REPO}${path}`, {
    method,
    headers: { authorization: `token ${token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.status === 204 ? undefined : response.json();
}

async function publish(
  number: number,
  sha: string,
  options: {
    kind?: "eval" | "rehearsal";
    verdict?: Verdict;
    token?: string;
    via?: "comment" | "check";
    extra?: Partial<EvalResult>;
  } = {},
): Promise<void> {
  const kind = options.kind ?? "eval";
  const block = embedEvidence(evalResult(options.verdict ?? "pass", options.extra), sha);
  const marker = kind === "eval" ? EVAL_MARKER : REHEARSAL_MARKER;
  const title = kind === "eval" ? "modelgate eval" : "modelgate rollback rehearsal";
  if ((options.via ?? "comment") === "comment") {
    await api(options.token ?? WORKFLOW_TOKEN, "POST", `/issues/${number}/comments`, {
      body: `${marker}\n**${title}: ${(options.verdict ?? "pass").toUpperCase()}**\n\n${block}`,
    });
  } else {
    await api(options.token ?? WORKFLOW_TOKEN, "POST", "/check-runs", {
      name: kind === "eval" ? "modelgate/eval" : "modelgate/rollback-rehearsal",
      head_sha: sha,
      status: "completed",
      conclusion: "success",
      output: { title, summary: `${title}\n\n${block}` },
    });
  }
}

/** Evidence for a phase past the first: the eval and the rollback rehearsal. */
async function publishAll(number: number, sha: string): Promise<void> {
  await publish(number, sha);
  await publish(number, sha, { kind: "rehearsal", via: "check" });
}

function setMain(
  share: number,
  scenario = "healthy",
  extra = "",
  edit: (c: LlmConfig) => void = moveQna,
  source = "prometheus",
): void {
  h.push("main", { [LLM]: atShare(share, edit), ".github/modelgate.yml": policy(scenario, extra, source) });
}

async function labelAndDeliver(
  number: number,
  label: string,
  login = "maintainer",
  options: { id?: string; event?: Record<string, unknown> } = {},
): Promise<Record<string, unknown>> {
  const event =
    options.event ??
    h.pullRequestEvent("labeled", number, {
      label: { name: label },
      sender: { login, id: 5000, type: "User" },
    });
  await h.label(number, label, login);
  const delivery = await h.deliver("pull_request", event, options.id ? { id: options.id } : {});
  expect(delivery.status).toBe(200);
  return event;
}

async function fileAt(ref: string, path: string): Promise<string> {
  const response = await fetch(
    `${h.emu.url}/repos/${OWNER}/${REPO}/contents/${path}?ref=${encodeURIComponent(ref)}`,
    {
      headers: { authorization: `token ${WORKFLOW_TOKEN}`, accept: "application/vnd.github.raw" },
    },
  );
  if (!response.ok) throw new Error(`${path}@${ref}: ${response.status}`);
  return response.text();
}

async function shareAt(ref: string): Promise<number> {
  return (JSON.parse(await fileAt(ref, LLM)) as LlmConfig).rollout.candidate_percent;
}

function rolloutChecks(sha?: string) {
  return [...h.emu.state.checkRuns.values()].filter(
    (run) => run.name === ROLLOUT_CHECK && (sha === undefined || run.headSha === sha),
  );
}

function decisionComments(number: number) {
  return [...h.emu.state.comments.values()].filter(
    (c) =>
      c.issueNumber === number && c.body.includes("<!-- modelgate:rollout ") && c.user === "modelgate[bot]",
  );
}

function labelsOf(number: number): string[] {
  return h.emu.getPullRequest(OWNER, REPO, number).labels.map((l) => l.name);
}

/** Commits on a branch that are not on main. */
async function commitsOn(number: number): Promise<Array<{ sha: string; message: string }>> {
  const commits = (await api(WORKFLOW_TOKEN, "GET", `/pulls/${number}/commits`)) as Array<{
    sha: string;
    commit: { message: string };
  }>;
  return commits.map((c) => ({ sha: c.sha, message: c.commit.message }));
}

function repoRecord() {
  const repo = h.emu.state.repos.get(`${OWNER}/${REPO}`.toLowerCase());
  if (!repo) throw new Error("no repo");
  return repo;
}

/** A plain issue (the emulator serves issues but has no route to open one). */
function plainIssue(title: string): number {
  const repo = repoRecord();
  const number = repo.nextNumber++;
  const at = h.now();
  repo.issues.set(number, {
    number,
    id: 900_000 + number,
    title,
    body: null,
    user: "maintainer",
    state: "open",
    labels: [],
    events: [],
    createdAt: at,
    updatedAt: at,
    closedAt: null,
  });
  return number;
}

function issueLabels(number: number): string[] {
  return repoRecord().issues.get(number)?.labels ?? [];
}

function openRollbackPulls() {
  return [...(h.emu.state.repos.get(`${OWNER}/${REPO}`.toLowerCase())?.issues.values() ?? [])].filter(
    (issue) => issue.pull && issue.state === "open" && issue.pull.headRef.startsWith("modelgate/rollback-"),
  );
}

beforeEach(async () => {
  h = await startAppHarness();
  h.user("maintainer", "write");
  h.user("dev", "write");
  h.user("reader", "read");
  h.user("mallory", "read");
  vi.stubEnv("PROMETHEUS_URL", prometheus.url);
});

afterEach(async () => {
  vi.unstubAllEnvs();
  await h.close();
});

// ---------------------------------------------------------------------------------------------

describe("promotion through every phase", () => {
  test("10 → 30 → 50 → 100: each step checks its evidence, commits the share, passes the check", async () => {
    setMain(0, "healthy", "", () => {});
    const steps: Array<{ share: number; branch: string; files: (share: number) => Record<string, string> }> =
      [
        // The first rollout PR moves a route to the candidate; the App commits the share.
        { share: 10, branch: "rollout-10", files: () => ({ [LLM]: atShare(0, moveQna) }) },
        // This one sets the share itself: the App finds it already committed.
        { share: 30, branch: "rollout-30", files: (s) => ({ [LLM]: atShare(s, moveQna) }) },
        // A model-key change (a dated snapshot of the candidate): the App commits the share.
        {
          share: 50,
          branch: "rollout-50",
          files: () => ({
            [LLM]: atShare(30, (c) => {
              moveQna(c);
              c.models.candidate = "gpt-5.5-2026-04-23";
            }),
          }),
        },
        {
          share: 100,
          branch: "rollout-100",
          files: () => ({
            [LLM]: atShare(50, (c) => {
              moveQna(c);
              c.models.candidate = "gpt-5.5-2026-04-23";
              c.llm.default_model = "gpt-5.5";
            }),
          }),
        },
      ];
    let previous = 0;
    for (const step of steps) {
      const number = h.openPR(step.branch, step.files(step.share));
      const pinned = h.headSha(number);
      if (step.share === 10) await publish(number, pinned);
      else await publishAll(number, pinned);
      await labelAndDeliver(number, `rollout:${step.share}`);

      const head = h.headSha(number);
      expect(await shareAt(head)).toBe(step.share);
      const commits = await commitsOn(number);
      if (step.share === 30) {
        expect(head).toBe(pinned);
        expect(commits).toHaveLength(1);
      } else {
        expect(head).not.toBe(pinned);
        expect(commits).toHaveLength(2);
        const message = commits.at(-1)?.message ?? "";
        expect(message).toContain(`rollout: candidate to ${step.share} %`);
        expect(message).toContain(`Modelgate-Pinned-Head: ${pinned}`);
        expect(message).toContain("Eval evidence: pass");
      }
      const [check] = rolloutChecks(head);
      expect(check).toMatchObject({ status: "completed", conclusion: "success", app: "modelgate" });
      expect(check?.output.title).toMatch(new RegExp(`^Promoted to ${step.share} % \\(phase \\d of 4\\)$`));
      const [comment] = decisionComments(number);
      expect(comment?.body).toContain(`### modelgate rollout: promoted to ${step.share} %`);
      expect(comment?.body).toContain("@\u200dmaintainer");
      expect(comment?.body).toContain(pinned);
      expect(comment?.body).toContain(`is ${previous} % on \`main\``);
      if (step.share === 10) {
        expect(comment?.body).toMatch(/\| Production metrics \| ➖ not required/);
        // The first phase starts without the 2 % ceiling; the comment says the next one needs it.
        expect(comment?.body).toContain(
          "before the second phase, this phase's traffic must show the candidate's error rate below",
        );
      } else {
        expect(comment?.body).toMatch(/\| Production metrics \| ✅ pass \| Gates pass at \d+ %/);
        expect(comment?.body).toMatch(/\| Rollback rehearsal \| ✅ pass \| Verdict pass of `gpt-5.4`/);
        expect(comment?.body).toContain("| max_error_rate | pass | 0.4 %");
        // Completion per task: 80 % on both arms, whatever the requests per task.
        expect(comment?.body).toMatch(/\| max_completion_rate_drop \| pass \| [+−-]?0\.0 pp/);
        expect(comment?.body).toContain("Promotion past the first phase needs `max_error_rate` to pass here");
        expect(comment?.body).toContain(`phase="${previous}"`);
      }
      expect(labelsOf(number)).not.toContain(`rollout:${step.share}`);
      // Merging moves production to the new phase.
      h.push("main", { [LLM]: await fileAt(head, LLM) });
      previous = step.share;
    }
    expect(await shareAt("main")).toBe(100);
    expect(openRollbackPulls()).toHaveLength(0);
  }, 60_000);

  test("production counts from a JSON metrics file on the base branch (no Prometheus)", async () => {
    vi.stubEnv("PROMETHEUS_URL", "");
    setMain(10, "healthy", "    file: metrics/rollout.json", moveQna, "file");
    h.push("main", {
      "metrics/rollout.json": JSON.stringify({ phase: 10, updated_at: "2026-11-02T08:00:00Z", ...HEALTHY }),
    });
    const number = h.openPR("rollout-30", {
      [LLM]: atShare(10, onSnapshot),
    });
    await publishAll(number, h.headSha(number));
    await labelAndDeliver(number, "rollout:30");
    expect(await shareAt(h.headSha(number))).toBe(30);
    const [comment] = decisionComments(number);
    expect(comment?.body).toContain(
      "Source: metrics/rollout.json on the base branch (updated 2026-11-02T08:00:00Z).",
    );
  }, 30_000);
});

describe("refusals", () => {
  test("a skipped phase is refused: check failure, label removed, nothing committed", async () => {
    setMain(10);
    const number = h.openPR("skip", {
      [LLM]: atShare(10, (c) => {
        c.models.candidate = "gpt-5.5-2026-04-23";
      }),
    });
    const pinned = h.headSha(number);
    await publishAll(number, pinned);
    await labelAndDeliver(number, "rollout:50");
    expect(h.headSha(number)).toBe(pinned);
    const [check] = rolloutChecks(pinned);
    expect(check?.conclusion).toBe("failure");
    expect(check?.output.title).toBe("rollout:50 refused: next phase failed");
    const [comment] = decisionComments(number);
    expect(comment?.body).toContain("10 % → 50 % skips 30 %; the next phase is 30 %");
    expect(comment?.body).toContain("The candidate stays at 10 %.");
    expect(labelsOf(number)).not.toContain("rollout:50");
  }, 30_000);

  test("forged evidence (a user's comment with an evidence block) is ignored", async () => {
    setMain(0, "healthy", "", () => {});
    const number = h.openPR("forged", { [LLM]: atShare(0, moveQna) });
    const pinned = h.headSha(number);
    // The trusted bot's own eval failed; mallory pastes a passing block, and one for the wrong SHA.
    await publish(number, pinned, { verdict: "fail" });
    await publish(number, pinned, { token: "token-mallory" });
    await labelAndDeliver(number, "rollout:10");
    expect(h.headSha(number)).toBe(pinned);
    expect(rolloutChecks(pinned)[0]?.conclusion).toBe("failure");
    const body = decisionComments(number)[0]?.body ?? "";
    expect(body).toMatch(
      /\| Eval evidence \| ❌ fail \| The eval evidence for `[0-9a-f]{7}` \(comment by \*\*@\u200dgithub-actions\\\[bot\\\]\*\*\) does not count: its verdict is fail/,
    );
    expect(body).toContain(
      "Ignored 1 evidence block not written by the trusted bot (from **@\u200dmallory**)",
    );
  }, 30_000);

  test("without trusted evidence, a forged block alone is no evidence at all", async () => {
    setMain(0, "healthy", "", () => {});
    const number = h.openPR("forged-only", { [LLM]: atShare(0, moveQna) });
    await publish(number, h.headSha(number), { token: "token-mallory" });
    await labelAndDeliver(number, "rollout:10");
    const body = decisionComments(number)[0]?.body ?? "";
    expect(body).toContain("No eval evidence from **@\u200dgithub-actions\\[bot\\]**");
    expect(body).toContain("Ignored 1 evidence block not written by the trusted bot");
    expect(await commitsOn(number)).toHaveLength(1);
  }, 30_000);

  test("simulated or partial evidence never promotes", async () => {
    setMain(0, "healthy", "", () => {});
    const number = h.openPR("simulated", { [LLM]: atShare(0, moveQna) });
    await publish(number, h.headSha(number), { extra: { simulated: true } });
    await labelAndDeliver(number, "rollout:10");
    expect(decisionComments(number)[0]?.body).toContain("simulated provider");
    expect(await commitsOn(number)).toHaveLength(1);
  }, 30_000);

  test("a label by a user without write permission is refused and removed; no check changes", async () => {
    setMain(0, "healthy", "", () => {});
    const number = h.openPR("reader", { [LLM]: atShare(0, moveQna) });
    await publish(number, h.headSha(number));
    // Triage-level users can label on GitHub; the emulator knows read and write only.
    h.emu.setPermission(OWNER, REPO, "reader", "write");
    await h.label(number, "rollout:10", "reader");
    h.emu.setPermission(OWNER, REPO, "reader", "read");
    const event = h.pullRequestEvent("labeled", number, {
      label: { name: "rollout:10" },
      sender: { login: "reader", id: 5001, type: "User" },
    });
    expect((await h.deliver("pull_request", event)).status).toBe(200);
    expect(labelsOf(number)).not.toContain("rollout:10");
    expect(rolloutChecks()).toHaveLength(0);
    expect(await commitsOn(number)).toHaveLength(1);
    const body = decisionComments(number)[0]?.body ?? "";
    expect(body).toContain(
      "has read permission on this repository; a rollout label counts only from a user with write access",
    );
  }, 30_000);

  test("a push after the label voids it: refused on the new head, nothing committed", async () => {
    setMain(0, "healthy", "", () => {});
    const number = h.openPR("moved", { [LLM]: atShare(0, moveQna) });
    const pinned = h.headSha(number);
    await publish(number, pinned);
    const event = h.pullRequestEvent("labeled", number, {
      label: { name: "rollout:10" },
      sender: { login: "maintainer", id: 5000, type: "User" },
    });
    const pushed = h.push("moved", { "prompts/qna.md": "A sneaky prompt edit.\n" });
    await labelAndDeliver(number, "rollout:10", "maintainer", { event });
    expect(h.headSha(number)).toBe(pushed);
    const [check] = rolloutChecks(pushed);
    expect(check?.conclusion).toBe("failure");
    expect(check?.output.title).toBe("rollout:10 refused: new commits after the label");
    expect(decisionComments(number)[0]?.body).toContain(
      `was applied at \`${pinned.slice(0, 7)}\`, but the PR's head is now \`${pushed.slice(0, 7)}\``,
    );
    expect(labelsOf(number)).not.toContain("rollout:10");
    expect(await commitsOn(number)).toHaveLength(2);

    // Labelled again on the new head, it is judged afresh: the prompt edit makes it not model-only.
    await publish(number, pushed);
    await labelAndDeliver(number, "rollout:10");
    const body = decisionComments(number).at(-1)?.body ?? "";
    expect(body).toMatch(
      /\| Model-only change \| ❌ fail \| A rollout PR may change only the model; this one also changes `prompts\/qna.md` \(prompt\)/,
    );
    expect(h.headSha(number)).toBe(pushed);
  }, 30_000);

  test("a mixed PR (model + infra key) is refused by the attribution step", async () => {
    setMain(0, "healthy", "", () => {});
    const number = h.openPR("mixed", {
      [LLM]: llmJson((c) => {
        c.rollout.candidate_percent = 0;
        moveQna(c);
        (c.llm as unknown as { timeout_ms: number }).timeout_ms = 300000;
      }),
    });
    await publish(number, h.headSha(number));
    await labelAndDeliver(number, "rollout:10");
    expect(decisionComments(number)[0]?.body).toContain("(infra: `llm.timeout_ms`)");
    expect(await commitsOn(number)).toHaveLength(1);
  }, 30_000);
});

describe("production gates", () => {
  test("missing metrics hold: no promotion, no rollback, the label comes off", async () => {
    setMain(10, "absent");
    const number = h.openPR("absent", {
      [LLM]: atShare(10, onSnapshot),
    });
    const pinned = h.headSha(number);
    await publishAll(number, pinned);
    await labelAndDeliver(number, "rollout:30");
    expect(h.headSha(number)).toBe(pinned);
    const [check] = rolloutChecks(pinned);
    expect(check?.conclusion).toBe("failure");
    expect(check?.output.title).toBe("Hold at 10 %: not enough production evidence for 30 %");
    const body = decisionComments(number)[0]?.body ?? "";
    expect(body).toContain("### modelgate rollout: hold at 10 %");
    expect(body).toContain(
      "no data for control requests (rollout.metrics.queries.requests), control errors (rollout.metrics.queries.errors)",
    );
    expect(openRollbackPulls()).toHaveLength(0);
    expect(labelsOf(number)).not.toContain("rollout:30");
  }, 30_000);

  test("no task counts hold, naming the tasks query: requests are no stand-in", async () => {
    setMain(10, "notasks");
    const number = h.openPR("notasks", {
      [LLM]: atShare(10, onSnapshot),
    });
    const pinned = h.headSha(number);
    await publishAll(number, pinned);
    await labelAndDeliver(number, "rollout:30");
    expect(h.headSha(number)).toBe(pinned);
    const body = decisionComments(number)[0]?.body ?? "";
    expect(body).toContain("### modelgate rollout: hold at 10 %");
    expect(body).toContain(
      "no data for control tasks (rollout.metrics.queries.tasks), candidate tasks (rollout.metrics.queries.tasks)",
    );
    expect(openRollbackPulls()).toHaveLength(0);
  }, 30_000);

  test("too few requests on the candidate arm hold too", async () => {
    setMain(10, "sparse");
    const number = h.openPR("sparse", {
      [LLM]: atShare(10, onSnapshot),
    });
    await publishAll(number, h.headSha(number));
    await labelAndDeliver(number, "rollout:30");
    const body = decisionComments(number)[0]?.body ?? "";
    expect(body).toContain("only 40 requests on the candidate arm; at least 200 per arm needed");
    expect(openRollbackPulls()).toHaveLength(0);
  }, 30_000);

  test("Prometheus unreachable holds", async () => {
    vi.stubEnv("PROMETHEUS_URL", `http://127.0.0.1:${await freePort()}`);
    setMain(10);
    const number = h.openPR("down", {
      [LLM]: atShare(10, onSnapshot),
    });
    await publishAll(number, h.headSha(number));
    await labelAndDeliver(number, "rollout:30");
    expect(decisionComments(number)[0]?.body).toContain(
      "cannot reach Prometheus (PROMETHEUS\\_URL): connect ECONNREFUSED",
    );
  }, 30_000);

  test("a breach beyond noise refuses and opens one labelled rollback PR, linked from the comment", async () => {
    setMain(10, "breach");
    const number = h.openPR("breach", {
      [LLM]: atShare(10, onSnapshot),
    });
    await publishAll(number, h.headSha(number));
    await labelAndDeliver(number, "rollout:30");
    expect(rolloutChecks(h.headSha(number))[0]?.output.title).toBe(
      "rollout:30 refused: production metrics failed; rollback PR opened",
    );
    const rollbacks = openRollbackPulls();
    expect(rollbacks).toHaveLength(1);
    const rollback = rollbacks[0];
    if (!rollback?.pull) throw new Error("no rollback PR");
    expect(rollback.pull.headRef).toBe("modelgate/rollback-gpt-5.5");
    expect(rollback.labels).toContain("modelgate:rollback");
    expect(rollback.user).toBe("modelgate[bot]");
    const config = JSON.parse(await fileAt(rollback.pull.headRef, LLM)) as LlmConfig;
    expect(config.rollout.candidate_percent).toBe(0);
    expect(config.llm.routes).toEqual({ agentic_coding: "gpt-5.4", general_qna: "gpt-5.4" });
    expect(config.models).toEqual({ default: "gpt-5.4", candidate: "gpt-5.5", rollback: "gpt-5.4" });
    const body = decisionComments(number)[0]?.body ?? "";
    expect(body).toContain(`opened the rollback PR #${rollback.number} (share → 0 %`);
    expect(body).toMatch(/Breach beyond noise at 10 %: max_error_rate fail \(8\.0 %/);
    expect(rollback.body).toContain("A production gate failed beyond noise while #");

    // Labelling again links the same rollback PR instead of opening a second one.
    await labelAndDeliver(number, "rollout:30");
    expect(openRollbackPulls()).toHaveLength(1);
    expect(decisionComments(number).at(-1)?.body).toContain(
      `the rollback PR #${rollback.number} is already open`,
    );
  }, 30_000);

  test("rollout:rollback on a PR opens the rollback PR and links it", async () => {
    setMain(30);
    const number = h.openPR("incident", { "README.md": "# support bot\n\nIncident notes.\n" });
    await labelAndDeliver(number, "rollout:rollback");
    const rollbacks = openRollbackPulls();
    expect(rollbacks).toHaveLength(1);
    const body = decisionComments(number)[0]?.body ?? "";
    expect(body).toContain(`opened rollback PR #${rollbacks[0]?.number} (share → 0 %`);
    expect(body).toContain("applied by **@\u200dmaintainer** (permission: write)");
    expect(await shareAt("modelgate/rollback-gpt-5.5")).toBe(0);
    expect(labelsOf(number)).not.toContain("rollout:rollback");
  }, 30_000);

  test("rollout:rollback on an issue (issues.labeled) opens the rollback PR", async () => {
    setMain(30);
    const number = plainIssue("Incident: timeouts on agentic_coding");
    await h.label(number, "rollout:rollback", "maintainer");
    const payload = example("issues", "labeled");
    payload.issue = { ...(payload.issue as object), number, pull_request: undefined, updated_at: h.now() };
    delete (payload.issue as Record<string, unknown>).pull_request;
    payload.label = { name: "rollout:rollback" };
    payload.repository = h.emu.getRepository(OWNER, REPO);
    payload.sender = { login: "maintainer", id: 5000, type: "User" };
    payload.installation = {
      id: h.emu.state.installationId,
      node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ==",
    };
    delete payload.organization;
    expect((await h.deliver("issues", payload)).status).toBe(200);
    const rollbacks = openRollbackPulls();
    expect(rollbacks).toHaveLength(1);
    expect(rollbacks[0]?.title).toBe("Roll back gpt-5.5 → gpt-5.4 (modelgate)");
    const body = decisionComments(number)[0]?.body ?? "";
    expect(body).toContain(`opened rollback PR #${rollbacks[0]?.number}`);
    expect(body).not.toContain("Pinned head");
    expect(issueLabels(number)).not.toContain("rollout:rollback");
  }, 30_000);
});

describe("failures", () => {
  test("GitHub failing the commit past retries fails closed: failing check, comment with the error, no commit", async () => {
    setMain(0, "healthy", "", () => {});
    const number = h.openPR("gh-down", { [LLM]: atShare(0, moveQna) });
    const pinned = h.headSha(number);
    await publish(number, pinned);
    h.emu.failNext({ method: "POST", pathIncludes: "/git/trees" }, 502, 10);
    await labelAndDeliver(number, "rollout:10");
    expect(h.headSha(number)).toBe(pinned);
    const [check] = rolloutChecks(pinned);
    expect(check).toMatchObject({ conclusion: "failure" });
    expect(check?.output.title).toBe("rollout:10 could not be evaluated");
    const body = decisionComments(number)[0]?.body ?? "";
    expect(body).toContain("the decision is incomplete");
    expect(body).toMatch(/`Server Error[^`]*\(GitHub request id [^`]+\)`/);
    expect(labelsOf(number)).not.toContain("rollout:10");
  }, 30_000);

  test("an invalid policy on the base branch refuses with the validation error", async () => {
    h.push("main", { ".github/modelgate.yml": "version: 1\nrollout:\n  phases: [50, 10]\n" });
    const number = h.openPR("bad-policy", { [LLM]: atShare(0, moveQna) });
    await labelAndDeliver(number, "rollout:10");
    const body = decisionComments(number)[0]?.body ?? "";
    expect(body).toContain("Invalid modelgate config on the base branch");
    expect(body).toContain("phases must increase");
    expect(rolloutChecks(h.headSha(number))[0]?.conclusion).toBe("failure");
  }, 30_000);
});

describe("idempotency", () => {
  test("a redelivery never commits twice, even with the label still on", async () => {
    setMain(0, "healthy", "", () => {});
    const number = h.openPR("redeliver", { [LLM]: atShare(0, moveQna) });
    const pinned = h.headSha(number);
    await publish(number, pinned);
    const id = "5d1c8f00-0000-4000-8000-000000000001";
    const event = await labelAndDeliver(number, "rollout:10", "maintainer", { id });
    const afterFirst = h.headSha(number);
    expect(afterFirst).not.toBe(pinned);
    const firstComment = decisionComments(number)[0];

    // GitHub's redelivery: same id, same payload (pinned to the old head); the label is gone.
    expect((await h.deliver("pull_request", event, { id })).status).toBe(200);
    // A crash before the label came off: the label is there again, and the same delivery comes back.
    await h.label(number, "rollout:10", "maintainer");
    expect((await h.deliver("pull_request", event, { id })).status).toBe(200);

    expect(h.headSha(number)).toBe(afterFirst);
    expect(await commitsOn(number)).toHaveLength(2);
    const comments = decisionComments(number);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.id).toBe(firstComment?.id);
    expect(comments[0]?.body).toContain("nothing new was committed");
    expect(rolloutChecks()).toHaveLength(1);
    expect(rolloutChecks()[0]).toMatchObject({ headSha: afterFirst, conclusion: "success" });
    expect(labelsOf(number)).not.toContain("rollout:10");
  }, 30_000);

  test("the App's own label events and unrelated labels do nothing", async () => {
    setMain(0, "healthy", "", () => {});
    const number = h.openPR("own", { [LLM]: atShare(0, moveQna) });
    await publish(number, h.headSha(number));
    await h.label(number, "documentation", "maintainer");
    await h.deliver(
      "pull_request",
      h.pullRequestEvent("labeled", number, {
        label: { name: "documentation" },
        sender: { login: "maintainer", id: 1, type: "User" },
      }),
    );
    await h.deliver(
      "pull_request",
      h.pullRequestEvent("labeled", number, {
        label: { name: "rollout:10" },
        sender: { login: "modelgate[bot]", id: 2, type: "Bot" },
      }),
    );
    expect(decisionComments(number)).toHaveLength(0);
    expect(rolloutChecks()).toHaveLength(0);
  }, 30_000);
});

describe("the real Prometheus", () => {
  test("serves the exporter's series to the App's queries", async () => {
    expect(exporter.scrapes()).toBeGreaterThan(0);
    expect(
      await prometheus.query('sum(llm_requests_total{arm="candidate",phase="10",scenario="healthy"})'),
    ).toBe(5000);
    expect(await prometheus.query('sum(llm_requests_total{scenario="absent"})')).toBeNull();
  });
});
