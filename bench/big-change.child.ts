import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { type ChangedPath, classifyChange, compilePolicy } from "../src/core/classify/classify.ts";
import { defaultConfig } from "../src/core/config/load.ts";

/**
 * One measurement of the big-change bench, in its own process so the peak RSS is this case's
 * alone: `classify` (classify + the JSON the CLI prints) or `floor` (JSON.parse of the same bytes).
 * Usage: node big-change.child.ts classify|floor BASE.json HEAD.json; prints one JSON line:
 * { ms, peak_rss_mb, ... } (peak RSS: the process's high-water mark, `resourceUsage().maxRSS`).
 */
const [mode = "classify", basePath = "", headPath = ""] = process.argv.slice(2);
const FILES = 5001;
// Read, not generated here: making the input would add its own peak to the one being measured.
const base = readFileSync(basePath, "utf8");
const head = readFileSync(headPath, "utf8");
const bytes = base.length;
const start = performance.now();
let detail: Record<string, number> = {};
if (mode === "floor") {
  JSON.parse(base);
  JSON.parse(head);
} else {
  const changes: ChangedPath[] = [{ path: "data/model_prices.json", status: "modified" }];
  for (let i = 1; i < FILES; i++)
    changes.push({ path: `src/pkg-${i % 50}/module-${i}.py`, status: "modified" });
  const result = classifyChange(compilePolicy(defaultConfig()), {
    changes,
    base: (path) => (path === "data/model_prices.json" ? base : null),
    head: (path) => (path === "data/model_prices.json" ? head : null),
  });
  const printed = JSON.stringify(result, null, 2);
  const [file] = result.files;
  detail = {
    listed_keys: file?.keys.length ?? 0,
    changed_keys: (file?.keys.length ?? 0) + (file?.keys_omitted ?? 0),
    output_kb: Math.round(printed.length / 1024),
  };
}
const ms = performance.now() - start;
process.stdout.write(
  `${JSON.stringify({ ms, peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024), mb: Math.round(bytes / 1024 / 102.4) / 10, ...detail })}\n`,
);
