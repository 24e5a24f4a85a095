import type { CachedUsage, EstimateTask } from "../core/cost-estimate.ts";
import { sameModel } from "../core/pricing.ts";
import type { CaseResult, CaseSideResult, EvalResult } from "../core/result.ts";
import type { AttemptCache } from "./cache.ts";
import { type EvalTask, taskAttemptKey } from "./runner.ts";

/**
 * What is known about each task before anything is sent: its cached attempts (looked up quietly,
 * with the runner's own keys, so a hit here is a hit there) and the base side of the last result.
 */
export async function estimateTasks(
  tasks: readonly EvalTask[],
  options: {
    cache?: AttemptCache | undefined;
    /** Cross-provider runs: the cache of the provider that answers the task. */
    cacheFor?: ((task: EvalTask) => AttemptCache | undefined) | undefined;
    baseline?: EvalResult | undefined;
    maxSteps: number;
  },
): Promise<EstimateTask[]> {
  const baselineCases = new Map((options.baseline?.cases ?? []).map((c: CaseResult) => [c.id, c]));
  return Promise.all(
    tasks.map(async (task) => {
      const cache = options.cacheFor ? options.cacheFor(task) : options.cache;
      const cached = cache ? await cachedChain(task, cache, options.maxSteps) : undefined;
      const last: CaseSideResult | undefined =
        task.side === "base" ? baselineCases.get(task.testCase.id)?.base : undefined;
      return {
        side: task.side,
        route: task.route,
        model: task.resolved.model,
        promptChars: promptChars(task),
        maxOutputTokens: task.resolved.max_output_tokens,
        retryLimit: task.resolved.retry_limit,
        ...(cached ? { cached } : {}),
        // The last run's base is evidence for this base only when the same model answered it.
        ...(last && sameModel(task.resolved.model, last.model)
          ? { baseline: { tokens: last.tokens, cost: last.cost } }
          : {}),
      };
    }),
  );
}

/** The attempts the runner would replay from the cache, or undefined when it would send one. */
async function cachedChain(
  task: EvalTask,
  cache: AttemptCache,
  maxSteps: number,
): Promise<CachedUsage[] | undefined> {
  const chain: CachedUsage[] = [];
  for (let attempt = 0; attempt <= task.resolved.retry_limit; attempt++) {
    const hit = await cache.get(taskAttemptKey(task, attempt, maxSteps), { quiet: true });
    if (!hit) return undefined;
    chain.push(hit);
    if (hit.outcome === "pass" || hit.outcome === "takeover") break;
  }
  return chain;
}

function promptChars(task: EvalTask): number {
  let chars = 0;
  for (const message of task.messages) {
    const content = "content" in message ? message.content : undefined;
    if (typeof content === "string") chars += content.length;
    else if (content) chars += JSON.stringify(content).length;
  }
  return chars;
}
