/**
 * `{{phase_window}}`: the production queries cover the live phase since it began (the commit on
 * the base branch that set the current share), so the always-valid gates see running totals
 * however often they look. Octokit to the GitHub REST emulator; the queries to a loopback
 * Prometheus API that records them.
 */
import { Octokit } from "@octokit/core";
import { afterEach, beforeEach, expect, test } from "vitest";
import { parseConfig } from "../src/core/config/load.ts";
import { phaseWindow } from "../src/rollout/phase-start.ts";
import { readProduction } from "../src/rollout/production.ts";
import { BASE_FILES, llmJson, OWNER, REPO } from "./support/app-harness.ts";
import { fakePrometheus } from "./support/fake-prometheus.ts";
import { type GitHubEmulator, startGitHubEmulator, WORKFLOW_TOKEN } from "./support/github-emulator.ts";

const T0 = Date.parse("2026-11-02T09:00:00Z");
const HOUR = 3_600_000;

let emu: GitHubEmulator;
let gh: Octokit;
let clock = T0;
let prometheus: Awaited<ReturnType<typeof fakePrometheus>>;

beforeEach(async () => {
  emu = await startGitHubEmulator();
  clock = T0;
  emu.state.clock = () => new Date(clock);
  emu.addRepo({ owner: OWNER, repo: REPO });
  gh = new Octokit({ auth: WORKFLOW_TOKEN, baseUrl: emu.url });
  prometheus = await fakePrometheus(() => 100);
});

afterEach(async () => {
  await prometheus.close();
  await emu.close();
});

const share = (n: number) => ({
  "config/llm.json": llmJson((c) => {
    c.rollout = { candidate_percent: n };
  }),
});

async function read(now: number, policy = "version: 1\n") {
  const tip = emu.commit(OWNER, REPO, "main", { "README.md": `touch ${clock}\n` });
  const config = parseConfig(policy);
  const reading = await readProduction(
    { gh, env: { PROMETHEUS_URL: prometheus.url }, now: () => new Date(now) },
    { owner: OWNER, repo: REPO },
    config,
    tip,
    30,
  );
  return { reading, asked: [...prometheus.asked] };
}

test("the default queries count since the commit that set the current share, not a sliding hour", async () => {
  emu.commit(OWNER, REPO, "main", { ...BASE_FILES, ...share(10) });
  clock = T0 + 2 * HOUR;
  emu.commit(OWNER, REPO, "main", share(30));
  clock = T0 + 3 * HOUR;
  // Another edit of the same file that leaves the share alone does not restart the phase.
  emu.commit(OWNER, REPO, "main", {
    "config/llm.json": llmJson((c) => {
      c.rollout = { candidate_percent: 30 };
      c.llm = { ...c.llm, timeout_ms: 60000 };
    }),
  });
  const { reading, asked } = await read(T0 + 5 * HOUR);
  expect(reading.kind).toBe("counts");
  expect(asked).toHaveLength(8);
  for (const query of asked) expect(query).toMatch(/\[10800s\]\)\)$/);
  expect(asked[0]).toBe('sum(increase(llm_requests_total{arm="control"}[10800s]))');
});

test("a share set in the first commit runs from that commit", async () => {
  emu.commit(OWNER, REPO, "main", { ...BASE_FILES, ...share(30) });
  const { asked } = await read(T0 + HOUR / 2);
  expect(asked[0]).toContain("[1800s]");
});

test("queries without {{phase_window}} ask GitHub nothing about history and are sent as written", async () => {
  emu.commit(OWNER, REPO, "main", { ...BASE_FILES, ...share(30) });
  const policy = [
    "version: 1",
    "rollout:",
    "  metrics:",
    "    queries:",
    '      requests: sum(llm_requests_total{arm="{{arm}}",phase="{{phase}}"})',
    '      errors: sum(llm_errors_total{arm="{{arm}}",phase="{{phase}}"})',
    '      tasks: sum(llm_tasks_total{arm="{{arm}}",phase="{{phase}}"})',
    '      completed: sum(llm_completed_total{arm="{{arm}}",phase="{{phase}}"})',
    "",
  ].join("\n");
  const { asked } = await read(T0 + HOUR, policy);
  expect(asked[0]).toBe('sum(llm_requests_total{arm="control",phase="30"})');
});

test("the window is whole seconds and never under a minute", () => {
  expect(phaseWindow(new Date(T0), new Date(T0 + 1500))).toBe("60s");
  expect(phaseWindow(new Date(T0), new Date(T0 + 90_500))).toBe("91s");
});
