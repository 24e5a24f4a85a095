import { statSync } from "node:fs";
import {
  DIST,
  newWorkspace,
  openPull,
  pullRequestPayload,
  runAction,
  startWorld,
} from "../test/support/action-harness.ts";
import type { BenchResult } from "./harness.ts";
import { summarize } from "./harness.ts";

/**
 * Issue 4 point 11: the committed dist/index.js, from process start to exit, on a PR with no
 * relevant change (a README edit), against the GitHub REST emulator on loopback: every read the
 * Action makes (PR files, merge base, trees, policy, configs, cases, check run) is real HTTP,
 * only without network latency. The floor: the same process on an event it ignores at once
 * (start-up and bundle load only).
 */
export async function runActionBench(runs = 10): Promise<BenchResult[]> {
  const world = await startWorld();
  try {
    const { number } = openPull(world, "docs", { "README.md": "# Acme\n\nBetter docs.\n" });
    const payload = pullRequestPayload(world, number);
    const workspace = newWorkspace();
    const relevant: number[] = [];
    const floor: number[] = [];
    let requests = 0;
    for (let i = 0; i < runs; i++) {
      const before = world.emu.requests.length;
      // The bundle itself, not the sources the harness runs by default: its load time is the point.
      const run = await runAction(world, { payload, workspace, entry: DIST });
      if (run.code !== 0 || run.outputs.verdict !== "skipped")
        throw new Error(`action bench: unexpected run (exit ${run.code}):\n${run.stdout}`);
      requests = world.emu.requests.length - before;
      relevant.push(run.ms);
      const ignored = await runAction(world, {
        event: "push",
        payload: { ref: "refs/heads/main" },
        workspace,
        entry: DIST,
      });
      floor.push(ignored.ms);
    }
    if (world.sim.stats.requests !== 0) throw new Error("action bench: the provider was contacted");
    const kib = Math.round(statSync(DIST).size / 1024);
    return [
      summarize("action: PR with no relevant change, process start → exit", relevant, {
        target_ms: 1000,
        extra: { "GitHub API requests": requests, "dist/index.js": `${kib} KiB`, "provider requests": 0 },
      }),
      summarize("action: floor (ignored event: start-up and bundle load)", floor),
    ];
  } finally {
    await world.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { printResults } = await import("./harness.ts");
  printResults(await runActionBench());
}
