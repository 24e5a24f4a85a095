/**
 * The rollout's and the rollback's writes on the shapes real LLM configs have: JSONC with
 * comments, YAML with comments, anchors and route lists, TOML tables and arrays of tables. The
 * diff a reviewer sees must be exactly the changed values; what cannot be edited exactly is
 * refused with the key.
 */
import { describe, expect, test } from "vitest";
import { UserError } from "../src/core/errors.ts";
import { parseLlmDocument } from "../src/core/llm-config.ts";
import { readShare, rollbackEdit, setShare } from "../src/core/rollout/llm-edit.ts";
import { editStructured } from "../src/core/structured-edit.ts";

const keys = {
  key: "rollout.candidate_percent",
  candidate_key: "models.candidate",
  rollback_key: "models.rollback",
  routes_key: "llm.routes",
  default_model_key: "llm.default_model",
};

/** The lines that differ, as `-old` / `+new` pairs. */
function changedLines(before: string, after: string): string[] {
  const a = before.split("\n");
  const b = after.split("\n");
  expect(b).toHaveLength(a.length);
  return a.flatMap((line, i) => (line === b[i] ? [] : [`-${line}`, `+${b[i]}`]));
}

describe("JSON and JSONC", () => {
  const jsonc = `{
  // routes: which model serves which task
  "llm": {
    "default_model": "gpt-5.5", /* the candidate */
    "routes": { "coding": "gpt-5.5", "qna": "gpt-5.4", },
  },
  "models": { "candidate": "gpt-5.5", "rollback": "gpt-5.4" },
  "rollout": { "candidate_percent": 30 }, // raised by modelgate
}
`;

  test("a rollback keeps comments and trailing commas and changes only the values", () => {
    const edit = rollbackEdit(parseLlmDocument(jsonc, "config/llm.jsonc"), keys);
    expect(changedLines(jsonc, edit.text)).toEqual([
      '-    "default_model": "gpt-5.5", /* the candidate */',
      '+    "default_model": "gpt-5.4", /* the candidate */',
      '-    "routes": { "coding": "gpt-5.5", "qna": "gpt-5.4", },',
      '+    "routes": { "coding": "gpt-5.4", "qna": "gpt-5.4", },',
      '-  "rollout": { "candidate_percent": 30 }, // raised by modelgate',
      '+  "rollout": { "candidate_percent": 0 }, // raised by modelgate',
    ]);
  });

  test("a route list: the item's model by index", () => {
    const text = `{
  "llm": { "routes": [
    { "name": "coding", "model": "gpt-5.5", "timeout_ms": 60000 },
    { "name": "qna", "model": "gpt-5.4" }
  ] },
  "models": { "candidate": "gpt-5.5", "rollback": "gpt-5.4" }
}
`;
    const edit = rollbackEdit(parseLlmDocument(text, "llm.json"), keys);
    expect(edit.edits.map((e) => e.key)).toEqual(["llm.routes.0.model"]);
    expect(changedLines(text, edit.text)).toEqual([
      '-    { "name": "coding", "model": "gpt-5.5", "timeout_ms": 60000 },',
      '+    { "name": "coding", "model": "gpt-5.4", "timeout_ms": 60000 },',
    ]);
  });

  test("a missing share is added inside its mapping, in the file's indentation", () => {
    const text = '{\n    "models": { "candidate": "gpt-5.5" }\n}\n';
    const out = setShare(parseLlmDocument(text, "llm.json"), keys.key, 10);
    expect(readShare(parseLlmDocument(out, "llm.json"), keys.key)).toBe(10);
    expect(out).toContain('\n    "rollout": {\n        "candidate_percent": 10\n    }');
  });

  test("keys named like Object.prototype members are ordinary keys", () => {
    const text = '{ "constructor": { "share": 5 }, "__proto__": { "x": 1 } }';
    const out = setShare(parseLlmDocument(text, "llm.json"), "constructor.share", 30);
    expect(out).toBe('{ "constructor": { "share": 30 }, "__proto__": { "x": 1 } }');
    expect(({} as Record<string, unknown>).share).toBeUndefined();
  });
});

describe("YAML", () => {
  test("comments, anchors and a route list survive a rollback", () => {
    const yaml = `# production LLM settings
defaults: &defaults
  timeout_ms: 60000
llm:
  default_model: gpt-5.4
  routes:
    - name: coding   # the agent
      model: gpt-5.5
      <<: *defaults
    - name: qna
      model: gpt-5.4
models:
  candidate: gpt-5.5
  rollback: gpt-5.4
rollout:
  candidate_percent: 50 # phase 3
`;
    const edit = rollbackEdit(parseLlmDocument(yaml, "config/llm.yaml"), keys);
    expect(changedLines(yaml, edit.text)).toEqual([
      "-      model: gpt-5.5",
      "+      model: gpt-5.4",
      "-  candidate_percent: 50 # phase 3",
      "+  candidate_percent: 0 # phase 3",
    ]);
  });
});

describe("TOML", () => {
  const toml = `# pr-agent style settings
[llm]
default_model = "gpt-5.5"  # candidate
timeout_ms = 60_000

[llm.routes]
coding = "gpt-5.5"
"qna.v2" = 'gpt-5.4'

[models]
candidate = "gpt-5.5"
rollback = "gpt-5.4"

[rollout]
candidate_percent = 30
notes = """
candidate_percent = 99 is not a key here
"""
`;

  test("a rollback rewrites the values on their lines and nothing else", () => {
    const doc = parseLlmDocument(toml, "config/llm.toml");
    expect(readShare(doc, keys.key)).toBe(30);
    const edit = rollbackEdit(doc, keys);
    expect(changedLines(toml, edit.text)).toEqual([
      '-default_model = "gpt-5.5"  # candidate',
      '+default_model = "gpt-5.4"  # candidate',
      '-coding = "gpt-5.5"',
      '+coding = "gpt-5.4"',
      "-candidate_percent = 30",
      "+candidate_percent = 0",
    ]);
  });

  test("arrays of tables are addressed by index, dotted keys by their parts", () => {
    const routes = `[[llm.routes]]
name = "coding"
model = "gpt-5.5"

[[llm.routes]]
name = "qna"
model = "gpt-5.5"

[models]
candidate = "gpt-5.5"
rollback = "gpt-5.4"
rollout.candidate_percent = 10
`;
    const doc = parseLlmDocument(routes, "llm.toml");
    const edit = rollbackEdit(doc, { ...keys, key: "models.rollout.candidate_percent" });
    expect(edit.edits.map((e) => e.key)).toEqual([
      "models.rollout.candidate_percent",
      "llm.routes.0.model",
      "llm.routes.1.model",
    ]);
    expect(changedLines(routes, edit.text)).toEqual([
      '-model = "gpt-5.5"',
      '+model = "gpt-5.4"',
      '-model = "gpt-5.5"',
      '+model = "gpt-5.4"',
      "-rollout.candidate_percent = 10",
      "+rollout.candidate_percent = 0",
    ]);
  });

  test("a key written in an inline table is refused with the key, never rewritten approximately", () => {
    const inline =
      'models = { candidate = "gpt-5.5", rollback = "gpt-5.4" }\nrollout = { candidate_percent = 10 }\n';
    const doc = parseLlmDocument(inline, "llm.toml");
    expect(() => setShare(doc, keys.key, 30)).toThrow(UserError);
    expect(() => setShare(doc, keys.key, 30)).toThrow(
      /llm\.toml rollout\.candidate_percent: modelgate edits TOML only where/,
    );
  });

  test("a missing key is refused (TOML has no safe place to add it by line)", () => {
    expect(() => setShare(parseLlmDocument('[models]\ncandidate = "x"\n', "llm.toml"), keys.key, 10)).toThrow(
      /rollout\.candidate_percent/,
    );
  });
});

test("the result is read back: an edit that would change anything else is refused", () => {
  // Two documents in one YAML file: the reader sees a list of documents, the editor one mapping.
  const multi = "rollout:\n  candidate_percent: 10\n---\nother: 1\n";
  expect(() =>
    editStructured(
      "yaml",
      multi,
      [{ path: ["rollout", "candidate_percent"], to: 30, key: "rollout.candidate_percent" }],
      "llm.yaml",
    ),
  ).toThrow(UserError);
});
