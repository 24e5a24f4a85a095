import type { LocatedCase } from "../core/cases/schema.ts";
import type { Config } from "../core/config/schema.ts";
import type { LlmConfig } from "../core/llm-config.ts";
import { resolveRoute } from "../core/selection.ts";
import type { TreeSource } from "../core/source.ts";
import type { AttemptCache } from "./cache.ts";
import { renderMessages } from "./evaluate.ts";
import { taskAttemptKey } from "./runner.ts";

/**
 * How many cases of each route have a cached first attempt for this side's config: the base
 * run an eval of a change against this revision would reuse (`modelgate doctor`, issue 13).
 * Read-only: only `get`, which never writes. The key is the runner's own, so a hit here is a
 * hit there.
 */
/** Per route: cases, how many have a cached first attempt, and the (base) model they were counted on. */
export interface BaselineCounts {
  cached: number;
  cases: number;
  model?: string;
}

export async function countCachedBaseline(options: {
  source: TreeSource;
  config: Config;
  llm: LlmConfig;
  cases: readonly LocatedCase[];
  cache: AttemptCache;
}): Promise<Map<string, BaselineCounts>> {
  const { source, config, llm, cases, cache } = options;
  const paths = [...new Set(cases.flatMap((c) => (c.case.prompt ? [c.case.prompt] : [])))];
  const prompts = await source.readFiles(paths);
  const counts = new Map<string, BaselineCounts>();
  for (const located of cases) {
    const route = located.case.route;
    const entry = counts.get(route) ?? { cached: 0, cases: 0 };
    counts.set(route, entry);
    entry.cases++;
    const resolved = resolveRoute(llm, route);
    if (!resolved) continue;
    entry.model = resolved.model;
    let messages: ReturnType<typeof renderMessages>;
    try {
      messages = renderMessages(located, prompts);
    } catch {
      // A template that does not render cannot have been run: not cached.
      continue;
    }
    if (!messages) continue;
    const key = taskAttemptKey({ testCase: located.case, resolved, messages }, 0, config.evals.max_steps);
    if (await cache.get(key)) entry.cached++;
  }
  return counts;
}
