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

let temporaryCounter = 0;

/** A unique sibling path: two writers of one key in one process must not share a temp file. */
export function temporaryPath(target: string): string {
  temporaryCounter += 1;
  return `${target}.${process.pid}.${temporaryCounter}.tmp`;
}

/**
 * Entries are written atomically (temp file + rename), so a reader never sees half an entry.
 * A write that fails (a full disk, a read-only folder) costs a later cache hit, never the run.
 */
export function directoryCache(
  dir: string,
  onWriteError: (message: string) => void = () => {},
): AttemptCache {
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
      try {
        await mkdir(join(dir, key.slice(0, 2)), { recursive: true });
        const temporary = temporaryPath(target);
        await writeFile(temporary, JSON.stringify(value));
        await rename(temporary, target);
      } catch (error) {
        onWriteError(`attempt cache: cannot write ${target}: ${(error as Error).message}`);
      }
    },
  };
}

export const noCache: AttemptCache = {
  get: async () => undefined,
  set: async () => {},
};
