import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../src/cli/main.ts";
import { ownRecordFrom } from "../src/core/own.ts";
import type { EvalResult } from "../src/core/result.ts";
import { type SimulatorProfiles, startSimulator } from "../src/simulator/index.ts";
import { EXAMPLE_POLICY, expectedExit, ROOT } from "./support/cli.ts";
import { commitFiles, git, readTree, tempDir } from "./support/git.ts";
import { exampleProfiles } from "./support/simulator.ts";

/**
 * Cross-provider comparisons over the wire: two simulator instances on loopback stand in for
 * OpenAI (`default`) and Anthropic's OpenAI-compatible endpoint (`anthropic`), each accepting
 * only its own key. A PR moves `general_qna` from gpt-5.4 to a Claude model.
 */
const CLAUDE = "claude-sonnet-4-6";
const OPENAI_KEY = "sk-openai-test";
const ANTHROPIC_KEY = "sk-ant-test";
const JUDGE = "judge-mini";

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** The example's answers; the Claude instance serves one model only (a copy of gpt-5.5's profile). */
async function anthropicProfiles(models: string[] = [CLAUDE, JUDGE]): Promise<SimulatorProfiles> {
  const example = await exampleProfiles();
  const source = example.models?.["gpt-5.5"];
  if (!source) throw new Error("the example profiles lost gpt-5.5");
  const { aliases: _aliases, serve_as: _serveAs, ...profile } = source;
  // The judge always answers the verdict, terse and clean.
  const judge = { ...profile, quality: { easy: 1, hard: 1 }, verbosity: 1, format_drift: 0, takeover: 0 };
  return {
    ...example,
    answers: [
      { match: "^Rubric:", answer: '{"pass": true, "reason": "it does"}' },
      ...(example.answers ?? []),
    ],
    models: ownRecordFrom(models.map((id) => [id, id === JUDGE ? judge : profile])),
  };
}

async function startProviders(claudeModels?: string[]) {
  const openai = await startSimulator({
    profiles: await exampleProfiles(),
    timeScale: 0,
    announce: false,
    requireApiKey: OPENAI_KEY,
  });
  const anthropic = await startSimulator({
    profiles: await anthropicProfiles(claudeModels),
    timeScale: 0,
    announce: false,
    requireApiKey: ANTHROPIC_KEY,
  });
  closers.push(
    () => openai.close(),
    () => anthropic.close(),
  );
  return { openai, anthropic };
}

/** A loopback server that counts every request: an endpoint named in repo files must see none. */
async function startTrap(): Promise<{ url: string; hits: () => number }> {
  let hits = 0;
  const server: Server = createServer((_req, res) => {
    hits++;
    res.writeHead(500).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, hits: () => hits };
}

const PROVIDER_RULES = `  providers:
    - { models: "claude-*", provider: anthropic }
`;

function policy(extraRule = ""): string {
  const withRules = EXAMPLE_POLICY.replace(
    "  max_cases: 200\n",
    `  max_cases: 200\n${PROVIDER_RULES}${extraRule}`,
  ).replace(
    "  gpt-5.5: { input: 5, cached_input: 0.5, output: 30 }\n",
    // A flat, distinctive price: a head case's cost is its tokens × 100 / 1M.
    `  gpt-5.5: { input: 5, cached_input: 0.5, output: 30 }\n  ${CLAUDE}: { input: 100, cached_input: 100, output: 100 }\n`,
  );
  expect(withRules).toContain(PROVIDER_RULES);
  expect(withRules).toContain(`${CLAUDE}: { input: 100`);
  return withRules;
}

/** A real git repo: the example app on `main`, and a PR branch that moves general_qna to `headModel`. */
function makeRepo(
  options: {
    policy?: string;
    headModel?: string;
    headLlmExtra?: Record<string, unknown>;
    files?: Record<string, string>;
  } = {},
) {
  const dir = tempDir();
  git(dir, "init", "--quiet", "--initial-branch=main");
  const files = { ...readTree(join(ROOT, "examples/acme-support/base")), ...options.files };
  files[".github/modelgate.yml"] = options.policy ?? policy();
  commitFiles(dir, files, "base");
  git(dir, "checkout", "--quiet", "-b", "move-qna");
  const llm = JSON.parse(files["config/llm.json"] ?? "{}") as {
    llm: { routes: Record<string, string> } & Record<string, unknown>;
  };
  llm.llm.routes.general_qna = options.headModel ?? CLAUDE;
  Object.assign(llm.llm, options.headLlmExtra ?? {});
  commitFiles(dir, { "config/llm.json": `${JSON.stringify(llm, null, 2)}\n` }, "move general_qna");
  return dir;
}

const YAML_MAP = (url: string) => `anthropic:
  base_url: ${url}
  api_key_env: ANTHROPIC_API_KEY
`;

async function evalPr(repo: string, env: NodeJS.ProcessEnv, args: string[] = []) {
  const out = join(tempDir(), "result.json");
  const md = join(tempDir(), "comment.md");
  let stderr = "";
  const code = await runCli(
    ["eval", "--repo", repo, "--base", "main", "--head", "move-qna", "--out", out, "--markdown", md, ...args],
    {
      stdout: () => {},
      stderr: (text) => {
        stderr += text;
      },
      isTTY: false,
      env: { XDG_CACHE_HOME: tempDir(), MODELGATE_INTERNAL_RETRY_FLOOR_MS: "5", ...env },
    },
  );
  return {
    code,
    stderr,
    result: existsSync(out) ? (JSON.parse(readFileSync(out, "utf8")) as EvalResult) : undefined,
    markdown: existsSync(md) ? readFileSync(md, "utf8") : "",
  };
}

function keys(openaiUrl: string): NodeJS.ProcessEnv {
  return { OPENAI_BASE_URL: openaiUrl, OPENAI_API_KEY: OPENAI_KEY, ANTHROPIC_API_KEY: ANTHROPIC_KEY };
}

describe("cross-provider eval (provider map + evals.providers)", () => {
  it("sends each side to its own provider with its own key, and shows the provider per side", async () => {
    const { openai, anthropic } = await startProviders();
    const repo = makeRepo();
    const run = await evalPr(repo, { ...keys(openai.url), MODELGATE_PROVIDERS: YAML_MAP(anthropic.url) });
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.code, run.stderr).toBe(expectedExit(run.result));
    const result = run.result as EvalResult;

    // Each instance saw only its own models, and never a request it refused for its key.
    expect(
      Object.keys(openai.stats.byModel).every((m) => m.startsWith("gpt-")),
      JSON.stringify(openai.stats),
    ).toBe(true);
    expect(Object.keys(anthropic.stats.byModel)).toEqual([CLAUDE]);
    expect(openai.stats.byStatus["401"]).toBeUndefined();
    expect(anthropic.stats.byStatus["401"]).toBeUndefined();
    expect(anthropic.stats.byModel[CLAUDE]).toBeGreaterThan(0);

    // Only the moved route is selected.
    expect(result.providers).toEqual({
      base: ["default"],
      head: ["anthropic"],
      routes: { general_qna: { base: "default", head: "anthropic" } },
    });
    expect(run.markdown).toContain("**Providers:** base `default` → head `anthropic`");
    expect(run.markdown).toContain("(default → anthropic)");

    // Both prices apply: a Claude answer costs its tokens at the Claude price, not gpt-5.4's.
    expect(result.warnings.filter((w) => w.code === "missing_price")).toEqual([]);
    const qna = result.cases.filter((c) => c.route === "general_qna" && c.head && c.base);
    expect(qna.length).toBeGreaterThan(0);
    for (const c of qna) {
      expect(c.head?.model).toBe(CLAUDE);
      expect(c.head?.cost).toBeCloseTo(((c.head?.tokens ?? 0) * 100) / 1e6, 9);
      expect(c.base?.model).toMatch(/^gpt-5\.4/);
      expect(c.base?.cost ?? 0).toBeLessThan(((c.base?.tokens ?? 0) * 100) / 1e6);
    }
  });

  it("in batch mode, each batch goes to the provider of its model, with that provider's key", async () => {
    const { openai, anthropic } = await startProviders();
    const repo = makeRepo();
    const env = {
      ...keys(openai.url),
      MODELGATE_PROVIDERS: YAML_MAP(anthropic.url),
      MODELGATE_INTERNAL_BATCH_POLL_MS: "5",
    };
    const run = await evalPr(repo, env, ["--batch"]);
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.code, run.stderr).toBe(expectedExit(run.result));
    const result = run.result as EvalResult;
    expect(result.mode).toBe("batch");
    // Batch lines only: no interactive completion reached either provider, and no key was refused.
    expect(anthropic.stats.batchLines ?? 0).toBeGreaterThan(0);
    expect(openai.stats.batchLines ?? 0).toBeGreaterThan(0);
    expect(Object.keys(anthropic.stats.byModel)).toEqual([CLAUDE]);
    expect(Object.keys(openai.stats.byModel).every((m) => m.startsWith("gpt-"))).toBe(true);
    expect(openai.stats.byStatus["401"]).toBeUndefined();
    expect(anthropic.stats.byStatus["401"]).toBeUndefined();
    const batches = result.batch?.batches ?? [];
    expect(batches.length).toBeGreaterThanOrEqual(2);
    expect(batches.every((b) => b.status === "completed")).toBe(true);
    for (const c of result.cases.filter((x) => x.route === "general_qna" && x.head)) {
      expect(c.head?.model).toBe(CLAUDE);
      // The Claude price at the default batch discount.
      expect(c.head?.cost).toBeCloseTo(((c.head?.tokens ?? 0) * 100 * 0.5) / 1e6, 9);
    }
  });

  it("sends the judge to the provider its model maps to, on both sides", async () => {
    const { openai, anthropic } = await startProviders();
    const judged = JSON.stringify({
      id: "qna-judged",
      route: "general_qna",
      input: "How do I reset my password?",
      assert: [{ type: "judge", rubric: "It says how to reset the password." }],
    });
    const repo = makeRepo({
      policy: policy('    - { models: "judge-*", provider: anthropic }\n').replace(
        "  max_cases: 200\n",
        `  max_cases: 200\n  judge_model: ${JUDGE}\n  sequential: false\n`,
      ),
      files: { "evals/judged.jsonl": `${judged}\n` },
    });
    const run = await evalPr(repo, { ...keys(openai.url), MODELGATE_PROVIDERS: YAML_MAP(anthropic.url) });
    expect(run.code, run.stderr).toBe(expectedExit(run.result));
    expect(openai.stats.byModel[JUDGE]).toBeUndefined();
    expect(anthropic.stats.byModel[JUDGE]).toBeGreaterThanOrEqual(1);
    const c = run.result?.cases.find((x) => x.id === "qna-judged");
    expect(c?.base?.detail ?? "").not.toMatch(/judge/);
    expect(c?.base?.outcome).toMatch(/pass|fail/);
  });

  it("doctor looks a model up in the lists of the map's providers too", async () => {
    const { openai, anthropic } = await startProviders();
    const repo = makeRepo();
    const llm = JSON.parse(
      readFileSync(join(ROOT, "examples/acme-support/base/config/llm.json"), "utf8"),
    ) as {
      models: Record<string, string>;
    };
    llm.models.rollback = CLAUDE;
    commitFiles(repo, { "config/llm.json": JSON.stringify(llm) }, "roll back to claude");
    const doctor = async (env: NodeJS.ProcessEnv) => {
      let stdout = "";
      await runCli(["doctor", "--repo", repo, "--no-cache", "--format", "json"], {
        stdout: (text) => {
          stdout += text;
        },
        stderr: () => {},
        isTTY: false,
        env: { ...keys(openai.url), ...env },
      });
      const report = JSON.parse(stdout) as { checks: Array<{ id: string; status: string; message: string }> };
      return report.checks.find((check) => check.id === "rollback_model");
    };
    expect((await doctor({}))?.status).toBe("fail");
    expect((await doctor({ MODELGATE_PROVIDERS: YAML_MAP(anthropic.url) }))?.status).toBe("pass");

    // Each model in its own provider's list: judge-mini is listed only by `anthropic`, but no rule
    // sends it there, so `default` would be asked for it (and does not offer it).
    llm.models.rollback = JUDGE;
    commitFiles(
      repo,
      { "config/llm.json": JSON.stringify(llm) },
      "roll back to a model of the other provider",
    );
    const misplaced = await doctor({ MODELGATE_PROVIDERS: YAML_MAP(anthropic.url) });
    expect(misplaced?.status).toBe("fail");
    expect(misplaced?.message).toContain(`does not offer the rollback model ${JUDGE}`);
  });

  it("doctor reads the map from --providers too", async () => {
    const { openai, anthropic } = await startProviders();
    const repo = makeRepo();
    const llm = JSON.parse(
      readFileSync(join(ROOT, "examples/acme-support/base/config/llm.json"), "utf8"),
    ) as { models: Record<string, string> };
    llm.models.rollback = CLAUDE;
    commitFiles(repo, { "config/llm.json": JSON.stringify(llm) }, "roll back to claude");
    let stdout = "";
    const json = JSON.stringify({ anthropic: { base_url: anthropic.url, api_key_env: "ANTHROPIC_API_KEY" } });
    await runCli(["doctor", "--repo", repo, "--no-cache", "--format", "json", "--providers", json], {
      stdout: (text) => {
        stdout += text;
      },
      stderr: () => {},
      isTTY: false,
      env: keys(openai.url),
    });
    const report = JSON.parse(stdout) as { checks: Array<{ id: string; status: string }> };
    expect(report.checks.find((check) => check.id === "rollback_model")?.status).toBe("pass");
  });

  it("reads the map as inline JSON from --providers (over MODELGATE_PROVIDERS)", async () => {
    const { openai, anthropic } = await startProviders();
    const repo = makeRepo();
    const json = JSON.stringify({ anthropic: { base_url: anthropic.url, api_key_env: "ANTHROPIC_API_KEY" } });
    const run = await evalPr(repo, { ...keys(openai.url), MODELGATE_PROVIDERS: "not: [a, map" }, [
      "--providers",
      json,
    ]);
    expect(run.code, run.stderr).toBe(expectedExit(run.result));
    expect(run.result?.providers?.routes.general_qna).toEqual({ base: "default", head: "anthropic" });
    expect(anthropic.stats.byModel[CLAUDE]).toBeGreaterThan(0);
  });

  it("reads the map from a YAML file given to --providers", async () => {
    const { openai, anthropic } = await startProviders();
    const file = join(tempDir(), "providers.yml");
    writeFileSync(file, YAML_MAP(anthropic.url));
    const run = await evalPr(makeRepo(), keys(openai.url), ["--providers", file]);
    expect(run.code, run.stderr).toBe(expectedExit(run.result));
    expect(run.result?.providers?.head).toContain("anthropic");
  });

  it("keeps attempts of one provider from answering for another (the cache is per provider)", async () => {
    const first = await startProviders();
    const cache = tempDir();
    const repo = makeRepo();
    const env = { ...keys(first.openai.url), XDG_CACHE_HOME: cache };
    const run1 = await evalPr(repo, { ...env, MODELGATE_PROVIDERS: YAML_MAP(first.anthropic.url) });
    expect(run1.code, run1.stderr).toBe(expectedExit(run1.result));
    const claudeCalls = first.anthropic.stats.byModel[CLAUDE] ?? 0;
    // The same run again: every attempt comes from the cache, nothing is sent.
    const run2 = await evalPr(repo, { ...env, MODELGATE_PROVIDERS: YAML_MAP(first.anthropic.url) });
    expect(run2.result?.head.cache_hits).toBeGreaterThan(0);
    expect(first.anthropic.stats.byModel[CLAUDE]).toBe(claudeCalls);
    // Another endpoint as `anthropic`: its Claude attempts are its own, never the first one's.
    const other = await startProviders();
    const run3 = await evalPr(repo, { ...env, MODELGATE_PROVIDERS: YAML_MAP(other.anthropic.url) });
    expect(run3.code, run3.stderr).toBe(expectedExit(run3.result));
    expect(other.anthropic.stats.byModel[CLAUDE]).toBeGreaterThan(0);
  });

  it("checks each model against its own provider's list and names the provider", async () => {
    const { openai, anthropic } = await startProviders(["claude-opus-4-6"]);
    const run = await evalPr(makeRepo(), {
      ...keys(openai.url),
      MODELGATE_PROVIDERS: YAML_MAP(anthropic.url),
    });
    expect(run.code, run.stderr).toBe(1);
    expect(run.result?.verdict).toBe("fail");
    expect(run.result?.warnings).toContainEqual({
      code: "unknown_model",
      route: "general_qna",
      model: CLAUDE,
      side: "head",
      provider: "anthropic",
    });
    expect(run.markdown).toContain("provider `anthropic` does not list it");
    // Nothing was spent on either side.
    expect(anthropic.stats.byModel).toEqual({});
    expect(openai.stats.byModel).toEqual({});
  });

  it("names the provider whose pre-flight fails", async () => {
    const { openai } = await startProviders();
    const trap = await startTrap();
    const run = await evalPr(makeRepo(), { ...keys(openai.url), MODELGATE_PROVIDERS: YAML_MAP(trap.url) });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(
      /provider anthropic \(http:\/\/127\.0\.0\.1:\d+\/v1\): cannot list the provider's models \(HTTP 500\)/,
    );
    expect(openai.stats.byModel).toEqual({});
  });

  it("refuses a provider whose key variable is unset, naming the variable (exit 2)", async () => {
    const { openai, anthropic } = await startProviders();
    const env: NodeJS.ProcessEnv = { ...keys(openai.url), MODELGATE_PROVIDERS: YAML_MAP(anthropic.url) };
    delete env.ANTHROPIC_API_KEY;
    const run = await evalPr(makeRepo(), env);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain("ANTHROPIC_API_KEY is not set (MODELGATE_PROVIDERS.anthropic.api_key_env)");
    expect(run.stderr).not.toContain(OPENAI_KEY);
    expect(anthropic.stats.byModel).toEqual({});
  });

  it("fails closed when the policy names a provider the map lacks (exit 2)", async () => {
    const { openai } = await startProviders();
    const run = await evalPr(makeRepo(), keys(openai.url));
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain(
      "policy evals.providers[0].provider: 'anthropic' is not in the provider map (none is set); define it in the workflow's providers input or MODELGATE_PROVIDERS",
    );
    expect(openai.stats.requests).toBe(0);
  });

  it("rejects a malformed map naming the variable and key (exit 2)", async () => {
    const { openai } = await startProviders();
    const run = await evalPr(makeRepo(), {
      ...keys(openai.url),
      MODELGATE_PROVIDERS: "anthropic: { base_url: ftp://example.com, api_key_env: ANTHROPIC_API_KEY }",
    });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain("MODELGATE_PROVIDERS.anthropic.base_url: expected an http(s) URL");
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it("ignores and warns about endpoints in repo files (policy provider entry, LLM config)", async () => {
    const { openai, anthropic } = await startProviders();
    const trap = await startTrap();
    const repo = makeRepo({
      policy: policy(`    - { models: "gpt-5.5*", provider: default, url: "${trap.url}" }\n`),
      headLlmExtra: { base_url: trap.url },
    });
    const run = await evalPr(repo, { ...keys(openai.url), MODELGATE_PROVIDERS: YAML_MAP(anthropic.url) });
    expect(run.code, run.stderr).toBe(expectedExit(run.result));
    expect(trap.hits()).toBe(0);
    expect(run.result?.warnings).toContainEqual({
      code: "endpoint_in_repo",
      file: ".github/modelgate.yml",
      key: "evals.providers[1].url",
    });
    expect(run.result?.warnings).toContainEqual({
      code: "endpoint_in_repo",
      file: "config/llm.json",
      key: "llm.base_url",
    });
    expect(run.markdown).toContain("sets `evals.providers[1].url`");
    expect(anthropic.stats.byModel[CLAUDE]).toBeGreaterThan(0);
  });
});
