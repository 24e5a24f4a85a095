/**
 * The Action's `mode: watch`, run as the runner runs it (a child process with `INPUT_*`, the
 * event file, `GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY`) against the GitHub REST emulator, with the
 * production counts from a real Prometheus whose address is in the step's env.
 *
 * The event is `schedule`. @octokit/webhooks-examples has no schedule payload (GitHub sends no
 * webhook for it), so it is built here the way GitHub documents the workflow's event for a
 * scheduled run: `{schedule: "<cron>", workflow, repository, …}`, with the emulated repository
 * as `pullRequestPayload` patches it in.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { parse } from "yaml";
import {
  commentsOn,
  expectNoStack,
  OWNER,
  REPO,
  ROOT,
  runAction,
  startWorld,
  type World,
} from "./support/action-harness.ts";
import { EXAMPLE_POLICY } from "./support/cli.ts";
import type { Series } from "./support/metrics-exporter.ts";
import { type PrometheusServer, startScrapedSeries } from "./support/prometheus.ts";

interface Arm {
  requests: number;
  errors: number;
  tasks: number;
  completed: number;
}

const CONTROL: Arm = { requests: 20_000, errors: 100, tasks: 16_667, completed: 13_334 };
const CANDIDATE: Record<string, Arm> = {
  healthy: { requests: 5_000, errors: 20, tasks: 3_125, completed: 2_500 },
  breach: { requests: 5_000, errors: 400, tasks: 5_000, completed: 3_000 },
  sparse: { requests: 40, errors: 0, tasks: 40, completed: 33 },
};

const SERIES: Series[] = Object.entries(CANDIDATE).flatMap(([scenario, candidate]) =>
  (["control", "candidate"] as const).flatMap((arm) => {
    const counts = arm === "control" ? CONTROL : candidate;
    const labels = { arm, phase: "10", scenario };
    return [
      { name: "llm_requests_total", labels, value: counts.requests },
      { name: "llm_errors_total", labels, value: counts.errors },
      { name: "llm_tasks_total", labels, value: counts.tasks },
      { name: "llm_completed_total", labels, value: counts.completed },
    ];
  }),
);

/** The bundled example's policy with rollout queries that pick one scenario's series. */
function policy(scenario: string): string {
  const q = (metric: string) => `sum(${metric}{arm="{{arm}}",phase="{{phase}}",scenario="${scenario}"})`;
  const metrics = [
    "  metrics:",
    "    source: prometheus",
    "    queries:",
    `      requests: '${q("llm_requests_total")}'`,
    `      errors: '${q("llm_errors_total")}'`,
    `      tasks: '${q("llm_tasks_total")}'`,
    `      completed: '${q("llm_completed_total")}'`,
  ].join("\n");
  const anchor = '  label_prefix: "rollout:"';
  if (!EXAMPLE_POLICY.includes(anchor))
    throw new Error("the example policy has no rollout.label_prefix line");
  return EXAMPLE_POLICY.replace(anchor, `${anchor}\n${metrics}`);
}

/** The example's LLM config with 10 % of the traffic on the candidate. */
function llmAt(share: number): string {
  const text = readFileSync(join(ROOT, "examples/acme-support/base/config/llm.json"), "utf8");
  const config = JSON.parse(text) as { rollout: { candidate_percent: number } };
  config.rollout.candidate_percent = share;
  return `${JSON.stringify(config, null, 2)}\n`;
}

let scraped: Awaited<ReturnType<typeof startScrapedSeries>> | undefined;
let prometheus: PrometheusServer;
let world: World | undefined;

beforeAll(async () => {
  scraped = await startScrapedSeries(SERIES);
  ({ prometheus } = scraped);
}, 60_000);

afterAll(async () => {
  await scraped?.stop();
});

afterEach(async () => {
  await world?.close();
  world = undefined;
});

async function worldAt(scenario: string): Promise<World> {
  world = await startWorld({
    baseOverrides: { ".github/modelgate.yml": policy(scenario), "config/llm.json": llmAt(10) },
  });
  return world;
}

/** What GitHub puts in GITHUB_EVENT_PATH for an `on: schedule` run. */
function schedulePayload(w: World): Record<string, unknown> {
  return {
    schedule: "17 * * * *",
    workflow: ".github/workflows/modelgate-watch.yml",
    repository: w.emu.getRepository(OWNER, REPO),
  };
}

function scheduledWatch(w: World, env: Record<string, string | undefined> = {}, inputs = {}) {
  return runAction(w, {
    event: "schedule",
    payload: schedulePayload(w),
    inputs: { mode: "watch", ...inputs },
    // Only what the workflow's `env:` gives the step: no provider key is needed to watch.
    env: { PROMETHEUS_URL: prometheus.url, OPENAI_API_KEY: undefined, OPENAI_BASE_URL: undefined, ...env },
  });
}

function openPulls(w: World) {
  const repo = w.emu.state.repos.get(`${OWNER}/${REPO}`.toLowerCase());
  return [...(repo?.issues.values() ?? [])].filter((issue) => issue.pull && issue.state === "open");
}

describe("mode: watch on a schedule", () => {
  test("a breach fails the step, opens one rollback PR and sets the outputs; the next run reuses it", async () => {
    const w = await worldAt("breach");
    const run = await scheduledWatch(w);
    console.log(
      `Action mode: watch, one breach run (child process, emulator + Prometheus): ${Math.round(run.ms)} ms`,
    );
    expectNoStack(run.stdout + run.stderr);
    expect(run.code, run.stdout).toBe(1);
    const pulls = openPulls(w);
    expect(pulls).toHaveLength(1);
    const pr = pulls[0];
    // "%" is "%25" in a workflow command; the runner decodes it.
    expect(run.stdout).toMatch(
      new RegExp(`::error::modelgate watch: breach on main at 10 %25: opened the rollback PR #${pr?.number}`),
    );
    expect(run.outputs["watch-outcome"]).toBe("breach");
    expect(run.outputs["rollback-pr"]).toMatch(new RegExp(`/pull/${pr?.number}$`));
    expect(run.summary).toMatch(/^## modelgate watch: breach/);
    expect(run.summary).toMatch(/\| max_error_rate \| fail \| 8\.0 % \|/);
    expect(pr?.body).toMatch(/modelgate watch \(Action, schedule event, run https:\/\/github\.com\//);
    const [comment] = commentsOn(w, pr?.number ?? 0);
    expect(comment?.user).toBe("github-actions[bot]");

    const again = await scheduledWatch(w);
    expect(again.code).toBe(1);
    expect(again.stdout).toMatch(new RegExp(`the rollback PR #${pr?.number} is already open`));
    expect(again.outputs["rollback-pr"]).toBe(run.outputs["rollback-pr"]);
    expect(openPulls(w)).toHaveLength(1);
    expect(commentsOn(w, pr?.number ?? 0)).toHaveLength(1);
  }, 60_000);

  test("healthy: the step passes, nothing is opened", async () => {
    const w = await worldAt("healthy");
    const run = await scheduledWatch(w);
    expect(run.code, run.stdout).toBe(0);
    expect(run.outputs["watch-outcome"]).toBe("healthy");
    expect(run.outputs["rollback-pr"]).toBe("");
    expect(run.summary).toMatch(/^## modelgate watch: healthy/);
    expect(openPulls(w)).toEqual([]);
  }, 60_000);

  test("not decided yet: the step passes with a notice that says why", async () => {
    const w = await worldAt("sparse");
    const run = await scheduledWatch(w);
    expect(run.code, run.stdout).toBe(0);
    expect(run.outputs["watch-outcome"]).toBe("undecided");
    expect(run.stdout).toMatch(
      /::notice::modelgate watch: undecided: hold: only 40 requests on the candidate arm/,
    );
    expect(openPulls(w)).toEqual([]);
  }, 60_000);

  test("no PROMETHEUS_URL in the step's env: the watch is blind and the step fails, naming it", async () => {
    const w = await worldAt("breach");
    const run = await scheduledWatch(w, { PROMETHEUS_URL: undefined });
    expect(run.code).toBe(1);
    expect(run.outputs["watch-outcome"]).toBe("blind");
    expect(run.stdout).toMatch(/::error::modelgate watch: blind: .*PROMETHEUS_URL is not set/);
    expect(openPulls(w)).toEqual([]);
  }, 60_000);

  test("the base input names the branch; a branch that does not exist is an input error", async () => {
    const w = await worldAt("breach");
    w.emu.commit(OWNER, REPO, "release", { ".github/modelgate.yml": policy("healthy") });
    const release = await scheduledWatch(w, {}, { base: "release" });
    expect(release.code, release.stdout).toBe(0);
    expect(release.outputs["watch-outcome"]).toBe("healthy");
    const missing = await scheduledWatch(w, {}, { base: "prod" });
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/::error::there is no branch prod in acme\/support-bot to watch/);
    expectNoStack(missing.stdout + missing.stderr);
  }, 60_000);

  test("an unknown mode is an input error that lists watch", async () => {
    const w = await worldAt("breach");
    const run = await scheduledWatch(w, {}, { mode: "wach" });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /::error::Invalid input 'mode': 'wach'\. Expected one of: eval, merge, watch\./,
    );
  }, 60_000);
});

describe("the example workflow (docs/workflows/modelgate-watch.yml)", () => {
  test("runs on a schedule with write access to contents and pull requests, and only known inputs", () => {
    const workflow = parse(readFileSync(join(ROOT, "docs/workflows/modelgate-watch.yml"), "utf8")) as {
      on: { schedule: Array<{ cron: string }> };
      permissions: Record<string, string>;
      jobs: Record<string, { steps: Array<{ uses?: string; with?: Record<string, string>; env?: object }> }>;
    };
    const action = parse(readFileSync(join(ROOT, "action.yml"), "utf8")) as {
      inputs: Record<string, unknown>;
      outputs: Record<string, unknown>;
    };
    expect(workflow.on.schedule[0]?.cron).toMatch(/^\S+ \S+ \S+ \S+ \S+$/);
    expect(workflow.permissions).toEqual({ contents: "write", "pull-requests": "write" });
    const step = Object.values(workflow.jobs)
      .flatMap((job) => job.steps)
      .find((s) => s.uses?.startsWith("modelgate/modelgate@"));
    expect(step?.with?.mode).toBe("watch");
    expect(Object.keys(step?.with ?? {}).filter((name) => !(name in action.inputs))).toEqual([]);
    expect(Object.keys(step?.env ?? {})).toContain("PROMETHEUS_URL");
    expect(Object.keys(action.outputs)).toEqual(expect.arrayContaining(["watch-outcome", "rollback-pr"]));
  });
});
