import type { Octokit } from "@octokit/core";

/**
 * What the helpers in `src/github` need from an Octokit: its `request`. Probot's
 * `context.octokit` and a plain `@octokit/core` Octokit (the workflow adapter, the Action)
 * both fit, so the helpers do not care which door calls them.
 */
export type GitHub = Pick<Octokit, "request">;

/** A type, not an interface: Octokit's request parameters need its implicit index signature. */
export type RepoRef = {
  owner: string;
  repo: string;
};

/** The HTTP status of an Octokit `RequestError`, or undefined for anything else. */
export function httpStatus(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null || !("status" in error)) return undefined;
  const { status } = error as { status: unknown };
  return typeof status === "number" ? status : undefined;
}

/** GitHub's request id of a failed call (`x-github-request-id`), worth quoting when reporting it. */
export function requestId(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("response" in error)) return undefined;
  const { response } = error as { response?: { headers?: Record<string, unknown> } };
  const id = response?.headers?.["x-github-request-id"];
  return typeof id === "string" ? id : undefined;
}

/** Runs `task` over `items` with at most `limit` in flight, keeping the order of results. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Runs tasks with at most `limit` in flight across every caller that shares it. */
export type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

export function limiter(limit: number): Limiter {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    else active++;
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next waiter, so `active` never overshoots.
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}
