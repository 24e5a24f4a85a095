import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeExampleRepo } from "../examples/make-example-repo.ts";
import { envInputReader, parseSettings } from "../src/action/inputs.ts";
import { runCli } from "../src/cli/main.ts";
import { UserError } from "../src/core/errors.ts";
import type { EvalResult } from "../src/core/result.ts";
import {
  type CacheRecord,
  directoryCache,
  endpointIdentity,
  overlaps,
  simulatorIdentity,
  trackedInCacheDir,
} from "../src/eval/cache.ts";
import { type Simulator, type SimulatorProfiles, startSimulator } from "../src/simulator/index.ts";
import {
  expectNoStack,
  migrateChange,
  newWorkspace,
  openPull,
  pullRequestPayload,
  ROOT,
  readResult,
  runAction,
  startWorld,
  stepCode,
  type World,
} from "./support/action-harness.ts";
import { expectedExit } from "./support/cli.ts";
import { commitFiles, git, tempDir } from "./support/git.ts";
import { EXAMPLE_PROFILE, exampleProfiles, startExampleSimulator } from "./support/simulator.ts";

/**
 * The attempt cache as an attack surface (issue 9, items 1 and 3): the CLI in-process, the
 * `openai` SDK against the simulator on loopback, real git repositories. Each test reproduces
 * one attack on the wire and asserts the true verdict and that requests were really sent.
 */

const simulators: Simulator[] = [];
afterEach(async () => {
  await Promise.all(simulators.splice(0).map((s) => s.close()));
});

/** The example's simulator on loopback; on `port` when given (the same endpoint as an earlier one). */
async function simulator(overrides?: Partial<SimulatorProfiles>, port = 0): Promise<Simulator> {
  // A stand-in for a real endpoint: it does not announce itself as the simulator.
  const sim = await startSimulator({
    profiles: await exampleProfiles(overrides),
    timeScale: 0,
    port,
    announce: false,
  });
  simulators.push(sim);
  return sim;
}

interface Run {
  code: number;
  stderr: string;
  result: EvalResult | undefined;
}

/** One `modelgate eval`; `env` replaces the process environment entirely (no stray keys). */
async function evalRun(repo: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const out = join(tempDir(), "result.json");
  let stderr = "";
  const code = await runCli(["eval", "--repo", repo, "--out", out, ...args], {
    stdout: () => {},
    stderr: (text) => {
      stderr += text;
    },
    isTTY: false,
    env,
  });
  return {
    code,
    stderr,
    result: existsSync(out) ? (JSON.parse(readFileSync(out, "utf8")) as EvalResult) : undefined,
  };
}

const loopback = (sim: Simulator, home: string): NodeJS.ProcessEnv => ({
  OPENAI_BASE_URL: sim.url,
  OPENAI_API_KEY: "sk-test",
  XDG_CACHE_HOME: join(home, "xdg"),
  HOME: home,
});

/** Every entry file of a cache folder (`<2 hex>/<key>.json`). */
/**
 * The example repo judged fixed-N (`evals.sequential: false`, on both branches so the policy is
 * no change): every run looks up every case, so a test that damages cache entries or compares
 * two runs' cache use sees all of them (a sequence may settle before reaching some).
 */
function fixedNExampleRepo(): string {
  const repo = makeExampleRepo(tempDir()).dir;
  const policy = readFileSync(join(repo, ".github/modelgate.yml"), "utf8").replace(
    "  max_cases: 200\n",
    "  max_cases: 200\n  sequential: false\n",
  );
  commitFiles(repo, { ".github/modelgate.yml": policy }, "fixed-N evals");
  git(repo, "checkout", "--quiet", "migrate-agentic-coding");
  commitFiles(repo, { ".github/modelgate.yml": policy }, "fixed-N evals");
  git(repo, "checkout", "--quiet", "main");
  return repo;
}

function entries(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((path) => path.endsWith(".json"))
    .map((path) => join(dir, path));
}

/** The attacker's edit: every cached attempt becomes a pass that cost nothing. */
function forgePasses(dir: string): number {
  const files = entries(dir);
  for (const file of files) {
    const entry = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    entry.outcome = "pass";
    delete entry.detail;
    writeFileSync(file, JSON.stringify(entry));
  }
  return files.length;
}

/** gpt-5.5 gets every case wrong: migrating agentic_coding to it must fail. */
const BROKEN_NEW_MODEL = { models: { "gpt-5.5": { quality: 0 } } };

/**
 * A failing PR (`migrate-agentic-coding` against a gpt-5.5 that always errors) that also commits
 * `.modelgate-cache/` with a pass for every attempt, keyed exactly as the victim's run would key
 * them: the attacker ran the same change against a healthy endpoint at the same address.
 */
async function forgedPullRequest(home: string): Promise<{ repo: string; port: number; forged: number }> {
  const repo = makeExampleRepo(tempDir()).dir;
  git(repo, "checkout", "--quiet", "migrate-agentic-coding");
  const healthy = await startExampleSimulator(undefined, 0);
  const port = Number(new URL(healthy.url).port);
  const forgedDir = tempDir();
  try {
    const honest = await evalRun(
      repo,
      ["--base", "main", "--head", "HEAD", "--cache-dir", forgedDir],
      loopback(healthy, home),
    );
    expect(honest.code, honest.stderr).toBe(expectedExit(honest.result));
  } finally {
    await healthy.close();
  }
  const forged = forgePasses(forgedDir);
  cpSync(forgedDir, join(repo, ".modelgate-cache"), { recursive: true });
  commitFiles(repo, {}, "perf: warm cache");
  return { repo, port, forged };
}

describe("a pull request cannot forge its own verdict through the attempt cache", () => {
  it("ignores a committed .modelgate-cache/: the default cache lives outside the repo", async () => {
    const home = tempDir();
    const { repo, port, forged } = await forgedPullRequest(home);
    expect(forged).toBeGreaterThan(10);
    // The victim's provider listens where the attacker's did: the same endpoint identity, so
    // the forged entries carry exactly the keys this run looks up.
    const sim = await simulator(BROKEN_NEW_MODEL, port);
    const run = await evalRun(repo, ["--base", "main", "--head", "HEAD"], loopback(sim, home));
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.result?.verdict).toBe("fail");
    expect(run.code).toBe(1);
    expect(sim.stats.requests).toBeGreaterThan(0);
    expect(run.result?.head.requests).toBeGreaterThan(0);
    expect(run.result?.head.cache_hits).toBe(0);
    // The default is the user's cache folder, and it now holds this run's (honest) entries.
    expect(entries(join(home, "xdg", "modelgate")).length).toBeGreaterThan(0);
  });

  it("refuses --cache-dir pointing at a folder the head commit tracks (exit 2, one line)", async () => {
    const home = tempDir();
    const { repo, port } = await forgedPullRequest(home);
    const sim = await simulator(BROKEN_NEW_MODEL, port);
    for (const dir of [join(repo, ".modelgate-cache"), repo, join(repo, "..")]) {
      const run = await evalRun(
        repo,
        ["--base", "main", "--head", "HEAD", "--cache-dir", dir],
        loopback(sim, home),
      );
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr.trim().split("\n")).toHaveLength(1);
      expect(run.stderr).toMatch(/cache.*tracked/);
      expect(run.stderr).not.toMatch(/internal error/);
    }
    expect(sim.stats.requests).toBe(0);
    // An untracked folder inside the work tree (the old default, git-ignored) is still fine.
    const untracked = join(repo, "local-cache");
    const ok = await evalRun(
      repo,
      ["--base", "main", "--head", "HEAD", "--cache-dir", untracked],
      loopback(sim, home),
    );
    expect(ok.code, ok.stderr).toBe(1);
    expect(ok.result?.verdict).toBe("fail");
  });

  it("treats malformed entries as misses, counted in the result's warnings, never as hits", async () => {
    const home = tempDir();
    const sim = await simulator();
    const repo = fixedNExampleRepo();
    const cacheDir = tempDir();
    const args = ["--base", "main", "--head", "migrate-agentic-coding", "--cache-dir", cacheDir];
    const first = await evalRun(repo, args, loopback(sim, home));
    expect(first.code, first.stderr).toBe(expectedExit(first.result));
    const files = entries(cacheDir);
    expect(files.length).toBeGreaterThan(4);
    const [torn, wrongType, bare, hugeTokens] = files as [string, string, string, string];
    writeFileSync(torn, '{"outcome":"pa');
    const entry = JSON.parse(readFileSync(wrongType, "utf8")) as Record<string, unknown>;
    writeFileSync(wrongType, JSON.stringify({ ...entry, prompt_tokens: "12" }));
    // What the old cache accepted as a hit: a bare pass with no usage at all.
    writeFileSync(bare, JSON.stringify({ outcome: "pass" }));
    const other = JSON.parse(readFileSync(hugeTokens, "utf8")) as Record<string, unknown>;
    writeFileSync(hugeTokens, JSON.stringify({ ...other, completion_tokens: -5 }));
    const before = sim.stats.requests;
    const second = await evalRun(repo, args, loopback(sim, home));
    expect(second.code, second.stderr).toBe(expectedExit(second.result));
    // Every broken entry the run reached is a miss, counted, and re-sent (plus pre-flight). A
    // broken later attempt of a task is not reached when the re-sent first attempt passes, and
    // which files are broken depends on the loopback port in the keys: between 1 and 4 of them.
    const invalid = second.result?.warnings.find((w) => w.code === "cache_entry_invalid");
    const count = invalid?.code === "cache_entry_invalid" ? invalid.count : 0;
    expect(count).toBeGreaterThanOrEqual(1);
    expect(count).toBeLessThanOrEqual(4);
    expect(sim.stats.requests - before).toBeGreaterThanOrEqual(count + 1);
    const hits = (second.result?.base.cache_hits ?? 0) + (second.result?.head.cache_hits ?? 0);
    expect(hits).toBeGreaterThan(0);
    expect(hits).toBeLessThanOrEqual(files.length - count);
    expect(second.stderr).not.toMatch(/internal error/);
  });
});

describe("cached answers keep their provider, simulated flag and warnings", () => {
  it("a simulator run does not answer for a real provider sharing the cache folder", async () => {
    const home = tempDir();
    const repo = fixedNExampleRepo();
    const cacheDir = tempDir();
    const args = ["--base", "main", "--head", "migrate-agentic-coding", "--cache-dir", cacheDir];
    const builtin = [...args, "--simulator-profile", EXAMPLE_PROFILE, "--simulator-time-scale", "0"];
    const simEnv = { HOME: home, XDG_CACHE_HOME: join(home, "xdg") };
    const simulated = await evalRun(repo, builtin, simEnv);
    expect(simulated.code, simulated.stderr).toBe(expectedExit(simulated.result));
    expect(simulated.result?.simulated).toBe(true);
    // The built-in simulator listens on a new port each run; its identity is its profile.
    const again = await evalRun(repo, builtin, simEnv);
    expect(again.result?.simulated).toBe(true);
    expect(again.result?.base.cache_hits).toBeGreaterThan(0);

    const real = await simulator();
    const run = await evalRun(repo, args, loopback(real, home));
    expect(run.code, run.stderr).toBe(expectedExit(run.result));
    expect(real.stats.requests).toBeGreaterThan(1);
    expect(run.result?.base.cache_hits).toBe(0);
    expect(run.result?.head.cache_hits).toBe(0);
    expect(run.result?.base.requests).toBeGreaterThan(0);
    expect(run.result?.simulated).toBeUndefined();

    // The same real provider again: its own entries answer.
    const rerun = await evalRun(repo, args, loopback(real, home));
    expect(rerun.result?.base.cache_hits).toBeGreaterThan(0);
    expect(rerun.result?.simulated).toBeUndefined();
    // No entry stores the key, nor the endpoint (a gateway path can hold a secret): a digest.
    for (const file of entries(cacheDir)) {
      const text = readFileSync(file, "utf8");
      expect(text).not.toContain("sk-test");
      expect(text).not.toContain("127.0.0.1");
    }
  });

  it("model_mismatch survives a cached re-run", async () => {
    const home = tempDir();
    const sim = await simulator({ models: { "gpt-5.5": { serve_as: { model: "gpt-5.4", rate: 1 } } } });
    const repo = fixedNExampleRepo();
    const cacheDir = tempDir();
    const args = ["--base", "main", "--head", "migrate-agentic-coding", "--cache-dir", cacheDir];
    const mismatch = {
      code: "model_mismatch",
      route: "agentic_coding",
      requested: "gpt-5.5",
      returned: "gpt-5.4",
    };
    const first = await evalRun(repo, args, loopback(sim, home));
    expect(first.result?.warnings).toContainEqual(mismatch);
    const before = sim.stats.byModel["gpt-5.5"] ?? 0;
    const second = await evalRun(repo, args, loopback(sim, home));
    expect(sim.stats.byModel["gpt-5.5"] ?? 0).toBe(before);
    expect(second.result?.head.requests).toBe(0);
    expect(second.result?.head.cache_hits).toBeGreaterThan(0);
    expect(second.result?.warnings).toContainEqual(mismatch);
  });
});

describe("an unusable cache or result location is the user's mistake (exit 2, one line)", () => {
  it.each([
    ["--cache-dir", "/proc/modelgate-cache"],
    ["--cache-dir", "/proc/self"],
    ["--out", "/proc/self/result.json"],
    ["--out", "/proc/modelgate/result.json"],
  ])("%s %s", async (flag, path) => {
    const home = tempDir();
    const sim = await simulator();
    const repo = makeExampleRepo(tempDir()).dir;
    const started = Date.now();
    let stderr = "";
    const code = await runCli(
      ["eval", "--repo", repo, "--base", "main", "--head", "migrate-agentic-coding", flag, path],
      {
        stdout: () => {},
        stderr: (text) => {
          stderr += text;
        },
        isTTY: false,
        env: loopback(sim, home),
      },
    );
    expect(code, stderr).toBe(2);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toContain(path);
    expect(stderr).not.toMatch(/internal error/);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(sim.stats.requests).toBe(0);
  });

  it("merge --out under /proc is exit 2 with one line, not a hang", async () => {
    const home = tempDir();
    const sim = await simulator();
    const repo = makeExampleRepo(tempDir()).dir;
    const shard = join(tempDir(), "shard.json");
    const args = ["--base", "main", "--head", "migrate-agentic-coding", "--max-cases", "2"];
    const run = await evalRun(repo, args, loopback(sim, home));
    expect(run.code, run.stderr).toBe(expectedExit(run.result));
    writeFileSync(shard, JSON.stringify(run.result));
    let stderr = "";
    const code = await runCli(["merge", shard, "--out", "/proc/modelgate/merged.json"], {
      stdout: () => {},
      stderr: (text) => {
        stderr += text;
      },
      isTTY: false,
      env: {},
    });
    expect(code, stderr).toBe(2);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toContain("/proc/modelgate/merged.json");
  });

  it("a cache folder that is a file is refused too", async () => {
    const home = tempDir();
    const sim = await simulator();
    const repo = makeExampleRepo(tempDir()).dir;
    const file = join(tempDir(), "not-a-dir");
    writeFileSync(file, "x");
    const run = await evalRun(
      repo,
      ["--base", "main", "--head", "migrate-agentic-coding", "--cache-dir", file],
      loopback(sim, home),
    );
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain(file);
  });
});

describe("Action: the cache lives under RUNNER_TEMP, never in the workspace", () => {
  const RUNNER = { GITHUB_REPOSITORY: "acme/svc", GITHUB_WORKSPACE: "/work/ws", RUNNER_TEMP: "/tmp/rt" };
  const settings = (inputs: Record<string, string>) => {
    const env: NodeJS.ProcessEnv = { ...RUNNER, "INPUT_GITHUB-TOKEN": "t" };
    for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value;
    return parseSettings(envInputReader(env), env);
  };

  it("defaults to RUNNER_TEMP/modelgate-cache", () => {
    expect(settings({}).cacheDir).toBe("/tmp/rt/modelgate-cache");
    expect(settings({ "cache-dir": "/tmp/rt/mine" }).cacheDir).toBe("/tmp/rt/mine");
  });

  it.each([".modelgate-cache", "/work/ws/sub/cache", ".", "/work", "/"])(
    "refuses cache-dir %s: it overlaps the checkout",
    (dir) => {
      expect(() => settings({ "cache-dir": dir })).toThrow(UserError);
      expect(() => settings({ "cache-dir": dir })).toThrow(
        /^Invalid input 'cache-dir': .*workspace.*pull request.*RUNNER_TEMP/,
      );
    },
  );
});

/**
 * The Action end to end: the source entry point (dist/ is rebuilt by the integrator) in a child
 * process with the runner's environment, the REST emulator and the simulator on loopback.
 */
describe("Action: attempt cache under RUNNER_TEMP", () => {
  const SOURCE_ENTRY = join(ROOT, "src/action/index.ts");
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it("caches under RUNNER_TEMP (restored between jobs), not in the workspace", async () => {
    world = await startWorld();
    const runnerTemp = tempDir();
    const { number } = openPull(world, "migrate", migrateChange());
    const run = (workspace: string, action = "opened") =>
      runAction(world as World, {
        payload: pullRequestPayload(world as World, number, action),
        workspace,
        env: { RUNNER_TEMP: runnerTemp },
        entry: SOURCE_ENTRY,
      });
    const firstWorkspace = newWorkspace();
    const first = await run(firstWorkspace);
    expect(first.code, first.stdout).toBe(stepCode(first));
    expect(readResult(first.outputs["result-file"]).base.requests).toBeGreaterThan(0);
    expect(entries(join(runnerTemp, "modelgate-cache")).length).toBeGreaterThan(0);
    expect(readdirSync(firstWorkspace)).toEqual([]);

    // A new job: a fresh checkout, the same RUNNER_TEMP content (what actions/cache restores).
    const before = world.sim.stats.byModel["gpt-5.4"];
    const second = await run(newWorkspace(), "synchronize");
    expect(second.code, second.stdout).toBe(stepCode(second));
    const result = readResult(second.outputs["result-file"]);
    expect(result.base.requests).toBe(0);
    expect(result.base.cache_hits).toBeGreaterThan(0);
    expect(world.sim.stats.byModel["gpt-5.4"]).toBe(before);
  });

  it.each([
    [
      { "cache-dir": ".modelgate-cache" },
      /::error::Invalid input 'cache-dir': '\.modelgate-cache' .*overlaps the workspace/,
    ],
    [
      { "cache-dir": "/proc/modelgate-cache" },
      /::error::Invalid input 'cache-dir': \/proc\/modelgate-cache is not writable/,
    ],
    [
      { "result-file": "/proc/self/result.json" },
      /::error::Invalid input 'result-file': \/proc\/self\/result.json is not writable/,
    ],
  ])("refuses %o with one line before any request", async (inputs, message) => {
    world = await startWorld();
    const workspace = newWorkspace();
    mkdirSync(join(workspace, ".modelgate-cache"));
    const { number } = openPull(world, "migrate", migrateChange());
    const run = await runAction(world, {
      payload: pullRequestPayload(world, number),
      workspace,
      inputs,
      entry: SOURCE_ENTRY,
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(message);
    expect(run.stdout).not.toMatch(/internal error/);
    expectNoStack(run.stdout + run.stderr);
    expect(world.sim.stats.requests).toBe(0);
  });
});

describe("cache folder and entry checks", () => {
  const record: CacheRecord = {
    outcome: "fail",
    detail: "expected JSON",
    prompt_tokens: 10,
    cached_tokens: 0,
    completion_tokens: 5,
    has_usage: true,
    model: "gpt-5.4",
    latency_ms: 12,
    tool_calls: 0,
    warnings: [],
  };

  it("finds tracked files inside the cache folder, through symlinks and around the repo", () => {
    const root = tempDir();
    const tracked = ["README.md", ".modelgate-cache/ab/x.json"];
    expect(trackedInCacheDir(join(root, ".modelgate-cache"), root, tracked)).toBe(
      ".modelgate-cache/ab/x.json",
    );
    expect(trackedInCacheDir(join(root, ".modelgate-cache", "ab"), root, tracked)).toBe(
      ".modelgate-cache/ab/x.json",
    );
    expect(trackedInCacheDir(root, root, tracked)).toBe("README.md");
    expect(trackedInCacheDir(join(root, ".."), root, tracked)).toBe("README.md");
    expect(trackedInCacheDir(join(root, "other"), root, tracked)).toBeUndefined();
    expect(trackedInCacheDir(`${root}-sibling`, root, tracked)).toBeUndefined();
    const link = join(tempDir(), "link");
    symlinkSync(join(root, ".modelgate-cache"), link);
    expect(trackedInCacheDir(link, root, tracked)).toBe(".modelgate-cache/ab/x.json");
  });

  it("overlaps: same folder, either inside the other, or via a symlink; not siblings", () => {
    expect(overlaps("/a/b", "/a/b")).toBe(true);
    expect(overlaps("/a/b/c", "/a/b")).toBe(true);
    expect(overlaps("/a", "/a/b")).toBe(true);
    expect(overlaps("/a/bc", "/a/b")).toBe(false);
    expect(overlaps("/a/..b", "/a")).toBe(true);
    const ws = tempDir();
    const link = join(tempDir(), "into-ws");
    symlinkSync(ws, link);
    expect(overlaps(join(link, "cache"), ws)).toBe(true);
  });

  it("provider identity: origin and path only, never credentials; the simulator by its profile", () => {
    const withKey = endpointIdentity("https://user:secret@gw.example/v1/?api-key=sk-123#x");
    expect(withKey).toEqual({ text: "endpoint https://gw.example/v1", simulated: false });
    expect(simulatorIdentity({ a: 1, b: 2 }, 0).text).toBe(simulatorIdentity({ b: 2, a: 1 }, 0).text);
    expect(simulatorIdentity({ a: 1 }, 0).text).not.toBe(simulatorIdentity({ a: 2 }, 0).text);
    expect(simulatorIdentity({ a: 1 }, 0).text).not.toBe(simulatorIdentity({ a: 1 }, 1).text);
  });

  it("an entry answers only its own key and provider; moved or foreign entries are counted misses", async () => {
    const dir = tempDir();
    const real = directoryCache(dir, endpointIdentity("https://api.openai.com/v1"));
    const key = "k".repeat(64);
    await real.set(key, record);
    expect(await real.get(key)).toEqual({ ...record, simulated: false });
    expect(await directoryCache(dir, simulatorIdentity({}, 0)).get(key)).toBeUndefined();

    // The attacker copies a real entry over the file another key would read.
    const [file] = entries(dir) as [string];
    const other = "o".repeat(64);
    const probe = directoryCache(dir, endpointIdentity("https://api.openai.com/v1"));
    await probe.set(other, { ...record, outcome: "fail" });
    const otherFile = entries(dir).find((f) => f !== file) as string;
    renameSync(file, otherFile);
    expect(await probe.get(other)).toBeUndefined();
    expect(probe.warnings()).toEqual([
      expect.objectContaining({
        code: "cache_entry_invalid",
        count: 1,
        example: expect.stringContaining("another key"),
      }),
    ]);

    // A huge file is not read into memory.
    writeFileSync(otherFile, " ".repeat(100_000));
    expect(await probe.get(other)).toBeUndefined();
    expect(probe.warnings()).toEqual([expect.objectContaining({ count: 2 })]);
  });
});
