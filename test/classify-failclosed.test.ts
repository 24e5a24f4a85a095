import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeExampleRepo } from "../examples/make-example-repo.ts";
import { runCli } from "../src/cli/main.ts";
import { classifyChange, compilePolicy } from "../src/core/classify/classify.ts";
import { defaultConfig } from "../src/core/config/load.ts";
import { judgeAttribution } from "../src/core/rollout/steps.ts";
import { type AppHarness, startAppHarness } from "./support/app-harness.ts";
import { ROOT } from "./support/cli.ts";
import { commitFiles, git, tempDir } from "./support/git.ts";

/**
 * A structured file the policy has key rules for, that cannot be parsed on a side, hides which
 * keys changed. It must fail closed: it counts as every category with key rules, the check fails
 * with the parse error and its line, and the text says how to fix it.
 */

async function classify(files: Record<string, string | null>, format: "json" | "text" = "json") {
  const dir = makeExampleRepo(tempDir()).dir;
  git(dir, "checkout", "--quiet", "-b", "pr");
  commitFiles(dir, files, "the pull request");
  let stdout = "";
  let stderr = "";
  const code = await runCli(
    ["classify", "--repo", dir, "--base", "main", "--head", "pr", "--format", format],
    {
      stdout: (text) => {
        stdout += text;
      },
      stderr: (text) => {
        stderr += text;
      },
      isTTY: false,
      env: {},
    },
  );
  return { code, stdout, stderr };
}

const baseLlm = readFileSync(join(ROOT, "examples/acme-support/base/config/llm.json"), "utf8");
/** A model + infra change: a route moves and the timeout changes. */
const modelAndInfra = baseLlm
  .replace('"agentic_coding": "gpt-5.4"', '"agentic_coding": "gpt-5.5"')
  .replace('"timeout_ms": 120000', '"timeout_ms": 60000');
/** The same change with a real JSON error (a missing comma) on the timeout's line. */
const brokenJson = modelAndInfra.replace('"timeout_ms": 60000', '"timeout_ms": 60000 "retries": 1');
const brokenLine = brokenJson.slice(0, brokenJson.indexOf('"retries": 1')).split("\n").length;
/** YAML that no reader accepts: a mapping item out of line (line 3). */
const brokenYaml = "llm:\n  timeout_ms: 1\n bad: 2\n";

describe("modelgate classify: unparsable structured files fail closed", () => {
  it("a JSON syntax error in a JSON config: model + infra, exit 1, the reason, line and fix", async () => {
    const run = await classify({ "config/llm.json": brokenJson });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(1);
    const result = JSON.parse(run.stdout);
    expect(result.categories).toEqual(["infra", "model"]);
    expect(result.mixed).toBe(true);
    expect(result.files[0].categories).toEqual(["infra", "model"]);
    expect(result.unreadable).toEqual([
      expect.objectContaining({ path: "config/llm.json", side: "head", line: brokenLine }),
    ]);
    expect(result.unreadable[0].reason).toBe("comma expected");
    expect(result.warnings[0].message).toContain(`config/llm.json:${brokenLine}`);
    expect(result.warnings[0].message).toMatch(/fix the JSON so it parses/i);
  });

  it("a YAML syntax error: counted as every category with key rules, even when nothing else changed", async () => {
    const run = await classify({ "config/extra.yml": brokenYaml });
    expect(run.code).toBe(1);
    const result = JSON.parse(run.stdout);
    expect(result.categories).toEqual(["infra", "model"]);
    expect(result.unreadable).toEqual([
      expect.objectContaining({ path: "config/extra.yml", side: "head", line: 3 }),
    ]);
    expect(result.unreadable[0].reason).toMatch(/same column/i);
  });

  it("an unparsable .env counts as the categories with env rules only, and still fails", async () => {
    // The example policy has env rules for model only: one category, so not mixed, yet not a pass.
    const run = await classify({ "deploy.env": "OPENAI_MODEL_QNA=gpt-5.5\nsk-secret-value-1234\n" });
    expect(run.code).toBe(1);
    const result = JSON.parse(run.stdout);
    expect(result.categories).toEqual(["model"]);
    expect(result.mixed).toBe(false);
    expect(result.unreadable).toEqual([
      expect.objectContaining({ path: "deploy.env", side: "head", line: 2 }),
    ]);
    // An env file holds keys: the reason names the line, never its text.
    expect(run.stdout).not.toContain("sk-secret-value");
  });

  it("--format text leads with the failure and says how to fix it", async () => {
    const run = await classify({ "config/llm.json": brokenJson }, "text");
    expect(run.code).toBe(1);
    const first = run.stdout.split("\n")[0] ?? "";
    expect(first).toMatch(new RegExp(`^UNREADABLE: config/llm\\.json:${brokenLine} `));
    expect(run.stdout).toMatch(/fix the JSON so it parses/i);
  });
});

describe("rollout attribution", () => {
  it("an unreadable file is never model-only: the step fails with the file, line and fix", () => {
    const classification = classifyChange(compilePolicy(defaultConfig()), {
      changes: [{ path: "config/llm.json", status: "modified" }],
      base: () => baseLlm,
      head: () => brokenJson,
    });
    const step = judgeAttribution({
      classification,
      llm_file: "config/llm.json",
      share_key: "rollout.candidate_percent",
    });
    expect(step.status).toBe("fail");
    expect(step.detail).toContain(`config/llm.json:${brokenLine} cannot be read at the head side`);
    expect(step.detail).toContain("fix the JSON so it parses");
  });
});

describe("the App's attribution check", () => {
  let h: AppHarness;
  beforeEach(async () => {
    h = await startAppHarness();
    h.user("dev", "write");
  });
  afterEach(async () => {
    await h.close();
  });

  it("a YAML syntax error in a config fails the check with the parse error, line and fix", async () => {
    const number = h.openPR("broken", { "config/extra.yml": brokenYaml }, { user: "dev" });
    const delivery = await h.deliver("pull_request", h.pullRequestEvent("opened", number));
    expect(delivery.status).toBe(200);
    const [check] = h.checks(h.headSha(number));
    expect(check?.conclusion).toBe("failure");
    expect(check?.output.title).toBe("Cannot read config/extra.yml:3 (head)");
    expect(check?.output.summary).toContain("`config/extra.yml:3` cannot be read");
    expect(check?.output.summary).toMatch(/same column/i);
    expect(check?.output.summary).toMatch(/To fix: fix the YAML so it parses/);
  });
});
