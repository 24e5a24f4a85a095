import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeExampleRepo } from "../examples/make-example-repo.ts";
import { runCli } from "../src/cli/main.ts";
import type { EvalResult } from "../src/core/result.ts";
import { type Simulator, startSimulator } from "../src/simulator/index.ts";
import { expectedExit } from "./support/cli.ts";
import { type FaultProvider, startFaultProvider } from "./support/fault-provider.ts";
import { tempDir } from "./support/git.ts";
import { exampleProfiles } from "./support/simulator.ts";

/**
 * `modelgate simulate` in one terminal, `OPENAI_BASE_URL=… modelgate eval` in another: the
 * simulator announces itself on `GET /models` (`x-modelgate-simulated`), so no key is needed
 * and the numbers keep their "simulated" label, exactly as with the built-in simulator.
 */
const servers: Array<Simulator | FaultProvider> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function evalAgainst(baseUrl: string, env: Record<string, string> = {}) {
  const out = join(tempDir(), "result.json");
  const md = join(tempDir(), "comment.md");
  const repo = makeExampleRepo(tempDir()).dir;
  let stderr = "";
  const code = await runCli(
    [
      "eval",
      "--repo",
      repo,
      "--base",
      "main",
      "--head",
      "migrate-agentic-coding",
      "--out",
      out,
      "--markdown",
      md,
    ],
    {
      stdout: () => {},
      stderr: (text) => {
        stderr += text;
      },
      isTTY: false,
      // No OPENAI_API_KEY: the point of the test.
      env: { OPENAI_BASE_URL: baseUrl, XDG_CACHE_HOME: tempDir(), ...env },
    },
  );
  return {
    code,
    stderr,
    result: existsSync(out) ? (JSON.parse(readFileSync(out, "utf8")) as EvalResult) : undefined,
    markdown: existsSync(md) ? readFileSync(md, "utf8") : "",
  };
}

describe("eval against a modelgate simulator at OPENAI_BASE_URL", () => {
  it("needs no key and labels the numbers simulated", async () => {
    const sim = await startSimulator({ profiles: await exampleProfiles(), timeScale: 0 });
    servers.push(sim);
    const run = await evalAgainst(sim.url);
    expect(run.stderr).not.toMatch(/no API key|internal error/);
    expect(run.code, run.stderr).toBe(expectedExit(run.result));
    expect(run.result?.simulated).toBe(true);
    expect(run.result?.cases).toHaveLength(24);
    expect(run.markdown).toContain("**Simulated provider:**");
    expect(run.stderr).toContain("answered as the modelgate simulator");
  });

  it("keeps the label when a (dummy) key is set too", async () => {
    const sim = await startSimulator({ profiles: await exampleProfiles(), timeScale: 0 });
    servers.push(sim);
    const run = await evalAgainst(sim.url, { OPENAI_API_KEY: "sk-dummy" });
    expect(run.code, run.stderr).toBe(expectedExit(run.result));
    expect(run.result?.simulated).toBe(true);
    expect(run.markdown).toContain("**Simulated provider:**");
  });

  it("an endpoint that is not the simulator still needs a key, before any completion", async () => {
    const provider = await startFaultProvider({
      chat: () => ({ status: 500, body: {} }),
      modelIds: ["gpt-5.4", "gpt-5.5"],
    });
    servers.push(provider);
    const run = await evalAgainst(provider.url);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `no API key for ${provider.url}: set OPENAI_API_KEY (or pass --api-key-env NAME)`,
    );
    expect(provider.modelRequests).toBe(1);
    expect(provider.chatRequests).toBe(0);
    expect(run.result?.simulated).toBeUndefined();
  });
});
