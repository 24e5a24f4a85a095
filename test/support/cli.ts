import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../../src/cli/main.ts";
import { resultBlocks } from "../../src/core/inconclusive.ts";
import type { EvalResult } from "../../src/core/result.ts";
import { tempDir } from "./git.ts";

export const ROOT = join(import.meta.dirname, "..", "..");

/** The bundled example's policy (`examples/acme-support/base/.github/modelgate.yml`), as text. */
export const EXAMPLE_POLICY = readFileSync(
  join(ROOT, "examples/acme-support/base/.github/modelgate.yml"),
  "utf8",
);

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI from source in a child process, the way a user's shell would. */
export function runModelgate(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): CliRun {
  const result = spawnSync(process.execPath, [join(ROOT, "src/cli/bin.ts"), ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, NO_COLOR: "1", ...options.env },
    encoding: "utf8",
    timeout: 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs the CLI in this process (no child), capturing its output; `env` is the whole environment. */
export async function runCliCaptured(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliOutcome> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    isTTY: false,
    env,
  });
  return { code, stdout, stderr };
}

export interface CliOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The exit code `modelgate eval`/`merge` gives a result: 1 when it blocks (fail, or inconclusive
 * with a resolved `on_inconclusive: fail`, the default for a model change), else 0.
 */
export function expectedExit(result: EvalResult | undefined): number {
  if (!result) throw new Error("no result file");
  return resultBlocks(result) ? 1 : 0;
}

export interface EvalInProcess {
  code: number;
  stderr: string;
  /** The result file (`{}` when the run wrote none, e.g. on a usage error). */
  result: EvalResult;
  markdown: string;
}

/**
 * `modelgate eval --repo REPO … --no-cache` in this process against the provider at `baseUrl`,
 * with the result file and the comment read back. A throw from the CLI (instead of an exit
 * code) fails the test.
 */
export async function evalInProcess(repo: string, args: string[], baseUrl: string): Promise<EvalInProcess> {
  const out = join(tempDir(), "result.json");
  const md = join(tempDir(), "comment.md");
  let stderr = "";
  let code: number;
  try {
    code = await runCli(["eval", "--repo", repo, "--out", out, "--markdown", md, "--no-cache", ...args], {
      stdout: () => {},
      stderr: (text) => {
        stderr += text;
      },
      isTTY: false,
      env: { OPENAI_BASE_URL: baseUrl, OPENAI_API_KEY: "sk-test", MODELGATE_INTERNAL_RETRY_FLOOR_MS: "5" },
    });
  } catch (error) {
    throw new Error(`runCli threw (should map to an exit code): ${String(error)}\n${stderr}`);
  }
  return {
    code,
    stderr,
    result: existsSync(out) ? (JSON.parse(readFileSync(out, "utf8")) as EvalResult) : ({} as EvalResult),
    markdown: existsSync(md) ? readFileSync(md, "utf8") : "",
  };
}
