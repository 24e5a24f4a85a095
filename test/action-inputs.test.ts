import { describe, expect, it } from "vitest";
import { envInputReader, parseSettings, parseShard } from "../src/action/inputs.ts";
import { failureMessage } from "../src/action/main.ts";
import { UserError } from "../src/core/errors.ts";

/** Input parsing and the catch-all, in process (the end-to-end tests run dist/index.js). */

const RUNNER = { GITHUB_REPOSITORY: "acme/svc", GITHUB_WORKSPACE: "/work/ws", RUNNER_TEMP: "/tmp/rt" };

function settings(inputs: Record<string, string>, env: NodeJS.ProcessEnv = {}) {
  const all: NodeJS.ProcessEnv = { ...RUNNER, ...env };
  for (const [name, value] of Object.entries(inputs))
    all[`INPUT_${name.replace(/ /g, "_").toUpperCase()}`] = value;
  return parseSettings(envInputReader(all), all);
}

describe("Action inputs", () => {
  it("reads INPUT_<NAME> as the runner writes it: upper case, hyphens kept", () => {
    const read = envInputReader({ "INPUT_OPENAI-API-KEY": "\uFEFF sk-x \n", INPUT_MY_INPUT: "v" });
    expect(read("openai-api-key")).toBe("sk-x");
    expect(read("my input")).toBe("v");
    expect(read("absent")).toBe("");
  });

  it("applies the action.yml defaults when the runner did not", () => {
    const s = settings({ "github-token": "t" });
    expect(s).toMatchObject({
      mode: "eval",
      provider: "openai",
      config: ".github/modelgate.yml",
      failOnGate: true,
      comment: true,
      checkRun: true,
      shard: { index: 1, count: 1 },
      cacheDir: "/tmp/rt/modelgate-cache",
      resultFile: "/tmp/rt/modelgate-result.json",
      allowPullRequestTarget: false,
    });
    expect(settings({ "github-token": "t", shard: "2/3" }).resultFile).toBe(
      "/tmp/rt/modelgate-result-2-of-3.json",
    );
    expect(settings({ "github-token": "t", "cache-dir": "none" }).cacheDir).toBeUndefined();
  });

  it("takes the endpoint and key from inputs first, then the environment", () => {
    const env = { OPENAI_API_KEY: "sk-env", OPENAI_BASE_URL: "http://127.0.0.1:9/v1" };
    expect(settings({ "github-token": "t" }, env)).toMatchObject({
      apiKey: "sk-env",
      baseUrl: "http://127.0.0.1:9/v1",
    });
    expect(
      settings(
        { "github-token": "t", "openai-api-key": "sk-in", "openai-base-url": "https://gw.example/v1" },
        env,
      ),
    ).toMatchObject({ apiKey: "sk-in", baseUrl: "https://gw.example/v1" });
  });

  it.each([
    ["1/1", { index: 1, count: 1 }],
    ["2/4", { index: 2, count: 4 }],
    [" 3 / 3", undefined],
  ])("parses shard %s", (value, expected) => {
    if (expected) expect(parseShard(value)).toEqual(expected);
    else expect(() => parseShard(value)).toThrow(UserError);
  });

  it.each(["0/2", "3/2", "1/0", "a/b", "1", "1/2/3", "-1/2"])(
    "rejects shard %s naming the input",
    (value) => {
      expect(() => parseShard(value)).toThrow(
        `Invalid input 'shard': '${value}'. Expected i/n with 1 ≤ i ≤ n`,
      );
    },
  );

  it("rejects a simulator profile when the provider is not the simulator", () => {
    expect(() => settings({ "github-token": "t", "simulator-profile": "sim.yml" })).toThrow(
      "Invalid input 'simulator-profile': it only applies with 'provider: simulator'",
    );
    expect(
      settings({ "github-token": "t", provider: "simulator", "simulator-profile": "sim.yml" })
        .simulatorProfile,
    ).toBe("sim.yml");
  });

  it("rejects a missing token and a repository that is not owner/repo", () => {
    expect(() => settings({})).toThrow(/Input 'github-token' is empty/);
    expect(() => settings({ "github-token": "t" }, { GITHUB_REPOSITORY: "nope" })).toThrow(
      "Invalid GITHUB_REPOSITORY 'nope'. Expected format {owner}/{repo}",
    );
  });
});

describe("failureMessage", () => {
  it("turns any thrown value into one line", () => {
    expect(failureMessage(new UserError("bad input"))).toBe("bad input");
    expect(failureMessage(new Error("boom\n    at x.js:1:1"))).toBe("modelgate internal error: boom");
    expect(failureMessage("a string")).toBe("modelgate internal error: a string");
    expect(failureMessage(42)).toBe("modelgate internal error: 42");
    expect(failureMessage(undefined)).toBe("modelgate internal error: undefined");
    expect(failureMessage(Object.create(null))).toBe(
      "modelgate internal error: an unprintable value was thrown",
    );
    expect(failureMessage(Object.assign(new Error("Not Found"), { status: 404 }))).toBe(
      "GitHub API: HTTP 404: Not Found",
    );
  });
});
