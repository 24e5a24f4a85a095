import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { expect } from "vitest";
import type { EvalResult } from "../../src/core/result.ts";
import { readProfileFile, type Simulator, startSimulator } from "../../src/simulator/index.ts";
import { type GitHubEmulator, startGitHubEmulator, WORKFLOW_TOKEN } from "./github-emulator.ts";

/**
 * Runs the committed `dist/index.js` the way the Actions runner does: a child process with
 * `INPUT_*` variables, `GITHUB_EVENT_PATH` pointing at a real payload from
 * `@octokit/webhooks-examples` (patched to the emulated repo), `GITHUB_OUTPUT` and
 * `GITHUB_STEP_SUMMARY` files, `GITHUB_API_URL` at the REST emulator and the simulator as the
 * provider. The Action runs from its sources (Node 24 strips the types), so a change is tested
 * before it is bundled; CI separately fails when the committed dist/ differs from a rebuild, and
 * MODELGATE_TEST_DIST=1 runs these tests against dist/index.js itself.
 */
export const ROOT = join(import.meta.dirname, "..", "..");
export const DIST = join(ROOT, "dist", "index.js");
/** The Action's source entry (Node 24 strips the types): for tests of code not yet bundled. */
export const ACTION_SOURCE = join(ROOT, "src", "action", "index.ts");
export const OWNER = "acme";
export const REPO = "support-bot";
export const API_KEY = "sk-test-secret-key-0123456789";

export interface World {
  emu: GitHubEmulator;
  sim: Simulator;
  /** A loopback server that counts every request: the endpoint a PR tries to smuggle in. */
  attacker: { url: string; requests: number; close(): Promise<void> };
  /** Commit of main that holds the example's base tree. */
  mainSha: string;
  close(): Promise<void>;
}

export interface WorldOptions {
  /** Extra simulator profile YAML appended to the example's answers (e.g. a `models:` block). */
  profileExtra?: string;
  /** Replaces files of the base tree (e.g. a stricter policy). */
  baseOverrides?: Record<string, string>;
}

/** Every example model without random faults, so counts of requests are exact. */
const NO_FAULTS = `
models:
  gpt-5.4:
    errors: { server_error: 0, unavailable: 0, rate_limit: 0 }
  gpt-5.5:
    errors: { server_error: 0, unavailable: 0, rate_limit: 0 }
`;

export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), "modelgate-action-world-"));
  const profilePath = join(dir, "simulator.yml");
  const example = readFileSync(join(ROOT, "examples/acme-support/simulator.yml"), "utf8");
  writeFileSync(profilePath, `${example}\n${options.profileExtra ?? NO_FAULTS}`);
  // A stand-in for a real provider (the Action's simulated mode is `provider: simulator`).
  const sim = await startSimulator({
    profiles: await readProfileFile(profilePath),
    timeScale: 0,
    announce: false,
  });
  const emu = await startGitHubEmulator();
  emu.addRepo({ owner: OWNER, repo: REPO, defaultBranch: "main" });
  const base = { ...readTree(join(ROOT, "examples/acme-support/base")), ...options.baseOverrides };
  const mainSha = emu.commit(OWNER, REPO, "main", base, "Acme support assistant");
  const attacker = await startCounter();
  return {
    emu,
    sim,
    attacker,
    mainSha,
    async close() {
      await Promise.all([emu.close(), sim.close(), attacker.close()]);
    },
  };
}

export function readTree(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (at: string) => {
    for (const name of readdirSync(at)) {
      const path = join(at, name);
      if (statSync(path).isDirectory()) walk(path);
      else files[relative(dir, path).split("\\").join("/")] = readFileSync(path, "utf8");
    }
  };
  walk(dir);
  return files;
}

/** The example's `migrate-agentic-coding` change: agentic_coding moves to gpt-5.5. */
export function migrateChange(): Record<string, string> {
  return readTree(join(ROOT, "examples/acme-support/changes/migrate-agentic-coding"));
}

/** A new PR from `branch` with `files` committed on it; returns its number and head SHA. */
export function openPull(
  world: World,
  branch: string,
  files: Record<string, string | null>,
  number?: number,
) {
  const head = world.emu.commit(OWNER, REPO, branch, files, `Change on ${branch}`);
  const pull = world.emu.openPullRequest(OWNER, REPO, {
    base: "main",
    head: branch,
    title: `Change ${branch}`,
    user: "octocat",
    ...(number ? { number } : {}),
  });
  return { number: pull.number, head };
}

async function startCounter(): Promise<World["attacker"]> {
  const counter = { requests: 0 };
  const server: Server = createServer((request, response) => {
    counter.requests++;
    request.resume();
    response.writeHead(200, { "content-type": "application/json" });
    response.end(
      '{"object":"list","data":[{"id":"gpt-5.5","object":"model"},{"id":"gpt-5.4","object":"model"}]}',
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    get requests() {
      return counter.requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type Payload = Record<string, unknown>;

/** A real `pull_request` payload from @octokit/webhooks-examples, patched to the emulated PR. */
export function pullRequestPayload(world: World, number: number, action = "opened"): Payload {
  const index = JSON.parse(
    readFileSync(join(ROOT, "node_modules/@octokit/webhooks-examples/api.github.com/index.json"), "utf8"),
  ) as Array<{ name: string; examples: Payload[] }>;
  const examples = index.find((entry) => entry.name === "pull_request")?.examples ?? [];
  const example = examples.find((e) => e.action === action) ?? examples.find((e) => e.action === "opened");
  if (!example) throw new Error("no pull_request example in @octokit/webhooks-examples");
  const payload = structuredClone(example);
  const pull = world.emu.getPullRequest(OWNER, REPO, number) as unknown as Payload;
  payload.action = action;
  payload.number = number;
  payload.pull_request = { ...(payload.pull_request as Payload), ...pull };
  payload.repository = world.emu.getRepository(OWNER, REPO);
  return payload;
}

export interface ActionRun {
  code: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  ms: number;
}

export interface RunOptions {
  event?: string;
  payload: Payload;
  inputs?: Record<string, string>;
  env?: Record<string, string | undefined>;
  /** The job's workspace (kept between runs to model a restored actions/cache). */
  workspace?: string;
  /** Sends SIGTERM (as the runner does on cancel) once this holds; polled every 25 ms. */
  terminateWhen?: () => boolean;
  /** The script to run; default the committed bundle (`DIST`). */
  entry?: string;
}

export function newWorkspace(): string {
  return mkdtempSync(join(tmpdir(), "modelgate-action-ws-"));
}

export async function runAction(world: World, options: RunOptions): Promise<ActionRun> {
  const dir = mkdtempSync(join(tmpdir(), "modelgate-action-run-"));
  const eventPath = join(dir, "event.json");
  const outputPath = join(dir, "output.txt");
  const summaryPath = join(dir, "summary.md");
  const runnerTemp = join(dir, "runner-temp");
  mkdirSync(runnerTemp);
  writeFileSync(eventPath, JSON.stringify(options.payload));
  writeFileSync(outputPath, "");
  writeFileSync(summaryPath, "");
  const inputs = { "github-token": WORKFLOW_TOKEN, ...options.inputs };
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    CI: "true",
    GITHUB_ACTIONS: "true",
    GITHUB_EVENT_NAME: options.event ?? "pull_request",
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_OUTPUT: outputPath,
    GITHUB_STEP_SUMMARY: summaryPath,
    GITHUB_API_URL: world.emu.url,
    GITHUB_SERVER_URL: "https://github.com",
    GITHUB_REPOSITORY: `${OWNER}/${REPO}`,
    GITHUB_WORKSPACE: options.workspace ?? newWorkspace(),
    GITHUB_RUN_ID: "4242",
    GITHUB_RUN_ATTEMPT: "1",
    GITHUB_ACTOR: "octocat",
    RUNNER_TEMP: runnerTemp,
    OPENAI_BASE_URL: world.sim.url,
    OPENAI_API_KEY: API_KEY,
  };
  for (const [name, value] of Object.entries(inputs))
    env[`INPUT_${name.replace(/ /g, "_").toUpperCase()}`] = value;
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [options.entry ?? (process.env.MODELGATE_TEST_DIST ? DIST : ACTION_SOURCE)],
    {
      env,
      cwd: env.GITHUB_WORKSPACE,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const poll = options.terminateWhen
    ? setInterval(() => {
        if (options.terminateWhen?.()) {
          child.kill("SIGTERM");
          clearInterval(poll);
        }
      }, 25)
    : undefined;
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (exit) => resolve(exit));
  }).finally(() => clearInterval(poll));
  const ms = performance.now() - started;
  return {
    code,
    stdout,
    stderr,
    outputs: parseOutputFile(readFileSync(outputPath, "utf8")),
    summary: readFileSync(summaryPath, "utf8"),
    ms,
  };
}

/** `name<<DELIMITER\nvalue\nDELIMITER` blocks, as @actions/core writes them. */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<=]+)<<(.+)$/.exec(lines[i] ?? "");
    if (!match) continue;
    const [, name = "", delimiter] = match;
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i] ?? "");
    outputs[name] = value.join("\n");
  }
  return outputs;
}

/** Every comment on a PR, as the emulator holds them, oldest first. */
export function commentsOn(world: World, number: number): Array<{ id: number; body: string; user: string }> {
  const repo = `${OWNER}/${REPO}`.toLowerCase();
  return [...world.emu.state.comments.values()]
    .filter((c) => c.repo.toLowerCase() === repo && c.issueNumber === number)
    .sort((a, b) => a.id - b.id)
    .map((c) => ({ id: c.id, body: c.body, user: c.user }));
}

/** Check runs named `name` on a commit. */
export function checkRunsOn(world: World, sha: string, name = "modelgate/eval") {
  return [...world.emu.state.checkRuns.values()].filter((run) => run.headSha === sha && run.name === name);
}

/** The result file an Action run wrote (its `result-file` output). */
export function readResult(path: string | undefined): EvalResult {
  if (!path) throw new Error("no result-file output");
  return JSON.parse(readFileSync(path, "utf8")) as EvalResult;
}

/**
 * The exit code the eval alone gives the step: 1 for `fail`, or for `inconclusive` where the
 * resolved `gates.on_inconclusive` is `fail` (a model change by default); else 0.
 */
export function stepCode(run: { outputs: Record<string, string> }): number {
  const result = readResult(run.outputs["result-file"]);
  const blocks =
    result.verdict === "fail" ||
    (result.verdict === "inconclusive" && result.gates_config?.on_inconclusive === "fail");
  return blocks ? 1 : 0;
}

/** No stack trace ever reaches the user. */
export function expectNoStack(text: string): void {
  expect(text).not.toMatch(/\n\s+at .+:\d+:\d+/);
}
