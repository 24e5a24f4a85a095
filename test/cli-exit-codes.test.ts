import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { makeExampleRepo } from "../examples/make-example-repo.ts";
import { type CliRun, runModelgate } from "./support/cli.ts";
import { commitFiles, git, tempDir } from "./support/git.ts";

/**
 * README.md#the-cli: the CLI exits 0, 1 or 2. Exit 3 ("internal error") is outside the contract,
 * so every bad input a user can give is walked through the real CLI here (a child process, the
 * built-in simulator as provider) and must end in 0/1/2 with a `modelgate: …` line that names
 * what is wrong — never a stack trace, never "internal error".
 */

let repo: string;
let dir: string;

const LLM = JSON.stringify({
  llm: {
    default_model: "gpt-5.4",
    routes: { agentic_coding: "gpt-5.5", general_qna: "gpt-5.4" },
    max_output_tokens: 4096,
    timeout_ms: 120000,
    retry_limit: 2,
  },
});
const CASE = JSON.stringify({
  id: "qna-x",
  route: "general_qna",
  prompt: "prompts/qna.md",
  input: "hi",
  assert: [{ type: "contains", value: "x" }],
});
const YAML_POLICY = [
  "version: 1",
  "llm: { config: config/llm.json, routes_key: llm.routes, default_model_key: llm.default_model }",
  "changes: { model: { keys: ['llm.routes.*', 'llm.default_model'] } }",
  "evals: { cases: ['evals/**/*.yaml'] }",
  "",
].join("\n");

/** A branch `name` off `from` with `files` committed on top. */
function branch(name: string, files: Record<string, string | null>, from = "main"): void {
  git(repo, "checkout", "--quiet", "-B", name, from);
  commitFiles(repo, files, name);
  git(repo, "checkout", "--quiet", "main");
}

beforeAll(() => {
  repo = makeExampleRepo(tempDir()).dir;
  dir = tempDir();
  // Policies are read from the base ref: these are used as --base.
  branch("policy-bad-yaml", { ".github/modelgate.yml": "version: 1\ngates: [unclosed\n" });
  branch("policy-unknown-key", { ".github/modelgate.yml": "version: 1\ngatez: {}\n" });
  branch("policy-list", { ".github/modelgate.yml": "- a\n- b\n" });
  branch("policy-version", { ".github/modelgate.yml": '{"version": 2}' });
  branch("policy-alias-bomb", {
    ".github/modelgate.yml": `version: 1\na: &a ["x","x","x","x","x","x","x","x","x"]\n${Array.from(
      { length: 9 },
      (_, i) =>
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(97 + i)}`)
          .join(",")}]`,
    ).join("\n")}\n`,
  });
  branch("policy-deep", {
    ".github/modelgate.yml": `version: 1\nx: ${"[".repeat(10_000)}${"]".repeat(10_000)}\n`,
  });
  branch("policy-yaml", {
    ".github/modelgate.yml": YAML_POLICY,
    "evals/qna.yaml":
      "- id: y-1\n  route: general_qna\n  input: hi\n  assert: [{ type: contains, value: x }]\n",
  });
  // Heads.
  branch("llm-bad-json", { "config/llm.json": "{ not json" });
  branch("llm-routes-string", {
    "config/llm.json": JSON.stringify({ llm: { default_model: "gpt-5.4", routes: "nope" } }),
  });
  branch("case-bad-json", { "config/llm.json": LLM, "evals/qna.jsonl": "{not json\n" });
  branch("case-missing-fields", { "config/llm.json": LLM, "evals/qna.jsonl": '{"id": "x"}\n' });
  branch("case-unknown-assert", {
    "config/llm.json": LLM,
    "evals/qna.jsonl": `${CASE.replace('"contains"', '"telepathy"')}\n`,
  });
  branch("case-duplicate-id", { "config/llm.json": LLM, "evals/qna.jsonl": `${CASE}\n${CASE}\n` });
  branch("case-no-prompt", {
    "config/llm.json": LLM,
    "evals/qna.jsonl": `${CASE.replace("prompts/qna.md", "prompts/nope.md")}\n`,
  });
  branch("case-bad-regex", {
    "config/llm.json": LLM,
    "evals/qna.jsonl": `${CASE.replace('{"type":"contains","value":"x"}', '{"type":"regex","value":"(["}')}\n`,
  });
  branch("case-parent-prompt", {
    "config/llm.json": LLM,
    "evals/qna.jsonl": `${CASE.replace("prompts/qna.md", "../outside.md")}\n`,
  });
  branch("case-absolute-prompt", {
    "config/llm.json": LLM,
    "evals/qna.jsonl": `${CASE.replace("prompts/qna.md", "/etc/passwd")}\n`,
  });
  branch("case-newline-prompt", {
    "config/llm.json": LLM,
    "evals/qna.jsonl": `${CASE.replace("prompts/qna.md", "prompts/qna.md\\nmain:config/llm.json")}\n`,
  });
  branch(
    "yaml-case-bad",
    {
      "config/llm.json": LLM,
      "evals/qna.yaml": "- id: [\n",
    },
    "policy-yaml",
  );
  branch(
    "yaml-case-unknown-key",
    {
      "config/llm.json": LLM,
      "evals/qna.yaml": "- id: y-1\n  route: general_qna\n  input: hi\n  asert: []\n",
    },
    "policy-yaml",
  );
  writeFileSync(join(dir, "profile.yml"), "version: [\n");
});

/** The CLI with the built-in simulator (no provider in the environment), answers without delay. */
function cli(args: string[]): CliRun {
  return runModelgate(args, { env: { OPENAI_BASE_URL: "", OPENAI_API_KEY: "", MODELGATE_DEBUG: "" } });
}

function evalArgs(base: string, head: string, ...more: string[]): string[] {
  return [
    "eval",
    "--repo",
    repo,
    "--base",
    base,
    "--head",
    head,
    "--no-cache",
    "--simulator-time-scale",
    "0",
    ...more,
  ];
}

/** stderr without progress and provider lines: what the user is told. */
function message(run: CliRun): string {
  return run.stderr
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("cases ") && !line.startsWith("modelgate: provider:"))
    .join("\n");
}

/** Inside the contract: 0/1/2, no stack, no "internal error". */
function expectContract(run: CliRun): void {
  expect([0, 1, 2], `exit ${run.code}: ${run.stderr.slice(-400)}`).toContain(run.code);
  expect(run.stderr).not.toMatch(/internal error/);
  expect(run.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
}

/** A user error: exit 2, and the first line says what is wrong. */
function expectUserError(run: CliRun, first: RegExp): void {
  expectContract(run);
  expect(run.code, run.stderr.slice(-400)).toBe(2);
  const [line = ""] = message(run).split("\n");
  expect(line).toMatch(/^modelgate( [a-z]+)?: /);
  expect(line).toMatch(first);
}

describe("exit codes: config", () => {
  it.each([
    ["malformed YAML", "policy-bad-yaml", /\.github\/modelgate\.yml:3:1: invalid YAML/],
    ["an unknown key", "policy-unknown-key", /Invalid config in \.github\/modelgate\.yml/],
    ["a list at the top", "policy-list", /Invalid config in \.github\/modelgate\.yml/],
    ["JSON with an unsupported version", "policy-version", /Invalid config in \.github\/modelgate\.yml/],
  ])("a policy with %s: exit 2 from classify and eval", (_what, base, first) => {
    expectUserError(cli(["classify", "--repo", repo, "--base", base, "--head", "main"]), first);
    expectUserError(cli(evalArgs(base, "main")), first);
  });

  it("an unparsable LLM config: eval exits 2 naming the file", () => {
    expectUserError(
      cli(evalArgs("main", "llm-bad-json")),
      /config\/llm\.json \(head [0-9a-f]+\): cannot parse/,
    );
    // classify: item 4 (unparsable structured files) decides 1 or 2; it stays in the contract.
    expectContract(cli(["classify", "--repo", repo, "--base", "main", "--head", "llm-bad-json"]));
  });

  it("LLM routes that are not a mapping: exit 2 naming the key", () => {
    expectUserError(cli(evalArgs("main", "llm-routes-string")), /llm\.routes: expected a mapping/);
  });

  it("a --config that does not exist at the base stays in the contract", () => {
    expectContract(cli(["classify", "--repo", repo, "--base", "main", "--config", "nope.yml"]));
  });

  it.each(["policy-alias-bomb", "policy-deep"])("%s: exit 2 naming the policy file", (base) => {
    expectUserError(
      cli(["classify", "--repo", repo, "--base", base, "--head", "main"]),
      /\.github\/modelgate\.yml/,
    );
  });
});

describe("exit codes: case files", () => {
  it.each([
    ["a line that is not JSON", "case-bad-json", /evals\/qna\.jsonl:1: not valid JSON/],
    ["missing fields", "case-missing-fields", /evals\/qna\.jsonl:1 \(case x\) route: /],
    [
      "an unknown assertion type",
      "case-unknown-assert",
      /evals\/qna\.jsonl:1 \(case qna-x\) assert\.0\.type: /,
    ],
    ["a duplicate ID", "case-duplicate-id", /evals\/qna\.jsonl:2 case qna-x: duplicate ID/],
  ])("%s: exit 2 with file:line", (_what, head, first) => {
    expectUserError(cli(evalArgs("main", head)), first);
  });

  it("YAML case files: a syntax error or an unknown key is exit 2 naming the file", () => {
    expectUserError(cli(evalArgs("policy-yaml", "yaml-case-bad")), /evals\/qna\.yaml/);
    expectUserError(cli(evalArgs("policy-yaml", "yaml-case-unknown-key")), /evals\/qna\.yaml.*asert/);
  });

  it("a prompt file that exists on neither side stays in the contract", () => {
    // The case cannot run on either side; whether that is exit 0 (inconclusive) or a
    // `file:line (case id)` error is the path-validation work's call (issue 9 item 5).
    expectContract(cli(evalArgs("main", "case-no-prompt")));
  });

  it("an invalid regex assertion: exit 2 with file:line (case id), before any request", () => {
    const run = cli(evalArgs("main", "case-bad-regex"));
    expectUserError(run, /evals\/qna\.jsonl:1 \(qna-x\)|evals\/qna\.jsonl:1 \(case qna-x\)/);
    expect(run.stderr).not.toMatch(/^cases /m);
  });

  it.each(["case-parent-prompt", "case-absolute-prompt", "case-newline-prompt"])(
    "a prompt path from %s: exit 2 with file:line (case id)",
    (head) => {
      expectUserError(cli(evalArgs("main", head)), /evals\/qna\.jsonl:1 .*qna-x.*prompt/);
    },
  );
});

describe("exit codes: flags, refs and files", () => {
  it("unknown command, unknown flag, bad numbers, missing --base: exit 2", () => {
    expectUserError(cli(["frobnicate"]), /unknown command 'frobnicate'/);
    expectUserError(cli(["eval", "--repo", repo, "--bse", "main"]), /unknown option '--bse'/i);
    expectUserError(cli(["eval", "--repo", repo, "--base", "main", "--concurrency", "x"]), /--concurrency/);
    expectUserError(cli(["eval", "--repo", repo, "--base", "main", "--max-cases", "0"]), /--max-cases/);
    expectUserError(
      cli(["eval", "--repo", repo, "--base", "main", "--simulator-time-scale", "x"]),
      /--simulator-time-scale/,
    );
    expectUserError(cli(["eval", "--repo", repo]), /--base REF is required/);
    expectUserError(cli(["classify", "--repo", repo, "--base", "main", "--format", "xml"]), /format/);
    expectUserError(cli(["merge", "--out", join(dir, "m.json")]), /at least one result file/);
    expectUserError(cli(["simulate", "--prot", "1"]), /unknown option '--prot'/i);
    expectUserError(cli(["simulate", "--port", "99999"]), /--port: expected a port number/);
    expectUserError(
      cli(["simulate", "--profile", join(dir, "profile.yml")]),
      /profile\.yml:2:1: invalid YAML/,
    );
    expectUserError(cli(["simulate", "--profile", join(dir, "nope.yml")]), /nope\.yml does not exist/);
  }, 120_000); // 13 CLI processes in a row: minutes on a loaded 2-core runner, not 30 s

  it("a nonexistent ref or a folder that is not a repository: exit 2", () => {
    expectUserError(cli(evalArgs("nope", "main")), /unknown revision 'nope'/);
    expectUserError(
      cli(["classify", "--repo", repo, "--base", "main", "--head", "nope"]),
      /unknown revision 'nope'/,
    );
    expectUserError(cli(["classify", "--repo", dir, "--base", "main"]), /is not a git repository/);
  });

  it("a simulator profile that is missing or malformed: exit 2 naming the file", () => {
    expectUserError(cli(evalArgs("main", "main", "--simulator-profile", join(dir, "nope.yml"))), /nope\.yml/);
    expectUserError(
      cli(evalArgs("main", "main", "--simulator-profile", join(dir, "profile.yml"))),
      /profile\.yml/,
    );
  });

  it("--out or --markdown at a folder or under /proc: exit 2 naming the file, no spinning", () => {
    const started = Date.now();
    expectUserError(
      cli(evalArgs("main", "migrate-agentic-coding", "--out", dir)),
      /cannot write .*: it is a directory/,
    );
    expectUserError(
      cli(evalArgs("main", "migrate-agentic-coding", "--out", "/proc/modelgate/r.json")),
      /cannot write \/proc\/modelgate\/r\.json/,
    );
    expectUserError(
      cli(evalArgs("main", "migrate-agentic-coding", "--markdown", "/proc/modelgate/c.md")),
      /cannot write \/proc\/modelgate\/c\.md/,
    );
    // Found before any case ran: nothing was spent on the provider.
    for (const path of ["/proc/modelgate/r.json", dir]) {
      expect(cli(evalArgs("main", "migrate-agentic-coding", "--out", path)).stderr).not.toMatch(/^cases /m);
    }
    expect(Date.now() - started).toBeLessThan(60_000);
  }, 120_000);

  it("--cache-dir under /proc or inside the repository: exit 2 naming the folder", () => {
    const eval_ = (cacheDir: string) =>
      runModelgate(
        [
          "eval",
          "--repo",
          repo,
          "--base",
          "main",
          "--head",
          "migrate-agentic-coding",
          "--cache-dir",
          cacheDir,
        ],
        { env: { OPENAI_BASE_URL: "", OPENAI_API_KEY: "" } },
      );
    expectUserError(eval_("/proc/modelgate-cache"), /\/proc\/modelgate-cache/);
    expectUserError(eval_(repo), /holds files tracked at the head/);
  }, 120_000);
});

describe("exit codes: merge", () => {
  it("result files that are not JSON, fail the schema, are missing or are folders: exit 2 naming the file", () => {
    const good = join(dir, "good.json");
    expectContract(cli(evalArgs("main", "migrate-agentic-coding", "--out", good)));
    const out = join(dir, "merged.json");
    expect(cli(["merge", good, "--out", out]).code).not.toBe(2);

    const broken = join(dir, "broken.json");
    writeFileSync(broken, "{ not json");
    expectUserError(cli(["merge", broken, "--out", out]), /broken\.json is not JSON/);

    const forged = join(dir, "forged.json");
    writeFileSync(forged, JSON.stringify({ schema_version: 1, verdict: "pass", partial: false }));
    expectUserError(cli(["merge", forged, "--out", out]), /forged\.json: not a valid result file: base: /);

    const empty = join(dir, "empty.json");
    writeFileSync(empty, "{}");
    expectUserError(cli(["merge", empty, "--out", out]), /empty\.json: not a valid result file: /);

    expectUserError(
      cli(["merge", join(dir, "nope.json"), "--out", out]),
      /cannot read .*nope\.json: no such file/,
    );
    expectUserError(cli(["merge", dir, "--out", out]), /cannot read /);
    expectUserError(cli(["merge", good, "--out", dir]), /cannot write .*: it is a directory/);
  }, 120_000);
});
