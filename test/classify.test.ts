import { describe, expect, it } from "vitest";
import { type ChangedPath, classifyChange, compilePolicy } from "../src/core/classify/classify.ts";
import { defaultConfig, parseConfig } from "../src/core/config/load.ts";

const LLM_BASE = {
  llm: {
    default_model: "gpt-5.4",
    routes: { agentic_coding: "gpt-5.4", general_qna: "gpt-5.4" },
    max_output_tokens: 4096,
    timeout_ms: 120000,
    retry_limit: 2,
  },
  models: { default: "gpt-5.4", candidate: "gpt-5.5", rollback: "gpt-5.4" },
  budget_controls: { daily_token_cap: 3000000, route_caps: { agentic_coding: 1200000 } },
};

function edit(mutate: (doc: typeof LLM_BASE) => void): string {
  const doc = structuredClone(LLM_BASE);
  mutate(doc);
  return JSON.stringify(doc, null, 2);
}

interface Case {
  name: string;
  changes: ChangedPath[];
  base?: Record<string, string>;
  head?: Record<string, string>;
  expect: {
    categories: string[];
    mixed: boolean;
    files?: Record<string, string[]>;
    keys?: Record<string, string>;
    warnings?: number;
  };
}

const llmJson = JSON.stringify(LLM_BASE, null, 2);

const CASES: Case[] = [
  {
    name: "route model edit",
    changes: [{ path: "config/llm.json", status: "modified" }],
    base: { "config/llm.json": llmJson },
    head: { "config/llm.json": edit((d) => (d.llm.routes.agentic_coding = "gpt-5.5")) },
    expect: {
      categories: ["model"],
      mixed: false,
      keys: { "llm.routes.agentic_coding": "model" },
    },
  },
  {
    name: "route + timeout in one file is model + infra",
    changes: [{ path: "config/llm.json", status: "modified" }],
    base: { "config/llm.json": llmJson },
    head: {
      "config/llm.json": edit((d) => {
        d.llm.routes.agentic_coding = "gpt-5.5";
        d.llm.timeout_ms = 300000;
      }),
    },
    expect: {
      categories: ["infra", "model"],
      mixed: true,
      files: { "config/llm.json": ["infra", "model"] },
      keys: { "llm.routes.agentic_coding": "model", "llm.timeout_ms": "infra" },
    },
  },
  {
    name: "prompt rename counts old and new path",
    changes: [{ path: "docs/qna-old.md", status: "renamed", previous_path: "prompts/qna.md" }],
    expect: { categories: ["prompt"], mixed: false, files: { "docs/qna-old.md": ["prompt"] } },
  },
  {
    name: "prompt + Dockerfile is mixed",
    changes: [
      { path: "prompts/qna.md", status: "modified" },
      { path: "Dockerfile", status: "modified" },
    ],
    expect: {
      categories: ["infra", "prompt"],
      mixed: true,
      files: { Dockerfile: ["infra"], "prompts/qna.md": ["prompt"] },
    },
  },
  {
    name: "env model variable",
    changes: [{ path: ".env.production", status: "modified" }],
    base: { ".env.production": "OPENAI_MODEL_DEFAULT=gpt-5.4\nLOG_LEVEL=info\n" },
    head: { ".env.production": "OPENAI_MODEL_DEFAULT=gpt-5.5\nLOG_LEVEL=debug\n" },
    expect: {
      categories: ["model"],
      mixed: false,
      keys: { OPENAI_MODEL_DEFAULT: "model", LOG_LEVEL: "other" },
    },
  },
  {
    name: "YAML config with a route turned into an object",
    changes: [{ path: "config/llm.yaml", status: "modified" }],
    base: { "config/llm.yaml": "llm:\n  routes:\n    general_qna: gpt-5.4\n  retry_limit: 2\n" },
    head: {
      "config/llm.yaml":
        "llm:\n  routes:\n    general_qna: gpt-5.4\n    research:\n      model: gpt-5.5\n      timeout_ms: 600000\n  retry_limit: 2\n",
    },
    expect: {
      categories: ["infra", "model"],
      mixed: true,
      keys: { "llm.routes.research.model": "model", "llm.routes.research.timeout_ms": "infra" },
    },
  },
  {
    name: "budget_controls edit is infra (** pattern)",
    changes: [{ path: "config/llm.json", status: "modified" }],
    base: { "config/llm.json": llmJson },
    head: { "config/llm.json": edit((d) => (d.budget_controls.route_caps.agentic_coding = 900000)) },
    expect: {
      categories: ["infra"],
      mixed: false,
      keys: { "budget_controls.route_caps.agentic_coding": "infra" },
    },
  },
  {
    name: "models.* alias edit is model",
    changes: [{ path: "config/llm.json", status: "modified" }],
    base: { "config/llm.json": llmJson },
    head: { "config/llm.json": edit((d) => (d.models.rollback = "gpt-5.3")) },
    expect: { categories: ["model"], mixed: false, keys: { "models.rollback": "model" } },
  },
  {
    name: "only other files",
    changes: [
      { path: "README.md", status: "modified" },
      { path: "src/app.ts", status: "added" },
      { path: "package.json", status: "modified" },
    ],
    base: { "package.json": '{"name":"a","version":"1.0.0"}' },
    head: { "package.json": '{"name":"a","version":"1.1.0"}' },
    expect: {
      categories: [],
      mixed: false,
      files: { "README.md": ["other"], "src/app.ts": ["other"], "package.json": ["other"] },
      keys: { version: "other" },
    },
  },
  {
    name: "deleted config: every key it had changed",
    changes: [{ path: "config/llm.json", status: "removed" }],
    base: { "config/llm.json": llmJson },
    expect: {
      categories: ["infra", "model"],
      mixed: true,
      keys: { "llm.default_model": "model", "llm.timeout_ms": "infra", "models.candidate": "model" },
    },
  },
  {
    name: "added config file",
    changes: [{ path: "config/extra.yaml", status: "added" }],
    head: { "config/extra.yaml": "models:\n  shadow: gpt-5.5\n" },
    expect: { categories: ["model"], mixed: false, keys: { "models.shadow": "model" } },
  },
  {
    name: "binary file classified by path",
    changes: [{ path: "prompts/diagram.png", status: "added" }],
    expect: { categories: ["prompt"], mixed: false, files: { "prompts/diagram.png": ["prompt"] } },
  },
  {
    // Fails closed (issue 9, item 4): its keys are unknown, so every category with key rules.
    name: "unparsable head: every category with key rules, with a warning, never a crash",
    changes: [{ path: "config/llm.json", status: "modified" }],
    base: { "config/llm.json": llmJson },
    head: { "config/llm.json": '{"llm": {"default_model": "gpt-5.5",' },
    expect: {
      categories: ["infra", "model"],
      mixed: true,
      files: { "config/llm.json": ["infra", "model"] },
      warnings: 1,
    },
  },
  {
    name: "infra directory glob",
    changes: [{ path: "deploy/k8s/values.txt", status: "modified" }],
    expect: { categories: ["infra"], mixed: false },
  },
];

describe("classifyChange", () => {
  const policy = compilePolicy(defaultConfig());
  for (const testCase of CASES) {
    it(testCase.name, () => {
      const result = classifyChange(policy, {
        changes: testCase.changes,
        base: (path) => testCase.base?.[path] ?? null,
        head: (path) => testCase.head?.[path] ?? null,
      });
      expect(result.categories).toEqual(testCase.expect.categories);
      expect(result.mixed).toBe(testCase.expect.mixed);
      for (const [path, categories] of Object.entries(testCase.expect.files ?? {})) {
        expect(result.files.find((f) => f.path === path)?.categories, path).toEqual(categories);
      }
      const keys = new Map(result.files.flatMap((f) => f.keys.map((k) => [k.path, k.category] as const)));
      for (const [key, category] of Object.entries(testCase.expect.keys ?? {}))
        expect(keys.get(key), key).toBe(category);
      expect(result.warnings.length).toBe(testCase.expect.warnings ?? 0);
    });
  }

  it("rename keeps the previous path in the output", () => {
    const result = classifyChange(policy, {
      changes: [{ path: "prompts/support.md", status: "renamed", previous_path: "prompts/qna.md" }],
      base: () => null,
      head: () => null,
    });
    expect(result.files[0]).toMatchObject({
      path: "prompts/support.md",
      previous_path: "prompts/qna.md",
      status: "renamed",
    });
  });

  it("the §4 config as written: a change inside a route object counts as that route (nearest ancestor)", () => {
    const config = parseConfig(
      'changes:\n  model: { keys: ["llm.default_model", "llm.routes.*", "models.**"] }\n  infra: { keys: ["llm.timeout_ms"] }\n',
    );
    const result = classifyChange(compilePolicy(config), {
      changes: [{ path: "config/llm.json", status: "modified" }],
      base: () => '{"llm":{"routes":{"a":{"model":"gpt-5.4"}}}}',
      head: () => '{"llm":{"routes":{"a":{"model":"gpt-5.5"}}}}',
    });
    expect(result.files[0]?.keys).toEqual([{ path: "llm.routes.a.model", category: "model" }]);
  });

  it("3,000 changed files, truncated list fails closed with a warning", () => {
    const changes: ChangedPath[] = Array.from({ length: 3000 }, (_, i) => ({
      path: i % 2 ? `src/file-${i}.ts` : `prompts/p-${i}.md`,
      status: "modified",
    }));
    const result = classifyChange(policy, { changes, base: () => null, head: () => null, truncated: true });
    expect(result.files).toHaveLength(3000);
    expect(result.categories).toEqual(["prompt"]);
    expect(result.truncated).toBe(true);
    expect(result.warnings.map((w) => w.code)).toContain("truncated_file_list");
  });
});
