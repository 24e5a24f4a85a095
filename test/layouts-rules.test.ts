import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runCliCaptured } from "./support/cli.ts";
import { commitFiles, git, readTree, tempDir } from "./support/git.ts";

/**
 * Real repository shapes (issue 11): each fixture is committed to a real git repo, every kind of
 * commit (only a model ID, only a timeout, only prompt text, a lint-only reformat, a mix) goes on
 * its own branch, and `modelgate classify` judges it with no policy and with the shape's policy.
 */

const FIXTURES = join(import.meta.dirname, "fixtures", "layouts");
const POLICY_PATH = ".modelgate/policy.yml";

interface Shape {
  repo: string;
  files: Record<string, string>;
}

/** A repo holding the fixture (its policy.yml moved to POLICY_PATH) on `main`. */
function makeShapeRepo(fixture: string): Shape {
  const repo = tempDir();
  git(repo, "init", "--quiet", "--initial-branch=main");
  const { "policy.yml": policy = "", ...files } = readTree(join(FIXTURES, fixture));
  commitFiles(repo, { ...files, [POLICY_PATH]: policy }, "fixture");
  return { repo, files };
}

/** A branch off main with some files edited by exact text replacement (each must apply). */
function branch(shape: Shape, name: string, edits: Record<string, Array<[string, string]>>): void {
  git(shape.repo, "checkout", "--quiet", "-b", name, "main");
  const changed: Record<string, string> = {};
  for (const [path, replacements] of Object.entries(edits)) {
    let text = shape.files[path] ?? "";
    for (const [from, to] of replacements) {
      expect(text, `${path}: ${from}`).toContain(from);
      text = text.replace(from, to);
    }
    changed[path] = text;
  }
  commitFiles(shape.repo, changed, name);
  git(shape.repo, "checkout", "--quiet", "main");
}

interface Classified {
  categories: string[];
  mixed: boolean;
  files: Array<{
    path: string;
    categories: string[];
    keys: Array<{ path: string; category: string }>;
    literals?: Array<{ value: string; line: number; side: string }>;
  }>;
}

async function classify(shape: Shape, head: string, withPolicy: boolean): Promise<Classified> {
  const args = ["classify", "--repo", shape.repo, "--base", "main", "--head", head];
  const run = await runCliCaptured(withPolicy ? [...args, "--config", POLICY_PATH] : args);
  expect(run.stderr).toBe("");
  const result = JSON.parse(run.stdout) as Classified;
  expect(run.code).toBe(result.mixed ? 1 : 0);
  return result;
}

interface Expectation {
  branch: string;
  zero: string[];
  policy: string[];
}

function expectShape(shape: () => Shape, expectations: Expectation[]): void {
  for (const { branch: name, zero, policy } of expectations) {
    it(`${name}: zero config → [${zero.join(", ")}], with the policy → [${policy.join(", ")}]`, async () => {
      expect((await classify(shape(), name, false)).categories).toEqual(zero);
      expect((await classify(shape(), name, true)).categories).toEqual(policy);
    });
  }
}

describe("Python module holding model IDs", () => {
  let shape: Shape;
  beforeAll(() => {
    shape = makeShapeRepo("python-module");
    branch(shape, "model-only", {
      "app/config.py": [['DEFAULT_MODEL_NAME = "gpt-4o"', 'DEFAULT_MODEL_NAME = "gpt-4.1"']],
      "app/algo/__init__.py": [
        ['    "gemini-1.5-pro": 2000000,\n', '    "gemini-1.5-pro": 2000000,\n    "gpt-4.1": 1047576,\n'],
      ],
    });
    branch(shape, "timeout-only", {
      "app/config.py": [["REQUEST_TIMEOUT_SECONDS = 60", "REQUEST_TIMEOUT_SECONDS = 120"]],
    });
    branch(shape, "prompt-only", {
      "app/prompts.py": [["Point out bugs first", "Point out security bugs first"]],
    });
    branch(shape, "lint-only", {
      "app/config.py": [
        [
          "FALLBACK_MODELS = [\"gpt-4o-mini\", 'claude-3-5-haiku-20241022']",
          'FALLBACK_MODELS = [\n    "gpt-4o-mini",\n    "claude-3-5-haiku-20241022",\n]',
        ],
      ],
      "app/algo/__init__.py": [
        ['"gpt-4o": 128000,\n    "gpt-4o-mini": 128000,', "'gpt-4o': 128_000,\n    'gpt-4o-mini': 128_000,"],
      ],
    });
    branch(shape, "mix", {
      "app/config.py": [['DEFAULT_MODEL_NAME = "gpt-4o"', 'DEFAULT_MODEL_NAME = "claude-sonnet-4-5"']],
      "app/prompts.py": [["three sentences", "two sentences"]],
    });
  });

  expectShape(
    () => shape,
    [
      { branch: "model-only", zero: ["model"], policy: ["model"] },
      // A constant in a .py file is not a key modelgate can read: documented in docs/policy.md.
      { branch: "timeout-only", zero: [], policy: [] },
      { branch: "prompt-only", zero: [], policy: ["prompt"] },
      { branch: "lint-only", zero: [], policy: [] },
      { branch: "mix", zero: ["model"], policy: ["model", "prompt"] },
    ],
  );

  it("reports the model change at file:line, on the head for additions and the base for removals", async () => {
    const result = await classify(shape, "model-only", false);
    const literals = Object.fromEntries(result.files.map((f) => [f.path, f.literals]));
    expect(literals).toEqual({
      "app/config.py": [
        { value: "gpt-4o", change: "removed", side: "base", line: 5 },
        { value: "gpt-4.1", change: "added", side: "head", line: 5 },
      ],
      "app/algo/__init__.py": [{ value: "gpt-4.1", change: "added", side: "head", line: 8 }],
    });
  });

  it("--format text shows file:line for each literal", async () => {
    const run = await runCliCaptured([
      "classify",
      "--repo",
      shape.repo,
      "--base",
      "main",
      "--head",
      "model-only",
      "--format",
      "text",
    ]);
    expect(run.stdout).toContain('app/config.py:5  "gpt-4.1" added (model)');
  });
});

describe("k8s manifest with OPENAI_MODEL in a container env list", () => {
  let shape: Shape;
  const manifest = "k8s/review-bot.yaml";
  beforeAll(() => {
    shape = makeShapeRepo("k8s-manifest");
    branch(shape, "model-only", { [manifest]: [["value: gpt-4o", "value: gpt-4.1"]] });
    branch(shape, "timeout-only", { [manifest]: [['value: "60"', 'value: "120"']] });
    branch(shape, "prompt-only", {
      [manifest]: [["Point out bugs first.", "Point out security bugs first."]],
    });
    branch(shape, "lint-only", {
      [manifest]: [
        ['value: "60"', "value: '60'"],
        ["  labels:\n    app: review-bot\n", "  labels: {app: review-bot}\n"],
      ],
    });
    branch(shape, "mix", {
      [manifest]: [
        ["value: gpt-4o", "value: gpt-4.1"],
        ['value: "60"', 'value: "120"'],
      ],
    });
  });

  expectShape(
    () => shape,
    [
      { branch: "model-only", zero: ["model"], policy: ["model"] },
      // Keys no rule names take the file's glob: k8s/** is infra by default.
      { branch: "timeout-only", zero: ["infra"], policy: ["infra"] },
      { branch: "prompt-only", zero: ["infra"], policy: ["prompt"] },
      { branch: "lint-only", zero: [], policy: [] },
      { branch: "mix", zero: ["infra", "model"], policy: ["infra", "model"] },
    ],
  );

  it("addresses the env item by its name, not its index", async () => {
    const result = await classify(shape, "model-only", false);
    expect(result.files.find((f) => f.path === manifest)?.keys).toEqual([
      {
        path: "spec.template.spec.containers[name=review-bot].env[name=OPENAI_MODEL].value",
        category: "model",
      },
    ]);
  });

  it("multi-document manifest: OPENAI_MODEL in the second document is a model change at its document's key (zero config)", async () => {
    const multi = "k8s/review-bot-multi.yaml";
    branch(shape, "multi-model", { [multi]: [["value: gpt-4o", "value: gpt-4.1"]] });
    const result = await classify(shape, "multi-model", false);
    expect(result.categories).toEqual(["model"]);
    expect(result.files.find((f) => f.path === multi)?.keys).toEqual([
      {
        path: "1.spec.template.spec.containers[name=review-bot].env[name=OPENAI_MODEL].value",
        category: "model",
      },
    ]);
  });
});
