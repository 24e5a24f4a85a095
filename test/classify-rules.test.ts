import { describe, expect, it } from "vitest";
import { type ChangedPath, classifyChange, compilePolicy } from "../src/core/classify/classify.ts";
import { classifySides, MAX_LITERAL_SCAN_FILES } from "../src/core/classify/classify-sides.ts";
import {
  compileModelIdMatcher,
  DEFAULT_MODEL_PATTERNS,
  diffModelLiterals,
} from "../src/core/classify/model-literals.ts";
import { defaultConfig, parseConfig } from "../src/core/config/load.ts";
import { UserError } from "../src/core/errors.ts";
import { getAtPath } from "../src/core/keys.ts";
import { runCliCaptured } from "./support/cli.ts";
import { commitFiles, git, tempDir } from "./support/git.ts";

/** Classifies one modified file under a policy text (empty: zero config). */
function classifyOne(
  policy: string,
  path: string,
  base: string,
  head: string,
  status: ChangedPath["status"] = "modified",
) {
  const config = policy === "" ? defaultConfig() : parseConfig(policy);
  return classifyChange(compilePolicy(config), {
    changes: [{ path, status }],
    base: () => base,
    head: () => head,
  });
}

const keysOf = (result: ReturnType<typeof classifyOne>) =>
  Object.fromEntries(result.files.flatMap((f) => f.keys.map((k) => [k.path, k.category])));

describe("precedence: the most specific key pattern wins, not category order", () => {
  const policy =
    'changes:\n  model: { keys: ["agent.model.**"] }\n  infra: { keys: ["agent.model.per_instance_cost_limit"] }\n';
  it("exact infra key agent.model.per_instance_cost_limit beats model pattern agent.model.**", () => {
    const result = classifyOne(
      policy,
      "config/agent.yaml",
      "agent:\n  model:\n    name: gpt-4o\n    per_instance_cost_limit: 3\n",
      "agent:\n  model:\n    name: gpt-4o\n    per_instance_cost_limit: 4\n",
    );
    expect(keysOf(result)).toEqual({ "agent.model.per_instance_cost_limit": "infra" });
    expect(result.categories).toEqual(["infra"]);
  });

  it("* beats ** and a longer literal prefix beats a shorter one", () => {
    const config =
      'changes:\n  model: { keys: ["a.**"] }\n  infra: { keys: ["a.b.*"] }\n  prompt: { keys: ["a.*.c"] }\n';
    const result = classifyOne(config, "x.json", '{"a":{"b":{"c":1}}}', '{"a":{"b":{"c":2}}}');
    expect(keysOf(result)).toEqual({ "a.b.c": "infra" });
  });

  it("a rule scoped to its file beats an unscoped one", () => {
    const config =
      'changes:\n  model: { keys: ["settings.model"] }\n  infra: { keys: [{ file: "config/llm.yaml", keys: ["settings.*"] }] }\n';
    const result = classifyOne(
      config,
      "config/llm.yaml",
      "settings:\n  model: a\n",
      "settings:\n  model: b\n",
    );
    expect(keysOf(result)).toEqual({ "settings.model": "infra" });
  });
});

describe("file-scoped key rules", () => {
  const policy = 'changes:\n  model: { keys: [{ file: "aider/models.yml", keys: ["*.edit_format"] }] }\n';
  it("apply in the named file", () => {
    const result = classifyOne(
      policy,
      "aider/models.yml",
      "- name: a\n  edit_format: diff\n",
      "- name: a\n  edit_format: whole\n",
    );
    expect(result.categories).toEqual(["model"]);
  });
  it("do not apply to other structured files (leaderboard data)", () => {
    const result = classifyOne(
      policy,
      "website/leaderboard.yml",
      "- name: a\n  edit_format: diff\n",
      "- name: a\n  edit_format: whole\n",
    );
    expect(result.categories).toEqual([]);
    expect(keysOf(result)).toEqual({ "[name=a].edit_format": "other" });
  });
  it("a scoped rule without keys is refused at load (exit 2)", () => {
    expect(() => parseConfig('changes:\n  model: { keys: [{ file: "a.yml", keys: [] }] }\n')).toThrow(
      UserError,
    );
  });
});

describe("keys holding dots", () => {
  it("a model ID as a map key stays one segment, quoted in reports and patterns", () => {
    const policy =
      "changes:\n  infra: { keys: ['pricing.\"gpt-4.1\".input'] }\n  model: { literals: { enabled: false } }\n";
    const result = classifyOne(
      policy,
      "config/prices.json",
      '{"pricing":{"gpt-4.1":{"input":2,"output":8}}}',
      '{"pricing":{"gpt-4.1":{"input":3,"output":9}}}',
    );
    expect(keysOf(result)).toEqual({
      'pricing."gpt-4.1".input': "infra",
      'pricing."gpt-4.1".output': "other",
    });
  });
  it("getAtPath reads a quoted segment", () => {
    expect(getAtPath({ pricing: { "gpt-4.1": { input: 2 } } }, 'pricing."gpt-4.1".input')).toBe(2);
  });
  it("an unclosed quote in a key pattern is refused at load with the key named", () => {
    expect(() => parseConfig("changes:\n  infra: { keys: ['pricing.\"gpt-4.1.input'] }\n")).toThrow(
      /changes\.infra\.keys\.0: not a supported key pattern \(unclosed quote/,
    );
  });
});

describe("lists addressed by identity", () => {
  const base = "- name: gpt-4o\n  edit_format: diff\n- name: claude-sonnet-4-5\n  edit_format: diff\n";
  it("reports [name=…] instead of the index, and inserting an item reports only that item", () => {
    const head = `- name: o3-mini\n  edit_format: whole\n${base}`.replace(
      "edit_format: diff\n- name: claude",
      "edit_format: udiff\n- name: claude",
    );
    const result = classifyOne("", "models.yml", base, head);
    expect(Object.keys(keysOf(result)).sort()).toEqual([
      "[name=gpt-4o].edit_format",
      "[name=o3-mini].edit_format",
      "[name=o3-mini].name",
    ]);
  });
  it("rules address items by identity, with globs in the value", () => {
    const policy = 'changes:\n  infra: { keys: ["[name=gpt-*].edit_format"] }\n';
    const result = classifyOne(policy, "models.yml", base, base.replace("diff", "whole"));
    expect(keysOf(result)).toEqual({ "[name=gpt-4o].edit_format": "infra" });
  });
  it("a k8s env list: containers[name=app].env[name=OPENAI_MODEL].value is a model change with zero config", () => {
    const manifest = (model: string) =>
      `apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          env:\n            - name: OPENAI_MODEL\n              value: ${model}\n`;
    const result = classifyOne("", "manifests/app.yaml", manifest("gpt-4o"), manifest("gpt-4.1"));
    expect(keysOf(result)).toEqual({
      "spec.template.spec.containers[name=app].env[name=OPENAI_MODEL].value": "model",
    });
  });
  it("items without an identity keep their index", () => {
    const result = classifyOne("", "x.json", '{"a":[{"v":1}]}', '{"a":[{"v":2}]}');
    expect(keysOf(result)).toEqual({ "a.0.v": "other" });
  });
});

describe("globs", () => {
  it('"!prompts/README.md" takes that file back instead of matching every file', () => {
    const policy = 'changes:\n  prompt: { files: ["prompts/**", "!prompts/README.md"] }\n';
    const config = parseConfig(policy);
    const compiled = compilePolicy(config);
    expect(compiled.fileCategories("prompts/qna.md")).toEqual(["prompt"]);
    expect(compiled.fileCategories("prompts/README.md")).toEqual([]);
    expect(compiled.fileCategories("src/app.ts")).toEqual([]);
  });
  it("a later glob re-includes what a negation took back", () => {
    const compiled = compilePolicy(
      parseConfig('changes:\n  prompt: { files: ["p/**", "!p/x/**", "p/x/keep.md"] }\n'),
    );
    expect(compiled.fileCategories("p/x/keep.md")).toEqual(["prompt"]);
    expect(compiled.fileCategories("p/x/drop.md")).toEqual([]);
  });
  it("an in-segment glob llm.*_model matches one key", () => {
    const policy = 'changes:\n  model: { keys: ["llm.*_model"] }\n';
    const result = classifyOne(
      policy,
      "c.json",
      '{"llm":{"weak_model":"a","editor":"b"}}',
      '{"llm":{"weak_model":"c","editor":"d"}}',
    );
    expect(keysOf(result)).toEqual({ "llm.weak_model": "model", "llm.editor": "other" });
  });
  it.each([
    ["a key glob other than *", "changes:\n  model: { keys: ['llm.{a,b}'] }\n", /only \* is supported/],
    [
      "** inside a segment",
      "changes:\n  model: { keys: ['llm.**_model'] }\n",
      /\*\* must be a whole segment/,
    ],
    ["!! in a file list", "changes:\n  prompt: { files: ['!!x'] }\n", /`!!` is not supported/],
    [
      "a backslash in a file glob",
      "changes:\n  prompt: { files: ['prompts\\\\x.md'] }\n",
      /Windows separator/,
    ],
  ])("unsupported: %s is refused at load", (_name, policy, message) => {
    expect(() => parseConfig(policy)).toThrow(UserError);
    expect(() => parseConfig(policy)).toThrow(message);
  });
});

describe("model-ID literals", () => {
  const ids = compileModelIdMatcher(DEFAULT_MODEL_PATTERNS);
  it.each([
    "gpt-4o",
    "gpt-4.1-mini",
    "gpt-3.5-turbo-0125",
    "gpt-oss-120b",
    "o1",
    "o3-mini",
    "o4-mini-2025-04-16",
    "chatgpt-4o-latest",
    "claude-3-5-sonnet-20241022",
    "anthropic/claude-sonnet-4-5",
    "bedrock/anthropic.claude-3-haiku-20240307-v1:0",
    "gemini-2.5-pro",
    "vertex_ai/gemini-1.5-flash",
    "deepseek-chat",
    "deepseek/deepseek-reasoner",
    "llama-3.1-70b",
    "meta-llama/Llama-3.3-70B-Instruct",
    "llama3:8b",
    "mistral-large-latest",
    "mixtral-8x7b",
    "codestral-latest",
    "command-r-plus",
    "qwen2.5-coder-32b",
    "Qwen/Qwen2.5-72B-Instruct",
    "grok-3",
    "openrouter/x-ai/grok-code-fast-1",
  ])("%s is a model ID", (id) => expect(ids.isModelId(id)).toBe(true));
  it.each([
    "gpt",
    "gpt-",
    "claude",
    "llama",
    "mistral",
    "o1 preview",
    "o",
    "hello",
    "gpt-4o is great",
    "gpt4all-sdk?",
    "v1",
    "qwen",
  ])("%s is not", (text) => expect(ids.isModelId(text)).toBe(false));

  it("a lint-only reformat that keeps the same literals is no change; a changed one is reported at its line", () => {
    const base = 'MODELS = {"fast": "gpt-4o-mini", "smart": "gpt-4o"}\n';
    const reformatted = 'MODELS = {\n    "fast": "gpt-4o-mini",\n    "smart": "gpt-4o",\n}\n';
    expect(diffModelLiterals(base, reformatted, ids)).toEqual([]);
    expect(diffModelLiterals(reformatted, reformatted.replace('"gpt-4o"', '"gpt-4.1"'), ids)).toEqual([
      { value: "gpt-4o", change: "removed", side: "base", line: 3 },
      { value: "gpt-4.1", change: "added", side: "head", line: 3 },
    ]);
  });

  it("prose is not read: o1 or gpt-4o outside quotes in a comment is no literal; an apostrophe does not hide one", () => {
    expect(diffModelLiterals("# try o1 or gpt-4o\n", "# try o3 or gpt-4.1\n", ids)).toEqual([]);
    expect(diffModelLiterals("# don't use 'gpt-4o'\n", "# don't use 'gpt-4.1'\n", ids)).toHaveLength(2);
  });

  it("policy patterns add a family (RE2) or replace the defaults", () => {
    const add = "changes:\n  model:\n    literals: { patterns: ['acme-llm-[0-9]+'] }\n";
    expect(classifyOne(add, "app.py", 'M = "acme-llm-1"\n', 'M = "acme-llm-2"\n').categories).toEqual([
      "model",
    ]);
    const replace =
      "changes:\n  model:\n    literals: { patterns: ['acme-llm-[0-9]+'], replace_defaults: true }\n";
    expect(classifyOne(replace, "app.py", 'M = "gpt-4o"\n', 'M = "gpt-4.1"\n').categories).toEqual([]);
  });

  it("a regex RE2 cannot run (lookaround) is refused at load with the key named", () => {
    expect(() => parseConfig("changes:\n  model:\n    literals: { patterns: ['gpt-(?!3)'] }\n")).toThrow(
      /changes\.model\.literals\.patterns\.0: not a supported regex/,
    );
  });

  it("docs, tests and lock files are not scanned by default", () => {
    expect(classifyOne("", "docs/models.md", '`"gpt-4o"`\n', '`"gpt-4.1"`\n').categories).toEqual([]);
    expect(classifyOne("", "tests/test_models.py", 'M = "gpt-4o"\n', 'M = "gpt-4.1"\n').categories).toEqual(
      [],
    );
  });

  it("a file over the size limit is not scanned, with a warning", () => {
    const big = `M = "gpt-4o"\n${"x".repeat(5 * 1024 * 1024)}\n`;
    const result = classifyOne("", "src/big.py", big, big.replace("gpt-4o", "gpt-4.1"));
    expect(result.categories).toEqual([]);
    expect(result.warnings.map((w) => w.code)).toEqual(["not_scanned"]);
  });

  it("an added file's model literals count; a rename that keeps them does not", () => {
    expect(classifyOne("", "src/llm.py", "", 'M = "gpt-4o"\n', "added").files[0]?.literals).toEqual([
      { value: "gpt-4o", change: "added", side: "head", line: 1 },
    ]);
    const renamed = classifyChange(compilePolicy(defaultConfig()), {
      changes: [{ path: "src/b.py", previous_path: "src/a.py", status: "renamed" }],
      base: () => 'M = "gpt-4o"\n',
      head: () => 'M = "gpt-4o"\n',
    });
    expect(renamed.categories).toEqual([]);
  });
});

describe("literal scanning is bounded per change", () => {
  it(`reads at most ${MAX_LITERAL_SCAN_FILES} files only for literals, and says how many it did not scan`, async () => {
    const changes: ChangedPath[] = Array.from({ length: MAX_LITERAL_SCAN_FILES + 50 }, (_, i) => ({
      path: `src/m${i}.py`,
      status: "modified",
    }));
    const asked: string[] = [];
    const reader = (model: string) => async (paths: readonly string[]) => {
      asked.push(...paths);
      return new Map(paths.map((p) => [p, `M = "${model}"\n`]));
    };
    const result = await classifySides(defaultConfig(), {
      changes,
      readBase: reader("gpt-4o"),
      readHead: reader("gpt-4.1"),
    });
    expect(asked).toHaveLength(2 * MAX_LITERAL_SCAN_FILES);
    expect(result.categories).toEqual(["model"]);
    expect(result.warnings.map((w) => w.message)).toEqual([
      `50 changed files were not scanned for model IDs (over ${MAX_LITERAL_SCAN_FILES} files), e.g. src/m${MAX_LITERAL_SCAN_FILES}.py; they are classified by path only`,
    ]);
  });
});

describe("an unsupported rule is a config error: exit 2, one line per problem, no stack", () => {
  it.each([
    [
      "a negated key pattern",
      "changes:\n  model: { keys: ['!llm.routes.*'] }\n",
      "changes.model.keys.0: not a supported key pattern",
    ],
    [
      "a scoped rule without keys",
      "changes:\n  model: { keys: [{ file: 'a.yml' }] }\n",
      "changes.model.keys.0: expected a key pattern (a string) or {file: glob, keys: [patterns]}",
    ],
    [
      "`!!` in a file list",
      "changes:\n  prompt: { files: ['!!prompts/x.md'] }\n",
      "changes.prompt.files.0: `!!` is not supported",
    ],
  ])("%s", async (_name, policy, message) => {
    const dir = tempDir();
    git(dir, "init", "--quiet", "--initial-branch=main");
    commitFiles(dir, { ".github/modelgate.yml": policy });
    commitFiles(dir, { "src/a.py": 'M = "gpt-4o"\n' });
    const run = await runCliCaptured(["classify", "--repo", dir, "--base", "HEAD~1"]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("env globs read in order too", () => {
  it('"!EMBEDDING_MODEL" takes one variable back instead of matching every other one', () => {
    const policy = "changes:\n  model: { env: ['*_MODEL', '!EMBEDDING_MODEL'] }\n";
    const result = classifyOne(
      policy,
      ".env",
      "CHAT_MODEL=a\nEMBEDDING_MODEL=b\nPORT=1\n",
      "CHAT_MODEL=c\nEMBEDDING_MODEL=d\nPORT=2\n",
    );
    expect(keysOf(result)).toEqual({ CHAT_MODEL: "model", EMBEDDING_MODEL: "other", PORT: "other" });
  });
});
