import { describe, expect, it } from "vitest";
import { parseConfig } from "../src/core/config/load.ts";
import { UserError } from "../src/core/errors.ts";
import { readLlmConfig } from "../src/core/llm-config.ts";

const config = parseConfig("llm:\n  config: config/llm.yaml\n  routes_key: llm.routes\n");

describe("a list accepted as the routes map", () => {
  it("each item is the route its name names, with its own settings", () => {
    const text =
      "llm:\n  timeout_ms: 1000\n  routes:\n    - name: coding\n      model: gpt-5.4\n      timeout_ms: 5000\n    - name: qna\n      model: gpt-5.5\n";
    const llm = readLlmConfig(text, "config/llm.yaml", config);
    expect({ ...llm.routes }).toEqual({
      coding: { model: "gpt-5.4", max_output_tokens: null, timeout_ms: 5000, retry_limit: 0 },
      qna: { model: "gpt-5.5", max_output_tokens: null, timeout_ms: 1000, retry_limit: 0 },
    });
  });

  it("an item without a name is a user error naming the item", () => {
    const text = "llm:\n  routes:\n    - model: gpt-5.4\n";
    expect(() => readLlmConfig(text, "config/llm.yaml", config)).toThrow(UserError);
    expect(() => readLlmConfig(text, "config/llm.yaml", config)).toThrow(
      'config/llm.yaml llm.routes.0: a route list item needs a "name"',
    );
  });

  it("a name listed twice is a user error", () => {
    const text = "llm:\n  routes:\n    - {name: a, model: x}\n    - {name: a, model: y}\n";
    expect(() => readLlmConfig(text, "config/llm.yaml", config)).toThrow('the route "a" is listed twice');
  });

  it("routes_key can address through a list item by identity", () => {
    const keyed = parseConfig('llm:\n  routes_key: "apps[name=bot].routes"\n');
    const llm = readLlmConfig(
      '{"apps":[{"name":"bot","routes":{"coding":"gpt-5.4"}}]}',
      "config/llm.json",
      keyed,
    );
    expect(llm.routes.coding?.model).toBe("gpt-5.4");
  });
});
