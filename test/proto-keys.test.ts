import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeExampleRepo } from "../examples/make-example-repo.ts";
import { parseCaseFile } from "../src/core/cases/parse.ts";
import { renderTemplate } from "../src/core/cases/template.ts";
import { parseConfig } from "../src/core/config/load.ts";
import { UserError } from "../src/core/errors.ts";
import { parseLlmDocument } from "../src/core/llm-config.ts";
import { priceOf } from "../src/core/pricing.ts";
import type { EvalResult } from "../src/core/result.ts";
import { readShare, setShare } from "../src/core/rollout/llm-edit.ts";
import type { Simulator, SimulatorProfiles } from "../src/simulator/index.ts";
import { buildCatalog, loadProfiles } from "../src/simulator/profiles.ts";
import { type CliOutcome, ROOT, runCliCaptured } from "./support/cli.ts";
import { commitFiles, git, tempDir } from "./support/git.ts";
import { startExampleSimulator } from "./support/simulator.ts";

/**
 * Names from repository text that are also properties of `Object.prototype`. A lookup such as
 * `routes[name]` on a plain object finds the prototype's member instead of "missing", so every one
 * of these, used as a route name or a model ID, must behave exactly like an ordinary name: the
 * full eval (CLI, simulator over HTTP, real git repo) and classify, end to end.
 */
const PROTO_NAMES = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"] as const;

const simulators: Simulator[] = [];
afterEach(async () => {
  await Promise.all(simulators.splice(0).map((s) => s.close()));
});

async function simulator(overrides?: Partial<SimulatorProfiles>): Promise<Simulator> {
  const sim = await startExampleSimulator(overrides);
  simulators.push(sim);
  return sim;
}

const cli = runCliCaptured;

async function evalRun(repo: string, sim: Simulator): Promise<CliOutcome & { result: EvalResult }> {
  const out = join(tempDir(), "result.json");
  const run = await cli(
    ["eval", "--repo", repo, "--base", "main", "--head", "pr", "--out", out, "--no-cache"],
    { OPENAI_BASE_URL: sim.url, OPENAI_API_KEY: "sk-test" },
  );
  const result = existsSync(out) ? (JSON.parse(readFileSync(out, "utf8")) as EvalResult) : undefined;
  if (!result) throw new Error(`no result file (exit ${run.code}): ${run.stderr}`);
  return { ...run, result };
}

const BASE = join(ROOT, "examples/acme-support/base");
const baseLlm = (): LlmDoc => JSON.parse(readFileSync(join(BASE, "config/llm.json"), "utf8")) as LlmDoc;
interface LlmDoc {
  llm: { routes: Record<string, unknown> };
}

/** The example with `agentic_coding` renamed to `route` in the config and the cases. */
function routeRepo(route: string, headModel: string): string {
  const dir = makeExampleRepo(tempDir()).dir;
  const llm = (model: string) => {
    const doc = baseLlm();
    // JSON text, not an object literal: `{ __proto__: x }` in code would set the prototype.
    return JSON.stringify(doc, null, 2).replace(
      /"routes": \{[^}]*\}/,
      `"routes": { ${JSON.stringify(route)}: ${JSON.stringify(model)}, "general_qna": "gpt-5.4" }`,
    );
  };
  const coding = readFileSync(join(BASE, "evals/coding.jsonl"), "utf8").replaceAll(
    '"route": "agentic_coding"',
    `"route": ${JSON.stringify(route)}`,
  );
  commitFiles(dir, { "config/llm.json": llm("gpt-5.4"), "evals/coding.jsonl": coding }, "rename route");
  git(dir, "checkout", "--quiet", "-b", "pr");
  commitFiles(dir, { "config/llm.json": llm(headModel) }, "migrate the route");
  return dir;
}

/** The example whose `agentic_coding` route moves to the model `model`, priced at 10 USD/1M for every kind of token. */
function modelRepo(model: string): string {
  const dir = makeExampleRepo(tempDir()).dir;
  const policy = readFileSync(join(BASE, ".github/modelgate.yml"), "utf8").replace(
    'pricing: # USD per 1M tokens; a model without a price gets cost "n/a" and a warning\n',
    `pricing:\n  ${JSON.stringify(model)}: { input: 10, cached_input: 10, output: 10 }\n`,
  );
  commitFiles(dir, { ".github/modelgate.yml": policy }, "price the new model");
  git(dir, "checkout", "--quiet", "-b", "pr");
  const doc = JSON.stringify(baseLlm(), null, 2).replace(
    '"agentic_coding": "gpt-5.4"',
    `"agentic_coding": ${JSON.stringify(model)}`,
  );
  commitFiles(dir, { "config/llm.json": doc }, "migrate to the new model");
  return dir;
}

/** A simulator that serves `model` as a model that gets every hard task wrong. */
function weakModel(model: string): Partial<SimulatorProfiles> {
  const models = Object.create(null) as NonNullable<SimulatorProfiles["models"]>;
  Object.defineProperty(models, model, {
    value: { quality: 0, tools: { call_rate: 0 } },
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return { models };
}

/** What a run decided, without the route names and the wall-clock latencies. */
function decision(result: EvalResult): unknown {
  return withoutLatency({
    verdict: result.verdict,
    partial: result.partial,
    base: result.base,
    head: result.head,
    gates: result.gates,
    cases: result.cases.map(({ route: _route, ...rest }) => rest),
    warnings: result.warnings,
  });
}

function withoutLatency(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutLatency);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => !key.startsWith("latenc"))
      .map(([key, v]) => [key, withoutLatency(v)]),
  );
}

describe("route names that are Object.prototype members", () => {
  it.each(PROTO_NAMES)("route %s: the eval decides exactly as for an ordinary route name", async (name) => {
    const control = await evalRun(routeRepo("agentic_coding", "gpt-5.5"), await simulator());
    const run = await evalRun(routeRepo(name, "gpt-5.5"), await simulator());
    expect(run.stderr).not.toMatch(/internal error/i);
    expect(run.code).toBe(control.code);
    expect(decision(run.result)).toEqual(decision(control.result));
    expect(run.result.base.requests).toBeGreaterThan(0);
    expect(run.result.selection.reasons.map((r) => r.route)).toEqual([name]);
    expect(Object.keys(run.result.routes)).toEqual([name]);
    const routeKpis = Object.getOwnPropertyDescriptor(run.result.routes, name)?.value;
    expect(withoutLatency(routeKpis)).toEqual(withoutLatency(control.result.routes.agentic_coding));
    const coding = run.result.cases.filter((c) => c.id.startsWith("code-"));
    expect(coding.length).toBeGreaterThan(0);
    for (const c of coding) {
      expect(c.route).toBe(name);
      expect(c.base?.cost).not.toBeNull();
      expect(c.head?.cost).not.toBeNull();
    }
  });

  it.each(PROTO_NAMES)("route %s: classify names the route's key as a model change", async (name) => {
    const repo = routeRepo(name, "gpt-5.5");
    const run = await cli(["classify", "--repo", repo, "--base", "main", "--head", "pr"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.categories).toEqual(["model"]);
    expect(result.files[0].keys).toEqual([{ path: `llm.routes.${name}`, category: "model" }]);
  });
});

describe("model IDs that are Object.prototype members", () => {
  it.each(PROTO_NAMES)("model %s: its price is found and a failing model fails", async (name) => {
    const sim = await simulator(weakModel(name));
    const run = await evalRun(modelRepo(name), sim);
    expect(run.stderr).not.toMatch(/internal error/i);
    expect(run.result.warnings).not.toContainEqual(expect.objectContaining({ code: "missing_price" }));
    expect(run.result.warnings).not.toContainEqual(expect.objectContaining({ code: "unknown_model" }));
    expect(run.result.verdict).toBe("fail");
    expect(run.code).toBe(1);
    const moved = run.result.cases.filter((c) => c.route === "agentic_coding");
    expect(moved.length).toBeGreaterThan(0);
    for (const c of moved) {
      expect(c.head?.model).toBe(name);
      // 10 USD per 1M tokens of every kind: the cost is the token count, priced.
      expect(c.head?.cost).toBeCloseTo(((c.head?.tokens ?? Number.NaN) * 10) / 1_000_000, 9);
    }
    expect(run.result.head.kpis.cost_per_completed_task ?? 0).toBeGreaterThanOrEqual(0);
  });

  it.each(PROTO_NAMES)("model %s: classify reports the route's model change", async (name) => {
    const run = await cli(["classify", "--repo", modelRepo(name), "--base", "main", "--head", "pr"]);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.categories).toEqual(["model"]);
    expect(result.files[0].keys).toEqual([{ path: "llm.routes.agentic_coding", category: "model" }]);
  });
});

describe("other lookups keyed by repo text", () => {
  it("a rollout key through __proto__ is an ordinary key and never touches Object.prototype", () => {
    const doc = parseLlmDocument('{"llm": {}}\n', "config/llm.json");
    const text = setShare(doc, "__proto__.polluted", 10);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(JSON.parse(text)).toEqual(JSON.parse('{"llm": {}, "__proto__": {"polluted": 10}}'));
    expect(readShare(parseLlmDocument(text, "config/llm.json"), "__proto__.polluted")).toBe(10);
    expect(readShare(parseLlmDocument('{"a": 1}', "c.json"), "constructor")).toBe(0);
  });

  it("a policy price for a model named __proto__ survives parsing", () => {
    const config = parseConfig(
      "pricing:\n  __proto__: { input: 1, output: 2 }\n  constructor: { input: 3, output: 4 }\n",
    );
    expect(priceOf("__proto__", config.pricing)).toEqual({ input: 1, output: 2 });
    expect(priceOf("constructor", config.pricing)).toEqual({ input: 3, output: 4 });
    expect(priceOf("toString", config.pricing)).toBeUndefined();
    expect(() => parseConfig("pricing:\n  __proto__: { input: x }\n")).toThrow(/:2 pricing.__proto__/);
  });

  it("case mappings keep __proto__ keys; a missing {{constructor}} var is an error, not a function", () => {
    const line =
      '{"id": "c1", "route": "r", "input": "hi", "vars": {"__proto__": "proto-var"}, "tool_results": {"__proto__": "proto-result"}, "assert": [{"type": "tool_called", "name": "t", "args": {"__proto__": 1}}]}';
    const [located] = parseCaseFile(`${line}\n`, "evals/proto.jsonl");
    const testCase = located?.case;
    if (!testCase) throw new Error("no case");
    const where = { template: "prompts/p.md", caseId: "c1" };
    expect(renderTemplate("{{__proto__}}", testCase.vars, where)).toBe("proto-var");
    expect(() => renderTemplate("{{constructor}}", testCase.vars, where)).toThrow(UserError);
    expect(Object.getOwnPropertyDescriptor(testCase.tool_results, "__proto__")?.value).toBe("proto-result");
    const assertion = testCase.assert[0];
    expect(assertion?.type === "tool_called" && Object.hasOwn(assertion.args ?? {}, "__proto__")).toBe(true);
    expect(() =>
      parseCaseFile('{"id": "c2", "route": "r", "input": "hi", "vars": {"a": [1]}}\n', "evals/bad.jsonl"),
    ).toThrow("evals/bad.jsonl:1 (case c2) vars.a: expected a string, number or boolean");
  });

  it("a simulator profile file serves models named __proto__ and constructor", () => {
    const profiles = loadProfiles(
      "models:\n  __proto__: { quality: 0 }\n  constructor: { quality: 1 }\n",
      "sim.yml",
    );
    const catalog = buildCatalog(profiles);
    expect(catalog.byId.get("__proto__")?.quality).toEqual({ easy: 0, hard: 0 });
    expect(catalog.byId.get("constructor")?.quality).toEqual({ easy: 1, hard: 1 });
    expect(catalog.byId.has("toString")).toBe(false);
  });

  it("an unknown command or API-key variable named like a prototype member is a user error", async () => {
    const run = await cli(["constructor"]);
    expect(run.code).toBe(2);
    expect(run.stderr).not.toMatch(/internal error/i);
  });
});
