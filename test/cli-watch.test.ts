/**
 * `modelgate watch`: the CLI door of the production watch, over the real wire: Octokit to the
 * GitHub REST emulator, the rollout queries to a real Prometheus (Debian's binary) scraping a
 * loopback exporter. Exit codes: 0 idle / healthy / undecided, 1 breach or blind metrics,
 * 2 the user's mistake (one line, no stack).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { type CliOutcome, runCliCaptured } from "./support/cli.ts";
import { type GitHubEmulator, startGitHubEmulator, WORKFLOW_TOKEN } from "./support/github-emulator.ts";
import type { Series } from "./support/metrics-exporter.ts";
import { freePort } from "./support/net.ts";
import { type PrometheusServer, startScrapedSeries } from "./support/prometheus.ts";

const OWNER = "acme";
const REPO = "support-bot";
const WATCH_MARKER = "<!-- modelgate:watch -->";

interface Arm {
  requests: number;
  errors: number;
  tasks: number;
  completed: number;
}

// The candidate completes 60 % of its tasks against the control's 80 %, with 8 % errors.
const ARMS: Record<string, { control: Arm; candidate: Arm }> = {
  healthy: {
    control: { requests: 20_000, errors: 100, tasks: 16_667, completed: 13_334 },
    candidate: { requests: 5_000, errors: 20, tasks: 3_125, completed: 2_500 },
  },
  breach: {
    control: { requests: 20_000, errors: 100, tasks: 16_667, completed: 13_334 },
    candidate: { requests: 5_000, errors: 400, tasks: 5_000, completed: 3_000 },
  },
  // 40 candidate requests: below min_requests, so the gates cannot decide yet.
  sparse: {
    control: { requests: 20_000, errors: 100, tasks: 16_667, completed: 13_334 },
    candidate: { requests: 40, errors: 0, tasks: 40, completed: 33 },
  },
};

const SERIES: Series[] = Object.entries(ARMS).flatMap(([scenario, arms]) =>
  (["control", "candidate"] as const).flatMap((arm) => {
    const labels = { arm, phase: "10", scenario };
    return [
      { name: "llm_requests_total", labels, value: arms[arm].requests },
      { name: "llm_errors_total", labels, value: arms[arm].errors },
      { name: "llm_tasks_total", labels, value: arms[arm].tasks },
      { name: "llm_completed_total", labels, value: arms[arm].completed },
    ];
  }),
);

function policy(scenario: string): string {
  const q = (metric: string) => `sum(${metric}{arm="{{arm}}",phase="{{phase}}",scenario="${scenario}"})`;
  return [
    "version: 1",
    "gates: { max_error_rate: 0.02, max_completion_rate_drop: 0.05, min_requests: 200 }",
    "rollout:",
    "  key: rollout.candidate_percent",
    "  phases: [10, 30, 50, 100]",
    "  metrics:",
    "    source: prometheus",
    "    queries:",
    `      requests: '${q("llm_requests_total")}'`,
    `      errors: '${q("llm_errors_total")}'`,
    `      tasks: '${q("llm_tasks_total")}'`,
    `      completed: '${q("llm_completed_total")}'`,
    "",
  ].join("\n");
}

function llmJson(share: number): string {
  const config = {
    llm: {
      default_model: "gpt-5.4",
      routes: { agentic_coding: "gpt-5.5", general_qna: "gpt-5.4" },
      max_output_tokens: 4096,
    },
    models: { default: "gpt-5.4", candidate: "gpt-5.5", rollback: "gpt-5.4" },
    rollout: { candidate_percent: share },
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

let scraped: Awaited<ReturnType<typeof startScrapedSeries>> | undefined;
let prometheus: PrometheusServer;
let emu: GitHubEmulator;

beforeAll(async () => {
  scraped = await startScrapedSeries(SERIES);
  ({ prometheus } = scraped);
}, 60_000);

afterAll(async () => {
  await scraped?.stop();
});

beforeEach(async () => {
  emu = await startGitHubEmulator();
  emu.addRepo({ owner: OWNER, repo: REPO, defaultBranch: "main" });
  onMain("breach");
});

afterEach(async () => {
  await emu.close();
});

function onMain(scenario: string, share = 10, extra: Record<string, string> = {}): void {
  emu.commit(OWNER, REPO, "main", {
    "README.md": "# support bot\n",
    ".github/modelgate.yml": policy(scenario),
    "config/llm.json": llmJson(share),
    ...extra,
  });
}

function watch(args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<CliOutcome> {
  return runCliCaptured(["watch", "--repo", `${OWNER}/${REPO}`, ...args], {
    GITHUB_TOKEN: WORKFLOW_TOKEN,
    GITHUB_API_URL: emu.url,
    PROMETHEUS_URL: prometheus.url,
    ...env,
  });
}

function openPulls() {
  const repo = emu.state.repos.get(`${OWNER}/${REPO}`.toLowerCase());
  return [...(repo?.issues.values() ?? [])].filter((issue) => issue.pull && issue.state === "open");
}

function watchComments() {
  return [...emu.state.comments.values()].filter((c) => c.body.includes(WATCH_MARKER));
}

function expectOneLine(run: CliOutcome): void {
  expect(run.stderr.trim().split("\n")).toHaveLength(1);
  expect(run.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
}

describe("breach (real Prometheus)", () => {
  test("opens one rollback PR, exits 1 with its URL; a second run reuses it and updates one comment", async () => {
    const started = performance.now();
    const first = await watch();
    const ms = performance.now() - started;
    console.log(`modelgate watch, one breach run (emulator + Prometheus): ${Math.round(ms)} ms`);
    expect(first.code, first.stderr).toBe(1);
    const pulls = openPulls();
    expect(pulls).toHaveLength(1);
    const pr = pulls[0];
    expect(pr?.pull?.headRef).toBe("modelgate/rollback-gpt-5.5");
    expect(first.stdout).toMatch(
      new RegExp(
        `^modelgate watch: breach on main at 10 %: opened the rollback PR #${pr?.number} http\\S+/pull/${pr?.number}`,
      ),
    );
    // The gates with their numbers, and the arms as Prometheus counted them.
    expect(first.stdout).toMatch(/max_error_rate fail \(8\.0 %/);
    expect(first.stdout).toMatch(/candidate: 5000 requests, 400 errors \(8\.0 %\)/);
    expect(first.stdout).toMatch(/metrics: Prometheus/);
    // The PR body says who asked: the CLI, writing as the workflow token's bot.
    expect(pr?.body).toMatch(/modelgate watch \(CLI, as github-actions\\?\[bot\\?\]\)/);
    expect(watchComments()).toHaveLength(1);

    const second = await watch();
    expect(second.code).toBe(1);
    expect(second.stdout).toMatch(new RegExp(`the rollback PR #${pr?.number} is already open`));
    expect(openPulls()).toHaveLength(1);
    const comments = watchComments();
    expect(comments).toHaveLength(1);
    expect(comments[0]?.issueNumber).toBe(pr?.number);
    expect(comments[0]?.user).toBe("github-actions[bot]");
  }, 60_000);

  test("--dry-run judges the breach (exit 1) and writes nothing", async () => {
    const writesBefore = emu.requests.filter((r) => r.method !== "GET").length;
    const run = await watch(["--dry-run"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^modelgate watch: breach on main at 10 %: dry run, no rollback PR opened\n/);
    expect(openPulls()).toEqual([]);
    expect(watchComments()).toEqual([]);
    expect(emu.requests.filter((r) => r.method !== "GET").length).toBe(writesBefore);
  });

  test("a personal token writes as its user (GET /user), and finds its own comment again", async () => {
    emu.state.tokens["pat-alice"] = { login: "alice", type: "User" };
    emu.setPermission(OWNER, REPO, "alice", "write");
    expect((await watch([], { GITHUB_TOKEN: "pat-alice" })).code).toBe(1);
    expect((await watch([], { GITHUB_TOKEN: "", GH_TOKEN: "pat-alice" })).code).toBe(1);
    const comments = watchComments();
    expect(comments).toHaveLength(1);
    expect(comments[0]?.user).toBe("alice");
    expect(openPulls()).toHaveLength(1);
  }, 60_000);

  test("a token that cannot write: still exit 1, and the failed rollback says so", async () => {
    emu.state.tokens["pat-reader"] = { login: "reader", type: "User" };
    emu.setPermission(OWNER, REPO, "reader", "read");
    const run = await watch([], { GITHUB_TOKEN: "pat-reader" });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^modelgate watch: breach on main at 10 %: opening the rollback PR failed: Must have push access to this repository\..*; roll back by hand/,
    );
    expect(openPulls()).toEqual([]);
  });

  test("--format json is the outcome: kind, share, gates with numbers, rollback link, audit", async () => {
    const run = await watch(["--format", "json"]);
    expect(run.code).toBe(1);
    const json = JSON.parse(run.stdout) as Record<string, unknown>;
    const [pr] = openPulls();
    expect(json).toMatchObject({
      outcome: "breach",
      fails: true,
      kind: "breach",
      share: 10,
      rollback: { kind: "opened", number: pr?.number },
      dry_run: false,
      metrics: {
        source: "Prometheus (PROMETHEUS_URL)",
        arms: { candidate: { requests: 5000, errors: 400, tasks: 5000, completed: 3000 } },
      },
      audit: { base_ref: "main", share_key: "rollout.candidate_percent", llm_file: "config/llm.json" },
    });
    const gates = json.gates as Array<{ name: string; status: string; value: number; p_breach: number }>;
    expect(gates.map((g) => [g.name, g.status])).toEqual([
      ["max_error_rate", "fail"],
      ["max_completion_rate_drop", "fail"],
    ]);
    expect(gates[0]?.value).toBeCloseTo(0.08, 6);
    expect(gates[0]?.p_breach).toBeLessThan(0.0125);
  });
});

describe("exit 0", () => {
  test("healthy: the gates pass, nothing is opened", async () => {
    onMain("healthy");
    const run = await watch();
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^modelgate watch: healthy: the production gates pass on main at 10 %/);
    expect(run.stdout).toMatch(/max_error_rate pass/);
    expect(openPulls()).toEqual([]);
  });

  test("not decided yet (too few requests): exit 0 with the reason", async () => {
    onMain("sparse");
    const run = await watch();
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^modelgate watch: undecided: hold: only 40 requests on the candidate arm; at least 200 per arm needed/,
    );
    expect(openPulls()).toEqual([]);
  });

  test("idle: no candidate traffic on the base branch", async () => {
    onMain("breach", 0);
    const run = await watch();
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^modelgate watch: idle: rollout\.candidate_percent is 0 % on main/);
    expect(openPulls()).toEqual([]);
  });

  test("--base judges another branch", async () => {
    emu.commit(OWNER, REPO, "release", {
      ".github/modelgate.yml": policy("healthy"),
      "config/llm.json": llmJson(10),
    });
    const run = await watch(["--base", "release"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/healthy: the production gates pass on release at 10 %/);
  });
});

describe("exit 1: the watch is blind (fails closed)", () => {
  test("a query without data names the query", async () => {
    onMain("absent");
    const run = await watch();
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^modelgate watch: blind: no production numbers on main at 10 % from Prometheus/,
    );
    expect(run.stdout).toMatch(/scenario="absent"/);
    expect(openPulls()).toEqual([]);
  });

  test("PROMETHEUS_URL not set names it", async () => {
    const run = await watch([], { PROMETHEUS_URL: "" });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/blind: .*PROMETHEUS_URL is not set/);
  });

  test("Prometheus unreachable names it", async () => {
    const run = await watch([], { PROMETHEUS_URL: `http://127.0.0.1:${await freePort()}` });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/blind: .*cannot reach Prometheus \(PROMETHEUS_URL\)/);
  });

  test("the metrics file (source: file) missing on the base names the file", async () => {
    onMain("breach", 10, {
      ".github/modelgate.yml": `${policy("breach").replace("source: prometheus", "source: file\n    file: ops/metrics.json")}`,
    });
    const run = await watch();
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/blind: .*ops\/metrics\.json does not exist on the base branch/);
  });

  test("GitHub unreachable: exit 1, one line naming the route", async () => {
    // Retried as GitHub's rules say (3 times, back-off 1 s × 1, 4, 9), shrunk to milliseconds here.
    const run = await watch([], {
      GITHUB_API_URL: `http://127.0.0.1:${await freePort()}`,
      MODELGATE_GITHUB_SECOND_MS: "5",
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^modelgate: watch: cannot judge acme\/support-bot: GitHub at http:\/\/127\.0\.0\.1:\d+ did not answer on GET \/repos\/acme\/support-bot/,
    );
    expectOneLine(run);
  });
});

describe("exit 2: the user's mistake, one line", () => {
  test("no token", async () => {
    const run = await watch([], { GITHUB_TOKEN: "", GH_TOKEN: "" });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/no GitHub token: set GITHUB_TOKEN \(or GH_TOKEN\)/);
    expectOneLine(run);
  });

  test("a malformed --repo, a missing --repo, a bad --format", async () => {
    for (const args of [
      ["--repo", "acme"],
      ["--repo", "acme/../x"],
      ["--format", "yaml"],
    ]) {
      const run = await runCliCaptured(["watch", "--repo", "acme/support-bot", ...args], {
        GITHUB_TOKEN: WORKFLOW_TOKEN,
      });
      expect(run.code, args.join(" ")).toBe(2);
      expectOneLine(run);
    }
    const missing = await runCliCaptured(["watch"], { GITHUB_TOKEN: WORKFLOW_TOKEN });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--repo OWNER\/NAME is required/);
  });

  test("an invalid policy names the file", async () => {
    onMain("breach", 10, { ".github/modelgate.yml": "rollout: { phases: [10, oops\n" });
    const run = await watch();
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/\.github\/modelgate\.yml/);
    expectOneLine(run);
  });

  test("a token GitHub refuses, a repository it cannot see, a branch that does not exist", async () => {
    const refused = await watch([], { GITHUB_TOKEN: "not-a-token" });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/GitHub refused the token \(401 on GET \/repos\/acme\/support-bot\)/);
    expectOneLine(refused);
    const unknown = await runCliCaptured(["watch", "--repo", "acme/nothing-here"], {
      GITHUB_TOKEN: WORKFLOW_TOKEN,
      GITHUB_API_URL: emu.url,
    });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/acme\/nothing-here: GitHub answered 404/);
    const branch = await watch(["--base", "release"]);
    expect(branch.code).toBe(2);
    expect(branch.stderr).toMatch(/there is no branch release in acme\/support-bot/);
  });

  test("--help documents the exit codes", async () => {
    const run = await runCliCaptured(["watch", "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Exit: 0 idle, healthy, or not decided yet/);
    expect((await runCliCaptured(["--help"])).stdout).toMatch(/watch {6}judge the live rollout phase/);
  });
});
