import { describe, expect, it } from "vitest";
import { caseSchema, type LocatedCase } from "../src/core/cases/schema.ts";
import { defaultConfig } from "../src/core/config/load.ts";
import { readLlmConfig } from "../src/core/llm-config.ts";
import { type SelectionInput, selectCases } from "../src/core/selection.ts";

/** Which cases a change selects, and why (pure: LLM configs and cases in, selection out). */

const config = defaultConfig();
const ROLLOUT = { key: config.rollout.key, candidateKey: config.rollout.candidate_key };

interface Llm {
  llm: {
    default_model: string;
    routes: Record<string, string | Record<string, unknown>>;
    max_output_tokens: number;
    timeout_ms: number;
    retry_limit: number;
  };
  models: Record<string, string>;
  rollout?: { candidate_percent?: number | string };
}

function base(): Llm {
  return {
    llm: {
      default_model: "gpt-5.4",
      routes: { agentic_coding: "gpt-5.5", general_qna: "gpt-5.4" },
      max_output_tokens: 4096,
      timeout_ms: 120000,
      retry_limit: 2,
    },
    models: { default: "gpt-5.4", candidate: "gpt-5.5", rollback: "gpt-5.4" },
    rollout: { candidate_percent: 10 },
  };
}

function llm(edit: (doc: Llm) => void = () => {}) {
  const doc = base();
  edit(doc);
  return readLlmConfig(JSON.stringify(doc), "config/llm.json", config);
}

function located(id: string, route: string, prompt?: string): LocatedCase {
  return {
    case: caseSchema.parse({ id, route, input: "hi", ...(prompt ? { prompt } : {}) }),
    file: "evals/cases.jsonl",
    line: 1,
  };
}

/** Two cases per route; `triage` has no route of its own (it runs on the default model). */
const CASES = [
  located("code-1", "agentic_coding", "prompts/coding.md"),
  located("code-2", "agentic_coding", "prompts/coding.md"),
  located("qna-1", "general_qna", "prompts/qna.md"),
  located("qna-2", "general_qna", "prompts/qna.md"),
  located("triage-1", "triage", "prompts/triage.md"),
  located("triage-2", "triage", "prompts/triage.md"),
];

function select(
  head: ReturnType<typeof llm>,
  options: Partial<SelectionInput> & { baseLlm?: ReturnType<typeof llm> } = {},
) {
  const { baseLlm, ...rest } = options;
  return selectCases({
    cases: CASES,
    base: baseLlm ?? llm(),
    head,
    changedPaths: new Set(["config/llm.json"]),
    all: false,
    maxCases: 200,
    seed: "modelgate",
    rollout: ROLLOUT,
    ...rest,
  });
}

describe("selectCases", () => {
  it("selects the cases of a route whose model changed", () => {
    const selection = select(
      llm((d) => {
        d.llm.routes.general_qna = "gpt-5.5";
      }),
    );
    expect(selection.case_ids).toEqual(["qna-1", "qna-2"]);
    expect(selection.reasons).toEqual([
      { route: "general_qna", reason: "model changed (gpt-5.4 → gpt-5.5)" },
    ]);
    expect(selection.selected).toBe(2);
  });

  it("selects the routes without a model of their own when default_model changes", () => {
    const selection = select(
      llm((d) => {
        d.llm.default_model = "gpt-5.5";
      }),
    );
    expect(selection.case_ids).toEqual(["triage-1", "triage-2"]);
    expect(selection.reasons).toEqual([
      { route: "triage", reason: "default_model changed (gpt-5.4 → gpt-5.5)" },
    ]);
  });

  it("selects every route when a global setting changes, and only the routes it reaches", () => {
    const global = select(
      llm((d) => {
        d.llm.timeout_ms = 60000;
      }),
    );
    expect(global.case_ids).toEqual(CASES.map((c) => c.case.id));
    expect(global.reasons.map((r) => r.reason)).toEqual([
      "global timeout_ms changed (120000 → 60000)",
      "global timeout_ms changed (120000 → 60000)",
      "global timeout_ms changed (120000 → 60000)",
    ]);
    // A route that sets its own value does not see the global one move.
    const own = select(
      llm((d) => {
        d.llm.routes.agentic_coding = { model: "gpt-5.5", timeout_ms: 300000 };
        d.llm.timeout_ms = 60000;
      }),
      {
        baseLlm: llm((d) => {
          d.llm.routes.agentic_coding = { model: "gpt-5.5", timeout_ms: 300000 };
        }),
      },
    );
    expect(own.reasons.map((r) => r.route)).toEqual(["general_qna", "triage"]);
  });

  it("selects the cases whose prompt file changed, once per route and prompt", () => {
    const selection = select(llm(), { changedPaths: new Set(["prompts/qna.md"]) });
    expect(selection.case_ids).toEqual(["qna-1", "qna-2"]);
    expect(selection.reasons).toEqual([{ route: "general_qna", reason: "prompt prompts/qna.md changed" }]);
  });

  it("selects every route on the candidate when only the rollout share changes", () => {
    const selection = select(
      llm((d) => {
        d.rollout = { candidate_percent: 30 };
      }),
    );
    expect(selection.case_ids).toEqual(["code-1", "code-2"]);
    expect(selection.reasons).toEqual([
      {
        route: "agentic_coding",
        reason: "rollout share changed (10 → 30 %): route serves the candidate gpt-5.5",
      },
    ]);
  });

  it("counts a dated snapshot of the candidate, the default model and a missing share as 0 %", () => {
    const selection = select(
      llm((d) => {
        d.llm.routes.agentic_coding = { model: "gpt-5.5-2026-04-23" };
        d.llm.default_model = "gpt-5.5";
        d.rollout = { candidate_percent: 10 };
      }),
      {
        baseLlm: llm((d) => {
          d.llm.routes.agentic_coding = { model: "gpt-5.5-2026-04-23" };
          d.llm.default_model = "gpt-5.5";
          delete d.rollout;
        }),
      },
    );
    expect(selection.case_ids).toEqual(["code-1", "code-2", "triage-1", "triage-2"]);
    expect(selection.reasons).toEqual([
      {
        route: "agentic_coding",
        reason: "rollout share changed (0 → 10 %): route serves the candidate gpt-5.5",
      },
      {
        route: "triage",
        reason: "rollout share changed (0 → 10 %): route serves the candidate gpt-5.5",
      },
    ]);
  });

  it("keeps a route's own change as its reason when the share changes too", () => {
    const selection = select(
      llm((d) => {
        d.llm.routes.general_qna = "gpt-5.5";
        d.rollout = { candidate_percent: 30 };
      }),
    );
    expect(selection.reasons).toEqual([
      {
        route: "agentic_coding",
        reason: "rollout share changed (10 → 30 %): route serves the candidate gpt-5.5",
      },
      { route: "general_qna", reason: "model changed (gpt-5.4 → gpt-5.5)" },
    ]);
  });

  it("treats the same share written differently as unchanged, and needs the rollout keys", () => {
    const sameShare = select(
      llm((d) => {
        d.rollout = { candidate_percent: "10" };
      }),
    );
    expect(sameShare.case_ids).toEqual([]);
    // Without the rollout keys (a caller that does not know them), a share is just a number.
    const shareOnly = selectCases({
      cases: CASES,
      base: llm(),
      head: llm((d) => {
        d.rollout = { candidate_percent: 30 };
      }),
      changedPaths: new Set(["config/llm.json"]),
      all: false,
      maxCases: 200,
      seed: "modelgate",
    });
    expect(shareOnly.case_ids).toEqual([]);
    // No candidate named: nothing to attribute the share to.
    const noCandidate = select(
      llm((d) => {
        d.rollout = { candidate_percent: 30 };
        delete d.models.candidate;
      }),
    );
    expect(noCandidate.case_ids).toEqual([]);
  });

  it("selects nothing when nothing the eval reads changed", () => {
    const selection = select(llm(), { changedPaths: new Set(["README.md"]) });
    expect(selection).toEqual({ case_ids: [], reasons: [], selected: 0, all: false });
  });

  it("samples deterministically below max_cases and says with which seed", () => {
    const head = llm((d) => {
      d.llm.timeout_ms = 1;
    });
    const first = select(head, { maxCases: 3 });
    expect(first.case_ids).toHaveLength(3);
    expect(first.selected).toBe(6);
    expect(first.sample_seed).toBe("modelgate");
    expect(select(head, { maxCases: 3 }).case_ids).toEqual(first.case_ids);
  });
});
