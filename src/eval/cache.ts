import { createHash } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * Attempt results on disk, keyed by everything that changes an answer. A re-run with an
 * unchanged side makes no requests for it. Errors are never cached: they are transient.
 */
export interface CachedAttempt {
  outcome: "pass" | "fail" | "takeover";
  detail?: string;
  prompt_tokens: number;
  cached_tokens: number;
  completion_tokens: number;
  has_usage: boolean;
  model: string;
  latency_ms: number;
  tool_calls: number;
}

export interface AttemptCache {
  get(key: string): Promise<CachedAttempt | undefined>;
  set(key: string, value: CachedAttempt): Promise<void>;
}

export const CACHE_FORMAT = 1;

export function attemptKey(parts: Record<string, unknown>): string {
  return createHash("sha256")
    .update(JSON.stringify({ format: CACHE_FORMAT, ...parts }))
    .digest("hex");
}

export function directoryCache(dir: string): AttemptCache {
  const pathOf = (key: string) => join(dir, key.slice(0, 2), `${key}.json`);
  return {
    async get(key) {
      try {
        return JSON.parse(await readFile(pathOf(key), "utf8")) as CachedAttempt;
      } catch {
        // Missing or torn entries are misses; the attempt simply runs again.
        return undefined;
      }
    },
    async set(key, value) {
      const target = pathOf(key);
      await mkdir(join(dir, key.slice(0, 2)), { recursive: true });
      const temporary = `${target}.${process.pid}.tmp`;
      await writeFile(temporary, JSON.stringify(value));
      await rename(temporary, target);
    },
  };
}

export const noCache: AttemptCache = {
  get: async () => undefined,
  set: async () => {},
};
