import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Classification } from "../src/core/classify/classify.ts";
import { ROOT, runCliCaptured } from "./support/cli.ts";
import { commitFiles, git, readTree, tempDir } from "./support/git.ts";

/**
 * Issue 11 evidence: repositories in the shapes real LLM apps keep their settings in (own content,
 * under test/fixtures/layouts/<shape>/repo, with the policy a team would write in policy.yml).
 * Each shape gets commits that change only a model ID, only a timeout, only prompt text, a
 * lint-only reformat, and a mix, classified through the CLI on real git repositories.
 */

const LAYOUTS = join(ROOT, "test/fixtures/layouts");

/** A text edit that must apply: a fixture drifting from the test fails loudly, not silently. */
type Edit = (text: string) => string;
const replace =
  (...pairs: Array<[string | RegExp, string]>): Edit =>
  (text) =>
    pairs.reduce((out, [from, to]) => {
      const next = out.replace(from, to);
      if (next === out) throw new Error(`fixture edit did not apply: ${String(from)}`);
      return next;
    }, text);

interface Scenario {
  name: string;
  edits: Record<string, Edit>;
  categories: string[];
  /** Categories of the changed keys listed, sorted (paths are left to the identity work of branch rr-rules). */
  keyCategories: string[];
}

async function classifyShape(shape: string, scenario: Scenario, policy: boolean) {
  const repo = readTree(join(LAYOUTS, shape, "repo"));
  const dir = tempDir();
  git(dir, "init", "--quiet", "-b", "main");
  const files = policy
    ? { ...repo, ".github/modelgate.yml": readFileSync(join(LAYOUTS, shape, "policy.yml"), "utf8") }
    : repo;
  const base = commitFiles(dir, files, "base");
  const changed: Record<string, string> = {};
  for (const [path, edit] of Object.entries(scenario.edits)) {
    const text = repo[path];
    if (text === undefined) throw new Error(`no fixture file ${path}`);
    changed[path] = edit(text);
  }
  const head = commitFiles(dir, changed, scenario.name);
  const run = await runCliCaptured(["classify", "--repo", dir, "--base", base, "--head", head]);
  return { run, result: JSON.parse(run.stdout || "{}") as Classification };
}

const SHAPES: Record<string, Scenario[]> = {
  // A YAML list of model settings (one entry repeats `edit_format`) and JSONC metadata with a BOM.
  "aider-like": [
    {
      name: "only a model ID",
      edits: {
        "coder/resources/model-settings.yml": replace([
          "weak_model_name: openai/gpt-5-mini",
          "weak_model_name: openai/gpt-5-nano",
        ]),
      },
      categories: ["model"],
      keyCategories: ["model"],
    },
    {
      name: "only a timeout",
      edits: { "coder/resources/model-settings.yml": replace(["timeout: 300", "timeout: 450"]) },
      categories: ["infra"],
      keyCategories: ["infra"],
    },
    {
      name: "only prompt text",
      edits: {
        "coder/resources/model-settings.yml": replace([
          '"Think step by step before you edit. "',
          '"Plan the edit, then make it. "',
        ]),
      },
      categories: ["prompt"],
      keyCategories: ["prompt"],
    },
    {
      name: "the repeated key's last value (the one PyYAML reads)",
      edits: { "coder/resources/model-settings.yml": replace(["edit_format: whole", "edit_format: udiff"]) },
      categories: ["prompt"],
      keyCategories: ["prompt"],
    },
    {
      name: "the repeated key's first value (overridden, so nothing the app reads)",
      edits: {
        "coder/resources/model-settings.yml": replace([
          "edit_format: diff\n  weak_model_name: anthropic",
          "edit_format: udiff\n  weak_model_name: anthropic",
        ]),
      },
      categories: [],
      keyCategories: [],
    },
    {
      name: "a lint-only reformat",
      edits: {
        "coder/resources/model-settings.yml": replace(
          [/^# Per-model.*\n/, ""],
          [
            "  extra_params:\n    timeout: 600\n    reasoning_effort: medium",
            "  extra_params: {timeout: 600, reasoning_effort: medium}",
          ],
          ['"Think step by step before you edit. "', "'Think step by step before you edit. '"],
        ),
        "coder/resources/model-metadata.json": replace(
          [/ \/\/ list price/, ""],
          [/,\n {2}\},\n\}/, "\n  }\n}"],
        ),
      },
      categories: [],
      keyCategories: [],
    },
    {
      name: "a mix: a model ID and a price",
      edits: {
        "coder/resources/model-settings.yml": replace([
          "weak_model_name: gemini/gemini-2-5-flash",
          "weak_model_name: gemini/gemini-2-5-flash-lite",
        ]),
        "coder/resources/model-metadata.json": replace([
          '"input_cost_per_token": 0.00000125, //',
          '"input_cost_per_token": 0.0000015, //',
        ]),
      },
      categories: ["infra", "model"],
      keyCategories: ["infra", "model"],
    },
  ],
  // TOML settings with model, fallbacks, timeout and prompt text together, plus prompt TOMLs.
  "pr-agent-like": [
    {
      name: "only a model ID",
      edits: { "reviewbot/settings/configuration.toml": replace(['model = "gpt-5"', 'model = "gpt-5-pro"']) },
      categories: ["model"],
      keyCategories: ["model"],
    },
    {
      name: "only a timeout",
      edits: { "reviewbot/settings/configuration.toml": replace(["ai_timeout = 120", "ai_timeout = 300"]) },
      categories: ["infra"],
      keyCategories: ["infra"],
    },
    {
      name: "only prompt text",
      edits: {
        "reviewbot/settings/pr_reviewer_prompts.toml": replace([
          "Be specific and brief.",
          "Be specific, brief and kind.",
        ]),
      },
      categories: ["prompt"],
      keyCategories: ["other"],
    },
    {
      name: "a lint-only reformat",
      edits: {
        "reviewbot/settings/configuration.toml": replace(
          [/^# Review bot.*\n/, ""],
          ['fallback_models = ["o4-mini"]', "fallback_models = [\n  'o4-mini',\n]"],
          ["ai_timeout = 120\ntemperature = 0.2", "temperature = 0.20\nai_timeout=120"],
        ),
      },
      categories: [],
      keyCategories: [],
    },
    {
      name: "a mix: a fallback model and the reviewer's extra instructions",
      edits: {
        "reviewbot/settings/configuration.toml": replace(
          ['fallback_models = ["o4-mini"]', 'fallback_models = ["o4-mini", "gpt-5-mini"]'],
          ["Flag any change to authentication code.", "Flag any change to authentication or billing code."],
        ),
      },
      categories: ["model", "prompt"],
      keyCategories: ["model", "prompt"],
    },
  ],
  // YAML with anchors and merge keys; one anchor merged into 120 tools (over the old 100-alias cap).
  "swe-agent-like": [
    {
      name: "only a model ID",
      edits: { "config/default.yaml": replace(["    name: gpt-5\n", "    name: gpt-5-codex\n"]) },
      categories: ["model"],
      keyCategories: ["model"],
    },
    {
      name: "only a timeout (in the anchor the model merges)",
      edits: { "config/default.yaml": replace(["  timeout: 120\n", "  timeout: 90\n"]) },
      categories: ["infra"],
      keyCategories: ["infra", "other"],
    },
    {
      name: "only prompt text",
      edits: {
        "config/default.yaml": replace([
          "Make the smallest change that fixes the issue.",
          "Make the smallest change; run the tests.",
        ]),
      },
      categories: ["prompt"],
      keyCategories: ["prompt"],
    },
    {
      name: "a lint-only reformat",
      edits: {
        "config/default.yaml": replace(
          [/^# Agent configuration.*\n/, ""],
          ["per_instance_cost_limit: 3.0", "per_instance_cost_limit: 3.00"],
          ["    name: gpt-5\n", '    name: "gpt-5"\n'],
          ["    - {<<: *tool_defaults, name: tool_000}", "    - <<: *tool_defaults\n      name: tool_000"],
        ),
      },
      categories: [],
      keyCategories: [],
    },
    {
      name: "a mix: the tools' shared timeout and prompt text",
      edits: {
        "config/default.yaml": replace(
          ["  timeout: 30\n", "  timeout: 45\n"],
          ["Work in {{working_dir}}.", "Work only in {{working_dir}}."],
        ),
      },
      categories: ["infra", "prompt"],
      keyCategories: ["infra", "other", "prompt"],
    },
  ],
};

for (const [shape, scenarios] of Object.entries(SHAPES)) {
  describe(`${shape} under its policy`, () => {
    it.each(scenarios.map((scenario) => [scenario.name, scenario] as const))(
      "%s",
      async (_name, scenario) => {
        const { run, result } = await classifyShape(shape, scenario, true);
        expect(run.stderr).toBe("");
        expect(result.unreadable).toBeUndefined();
        expect(result.categories).toEqual(scenario.categories);
        expect(result.mixed).toBe(scenario.categories.length > 1);
        expect(run.code).toBe(scenario.categories.length > 1 ? 1 : 0);
        const keyCategories = new Set(result.files.flatMap((file) => file.keys.map((key) => key.category)));
        expect([...keyCategories].sort()).toEqual(scenario.keyCategories);
      },
      30_000,
    );
  });

  // Zero config: no key rule names these files, so the model change is found by its model-ID
  // literals (or a changed key whose value is a model ID); reformatting keeps the set of literals.
  describe(`${shape} with no policy`, () => {
    it.each(scenarios.map((scenario) => [scenario.name, scenario] as const))(
      "%s",
      async (_name, scenario) => {
        const { run, result } = await classifyShape(shape, scenario, false);
        expect(run.stderr).toBe("");
        expect(result.categories).toEqual(scenario.categories.includes("model") ? ["model"] : []);
      },
      30_000,
    );
  });
}

describe("the fixtures are in the formats they claim", () => {
  it("the aider-like metadata is JSON with comments and a UTF-8 BOM; the settings repeat a key", () => {
    const metadata = readFileSync(
      join(LAYOUTS, "aider-like/repo/coder/resources/model-metadata.json"),
      "utf8",
    );
    expect(metadata.startsWith("\uFEFF")).toBe(true);
    expect(metadata).toMatch(/\/\/ /);
    expect(() => JSON.parse(metadata.slice(1))).toThrow();
    const settings = readFileSync(
      join(LAYOUTS, "aider-like/repo/coder/resources/model-settings.yml"),
      "utf8",
    );
    expect(settings.match(/^ {2}edit_format:/gm)?.length).toBe(4);
  });

  it("the swe-agent-like config merges one anchor more than 100 times", () => {
    const config = readFileSync(join(LAYOUTS, "swe-agent-like/repo/config/default.yaml"), "utf8");
    expect(config.match(/\*tool_defaults/g)?.length).toBeGreaterThan(100);
  });
});
