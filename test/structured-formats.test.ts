import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { makeExampleRepo } from "../examples/make-example-repo.ts";
import { type Classification, classifyChange, compilePolicy } from "../src/core/classify/classify.ts";
import { MAX_REPORTED_KEYS } from "../src/core/classify/key-cap.ts";
import { renderClassificationText } from "../src/core/classify/render-text.ts";
import { defaultConfig } from "../src/core/config/load.ts";
import { configSchema } from "../src/core/config/schema.ts";
import { warningSchema } from "../src/core/result.ts";
import type { Simulator } from "../src/simulator/index.ts";
import { runCliCaptured, runModelgate } from "./support/cli.ts";
import { commitFiles, git, tempDir } from "./support/git.ts";
import { startExampleSimulator } from "./support/simulator.ts";

/**
 * Issue 11, items 1, 2 and 11: structured files are read as the team's runtime reads them
 * (JSONC, BOM, YAML 1.1 habits, TOML), what a reader tolerates is a warning in `warnings[]`, and
 * big changes list a bounded number of keys.
 */

const policy = compilePolicy(
  configSchema.parse({
    version: 1,
    changes: {
      model: { keys: ["llm.model", "agent.model", "config.model", "config.fallback_models", "*.spec.model"] },
      prompt: { keys: ["pr_reviewer.extra_instructions", "agent.prompt"] },
      infra: { keys: ["llm.timeout", "agent.timeout", "config.ai_timeout", "*.spec.replicas"] },
    },
  }),
);

function classifyOne(path: string, base: string | null, head: string | null): Classification {
  return classifyChange(policy, {
    changes: [{ path, status: base === null ? "added" : head === null ? "removed" : "modified" }],
    base: () => base,
    head: () => head,
  });
}

const keysOf = (result: Classification) =>
  result.files.flatMap((f) => f.keys.map((k) => `${k.path}:${k.category}`));

describe("JSON as editors write it", () => {
  it("JSONC (comments, trailing commas) with a UTF-8 BOM: key-level diff", () => {
    const base =
      '\uFEFF// the app\'s model\n{\n  "llm": {\n    "model": "gpt-5.4", /* pinned */\n    "timeout": 30,\n  },\n}\n';
    const head = base.replace('"gpt-5.4"', '"gpt-5.5"');
    const result = classifyOne("config/settings.json", base, head);
    expect(result.unreadable).toBeUndefined();
    expect(keysOf(result)).toEqual(["llm.model:model"]);
    expect(result.categories).toEqual(["model"]);
  });

  it("a real JSON error still fails closed at its line", () => {
    const result = classifyOne(
      "config/settings.json",
      '{"llm": {}}',
      '{\n  "llm": {\n    "model": "a"\n    "timeout": 3\n  }\n}',
    );
    expect(result.unreadable).toEqual([
      expect.objectContaining({
        path: "config/settings.json",
        side: "head",
        line: 4,
        reason: "comma expected",
      }),
    ]);
  });

  it("a `__proto__` key in JSONC is an ordinary key", () => {
    const result = classifyOne(
      "x.jsonc",
      '{"__proto__": {"model": 1}, // c\n}',
      '{"__proto__": {"model": 2}}',
    );
    expect(keysOf(result)).toEqual(["__proto__.model:other"]);
  });
});

const simulators: Simulator[] = [];
afterEach(async () => {
  await Promise.all(simulators.splice(0).map((s) => s.close()));
});

describe("YAML as PyYAML and js-yaml read it", () => {
  it("a duplicate key: the last one wins, with a warning naming the line", () => {
    const base = "llm:\n  model: gpt-5.4\n  timeout: 30\n  model: gpt-5.4-mini\n";
    const head = base.replace("gpt-5.4-mini", "gpt-5.5-mini");
    const result = classifyOne("settings.yml", base, head);
    expect(result.unreadable).toBeUndefined();
    expect(keysOf(result)).toEqual(["llm.model:model"]);
    const warnings = result.warnings.filter((w) => w.code === "format");
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatchObject({ path: "settings.yml", side: "base", line: 4 });
    expect(warnings[0]?.message).toMatch(/^settings\.yml:4: duplicate key "model": the last one wins/);
  });

  it("merge keys are resolved: an anchor's timeout change is a change of every mapping that merges it", () => {
    const base =
      "defaults: &defaults\n  timeout: 30\n  model: gpt-5.4\nagent:\n  <<: *defaults\n  model: gpt-5.5\n";
    const head = base.replace("timeout: 30", "timeout: 60");
    const result = classifyOne("agent.yaml", base, head);
    expect(keysOf(result)).toEqual(["agent.timeout:infra", "defaults.timeout:other"]);
    expect(result.categories).toEqual(["infra"]);
    // The explicit key wins over the merged one, and `<<` is never a key segment.
    const model = classifyOne("agent.yaml", base, base.replace("model: gpt-5.4", "model: gpt-4o"));
    // A key no rule names whose value is a model ID is a model change (zero config).
    expect(keysOf(model)).toEqual(["defaults.model:model"]);
  });

  it("a multi-document stream: each document is addressed by its index", () => {
    const base = "kind: A\nspec:\n  replicas: 1\n---\nkind: B\nspec:\n  model: gpt-5.4\n";
    const head = base.replace("gpt-5.4", "gpt-5.5");
    const result = classifyOne("deploy.yaml", base, head);
    expect(keysOf(result)).toEqual(["1.spec.model:model"]);
  });

  it("custom tags are tolerated and their warnings collected", () => {
    const base = "agent:\n  model: !Ref ModelParam\n  tool: !!python/name:tools.search ''\n  timeout: 30\n";
    const head = base.replace("timeout: 30", "timeout: 45");
    const result = classifyOne("agent.yaml", base, head);
    expect(keysOf(result)).toEqual(["agent.timeout:infra"]);
    const messages = result.warnings.filter((w) => w.side === "head").map((w) => w.message);
    expect(messages).toEqual([
      "agent.yaml:2: custom tag !Ref is read as the plain value it tags (head side)",
      "agent.yaml:3: custom tag !!python/name:tools.search is read as the plain value it tags (head side)",
    ]);
  });

  it("one alias used 500 times is readable; an alias bomb is refused by its expanded size", () => {
    const uses = Array.from({ length: 500 }, (_, i) => `  t${i}: *d`).join("\n");
    const base = `d: &d {timeout: 30}\ntasks:\n${uses}\n`;
    const result = classifyOne("tasks.yaml", base, base.replace("timeout: 30", "timeout: 31"));
    expect(result.unreadable).toBeUndefined();
    // `d.timeout` and the 500 tasks that alias it: all `other`, so exactly the cap is listed.
    expect(result.files[0]?.keys).toHaveLength(MAX_REPORTED_KEYS);
    expect(result.files[0]?.keys_omitted).toBe(501 - MAX_REPORTED_KEYS);

    const levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (const [i, name] of [..."bcdefgh"].entries()) {
      const previous = "abcdefgh"[i];
      levels.push(`${name}: &${name} [${Array(10).fill(`*${previous}`).join(", ")}]`);
    }
    const bomb = classifyOne("agent.yaml", "agent: {}\n", `${levels.join("\n")}\n`);
    expect(bomb.unreadable?.[0]?.reason).toBe("its aliases expand to more than 1,000,000 nodes");
    const cycle = classifyOne("agent.yaml", "agent: {}\n", "a: &a [*a]\n");
    expect(cycle.unreadable?.[0]?.reason).toBe("an alias refers to the node that contains it");
  });

  it("YAML that does not parse still fails closed with its line", () => {
    const result = classifyOne("agent.yaml", "agent: {}\n", "agent:\n  model: a\n timeout: 2\n");
    expect(result.unreadable?.[0]).toMatchObject({ line: 3, fix: "fix the YAML so it parses" });
  });

  it("the CLI prints no YAMLWarning on stderr and lists the warnings in its output", () => {
    const dir = tempDir();
    git(dir, "init", "--quiet", "-b", "main");
    commitFiles(dir, { "agent.yaml": "agent:\n  model: !Ref ModelParam\n  timeout: 30\n" }, "base");
    commitFiles(dir, { "agent.yaml": "agent:\n  model: !Ref ModelParam\n  timeout: 60\n" }, "head");
    const run = runModelgate(["classify", "--repo", dir, "--base", "HEAD~1", "--head", "HEAD"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as Classification;
    expect(result.warnings.map((w) => w.code)).toEqual(["format", "format"]);
    expect(result.warnings[0]).toMatchObject({ path: "agent.yaml", line: 2 });
  });

  it("modelgate eval carries them into the result file's warnings[] and prints none on stderr", async () => {
    const sim = await startExampleSimulator();
    simulators.push(sim);
    const dir = makeExampleRepo(tempDir()).dir;
    git(dir, "checkout", "--quiet", "-b", "pr");
    commitFiles(
      dir,
      { "deploy/agent.yaml": "agent:\n  role: !Ref AgentRole\n  retries: 2\n  retries: 3\n" },
      "pr",
    );
    const out = `${tempDir()}/result.json`;
    const run = await runCliCaptured(
      ["eval", "--repo", dir, "--base", "main", "--head", "pr", "--no-cache", "--out", out],
      { OPENAI_BASE_URL: sim.url, OPENAI_API_KEY: "sk-test" },
    );
    expect(run.stderr).not.toMatch(/YAMLWarning|internal error/);
    const result = JSON.parse(readFileSync(out, "utf8")) as { warnings: Array<{ code: string }> };
    expect(result.warnings.filter((w) => w.code === "format")).toEqual([
      {
        code: "format",
        file: "deploy/agent.yaml",
        line: 2,
        message: "deploy/agent.yaml:2: custom tag !Ref is read as the plain value it tags",
      },
      {
        code: "format",
        file: "deploy/agent.yaml",
        line: 4,
        message:
          'deploy/agent.yaml:4: duplicate key "retries": the last one wins (as YAML 1.1 readers such as PyYAML do)',
      },
    ]);
  }, 60_000);

  it("the result file's warnings accept a format warning", () => {
    expect(
      warningSchema.parse({ code: "format", file: "agent.yaml", line: 2, message: "custom tag !Ref" }),
    ).toMatchObject({ code: "format" });
  });
});

describe("TOML", () => {
  const base = [
    "[config]",
    'model = "gpt-5.4"',
    'fallback_models = ["gpt-5.4-mini"]',
    "ai_timeout = 120",
    "",
    "[pr_reviewer]",
    'extra_instructions = """',
    "Be brief.",
    '"""',
    "",
  ].join("\n");

  it("key-level rules: a model, a timeout and prompt text each classify as such", () => {
    expect(
      keysOf(classifyOne("settings/configuration.toml", base, base.replace('"gpt-5.4"', '"gpt-5.5"'))),
    ).toEqual(["config.model:model"]);
    expect(keysOf(classifyOne("settings/configuration.toml", base, base.replace("120", "300")))).toEqual([
      "config.ai_timeout:infra",
    ]);
    const mixed = classifyOne(
      "settings/configuration.toml",
      base,
      base.replace("Be brief.", "Be thorough.").replace('["gpt-5.4-mini"]', '["gpt-5.4-mini", "o4"]'),
    );
    expect(keysOf(mixed)).toEqual([
      "config.fallback_models.1:model",
      "pr_reviewer.extra_instructions:prompt",
    ]);
    expect(mixed.mixed).toBe(true);
  });

  it("a reformat that keeps every value is no change; dates and big integers compare as text", () => {
    const reformatted = base.replace("ai_timeout = 120", "ai_timeout=120 # seconds");
    expect(classifyOne("c.toml", base, reformatted).files[0]?.keys).toEqual([]);
    const dated = classifyOne(
      "c.toml",
      "d = 2025-01-01\nn = 9007199254740993\n",
      "d = 2025-01-02\nn = 9007199254740993\n",
    );
    expect(keysOf(dated)).toEqual(["d:other"]);
  });

  it("a TOML error fails closed with its line", () => {
    const result = classifyOne(
      "settings/configuration.toml",
      base,
      base.replace("ai_timeout = 120", "ai_timeout = "),
    );
    expect(result.unreadable?.[0]).toMatchObject({ line: 4, fix: "fix the TOML so it parses" });
  });
});

describe("big changes", () => {
  it(`lists at most ${MAX_REPORTED_KEYS} keys per file, with the count of the rest, in JSON and text`, () => {
    const doc = (value: number) => {
      const llm: Record<string, number | string> = { model: value === 1 ? "gpt-5.4" : "gpt-5.5" };
      const table: Record<string, number> = {};
      for (let i = 0; i < 1000; i++) table[`k${String(i).padStart(4, "0")}`] = value;
      return JSON.stringify({ aaa: table, llm });
    };
    const result = classifyOne("data.json", doc(1), doc(2));
    const [file] = result.files;
    // The model key sorts after the 1,000 `aaa.*` keys, yet stays listed and counted.
    expect(result.categories).toEqual(["model"]);
    expect(file?.keys.length).toBe(MAX_REPORTED_KEYS + 1);
    expect(file?.keys.at(-1)).toEqual({ path: "llm.model", category: "model" });
    expect(file?.keys_omitted).toBe(1001 - (MAX_REPORTED_KEYS + 1));
    expect(renderClassificationText(result)).toContain(
      `… and ${1001 - (MAX_REPORTED_KEYS + 1)} more changed keys`,
    );
  });

  it("a JSON file up to 16 MB is diffed by key; past it, it is classified by path with a warning, or fails closed under key rules", () => {
    const big = (model: string, pad: number) => JSON.stringify({ llm: { model }, pad: "x".repeat(pad) });
    const twelve = classifyOne("data/big.json", big("a", 12 * 1024 * 1024), big("b", 12 * 1024 * 1024));
    expect(keysOf(twelve)).toEqual(["llm.model:model"]);

    const huge = 17 * 1024 * 1024;
    const failsClosed = classifyOne("data/big.json", big("a", huge), big("a", huge));
    expect(failsClosed.unreadable?.[0]?.reason).toBe("it is 17.0 MB; modelgate reads JSON files up to 16 MB");
    expect(failsClosed.categories).toEqual(["infra", "model", "prompt"]);

    const byPathOnly = compilePolicy(
      configSchema.parse({
        version: 1,
        changes: { model: { files: ["data/**"] }, prompt: { files: [] }, infra: { files: [] } },
      }),
    );
    const byPath = classifyChange(byPathOnly, {
      changes: [{ path: "data/big.json", status: "modified" }],
      base: () => big("a", huge),
      head: () => big("b", huge),
    });
    expect(byPath.unreadable).toBeUndefined();
    expect(byPath.categories).toEqual(["model"]);
    expect(byPath.warnings.map((w) => w.message)).toEqual([
      expect.stringMatching(
        /^data\/big\.json does not parse at the base side \(it is 17\.0 MB.*classified by path only/,
      ),
      expect.stringMatching(/^data\/big\.json does not parse at the head side/),
      expect.stringMatching(
        /^data\/big\.json is 17\.0 MB at the base side, over the 5 MB limit; it was not scanned/,
      ),
    ]);
  });

  it("the defaults still classify a key-rule file", () => {
    const config = compilePolicy(defaultConfig());
    expect(config.keyRuleCategories("toml")).toEqual(config.keyRuleCategories("json"));
  });
});
