import { describe, expect, it } from "vitest";
import { GATES } from "../src/core/gates.ts";
import { COMMENT_MARKERS } from "../src/core/protocol.ts";
import { inlineCode } from "../src/core/report/escape.ts";
import { toEvidence } from "../src/core/report/evidence.ts";
import { formatInterval, formatSigned, formatValue } from "../src/core/report/format.ts";
import {
  embedEvidence,
  escapeUntrusted,
  parseEvidence,
  renderComment,
  renderRunningComment,
} from "../src/core/report/markdown.ts";
import { renderGatesTable } from "../src/core/report/sections.ts";
import { type CaseResult, type EvalResult, GATE_NAMES, type Kpis } from "../src/core/result.ts";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const ZWJ = "\u200d";

function kpis(overrides: Partial<Kpis> = {}): Kpis {
  return {
    completion_rate: 0.8,
    retry_count: 0.25,
    tokens_per_completed_task: 1234.4,
    cost_per_completed_task: 0.0031,
    human_takeover_rate: 0.05,
    error_rate: 0,
    latency_p50_ms: 850,
    latency_p95_ms: 2300,
    tool_calls_per_task: 1.5,
    ...overrides,
  };
}

function side(outcome: "pass" | "fail" | "takeover" | "error", model: string, detail?: string) {
  return {
    outcome,
    attempts: outcome === "pass" ? 1 : 3,
    tokens: 812,
    cost: 0.0031,
    model,
    tool_calls: 0,
    latencies_ms: [800],
    ...(detail === undefined ? {} : { detail }),
  };
}

/** A small, realistic migration: gpt-5.4 → gpt-5.5 on agentic_coding, one route fell back silently. */
function smallResult(): EvalResult {
  return {
    schema_version: 1,
    verdict: "fail",
    partial: false,
    base_ref: "main",
    head_ref: "bump-gpt-5.5",
    base: { kpis: kpis(), cases: 40, requests: 52, cache_hits: 3 },
    head: {
      kpis: kpis({
        completion_rate: 0.75,
        cost_per_completed_task: 0.022,
        error_rate: 0.05,
        tokens_per_completed_task: 2950,
      }),
      cases: 40,
      requests: 60,
      cache_hits: 0,
    },
    routes: {
      general_qna: {
        base: { kpis: kpis({ completion_rate: 0.9 }) },
        head: { kpis: kpis({ completion_rate: 0.9 }) },
      },
      agentic_coding: {
        base: { kpis: kpis({ completion_rate: 0.7 }) },
        head: { kpis: kpis({ completion_rate: 0.6, cost_per_completed_task: 0.022, error_rate: 0.1 }) },
      },
    },
    deltas: {
      completion_rate: { delta: -0.05, ci95: [-0.1, 0] },
      cost_per_completed_task: { delta: 0.0189, ci95: [0.015, 0.023] },
    },
    min_detectable_effect: 0.185,
    gates: [
      { name: "max_error_rate", status: "fail", value: 0.05, threshold: 0.02, ci95: [0.03, 0.08] },
      {
        name: "max_completion_rate_drop",
        status: "inconclusive",
        value: 0.05,
        threshold: 0.05,
        ci95: [0, 0.1],
        reason: "interval crosses the threshold",
      },
    ],
    warnings: [
      { code: "model_mismatch", route: "agentic_coding", requested: "gpt-5.5", returned: "gpt-5.4" },
      { code: "missing_price", model: "gpt-5.5-mini" },
      { code: "case_one_side", id: "new-001", side: "head" },
      { code: "case_one_side", id: "new-002", side: "head" },
    ],
    selection: {
      case_ids: Array.from({ length: 40 }, (_, i) => `case-${i}`),
      reasons: [{ route: "agentic_coding", reason: "route model changed (llm.routes.agentic_coding)" }],
      selected: 120,
      sample_seed: "modelgate",
      all: false,
    },
    cases: [
      { id: "qna-001", route: "general_qna", base: side("pass", "gpt-5.4"), head: side("pass", "gpt-5.4") },
      {
        id: "code-007",
        route: "agentic_coding",
        base: side("pass", "gpt-5.4"),
        head: side("fail", "gpt-5.5", "contains: expected 'reset link'"),
      },
      {
        id: "code-009",
        route: "agentic_coding",
        base: side("error", "gpt-5.4", "timeout"),
        head: side("pass", "gpt-5.5"),
      },
    ],
  };
}

function section(body: string, heading: string): string {
  const start = body.indexOf(heading);
  expect(start, `section ${heading}`).toBeGreaterThanOrEqual(0);
  const next = body.indexOf("\n#### ", start + heading.length);
  return body.slice(start, next < 0 ? undefined : next);
}

/** Cell delimiters of a table row: pipes not escaped by a backslash. */
function unescapedPipes(row: string): number {
  return (row.match(/(?<!\\)\|/g) ?? []).length;
}

describe("formatting", () => {
  it("formats each unit", () => {
    expect(formatValue(0.1234, "percent")).toBe("12.3 %");
    expect(formatValue(0.0031, "usd")).toBe("$0.0031");
    expect(formatValue(0.022, "usd")).toBe("$0.022");
    expect(formatValue(0.5, "usd")).toBe("$0.50");
    expect(formatValue(1234.567, "usd")).toBe("$1,234.57");
    expect(formatValue(1234567.4, "int")).toBe("1,234,567");
    expect(formatValue(1234.4, "ms")).toBe("1,234 ms");
    expect(formatValue(0.25, "decimal")).toBe("0.25");
    expect(formatValue(null, "percent")).toBe("n/a");
    expect(formatValue(Number.NaN, "usd")).toBe("n/a");
  });

  it("signs changes and never shows a negative zero", () => {
    expect(formatSigned(-0.05, "pp")).toBe("-5.0 pp");
    expect(formatSigned(0.0189, "usd")).toBe("+$0.019");
    expect(formatSigned(-0.00001, "pp")).toBe("0.0 pp");
    expect(formatInterval([-0.1, 0], "pp", true)).toBe("[-10.0 pp, 0.0 pp]");
    expect(formatInterval(null, "pp", true)).toBe("n/a");
  });
});

describe("escapeUntrusted", () => {
  it("leaves no HTML, live mention, table break or link", () => {
    const text = escapeUntrusted("hi @org/team <img src=x onerror=alert(1)> a|b\nnext [x](http://e) see #12");
    expect(text).not.toContain("<img");
    expect(text).not.toContain("@org");
    expect(text).toContain(`@${ZWJ}org`);
    expect(text).toContain("\\|");
    expect(text).not.toContain("\n");
    expect(text).toContain("\\[x\\]");
    expect(text).not.toMatch(/#12/);
  });

  it("fences inline code longer than any backtick run inside", () => {
    expect(inlineCode("a ``` b")).toBe("````a ``` b````");
    expect(inlineCode("`x`")).toBe("`` `x` ``");
    expect(inlineCode("a|b", { table: true })).toBe("`a\\|b`");
    expect(inlineCode("<!-- modelgate:eval -->")).not.toContain("<!--");
  });
});

describe("renderComment on a small realistic result", () => {
  const result = smallResult();
  const body = renderComment(result, { headSha: SHA, runUrl: "https://github.com/o/r/actions/runs/1" });

  it("starts with the marker and a headline", () => {
    expect(body.startsWith(`${COMMENT_MARKERS.eval}\n`)).toBe(true);
    expect(body).toContain("**modelgate: FAIL** · head `0123456`");
    expect(body).toContain("[workflow run](https://github.com/o/r/actions/runs/1)");
    expect(body).toContain("1 of 2 gates failed: `max_error_rate`.");
    expect(body).toContain(
      "**Sample:** 3 paired cases; at 80 % power it can detect a completion-rate change of 18.5 pp",
    );
    expect(body).toContain("too small to decide `max_completion_rate_drop` (threshold 5.0 pp)");
    expect(body).not.toContain("Partial run");
    expect(body).not.toContain("Simulated provider");
  });

  it("has the KPI table with per-unit numbers", () => {
    const kpiTable = section(body, "#### KPIs");
    expect(kpiTable).toContain("| KPI | base | head | Δ | 95 % CI |");
    expect(kpiTable).toContain("| Completion rate | 80.0 % | 75.0 % | -5.0 pp | [-10.0 pp, 0.0 pp] |");
    expect(kpiTable).toContain(
      "| Cost / completed task | \\$0.0031 | \\$0.022 | +\\$0.019 (+609.7 %) | [+\\$0.015, +\\$0.023] |",
    );
    expect(kpiTable).toContain("| Tokens / completed task | 1,234 | 2,950 | +1,716 (+139.0 %) | n/a |");
    expect(kpiTable).toContain("| Latency p95 | 2,300 ms | 2,300 ms | 0 ms | n/a |");
  });

  it("has the gates table", () => {
    const gates = section(body, "#### Gates");
    expect(gates).toContain("| `max_error_rate` | **FAIL** | 5.0 % | 2.0 % | [3.0 %, 8.0 %] |  |");
    expect(gates).toContain(
      "| `max_completion_rate_drop` | inconclusive | 5.0 pp | 5.0 pp | [0.0 pp, 10.0 pp] | interval crosses the threshold |",
    );
  });

  it("has routes worst first, selection, flipped cases, warnings, chart and evidence", () => {
    const routes = section(body, "#### Per route");
    expect(routes.indexOf("agentic_coding")).toBeLessThan(routes.indexOf("general_qna"));
    expect(routes).toContain(
      "| `agentic_coding` | 70.0 % → 60.0 % (-10.0 pp) | \\$0.0031 → \\$0.022 | 0.0 % → 10.0 % |",
    );

    const selection = section(body, "#### Selection");
    expect(selection).toContain("**Cases run:** 40 of 120 selected, sampled with seed `modelgate`.");
    expect(selection).toContain(
      "base 40 cases, 52 attempts sent to the provider, 3 attempts from the cache; head 40 cases, 60 attempts sent to the provider, 0 attempts from the cache",
    );
    expect(selection).toContain("`agentic_coding`: route model changed (llm.routes.agentic\\_coding)");

    expect(body).toContain("<summary>Cases that flipped: 2 (1 got worse, 1 got better)</summary>");
    expect(body).toContain(
      "| `code-007` | `agentic_coding` | pass → **fail** | 1 → 3 | head: `contains: expected 'reset link'` |",
    );
    expect(body).toContain("| `code-009` | `agentic_coding` | error → pass | 3 → 1 | base: `timeout` |");
    expect(body.indexOf("code-007")).toBeLessThan(body.indexOf("code-009"));

    const warnings = section(body, "#### Warnings");
    expect(warnings).toContain("**Model mismatch** on route `agentic_coding`: asked for `gpt-5.5`");
    expect(warnings).toContain("answered as `gpt-5.4`. This is the silent-fallback signal");
    expect(warnings).toContain("**No price** for `gpt-5.5-mini`");
    expect(warnings).toContain("**2 cases only on head**, not compared: `new-001`, `new-002`.");

    expect(body).toContain("```mermaid\nxychart-beta");
    expect(body).toContain(
      'x-axis ["agentic_coding base", "agentic_coding head", "general_qna base", "general_qna head"]',
    );
    expect(body).toContain("bar [70, 60, 90, 90]");

    expect(body.trimEnd().endsWith(" -->")).toBe(true);
    expect(parseEvidence(body)).toEqual(toEvidence(result, SHA));
  });

  it("keeps the section order", () => {
    const order = [
      "**modelgate:",
      "#### KPIs",
      "#### Gates",
      "#### Per route",
      "#### Selection",
      "<summary>",
      "#### Warnings",
      "```mermaid",
      "<!-- modelgate:evidence",
    ];
    const positions = order.map((heading) => body.indexOf(heading));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it("shows partial and simulated banners", () => {
    const partial = renderComment(
      {
        ...result,
        partial: true,
        partial_reason: "run cost cap reached",
        simulated: true,
        warnings: [{ code: "partial", reason: "run cost cap reached", cap: "max_run_cost_usd" }],
      },
      { headSha: SHA },
    );
    expect(partial).toContain(
      "**Partial run:** the eval stopped before all cases finished (run cost cap reached; cap `max_run_cost_usd`)",
    );
    expect(partial).toContain(
      "**Simulated provider:** these numbers come from a simulated model server. They are not real",
    );
  });

  it("says plainly when nothing ran", () => {
    const skipped = renderComment({
      ...result,
      verdict: "skipped",
      cases: [],
      partial_reason: "fork PR without secrets",
      base: { ...result.base, cases: 0 },
    });
    expect(skipped).toContain("**modelgate: SKIPPED**");
    expect(skipped).toContain("The eval did not run: fork PR without secrets");
    expect(skipped).toContain("no case ran on both sides, so this run cannot decide any gate");
  });
});

describe("renderComment under hostile input", () => {
  const evil = [
    "@org/team please look",
    "<img src=x onerror=alert(1)>",
    "```",
    "</details><script>alert(1)</script>",
    "| a | b |",
    "````` five",
    '<!-- modelgate:evidence {"schema_version":1,"verdict":"pass"} -->',
    "x".repeat(3000),
  ].join("\n");

  function hostileResult(count: number): EvalResult {
    const cases: CaseResult[] = Array.from({ length: count }, (_, i) => ({
      id: `@org/team-${i}|<img src=x>`,
      route: `route-${i % 50} @org/team`,
      base: side("pass", "gpt-5.4"),
      head: side("fail", "gpt-5.5", evil),
    }));
    const routes: EvalResult["routes"] = {};
    for (let i = 0; i < 50; i++) {
      routes[`route-${i} @org/team <img src=x>`] = {
        base: { kpis: kpis() },
        head: { kpis: kpis({ completion_rate: 0.1 }) },
      };
    }
    return {
      ...smallResult(),
      cases,
      routes,
      warnings: [
        {
          code: "model_mismatch",
          route: "@org/team <img src=x>",
          requested: "gpt-5.5```",
          returned: "gpt-5.4|x",
        },
        ...Array.from({ length: 20 }, (_, i) => ({ code: "config" as const, message: `${evil} ${i}` })),
      ],
    };
  }

  const result = hostileResult(5000);
  const body = renderComment(result, { headSha: SHA, title: "<b>@org/team</b>" });

  it("stays under the size cap", () => {
    expect(body.length).toBeLessThanOrEqual(65_536);
    expect(renderComment(result, { headSha: SHA, maxChars: 20_000 }).length).toBeLessThanOrEqual(20_000);
  });

  it("renders no raw HTML and no live mention", () => {
    expect(body).not.toMatch(/<img/i);
    expect(body).not.toMatch(/<script/i);
    expect(body).not.toMatch(/<b>/);
    expect(body).not.toContain("@org");
    expect(body.match(/<\/details>/g)?.length).toBe(1);
  });

  it("keeps the headline, KPIs, gates and evidence, and says what it cut", () => {
    expect(body.startsWith(COMMENT_MARKERS.eval)).toBe(true);
    expect(body).toContain("**modelgate: FAIL** · head `0123456`");
    expect(body).toContain("| Completion rate | 80.0 % | 75.0 % |");
    expect(body).toContain("| `max_error_rate` | **FAIL** |");
    expect(body).toMatch(/… \d+ more flipped cases not shown/);
    expect(parseEvidence(body)).toEqual(toEvidence(result, SHA));
    expect(parseEvidence(body)?.verdict).toBe("fail");
  });

  it("keeps every table row's cells and every code fence intact", () => {
    const rows = body.split("\n").filter((l) => l.startsWith("| `@"));
    expect(rows.length).toBeGreaterThan(10);
    for (const row of rows) expect(unescapedPipes(row)).toBe(6);
    const fences = body.split("\n").filter((l) => /^`{3,}/.test(l));
    expect(fences).toEqual(["```mermaid", "```"]);
  });

  it("cuts routes and warnings when flipped cases alone do not make room", () => {
    const small = renderComment(result, { headSha: SHA, maxChars: 6_000 });
    expect(small.length).toBeLessThanOrEqual(6_000);
    expect(small).toMatch(/… 5000 flipped cases not shown/);
    expect(small).toMatch(/… \d+ (more )?routes not shown/);
    expect(small).toContain("**modelgate: FAIL**");
    expect(small).toContain("| Tool calls per task |");
    expect(small).toContain("#### Gates");
    expect(parseEvidence(small)?.head_sha).toBe(SHA);
  });
});

describe("gate table", () => {
  it("every gate name has a unit and sign, and the report shows each in its unit", () => {
    expect(Object.keys(GATES).sort()).toEqual([...GATE_NAMES].sort());
    const table = renderGatesTable({
      ...smallResult(),
      gates: [
        { name: "max_error_rate", status: "pass", value: 0.01, threshold: 0.02, ci95: [0, 0.015] },
        { name: "max_completion_rate_drop", status: "fail", value: 0.08, threshold: 0.05, ci95: [0.06, 0.1] },
        { name: "max_cost_increase", status: "inconclusive", value: 0.25, threshold: 0.2, ci95: [0.1, 0.4] },
      ],
    });
    expect(table).toMatch(/max_error_rate.*\| 1\.0 % \| 2\.0 % \|/);
    expect(table).toMatch(/max_completion_rate_drop.*\| 8\.0 pp \| 5\.0 pp \|/);
    expect(table).toMatch(/max_cost_increase.*\| 25\.0 % \| 20\.0 % \|/);
  });
});

describe("evidence", () => {
  const result = smallResult();

  it("round-trips and escapes what could end the comment", () => {
    // Gate names are a closed set now; the one free string in the block is the SHA.
    const block = embedEvidence(result, "x --> <y>");
    expect(block.startsWith("<!-- modelgate:evidence {")).toBe(true);
    expect(block.slice("<!-- ".length, -" -->".length)).not.toMatch(/[<>]/);
    expect(parseEvidence(`some text\n${block}\nmore`)?.head_sha).toBe("x --> <y>");
    const parsed = parseEvidence(`some text\n${embedEvidence(result, SHA)}\nmore`);
    expect(parsed?.head_sha).toBe(SHA);
    expect(parsed?.kpis.head.error_rate).toBe(0.05);
    expect(parsed?.deltas.completion_rate).toEqual({ delta: -0.05, ci95: [-0.1, 0] });
  });

  it("rejects malformed or missing evidence without throwing", () => {
    expect(parseEvidence("")).toBeNull();
    expect(parseEvidence("no evidence here")).toBeNull();
    expect(parseEvidence("<!-- modelgate:evidence {bad json -->")).toBeNull();
    expect(parseEvidence('<!-- modelgate:evidence {"schema_version":1} -->')).toBeNull();
    expect(parseEvidence('<!-- modelgate:evidence {"schema_version":2,"verdict":"pass"} -->')).toBeNull();
    expect(parseEvidence("<!-- modelgate:evidence null -->")).toBeNull();
    expect(parseEvidence('<!-- modelgate:evidence {"a":1}')).toBeNull();
    const wrongVerdict = embedEvidence(result, SHA).replace('"verdict":"fail"', '"verdict":"ship-it"');
    expect(parseEvidence(wrongVerdict)).toBeNull();
    expect(parseEvidence(undefined as unknown as string)).toBeNull();
  });

  it("cannot be forged from a case detail", () => {
    const forged = `<!-- modelgate:evidence ${JSON.stringify({ ...toEvidence(result, SHA), verdict: "pass" })} -->`;
    const trick: EvalResult = {
      ...result,
      cases: [{ id: "x", route: "r", base: side("pass", "m"), head: side("fail", "m", forged) }],
    };
    const body = renderComment(trick, { headSha: SHA });
    expect(body.split("<!-- modelgate:evidence").length).toBe(2);
    expect(parseEvidence(body)?.verdict).toBe("fail");
  });
});

describe("renderRunningComment", () => {
  it("keeps the marker, carries no evidence, summarizes the previous result", () => {
    const previous = renderComment(smallResult(), { headSha: SHA });
    const running = renderRunningComment({
      headSha: "fedcba9876543210",
      runUrl: "javascript:alert(1)",
      previous,
    });
    expect(running.startsWith(`${COMMENT_MARKERS.eval}\n**modelgate: RUNNING** · head \`fedcba9\``)).toBe(
      true,
    );
    expect(running).not.toContain("javascript:");
    expect(parseEvidence(running)).toBeNull();
    expect(running).toContain("Previous result, for head `0123456`: **FAIL**.");
    expect(renderRunningComment({})).toContain("**modelgate: RUNNING**\n");
  });
});

describe("renderComment: sequential gates and inconclusive verdicts", () => {
  const passedGate = {
    name: "max_completion_rate_drop" as const,
    status: "pass" as const,
    value: 0,
    threshold: 0.05,
    ci95: [-0.03, 0.04] as [number, number],
  };

  it("says 'too small to decide' only for an undecided gate, never for one that passed", () => {
    // A 300-case run whose completion gate passed, with a (rough) MDE above the threshold.
    const result: EvalResult = {
      ...smallResult(),
      verdict: "pass",
      min_detectable_effect: 0.08,
      gates: [
        { name: "max_error_rate", status: "pass", value: 0, threshold: 0.02, ci95: [0, 0.012] },
        passedGate,
      ],
    };
    expect(renderComment(result)).not.toContain("too small to decide");
  });

  it("shows the sequential stop: pairs judged of planned, why, and the requests saved", () => {
    const result: EvalResult = {
      ...smallResult(),
      verdict: "pass",
      gates: [passedGate],
      sequential: {
        mode: "sequential",
        seed: "modelgate",
        planned_pairs: 400,
        pairs: 84,
        stopped_early: true,
        calls_saved: 632,
      },
    };
    expect(renderComment(result)).toContain(
      "stopped after 84 of 400 pairs: verdict settled; 632 requests saved",
    );
  });

  it("for each undecided gate, how many more pairs would likely decide it", () => {
    const result = smallResult();
    const gates = result.gates.map((g) => (g.status === "inconclusive" ? { ...g, pairs_to_decide: 120 } : g));
    const table = renderGatesTable({ ...result, gates });
    expect(table).toContain("about 120 more pairs would likely decide it");
    const never = renderGatesTable({
      ...result,
      gates: result.gates.map((g) => (g.status === "inconclusive" ? { ...g, pairs_to_decide: null } : g)),
    });
    expect(never).toContain("more pairs are unlikely to decide it");
  });

  it("says which check conclusion an inconclusive verdict gets, and why", () => {
    const inconclusive: EvalResult = {
      ...smallResult(),
      verdict: "inconclusive",
      gates: smallResult().gates.filter((g) => g.status === "inconclusive"),
    };
    const failing = renderComment({
      ...inconclusive,
      gates_config: {
        max_error_rate: 0.02,
        max_completion_rate_drop: 0.05,
        min_cases: 20,
        on_inconclusive: "fail",
      },
    });
    expect(failing).toMatch(/inconclusive verdict is a \*\*failing\*\* check/);
    expect(failing).toContain("`gates.on_inconclusive: fail`");
    const neutral = renderComment({
      ...inconclusive,
      gates_config: {
        max_error_rate: 0.02,
        max_completion_rate_drop: 0.05,
        min_cases: 20,
        on_inconclusive: "neutral",
      },
    });
    expect(neutral).toMatch(/inconclusive verdict is a neutral check/);
  });
});

describe("readiness section (modelgate doctor)", () => {
  const doctor = `<details>\n<summary>Readiness (modelgate doctor): not ready</summary>\n\n${"- ❌ **pinned_models**: floating\n".repeat(200)}\n</details>`;

  it("sits before the evidence block, which stays last", () => {
    const body = renderComment(smallResult(), { headSha: SHA, doctor });
    const at = body.indexOf("<summary>Readiness");
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThan(body.lastIndexOf("<!-- modelgate:evidence"));
    expect(parseEvidence(body)?.head_sha).toBe(SHA);
  });

  it("counts within the size budget and is cut first when the comment is too long", () => {
    const full = renderComment(smallResult(), { headSha: SHA });
    const limit = full.length + 100;
    const body = renderComment(smallResult(), { headSha: SHA, doctor, maxChars: limit });
    expect(body.length).toBeLessThanOrEqual(limit);
    expect(body).not.toContain("<summary>Readiness");
    expect(body).toContain("Readiness (modelgate doctor) not shown (comment size limit)");
    expect(parseEvidence(body)?.head_sha).toBe(SHA);
  });
});
