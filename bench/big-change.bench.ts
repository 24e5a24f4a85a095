import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BenchResult } from "./harness.ts";
import { summarize } from "./harness.ts";

/**
 * Issue 11, item 11: a 5,001-file change whose one structured file is a ~12 MB JSON with 100,000
 * changed keys (a generated price table). Classify time and peak memory, each run in a fresh
 * process, next to the floor: JSON.parse of the same bytes, both sides, in a process of its own.
 * Target: under 2 s and 300 MB.
 */
const ENTRIES = 100_000;

/** One entry per model; `variant` changes one leaf of each. */
function document(variant: number): string {
  const lines: string[] = [];
  for (let i = 0; i < ENTRIES; i++) {
    const cost = variant === 0 ? "0.0000025" : "0.000003";
    lines.push(
      `  "model-${String(i).padStart(6, "0")}": {"provider": "${i % 3 ? "openai" : "anthropic"}", "context_window": ${128000 + (i % 7) * 1000}, "input_cost_per_token": ${cost}, "mode": "chat", "v": 1}`,
    );
  }
  return `{"pricing": {\n${lines.join(",\n")}\n}}\n`;
}

interface ChildRun {
  ms: number;
  peak_rss_mb: number;
  mb: number;
  listed_keys?: number;
  changed_keys?: number;
  output_kb?: number;
}

export function runBigChangeBench(iterations = 3): BenchResult[] {
  const dir = mkdtempSync(join(tmpdir(), "modelgate-bench-"));
  try {
    const base = join(dir, "base.json");
    const head = join(dir, "head.json");
    writeFileSync(base, document(0));
    writeFileSync(head, document(1));
    const child = join(import.meta.dirname, "big-change.child.ts");
    const measure = (mode: "classify" | "floor"): ChildRun[] =>
      Array.from(
        { length: iterations },
        () =>
          JSON.parse(
            execFileSync(process.execPath, [child, mode, base, head], { encoding: "utf8" }),
          ) as ChildRun,
      );
    const classify = measure("classify");
    const floor = measure("floor");
    const peak = (runs: ChildRun[]) => Math.max(...runs.map((run) => run.peak_rss_mb));
    const [first] = classify;
    return [
      summarize(
        `classify 5,001 files (one ${first?.mb} MB JSON, ${first?.changed_keys} changed keys, ${first?.listed_keys} listed)`,
        classify.map((run) => run.ms),
        {
          target_ms: 2000,
          extra: {
            "peak RSS (MB, target < 300)": peak(classify),
            "printed JSON (KB)": first?.output_kb ?? 0,
          },
        },
      ),
      summarize(
        "floor: JSON.parse both sides of the same bytes",
        floor.map((run) => run.ms),
        { extra: { "peak RSS (MB)": peak(floor) } },
      ),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
