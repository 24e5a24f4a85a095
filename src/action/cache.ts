import type { AttemptCache, CachedAttempt } from "../eval/cache.ts";

/**
 * The attempt cache as the Action uses it: a write that fails (a full disk, or two identical
 * attempts finishing together, as happens when base and head run the same model and settings)
 * costs a later cache hit, never the run. Writes of one key are done once.
 */
export function forgivingCache(inner: AttemptCache, log: (message: string) => void): AttemptCache {
  const writing = new Map<string, Promise<void>>();
  return {
    get: (key) => inner.get(key),
    set(key: string, value: CachedAttempt) {
      const pending = writing.get(key);
      if (pending) return pending;
      const write = inner
        .set(key, value)
        .catch((error: unknown) =>
          log(`attempt cache: write of ${key.slice(0, 12)} failed: ${String(error)}`),
        )
        .finally(() => writing.delete(key));
      writing.set(key, write);
      return write;
    },
  };
}
