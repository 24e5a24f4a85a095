import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeExampleRepo } from "../examples/make-example-repo.ts";
import type { Simulator } from "../src/simulator/index.ts";
import { ROOT } from "./support/cli.ts";
import { startExampleSimulator } from "./support/simulator.ts";

/**
 * The package as a user gets it: `npm pack`, `npm install -g` of the tarball into a fresh
 * prefix, and the installed `modelgate` run in a git repo outside the checkout. The tarball
 * carries the committed bundles (CI fails when they are stale), so this is what npm would ship.
 */
describe("the npm package", () => {
  let work: string;
  let bin: string;
  let simulator: Simulator;

  const npm = (args: string[], cwd: string) => {
    const run = spawnSync("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], {
      cwd,
      encoding: "utf8",
      timeout: 120_000,
    });
    if (run.status !== 0) throw new Error(`npm ${args.join(" ")} failed: ${run.stderr}`);
    return run.stdout;
  };
  // Asynchronous: the simulator answering the CLI lives in this process's event loop.
  const modelgate = (args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        join(bin, "modelgate"),
        args,
        {
          cwd,
          encoding: "utf8",
          timeout: 120_000,
          // Only the system's PATH plus the install: nothing from this checkout leaks in.
          env: { PATH: `${bin}:${process.env.PATH ?? ""}`, HOME: work, NO_COLOR: "1", ...env },
        },
        (error, stdout, stderr) => {
          const status = error ? (typeof error.code === "number" ? error.code : null) : 0;
          resolve({ status, stdout, stderr });
        },
      );
    });

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "modelgate-pack-"));
    // --ignore-scripts: pack the committed dist/ rather than rebuilding it inside the checkout.
    npm(["pack", "--ignore-scripts", "--pack-destination", work, ROOT], work);
    const tarball = readdirSync(work).find((name) => name.endsWith(".tgz"));
    if (!tarball) throw new Error("npm pack wrote no tarball");
    npm(["install", "-g", "--prefix", join(work, "prefix"), join(work, tarball)], work);
    bin = join(work, "prefix", "bin");
    simulator = await startExampleSimulator();
  }, 180_000);
  afterAll(async () => {
    await simulator?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it("ships the bundles only, with no runtime dependencies to install", () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as Record<string, unknown>;
    expect(manifest.private).toBeUndefined();
    expect(manifest.dependencies).toBeUndefined();
    const installed = readdirSync(join(work, "prefix", "lib", "node_modules", "modelgate"));
    expect(installed.sort()).toEqual(["LICENSE", "README.md", "app.yml", "dist", "package.json", "schema"]);
  });

  it("answers --version", async () => {
    const run = await modelgate(["--version"], work);
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toMatch(/^modelgate \d+\.\d+\.\d+/);
  });

  it("classifies and evals a repository outside the checkout", async () => {
    const repo = makeExampleRepo(join(work, "acme-support")).dir;
    const mixed = await modelgate(["classify", "--repo", ".", "--base", "main", "--head", "mixed"], repo);
    expect(mixed.status).toBe(1);
    expect(JSON.parse(mixed.stdout).mixed).toBe(true);

    const out = join(work, "result.json");
    const evalRun = await modelgate(
      ["eval", "--repo", ".", "--base", "main", "--head", "migrate-agentic-coding", "--out", out],
      repo,
      { OPENAI_BASE_URL: simulator.url, OPENAI_API_KEY: "sk-test" },
    );
    expect(evalRun.stderr).not.toMatch(/internal error|\n\s+at /);
    expect([0, 1]).toContain(evalRun.status);
    const result = JSON.parse(readFileSync(out, "utf8")) as { verdict: string; partial: boolean };
    expect(["pass", "fail", "inconclusive"]).toContain(result.verdict);
    expect(result.partial).toBe(false);
    expect(simulator.stats.requests).toBeGreaterThan(0);
  });
});
