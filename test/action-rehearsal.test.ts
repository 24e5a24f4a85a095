import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { PreparedPull } from "../src/action/eval-pr.ts";
import {
  commentWithRehearsal,
  planRehearsal,
  rehearsalResultFile,
  withFileOverride,
} from "../src/action/rehearsal.ts";
import { defaultConfig } from "../src/core/config/load.ts";
import { sameModel } from "../src/core/pricing.ts";
import { COMMENT_MARKERS } from "../src/core/protocol.ts";
import { parseEvidence } from "../src/core/report/markdown.ts";
import { isEvidenceComment } from "../src/core/rollout/evidence.ts";
import type { TreeSource } from "../src/core/source.ts";
import { readProfileFile, startSimulator } from "../src/simulator/index.ts";
import {
  checkRunsOn,
  commentsOn,
  openPull,
  pullRequestPayload,
  ROOT,
  readResult,
  runAction,
  startWorld,
  stepCode,
  type World,
} from "./support/action-harness.ts";
import { type AppHarness, BASE_FILES, startAppHarness } from "./support/app-harness.ts";

/**
 * The rollback rehearsal of the Action (docs/rollout.md, "What the Action must publish"): the
 * committed dist/index.js in a child process, against the GitHub REST emulator and the
 * simulator with the example's answers, as in action.test.ts.
 */

const LLM = "config/llm.json";
const REHEARSAL = "modelgate/rollback-rehearsal";
const NO_FAULTS = `
models:
  gpt-5.4:
    errors: { server_error: 0, unavailable: 0, rate_limit: 0 }
  gpt-5.5:
    errors: { server_error: 0, unavailable: 0, rate_limit: 0 }
`;

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

interface LlmDoc {
  llm: { default_model: string; routes: Record<string, string> };
  models: Record<string, string>;
  rollout: { candidate_percent: number };
}

/** The example's LLM config with agentic_coding on the candidate, at `share` %. */
function llmAt(share: number, edit: (doc: LlmDoc) => void = () => {}): string {
  const doc = JSON.parse(readFileSync(join(ROOT, "examples/acme-support/base", LLM), "utf8")) as LlmDoc;
  doc.llm.routes.agentic_coding = "gpt-5.5";
  doc.rollout.candidate_percent = share;
  edit(doc);
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** Production at 10 %: agentic_coding already serves the candidate gpt-5.5. */
async function rolloutWorld(): Promise<World> {
  world = await startWorld({ baseOverrides: { [LLM]: llmAt(10) } });
  return world;
}

describe("rollback rehearsal (dist/index.js)", () => {
  it("a rollout PR evaluates the candidate's routes and publishes the rehearsal of its rollback", async () => {
    const live = await rolloutWorld();
    const { number, head } = openPull(live, "rollout-30", { [LLM]: llmAt(30) });
    const run = await runAction(live, { payload: pullRequestPayload(live, number) });
    expect(run.code, run.stdout + run.stderr).toBe(stepCode(run));

    // The eval: a share change selects the routes on the candidate instead of nothing.
    const result = readResult(run.outputs["result-file"]);
    expect(result.verdict).not.toBe("skipped");
    expect(result.selection.case_ids.length).toBeGreaterThan(0);
    expect(result.cases.every((c) => c.route === "agentic_coding")).toBe(true);
    expect(result.selection.reasons).toEqual([
      {
        route: "agentic_coding",
        reason: "rollout share changed (10 → 30 %): route serves the candidate gpt-5.5",
      },
    ]);
    // The answer's `model` may be a dated snapshot of the ID asked for.
    const ran = (side: { model: string } | undefined, model: string) => sameModel(model, side?.model ?? "");
    expect(result.cases.every((c) => ran(c.base, "gpt-5.5") && ran(c.head, "gpt-5.5"))).toBe(true);

    // The rehearsal: base at 10 % against the head's config after the App's rollback edit.
    const rehearsal = readResult(run.outputs["rollback-rehearsal-file"]);
    expect(run.outputs["rollback-rehearsal"]).toBe(rehearsal.verdict);
    expect(rehearsal.selection.case_ids.sort()).toEqual(result.selection.case_ids.sort());
    expect(rehearsal.cases.length).toBeGreaterThan(0);
    for (const c of rehearsal.cases) {
      expect(c.route).toBe("agentic_coding");
      expect(ran(c.base, "gpt-5.5"), c.base?.model).toBe(true);
      expect(ran(c.head, "gpt-5.4"), c.head?.model).toBe(true);
    }
    expect(live.sim.stats.byModel["gpt-5.4"]).toBeGreaterThan(0);

    // Published as the App reads it: the check run on the head SHA, the evidence block in its summary.
    const runs = checkRunsOn(live, head, REHEARSAL);
    expect(runs).toHaveLength(1);
    const [check] = runs;
    expect(check?.status).toBe("completed");
    expect(check?.app).toBe("github-actions");
    // Inconclusive follows the resolved gates.on_inconclusive (fail for a model change).
    const blocks = rehearsal.verdict === "inconclusive" && rehearsal.gates_config?.on_inconclusive === "fail";
    const expected = { pass: "success", fail: "failure" } as Record<string, string>;
    expect(check?.conclusion).toBe(blocks ? "failure" : (expected[rehearsal.verdict] ?? "neutral"));
    const summary = check?.output.summary ?? "";
    expect(summary.startsWith(COMMENT_MARKERS.rehearsal)).toBe(true);
    expect(summary).not.toContain(COMMENT_MARKERS.eval);
    const evidence = parseEvidence(summary);
    expect(evidence).toMatchObject({
      head_sha: head,
      verdict: rehearsal.verdict,
      partial: false,
      simulated: false,
    });
    expect(evidence?.kpis.head).toEqual(
      expect.objectContaining({ completion_rate: rehearsal.head.kpis.completion_rate }),
    );

    // The sticky comment: a short rehearsal section, the eval's evidence block still the last one.
    const comments = commentsOn(live, number);
    expect(comments).toHaveLength(1);
    const body = comments[0]?.body ?? "";
    expect(isEvidenceComment(body, "eval")).toBe(true);
    expect(body).toContain("#### Rollback rehearsal");
    expect(body).toContain(`**${rehearsal.verdict.toUpperCase()}**`);
    expect(body).toContain("gpt-5.5 → gpt-5.4, share 30 → 0 %");
    expect(body.indexOf("#### Rollback rehearsal")).toBeLessThan(
      body.lastIndexOf("<!-- modelgate:evidence "),
    );
    expect(parseEvidence(body)).toMatchObject({ head_sha: head, verdict: result.verdict });
    expect(body.match(/<!-- modelgate:evidence /g)).toHaveLength(1);
    expect(run.summary).toContain("#### Rollback rehearsal");
    // Only the eval's gates decide the step.
    expect(run.outputs.verdict).toBe(result.verdict);
  });

  it("a PR that does not change the share gets no rehearsal", async () => {
    const live = await rolloutWorld();
    const { number, head } = openPull(live, "move-qna", {
      [LLM]: llmAt(10, (doc) => {
        doc.llm.routes.general_qna = "gpt-5.5";
      }),
    });
    const run = await runAction(live, { payload: pullRequestPayload(live, number) });
    expect(run.code, run.stdout + run.stderr).toBe(stepCode(run));
    expect(checkRunsOn(live, head)).toHaveLength(1);
    expect(checkRunsOn(live, head, REHEARSAL)).toHaveLength(0);
    expect(run.outputs["rollback-rehearsal"]).toBe("");
    expect(run.stdout).toContain("no rollback rehearsal: not a rollout PR");
    expect(commentsOn(live, number)[0]?.body).not.toContain("Rollback rehearsal");
  });

  it("rollback-rehearsal: off turns it off; a head without a rollback model has nothing to rehearse", async () => {
    const live = await rolloutWorld();
    const off = openPull(live, "rollout-30", { [LLM]: llmAt(30) });
    const run = await runAction(live, {
      payload: pullRequestPayload(live, off.number),
      inputs: { "rollback-rehearsal": "off" },
    });
    expect(run.code, run.stdout + run.stderr).toBe(stepCode(run));
    expect(readResult(run.outputs["result-file"]).verdict).not.toBe("skipped");
    expect(checkRunsOn(live, off.head, REHEARSAL)).toHaveLength(0);
    expect(run.outputs["rollback-rehearsal"]).toBe("");

    const none = openPull(live, "rollout-30-no-rollback", {
      [LLM]: llmAt(30, (doc) => {
        delete doc.models.rollback;
      }),
    });
    const second = await runAction(live, { payload: pullRequestPayload(live, none.number) });
    expect(second.code, second.stdout + second.stderr).toBe(stepCode(second));
    expect(checkRunsOn(live, none.head, REHEARSAL)).toHaveLength(0);
    expect(second.stdout).toContain("names no rollback model at models.rollback");
  });

  it("with sharding, the first shard runs the whole rehearsal and publishes its check run", async () => {
    const live = await rolloutWorld();
    const { number, head } = openPull(live, "rollout-30", { [LLM]: llmAt(30) });
    const payload = pullRequestPayload(live, number);
    const first = await runAction(live, { payload, inputs: { shard: "1/2" } });
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const rehearsal = readResult(first.outputs["rollback-rehearsal-file"]);
    // Not a slice: the same cases the unsharded eval selects.
    expect(rehearsal.selection.case_ids).toHaveLength(24);
    expect(checkRunsOn(live, head, REHEARSAL)).toHaveLength(1);
    const second = await runAction(live, { payload, inputs: { shard: "2/2" } });
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(second.outputs["rollback-rehearsal"]).toBe("");
    expect(checkRunsOn(live, head, REHEARSAL)).toHaveLength(1);
    // Shards post no comment and no eval check run; the merge job does.
    expect(commentsOn(live, number)).toHaveLength(0);
    expect(checkRunsOn(live, head)).toHaveLength(0);
  });

  it("rejects an invalid rollback-rehearsal input naming it", async () => {
    const live = await rolloutWorld();
    const { number } = openPull(live, "rollout-30", { [LLM]: llmAt(30) });
    const run = await runAction(live, {
      payload: pullRequestPayload(live, number),
      inputs: { "rollback-rehearsal": "always" },
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("Invalid input 'rollback-rehearsal': 'always'. Expected one of: auto, off.");
  });

  it("reports a rollback model the provider does not offer, without failing the step", async () => {
    const live = await rolloutWorld();
    const { number, head } = openPull(live, "rollout-30-typo", {
      [LLM]: llmAt(30, (doc) => {
        doc.models.rollback = "gpt-5.3-typo";
      }),
    });
    const run = await runAction(live, {
      payload: pullRequestPayload(live, number),
      inputs: { "fail-on-gate": "true" },
    });
    // The step follows the eval alone.
    expect(run.code, run.stdout + run.stderr).toBe(stepCode(run));
    expect(run.outputs["rollback-rehearsal"]).toBe("fail");
    const [check] = checkRunsOn(live, head, REHEARSAL);
    expect(check?.conclusion).toBe("failure");
    expect(parseEvidence(check?.output.summary ?? "")?.verdict).toBe("fail");
    const body = commentsOn(live, number)[0]?.body ?? "";
    expect(body).toContain("The provider does not offer the rollback model `gpt-5.3-typo`");
  });
});

describe("rollback rehearsal → the App", () => {
  let h: AppHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  /** The App's own test repo, with a route on the candidate whose cases always pass. */
  function bulkRepo(app: AppHarness): void {
    const llm = (share: number) =>
      `${JSON.stringify(
        {
          ...JSON.parse(BASE_FILES[LLM] ?? "{}"),
          llm: {
            default_model: "gpt-5.4",
            routes: { bulk_chat: "gpt-5.5", general_qna: "gpt-5.4" },
            max_output_tokens: 4096,
            timeout_ms: 120000,
            retry_limit: 2,
          },
          rollout: { candidate_percent: share },
        },
        null,
        2,
      )}\n`;
    // 200 cases without asserts: every answer completes, enough for both gates to decide.
    const cases = Array.from({ length: 200 }, (_, i) =>
      JSON.stringify({
        id: `bulk-${String(i).padStart(3, "0")}`,
        route: "bulk_chat",
        input: `Say hello #${i}.`,
      }),
    ).join("\n");
    app.push("main", {
      [LLM]: llm(10),
      "evals/bulk.jsonl": `${cases}\n`,
      ".github/modelgate.yml": "version: 1\nrollout:\n  metrics:\n    source: file\n",
      ".github/modelgate-metrics.json": JSON.stringify({
        phase: 10,
        control: { requests: 20_000, errors: 100, tasks: 20_000, completed: 16_000 },
        candidate: { requests: 5_000, errors: 20, tasks: 5_000, completed: 4_050 },
      }),
    });
    app.emu.commit("acme", "support-bot", "rollout-30", { [LLM]: llm(30) }, "rollout: 30 %");
  }

  it("promotes a rollout PR on the eval and the rehearsal the Action published", async () => {
    const app = await startAppHarness();
    h = app;
    app.user("maintainer", "write");
    // The example's answers without random faults, so every case completes on both models.
    const profile = join(mkdtempSync(join(tmpdir(), "modelgate-rehearsal-")), "simulator.yml");
    writeFileSync(
      profile,
      `${readFileSync(join(ROOT, "examples/acme-support/simulator.yml"), "utf8")}\n${NO_FAULTS}`,
    );
    // A stand-in for a real provider: its evidence must not be labelled simulated.
    const sim = await startSimulator({
      profiles: await readProfileFile(profile),
      timeScale: 0,
      announce: false,
    });
    const actionWorld: World = {
      emu: app.emu,
      sim,
      attacker: { url: "", requests: 0, close: async () => {} },
      mainSha: "",
      close: () => sim.close(),
    };
    try {
      bulkRepo(app);
      const number = app.emu.openPullRequest("acme", "support-bot", {
        base: "main",
        head: "rollout-30",
        user: "dev",
      }).number;
      const pinned = app.headSha(number);
      const run = await runAction(actionWorld, { payload: pullRequestPayload(actionWorld, number) });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.outputs.verdict).toBe("pass");
      expect(run.outputs["rollback-rehearsal"]).toBe("pass");
      expect(checkRunsOn(actionWorld, pinned, REHEARSAL)[0]?.conclusion).toBe("success");

      await app.label(number, "rollout:30", "maintainer");
      const event = app.pullRequestEvent("labeled", number, {
        label: { name: "rollout:30" },
        sender: { login: "maintainer", id: 5000, type: "User" },
      });
      expect((await app.deliver("pull_request", event)).status).toBe(200);

      const rollout = [...app.emu.state.checkRuns.values()].filter((c) => c.name === "modelgate/rollout");
      const decision = [...app.emu.state.comments.values()].find(
        (c) => c.issueNumber === number && c.body.includes("<!-- modelgate:rollout "),
      );
      expect(rollout.at(-1)?.conclusion, decision?.body).toBe("success");
      expect(rollout.at(-1)?.output.title).toMatch(/^Promoted to 30 %/);
      // The rehearsal counted, from the check run the workflow token wrote.
      expect(decision?.body).toContain(
        `| Rollback rehearsal | ✅ pass | Verdict pass of \`gpt-5.4\` for \`${pinned.slice(0, 7)}\` (check run by`,
      );
      expect(decision?.body).toContain(
        `| Eval evidence | ✅ pass | Verdict pass for \`${pinned.slice(0, 7)}\` (comment by`,
      );
    } finally {
      await actionWorld.close();
    }
  }, 60_000);
});

describe("rollback rehearsal parts (in process)", () => {
  function memory(label: string, files: Record<string, string>): TreeSource {
    return {
      label,
      readFiles: async (paths) => new Map(paths.map((p) => [p, files[p] ?? null])),
      listFiles: async () => Object.keys(files),
    };
  }

  function prepared(baseLlm: string, headLlm: string, file = "config/llm.yaml"): PreparedPull {
    const config = defaultConfig();
    config.llm.config = file;
    const prompt = { "prompts/qna.md": "Answer." };
    return {
      base: memory("base 1111111", { [file]: baseLlm, ...prompt }),
      head: memory("head 2222222", { [file]: headLlm, ...prompt }),
      baseSha: "1".repeat(40),
      config,
      classification: {
        categories: ["model"],
        mixed: false,
        files: [{ path: file, previous_path: null, status: "modified", categories: ["model"], keys: [] }],
        warnings: [],
      },
      warnings: [],
      all: false,
      relevant: true,
      changedFiles: 1,
      truncated: false,
    };
  }

  const yaml = (share: number, rollback = "gpt-5.4") =>
    [
      "# the app's LLM config",
      "llm:",
      "  default_model: gpt-5.4",
      "  routes:",
      "    agentic_coding: { model: gpt-5.5-2026-04-23, timeout_ms: 300000 }",
      "    general_qna: gpt-5.4",
      "models:",
      "  candidate: gpt-5.5",
      `  rollback: ${rollback}`,
      "rollout:",
      `  candidate_percent: ${share}`,
      "",
    ].join("\n");

  it("plans the rehearsal of a rollout PR: the head with the App's rollback edit", async () => {
    const plan = await planRehearsal(prepared(yaml(10), yaml(30)));
    if (plan.kind !== "run") throw new Error(`expected a run, got ${JSON.stringify(plan)}`);
    expect(plan.share).toEqual({ from: "10", to: "30" });
    expect(plan.edit.edits.map((e) => [e.key, e.to])).toEqual([
      ["rollout.candidate_percent", 0],
      ["llm.routes.agentic_coding.model", "gpt-5.4"],
    ]);
    const text = (await plan.head.readFiles(["config/llm.yaml"])).get("config/llm.yaml") ?? "";
    expect(text).toContain("# the app's LLM config");
    expect(text).toContain("model: gpt-5.4");
    expect(text).toContain("candidate_percent: 0");
    // Everything else is the head's.
    expect((await plan.head.readFiles(["prompts/qna.md"])).get("prompts/qna.md")).toBe("Answer.");
    expect(plan.head.label).toBe("head 2222222 with the rollback config");
    expect(plan.base.label).toBe("base 1111111");
    expect(plan.classification.files).toEqual([
      expect.objectContaining({ path: "config/llm.yaml", categories: ["model"] }),
    ]);
  });

  it("plans nothing without a share change or a rollback model, and an error when the edit fails", async () => {
    expect(await planRehearsal(prepared(yaml(30), yaml(30)))).toMatchObject({
      kind: "none",
      reason: "not a rollout PR: rollout.candidate_percent did not change",
    });
    const noRollback = yaml(30).replace("  rollback: gpt-5.4\n", "");
    expect(await planRehearsal(prepared(yaml(10), noRollback))).toMatchObject({ kind: "none" });
    expect(await planRehearsal(prepared(yaml(10), yaml(30, "[5]")))).toMatchObject({
      kind: "error",
      share: { from: "10", to: "30" },
      message: expect.stringContaining("models.rollback: expected a model ID string"),
    });
    // An untouched LLM config is not even read.
    const untouched = prepared(yaml(10), yaml(30));
    untouched.classification.files = [];
    expect(await planRehearsal(untouched)).toMatchObject({
      kind: "none",
      reason: "not a rollout PR: config/llm.yaml did not change",
    });
    // A base without the file (the first rollout PR adds it): from 0 %.
    const added = prepared(yaml(10), yaml(10));
    added.base = memory("base 1111111", {});
    expect(await planRehearsal(added)).toMatchObject({ kind: "run", share: { from: "0", to: "10" } });
  });

  it("overrides one file of a tree and lists it even when the tree lacks it", async () => {
    const source = withFileOverride(memory("head", { a: "A", b: "B" }), "c", "C");
    expect([...(await source.readFiles(["a", "c", "x"]))]).toEqual([
      ["a", "A"],
      ["c", "C"],
      ["x", null],
    ]);
    expect(await source.listFiles()).toEqual(["a", "b", "c"]);
    expect(await withFileOverride(memory("h", { a: "A" }), "a", "Z").listFiles()).toEqual(["a"]);
  });

  it("puts the section before the eval's evidence block, within the size limit", () => {
    const evidence = '<!-- modelgate:evidence {"verdict":"pass"} -->';
    let asked = 0;
    const body = commentWithRehearsal(
      (maxChars) => {
        asked = maxChars;
        return `head\n\n${"x".repeat(maxChars - 200)}\n\n${evidence}\n`;
      },
      "#### Rollback rehearsal\n\n**PASS**",
      1000,
    );
    expect(asked).toBeLessThan(1000 - "#### Rollback rehearsal\n\n**PASS**".length);
    expect(body.length).toBeLessThanOrEqual(1000);
    expect(body.endsWith(`#### Rollback rehearsal\n\n**PASS**\n\n${evidence}\n`)).toBe(true);
    expect(commentWithRehearsal(() => "plain\n", undefined)).toBe("plain\n");
    expect(rehearsalResultFile("/tmp/rt/modelgate-result.json")).toBe(
      "/tmp/rt/modelgate-result-rollback-rehearsal.json",
    );
    expect(rehearsalResultFile("/tmp/r.d/out")).toBe("/tmp/r.d/out-rollback-rehearsal.json");
  });
});
