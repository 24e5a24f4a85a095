import { performance } from "node:perf_hooks";
import { type ChangedPath, classifyChange, compilePolicy } from "../src/core/classify/classify.ts";
import { defaultConfig } from "../src/core/config/load.ts";
import type { BenchResult } from "./harness.ts";
import { summarize } from "./harness.ts";

/**
 * Classify a change of 3,000 files, 50 of which are structured configs of 2,000 keys each
 * (issue 2). The floor to compare with: only parsing both sides of the 50 configs.
 */
const FILES = 3000;
const CONFIGS = 50;
const KEYS = 2000;

function config(seed: number, variant: number): string {
  const routes: Record<string, string> = {};
  const budget: Record<string, number> = {};
  for (let k = 0; k < KEYS / 2; k++) {
    routes[`route_${k}`] = k % 97 === variant ? "gpt-5.5" : "gpt-5.4";
    budget[`cap_${k}`] = k === seed ? 1000 + variant : 1000;
  }
  return JSON.stringify({ llm: { routes }, budget_controls: budget });
}

export function runClassifyBench(iterations = 15): BenchResult[] {
  const changes: ChangedPath[] = [];
  const base = new Map<string, string>();
  const head = new Map<string, string>();
  for (let i = 0; i < FILES; i++) {
    if (i < CONFIGS) {
      const path = `config/service-${i}.json`;
      changes.push({ path, status: "modified" });
      base.set(path, config(i, 0));
      head.set(path, config(i, 1));
    } else {
      changes.push({ path: i % 3 ? `src/module-${i}.ts` : `prompts/p-${i}.md`, status: "modified" });
    }
  }
  const policy = compilePolicy(defaultConfig());
  const classifyTimes: number[] = [];
  const parseTimes: number[] = [];
  let keys = 0;
  for (let run = 0; run < iterations; run++) {
    let start = performance.now();
    const result = classifyChange(policy, {
      changes,
      base: (p) => base.get(p) ?? null,
      head: (p) => head.get(p) ?? null,
    });
    classifyTimes.push(performance.now() - start);
    keys = result.files.reduce((n, f) => n + f.keys.length, 0);
    start = performance.now();
    for (const path of base.keys()) {
      JSON.parse(base.get(path) ?? "");
      JSON.parse(head.get(path) ?? "");
    }
    parseTimes.push(performance.now() - start);
  }
  return [
    summarize(
      `classify ${FILES} files (${CONFIGS} configs × ${KEYS} keys, ${keys} changed keys)`,
      classifyTimes,
      {
        target_ms: 100,
      },
    ),
    summarize(`floor: JSON.parse both sides of the ${CONFIGS} configs`, parseTimes),
  ];
}
