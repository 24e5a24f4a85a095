import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configJsonSchemaText } from "../src/core/config/json-schema.ts";
import { defaultConfig, parseConfig } from "../src/core/config/load.ts";
import { readLlmConfig } from "../src/core/llm-config.ts";

const root = join(import.meta.dirname, "..");
const exampleConfig = readFileSync(join(root, "examples/acme-support/base/.github/modelgate.yml"), "utf8");

function errorOf(text: string, file?: string): string {
  try {
    parseConfig(text, file);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected the config to be rejected");
}

describe("config", () => {
  it("accepts the README.md#configuration example as written", () => {
    const config = parseConfig(exampleConfig);
    expect(config.llm.config).toBe("config/llm.json");
    expect(config.changes.model.env).toEqual(["*_MODEL_*"]);
    expect(config.changes.infra.files).toEqual(["Dockerfile", "infra/**", "deploy/**"]);
    expect(config.pricing["gpt-5.5"]).toEqual({ input: 5, cached_input: 0.5, output: 30 });
    expect(config.gates.max_completion_rate_drop).toBe(0.05);
    expect(config.rollout.phases).toEqual([10, 30, 50, 100]);
    expect(config.attribution.override_label).toBe("modelgate:allow-mixed");
  });

  it("needs no file at all: defaults fit the §4 layout", () => {
    const config = defaultConfig();
    expect(config.llm.routes_key).toBe("llm.routes");
    expect(config.changes.prompt.files).toEqual(["prompts/**"]);
    expect(config.evals.max_cases).toBe(200);
    expect(parseConfig("")).toEqual(config);
    expect(parseConfig("# only a comment\n")).toEqual(config);
  });

  it("names file, line, key path, expectation and what was found", () => {
    const message = errorOf("version: 1\ngates:\n  max_error_rate: '2%'\n");
    expect(message).toContain(
      '.github/modelgate.yml:3 gates.max_error_rate: expected number, found string "2%"',
    );
  });

  it("rejects an unknown key with a did-you-mean hint", () => {
    expect(errorOf("gates:\n  max_eror_rate: 0.02\n")).toContain(
      'gates.max_eror_rate: unknown key; did you mean "max_error_rate"?',
    );
    expect(errorOf("rolout:\n  phases: [10]\n")).toContain('rolout: unknown key; did you mean "rollout"?');
  });

  it("points an unknown key at its own line, not the block's first key", () => {
    const message = errorOf(
      "gates:\n  max_error_rate: 0.02\n  min_requests: 200\n  max_eror_rate: 0.03\n  typo_two:\n    nested: 1\n",
    );
    expect(message).toContain(
      '.github/modelgate.yml:4 gates.max_eror_rate: unknown key; did you mean "max_error_rate"?',
    );
    expect(message).toContain(".github/modelgate.yml:5 gates.typo_two: unknown key");
    expect(errorOf("version: 1\nllm:\n  config: a.json\nrolout:\n  phases: [10]\n")).toContain(
      '.github/modelgate.yml:4 rolout: unknown key; did you mean "rollout"?',
    );
  });

  it("lists the known keys when nothing is close", () => {
    expect(errorOf("zzzzzzzz: 1\n")).toContain("expected one of version, llm, changes");
  });

  it("gives line and column for YAML syntax errors", () => {
    expect(errorOf("llm:\n  config: [a\n", "policy.yml")).toMatch(/^policy\.yml:3:1: invalid YAML: /);
  });

  it("rejects phases that do not increase and versions other than 1", () => {
    expect(errorOf("rollout:\n  phases: [10, 50, 30]\n")).toContain("rollout.phases: phases must increase");
    expect(errorOf("version: 2\n")).toContain("version:");
  });

  it("keeps the committed JSON Schema current (run `npm run schema`)", () => {
    expect(readFileSync(join(root, "schema/modelgate.schema.json"), "utf8")).toBe(configJsonSchemaText());
  });
});

describe("LLM config reader", () => {
  const config = defaultConfig();

  it("resolves routes from JSON: route value, then global settings, then default_model", () => {
    const text = JSON.stringify({
      llm: {
        default_model: "gpt-5.4",
        routes: {
          agentic_coding: "gpt-5.5",
          research: { model: "gpt-5.5", timeout_ms: 600000 },
          triage: { retry_limit: 0 },
        },
        max_output_tokens: 4096,
        timeout_ms: 120000,
        retry_limit: 2,
      },
    });
    const llm = readLlmConfig(text, "config/llm.json", config);
    expect(llm.routes.agentic_coding).toEqual({
      model: "gpt-5.5",
      max_output_tokens: 4096,
      timeout_ms: 120000,
      retry_limit: 2,
    });
    expect(llm.routes.research).toEqual({
      model: "gpt-5.5",
      max_output_tokens: 4096,
      timeout_ms: 600000,
      retry_limit: 2,
    });
    expect(llm.routes.triage).toEqual({
      model: "gpt-5.4",
      max_output_tokens: 4096,
      timeout_ms: 120000,
      retry_limit: 0,
    });
    expect(llm.default_model).toBe("gpt-5.4");
  });

  it("reads YAML", () => {
    const llm = readLlmConfig(
      "llm:\n  default_model: gpt-5.4\n  routes:\n    qna: gpt-5.5\n",
      "config/llm.yaml",
      config,
    );
    expect(llm.routes.qna?.model).toBe("gpt-5.5");
    expect(llm.routes.qna?.retry_limit).toBe(0);
  });

  it("reads env files: routes from a variable prefix", () => {
    const envConfig = parseConfig(
      "llm:\n  config: .env.production\n  default_model_key: OPENAI_MODEL_DEFAULT\n  routes_key: OPENAI_ROUTE_\n  settings:\n    timeout_ms: OPENAI_TIMEOUT_MS\n",
    );
    const llm = readLlmConfig(
      "OPENAI_MODEL_DEFAULT=gpt-5.4\nOPENAI_ROUTE_COMPLEX=gpt-5.5\nOPENAI_TIMEOUT_MS=90000\n",
      ".env.production",
      envConfig,
    );
    expect(llm.default_model).toBe("gpt-5.4");
    expect(llm.routes.complex).toMatchObject({ model: "gpt-5.5", timeout_ms: 90000 });
  });

  it("says which key is wrong", () => {
    expect(() => readLlmConfig('{"llm":{"timeout_ms":"soon"}}', "config/llm.json", config)).toThrow(
      'config/llm.json llm.timeout_ms: expected a non-negative number, found "soon"',
    );
    expect(() =>
      readLlmConfig('{"llm":{"routes":{"a":{"timeout_ms":1}}}}', "config/llm.json", config),
    ).toThrow('route "a" has no model and there is no default model');
    expect(() => readLlmConfig("{", "config/llm.json", config)).toThrow(
      "config/llm.json: cannot parse the LLM config",
    );
  });
});
