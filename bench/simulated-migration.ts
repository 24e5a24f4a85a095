import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type OpenAI from "openai";
import { type Classification, classifyChange, compilePolicy } from "../src/core/classify/classify.ts";
import type { Config } from "../src/core/config/schema.ts";
import type { TreeSource } from "../src/core/source.ts";
import { createOpenAIClient } from "../src/eval/openai-client.ts";

/**
 * The eval benches' shared shape: `cases` one-route cases, a PR moving the route from gpt-5.4 to
 * gpt-5.5, both answered by a simulator in its own process at a fixed latency and no faults.
 */
export interface SimulatedMigration {
  base: TreeSource;
  head: TreeSource;
  classification: Classification;
  client: OpenAI;
  close: () => Promise<void>;
}

function memorySource(label: string, files: Record<string, string>): TreeSource {
  return {
    label,
    readFiles: async (paths) => new Map(paths.map((p) => [p, files[p] ?? null])),
    listFiles: async () => Object.keys(files),
  };
}

export async function simulatedMigration(
  cases: number,
  latencyMs: number,
  config: Config,
  name: string,
): Promise<SimulatedMigration> {
  const lines = Array.from({ length: cases }, (_, i) =>
    JSON.stringify({
      id: `case-${i}`,
      route: "qna",
      input: `Question number ${i}?`,
      assert: [{ type: "contains", value: "About" }],
    }),
  ).join("\n");
  const llm = (model: string) =>
    JSON.stringify({ llm: { default_model: "gpt-5.4", routes: { qna: model }, retry_limit: 0 } });
  const base = memorySource("base", { "config/llm.json": llm("gpt-5.4"), "evals/cases.jsonl": lines });
  const head = memorySource("head", { "config/llm.json": llm("gpt-5.5"), "evals/cases.jsonl": lines });
  const fixedLatency = {
    latency: { base_ms: latencyMs, per_token_ms: 0, jitter_ms: 0 },
    errors: { server_error: 0, unavailable: 0, rate_limit: 0 },
  };
  // The provider runs in its own process, as a real one would, so it does not share our event loop.
  const profile = join(tmpdir(), `modelgate-bench-${name}-${process.pid}.json`);
  writeFileSync(
    profile,
    JSON.stringify({ version: 1, models: { "gpt-5.4": fixedLatency, "gpt-5.5": fixedLatency } }),
  );
  const simulator = await startSimulatorProcess(profile);
  const classification = classifyChange(compilePolicy(config), {
    changes: [{ path: "config/llm.json", status: "modified" }],
    base: () => llm("gpt-5.4"),
    head: () => llm("gpt-5.5"),
  });
  const client = createOpenAIClient({ baseURL: simulator.url, apiKey: "sk-bench", maxRetries: 0 });
  return { base, head, classification, client, close: () => simulator.close() };
}

/** `modelgate simulate --profile FILE` in a child process; resolves once it listens. */
export async function startSimulatorProcess(
  profile: string,
): Promise<{ url: string; close(): Promise<void> }> {
  const child = spawn(
    process.execPath,
    [join(import.meta.dirname, "../src/cli/bin.ts"), "simulate", "--profile", profile],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (\S+)/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`simulator exited with ${code}`)));
  });
  return {
    url,
    close: () =>
      new Promise((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
