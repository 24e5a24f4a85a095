import { afterEach, describe, expect, it } from "vitest";
import { makeExampleRepo } from "../examples/make-example-repo.ts";
import { defaultConfig } from "../src/core/config/load.ts";
import { parseLlmDocument, resolveLlmConfig } from "../src/core/llm-config.ts";
import { rollbackEdit } from "../src/core/rollout/llm-edit.ts";
import type { Simulator } from "../src/simulator/index.ts";
import { type EvalInProcess, EXAMPLE_POLICY, evalInProcess, expectedExit } from "./support/cli.ts";
import { commitFiles, git, tempDir } from "./support/git.ts";
import { startExampleSimulator } from "./support/simulator.ts";

/**
 * Issue 11, item 9: `modelgate eval` reads the LLM config in every format classification reads,
 * end to end (the CLI in-process, real git repos, the `openai` SDK against the simulator).
 */

const simulators: Simulator[] = [];
afterEach(async () => {
  await Promise.all(simulators.splice(0).map((s) => s.close()));
});

type EvalRun = EvalInProcess;

async function evalCli(repo: string, args: string[]): Promise<EvalRun> {
  const sim = await startExampleSimulator(undefined, 0);
  simulators.push(sim);
  return evalInProcess(repo, args, sim.url);
}

/**
 * The example repo with its LLM config replaced by `file` (and the policy pointed at it), and a
 * branch `pr` that moves the agentic_coding route from gpt-5.4 to gpt-5.5.
 */
function repoWithLlmConfig(shape: {
  file: string;
  base: string;
  head: string;
  policy?: (policy: string) => string;
}): string {
  const dir = makeExampleRepo(tempDir()).dir;
  const policy = EXAMPLE_POLICY.replace("config: config/llm.json", `config: ${shape.file}`);
  commitFiles(
    dir,
    {
      "config/llm.json": null,
      [shape.file]: shape.base,
      ".github/modelgate.yml": shape.policy ? shape.policy(policy) : policy,
    },
    `LLM config as ${shape.file}`,
  );
  git(dir, "checkout", "--quiet", "-b", "pr");
  commitFiles(dir, { [shape.file]: shape.head }, "move agentic_coding to gpt-5.5");
  return dir;
}

function expectCodingMigrationEvaluated(run: EvalRun): void {
  expect(run.stderr).not.toMatch(/internal error|not valid JSON|cannot parse/);
  // The example's small suite may leave a model change inconclusive, which blocks (exit 1).
  expect(run.code).toBe(expectedExit(run.result));
  expect(run.result.selection.reasons).toEqual([
    { route: "agentic_coding", reason: "model changed (gpt-5.4 → gpt-5.5)" },
  ]);
  expect(run.result.cases.length).toBeGreaterThan(0);
  expect(run.result.cases.every((c) => c.base?.model.startsWith("gpt-5.4"))).toBe(true);
  expect(run.result.cases.every((c) => c.head?.model.startsWith("gpt-5.5"))).toBe(true);
}

const yamlConfig = (coding: string) => `# the app's LLM settings
llm:
  default_model: gpt-5.4
  routes:
    agentic_coding: ${coding}
    general_qna: gpt-5.4
  max_output_tokens: 4096
  timeout_ms: 120000
  retry_limit: 2
models:
  default: gpt-5.4
  candidate: gpt-5.5
  rollback: gpt-5.4
rollout:
  candidate_percent: 0
`;

const envConfig = (coding: string) => `# the app's LLM settings
OPENAI_MODEL=gpt-5.4
OPENAI_MODEL_AGENTIC_CODING=${coding}
OPENAI_MODEL_GENERAL_QNA=gpt-5.4
LLM_MAX_OUTPUT_TOKENS=4096
LLM_TIMEOUT_MS=120000
LLM_RETRY_LIMIT=2
`;

describe("modelgate eval reads the LLM config in every format", () => {
  it("JSON: evaluates a route's model change", async () => {
    const json = (coding: string) =>
      `${JSON.stringify({ llm: { default_model: "gpt-5.4", routes: { agentic_coding: coding, general_qna: "gpt-5.4" } } }, null, 2)}\n`;
    const repo = repoWithLlmConfig({ file: "config/llm.json", base: json("gpt-5.4"), head: json("gpt-5.5") });
    expectCodingMigrationEvaluated(await evalCli(repo, ["--base", "main", "--head", "pr"]));
  });

  it("YAML: evaluates a route's model change (was: 'not valid JSON')", async () => {
    const repo = repoWithLlmConfig({
      file: "config/llm.yaml",
      base: yamlConfig("gpt-5.4"),
      head: yamlConfig("gpt-5.5"),
    });
    expectCodingMigrationEvaluated(await evalCli(repo, ["--base", "main", "--head", "pr"]));
  });

  it(".env: evaluates a route's model change, route names from the variable prefix", async () => {
    const repo = repoWithLlmConfig({
      file: "config/llm.env",
      base: envConfig("gpt-5.4"),
      head: envConfig("gpt-5.5"),
      policy: (policy) =>
        policy
          .replace("default_model_key: llm.default_model", "default_model_key: OPENAI_MODEL")
          .replace("routes_key: llm.routes", "routes_key: OPENAI_MODEL_")
          .replace("max_output_tokens: llm.max_output_tokens", "max_output_tokens: LLM_MAX_OUTPUT_TOKENS")
          .replace("timeout_ms: llm.timeout_ms", "timeout_ms: LLM_TIMEOUT_MS")
          .replace("retry_limit: llm.retry_limit", "retry_limit: LLM_RETRY_LIMIT"),
    });
    const run = await evalCli(repo, ["--base", "main", "--head", "pr"]);
    expectCodingMigrationEvaluated(run);
  });

  it("an LLM config that does not parse names the file and the side, exit 2", async () => {
    const repo = repoWithLlmConfig({
      file: "config/llm.yaml",
      base: yamlConfig("gpt-5.4"),
      head: `${yamlConfig("gpt-5.5")}llm: [unclosed\n`,
    });
    const run = await evalCli(repo, ["--base", "main", "--head", "pr"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/config\/llm\.yaml \(head[^)]*\): cannot parse the LLM config/);
    expect(run.stderr).not.toMatch(/internal error|not valid JSON/);
  });

  it("one reader: the routes eval resolves are the routes the rollback edit rewrites (env file)", () => {
    const base = defaultConfig();
    const config = {
      ...base,
      llm: {
        ...base.llm,
        config: "config/llm.env",
        routes_key: "OPENAI_MODEL_",
        default_model_key: "OPENAI_MODEL",
      },
    };
    const text = [
      "OPENAI_MODEL=gpt-5.4",
      "OPENAI_MODEL_AGENTIC_CODING=gpt-5.5-2026-04-23",
      "OPENAI_MODEL_GENERAL_QNA=gpt-5.4",
      "MODEL_CANDIDATE=gpt-5.5",
      "MODEL_ROLLBACK=gpt-5.4",
      "ROLLOUT_PERCENT=30",
      "",
    ].join("\n");
    const doc = parseLlmDocument(text, "config/llm.env", "config/llm.env (head)");
    expect(Object.keys(resolveLlmConfig(doc, config).routes).sort()).toEqual([
      "agentic_coding",
      "general_qna",
    ]);
    const edit = rollbackEdit(doc, {
      key: "ROLLOUT_PERCENT",
      candidate_key: "MODEL_CANDIDATE",
      rollback_key: "MODEL_ROLLBACK",
      routes_key: "OPENAI_MODEL_",
      default_model_key: "OPENAI_MODEL",
    });
    // The dated snapshot of the candidate is on the candidate (one sameModel, one argument order).
    expect(edit.edits.map((e) => e.key)).toEqual(["ROLLOUT_PERCENT", "OPENAI_MODEL_AGENTIC_CODING"]);
    const after = resolveLlmConfig(parseLlmDocument(edit.text, "config/llm.env"), config);
    expect(after.routes.agentic_coding?.model).toBe("gpt-5.4");
  });

  it("an LLM config path of no known format is refused by name, not read as JSON", () => {
    expect(() => parseLlmDocument("model = 'gpt-5.4'", "config/llm.conf")).toThrow(
      /config\/llm\.conf: modelgate cannot read this file as an LLM config/,
    );
  });

  it("TOML: evaluates a route's model change ([llm.routes] table)", async () => {
    const toml = (coding: string) => `# the app's LLM settings
[llm]
default_model = "gpt-5.4"
max_output_tokens = 4096
timeout_ms = 120000
retry_limit = 2

[llm.routes]
agentic_coding = "${coding}"
general_qna = "gpt-5.4"

[rollout]
candidate_percent = 0
`;
    const repo = repoWithLlmConfig({ file: "config/llm.toml", base: toml("gpt-5.4"), head: toml("gpt-5.5") });
    expectCodingMigrationEvaluated(await evalCli(repo, ["--base", "main", "--head", "pr"]));
  });

  it("JSONC: evaluates a route's model change (// comments, trailing commas, a BOM)", async () => {
    const jsonc = (coding: string) => `\uFEFF{
  // the app's LLM settings
  "llm": {
    "default_model": "gpt-5.4",
    "routes": { "agentic_coding": "${coding}", "general_qna": "gpt-5.4", },
  },
}
`;
    const repo = repoWithLlmConfig({
      file: "config/llm.json",
      base: jsonc("gpt-5.4"),
      head: jsonc("gpt-5.5"),
    });
    expectCodingMigrationEvaluated(await evalCli(repo, ["--base", "main", "--head", "pr"]));
  });
});
