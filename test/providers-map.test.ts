import { describe, expect, it } from "vitest";
import { parseConfig } from "../src/core/config/load.ts";
import { UserError } from "../src/core/errors.ts";
import {
  checkPolicyProviders,
  globMatch,
  mergeProviders,
  parseProviderMap,
  policyProviderWarnings,
  providerFor,
} from "../src/core/providers.ts";

/** Pure logic of the provider map and the policy's rules (the wire tests are test/providers.test.ts). */
describe("parseProviderMap", () => {
  const expected = new Map([
    ["anthropic", { base_url: "https://api.anthropic.com/v1/", api_key_env: "ANTHROPIC_API_KEY" }],
  ]);

  it("reads YAML and JSON alike", () => {
    const yaml = "anthropic:\n  base_url: https://api.anthropic.com/v1/\n  api_key_env: ANTHROPIC_API_KEY\n";
    const json =
      '{"anthropic": {"base_url": "https://api.anthropic.com/v1/", "api_key_env": "ANTHROPIC_API_KEY"}}';
    expect(parseProviderMap(yaml, "MODELGATE_PROVIDERS")).toEqual(expected);
    expect(parseProviderMap(json, "MODELGATE_PROVIDERS")).toEqual(expected);
    expect(parseProviderMap("  \n", "MODELGATE_PROVIDERS").size).toBe(0);
  });

  const problems: Array<[string, string]> = [
    [
      "anthropic: { base_url: ftp://x, api_key_env: K }",
      "MODELGATE_PROVIDERS.anthropic.base_url: expected an http(s) URL",
    ],
    ["anthropic: { base_url: https://x/v1 }", "MODELGATE_PROVIDERS.anthropic.api_key_env: expected the name"],
    [
      "anthropic: { base_url: https://x/v1, api_key_env: 'sk-live key' }",
      "MODELGATE_PROVIDERS.anthropic.api_key_env",
    ],
    [
      "anthropic: { base_url: https://x/v1, api_key_env: K, api_key: sk-1 }",
      "MODELGATE_PROVIDERS.anthropic.api_key: unknown key",
    ],
    [
      "Anthropic: { base_url: https://x/v1, api_key_env: K }",
      "MODELGATE_PROVIDERS.Anthropic: a provider name is lowercase",
    ],
    [
      "default: { base_url: https://x/v1, api_key_env: K }",
      "MODELGATE_PROVIDERS.default: 'default' is the provider of OPENAI_BASE_URL",
    ],
    [
      "constructor: { base_url: https://x/v1, api_key_env: K }\nx: 1",
      "MODELGATE_PROVIDERS.x: expected {base_url, api_key_env}",
    ],
    ["[a, b]", "MODELGATE_PROVIDERS: expected a mapping"],
    ["a: {", "MODELGATE_PROVIDERS: not JSON or YAML"],
    [
      "a: { base_url: https://x/v1, api_key_env: K }\na: { base_url: https://y/v1, api_key_env: K }",
      "MODELGATE_PROVIDERS: ",
    ],
  ];
  it.each(problems)("refuses %j naming the variable and key", (text, message) => {
    let error: unknown;
    try {
      parseProviderMap(text, "MODELGATE_PROVIDERS");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toContain(message);
  });
});

describe("providerFor / globMatch", () => {
  const rules = [
    { models: "claude-*", provider: "anthropic" },
    { models: ["deepseek-*", "*/deepseek-*"], provider: "deepseek" },
    { models: "claude-opus-*", provider: "never" },
  ];
  it("takes the first matching rule, else default", () => {
    expect(providerFor("claude-opus-4-6", rules)).toBe("anthropic");
    expect(providerFor("deepseek-chat", rules)).toBe("deepseek");
    expect(providerFor("openrouter/deepseek-r1", rules)).toBe("deepseek");
    expect(providerFor("gpt-5.4", rules)).toBe("default");
    expect(providerFor("constructor", rules)).toBe("default");
  });
  it("matches `*` across `/` and `?` as one character, in linear-ish time", () => {
    expect(globMatch("a?c", "abc")).toBe(true);
    expect(globMatch("a?c", "ac")).toBe(false);
    expect(globMatch("*", "")).toBe(true);
    expect(globMatch("x*", "")).toBe(false);
    const started = performance.now();
    expect(globMatch(`${"*a".repeat(30)}b`, "a".repeat(5000))).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe("policy evals.providers", () => {
  it("fails closed on a provider the map lacks, naming the policy key and the fix", () => {
    expect(() =>
      checkPolicyProviders([{ models: "x", provider: "b" }], new Set(["a"]), "MODELGATE_PROVIDERS"),
    ).toThrow(
      "policy evals.providers[0].provider: 'b' is not in the provider map (it has a); define it in MODELGATE_PROVIDERS",
    );
    expect(() => checkPolicyProviders([{ models: "x", provider: "default" }], new Set(), "M")).not.toThrow();
  });

  it("loads a rule carrying an endpoint, and warns that it is ignored; other unknown keys are errors", () => {
    const config = parseConfig(
      'version: 1\nevals:\n  providers:\n    - { models: "claude-*", provider: anthropic, base_url: "https://evil.example/v1" }\n',
    );
    expect(config.evals.providers[0]?.provider).toBe("anthropic");
    expect(policyProviderWarnings(config.evals.providers, ".github/modelgate.yml")).toEqual([
      { code: "endpoint_in_repo", file: ".github/modelgate.yml", key: "evals.providers[0].base_url" },
    ]);
    expect(() =>
      parseConfig('version: 1\nevals:\n  providers:\n    - { models: "claude-*", provder: anthropic }\n'),
    ).toThrow(/evals\.providers\.0/);
    expect(() =>
      parseConfig('version: 1\nevals:\n  providers:\n    - { models: "claude-*", provider: "Anthropic!" }\n'),
    ).toThrow(/provider name/);
  });
});

describe("mergeProviders", () => {
  it("unions the shards' providers and routes", () => {
    expect(
      mergeProviders([
        { base: ["default"], head: ["anthropic"], routes: { a: { base: "default", head: "anthropic" } } },
        undefined,
        { base: ["default"], head: ["default"], routes: { b: { base: "default", head: "default" } } },
      ]),
    ).toEqual({
      base: ["default"],
      head: ["anthropic", "default"],
      routes: { a: { base: "default", head: "anthropic" }, b: { base: "default", head: "default" } },
    });
    expect(mergeProviders([undefined])).toBeUndefined();
  });
});
