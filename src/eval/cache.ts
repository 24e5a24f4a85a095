import { createHash } from "node:crypto";
import { readlinkSync, realpathSync } from "node:fs";
import { open, rename, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { z } from "zod";
import type { Warning } from "../core/result.ts";
import { makeDirectories } from "./writable.ts";

/**
 * Attempt results on disk, keyed by everything that changes an answer: the request, and the
 * provider that answered it. A re-run with an unchanged side makes no requests for it. Errors
 * are never cached: they are transient.
 *
 * The folder is outside the repository by default and refused when the head commit tracks files
 * in it (see `trackedInCacheDir`), and every entry is checked against a schema on read: what
 * the cache returns is evidence for a verdict, so anything unexpected is a miss, never a hit.
 */
export interface CachedAttempt {
  outcome: "pass" | "fail" | "takeover";
  detail?: string;
  prompt_tokens: number;
  cached_tokens: number;
  completion_tokens: number;
  has_usage: boolean;
  model: string;
  /** `null`: answered through the Batch API, where a request's own latency is unknown (never 0). */
  latency_ms: number | null;
  tool_calls: number;
}

/** A warning an attempt raised; stored with it so a cached re-run reports it again. */
export type AttemptWarning = Extract<Warning, { code: "model_mismatch" }>;

/** What the runner stores: the attempt and its warnings. */
export interface CacheRecord extends CachedAttempt {
  warnings: AttemptWarning[];
}

/** What a hit gives back: the record, and whether a simulator produced it. */
export interface CacheHit extends CacheRecord {
  simulated: boolean;
}

export interface AttemptCache {
  /**
   * `quiet`: a look-ahead (the cost estimate, doctor) that must not count a malformed entry
   * twice in the result's warnings; the runner's own lookup counts it.
   */
  get(key: string, options?: { quiet?: boolean }): Promise<CacheHit | undefined>;
  set(key: string, value: CacheRecord): Promise<void>;
  /** Warnings about the cache itself for the result file: malformed entries, counted. */
  warnings(): Warning[];
}

/**
 * Who answers: entries of one provider never answer for another. An endpoint is its origin and
 * path only (credentials in `user:pass@` or `?api-key=` never reach the key or an entry); the
 * built-in simulator listens on a new port each run, so it is its profiles and time scale.
 */
export interface ProviderIdentity {
  text: string;
  simulated: boolean;
}

export function endpointIdentity(baseURL: string): ProviderIdentity {
  const url = new URL(baseURL);
  return { text: `endpoint ${url.origin}${url.pathname.replace(/\/+$/, "")}`, simulated: false };
}

export function simulatorIdentity(profiles: unknown, timeScale: number): ProviderIdentity {
  const digest = createHash("sha256").update(canonicalJson({ profiles, timeScale })).digest("hex");
  return { text: `simulator ${digest}`, simulated: true };
}

/** Bumped whenever an entry's shape or meaning changes: older entries are then never looked up. */
export const CACHE_FORMAT = 2;

export function attemptKey(parts: Record<string, unknown>): string {
  return createHash("sha256")
    .update(JSON.stringify({ format: CACHE_FORMAT, ...parts }))
    .digest("hex");
}

/** Real entries are a few hundred bytes; a bigger file is not ours and is not read into memory. */
const MAX_ENTRY_BYTES = 64 * 1024;

const count = z.int().nonnegative();
const attemptWarningSchema = z.strictObject({
  code: z.literal("model_mismatch"),
  route: z.string(),
  requested: z.string(),
  returned: z.string(),
});

/** One entry file. Strict: an unknown field means someone else wrote it. */
export const cacheEntrySchema = z
  .strictObject({
    format: z.literal(CACHE_FORMAT),
    /** The storage key, so an entry copied to another key's file is a miss. */
    key: z.string().regex(/^[0-9a-f]{64}$/),
    /** A digest of the provider identity: an endpoint path can hold a secret, so never its text. */
    provider: z.string().regex(/^[0-9a-f]{64}$/),
    simulated: z.boolean(),
    outcome: z.enum(["pass", "fail", "takeover"]),
    detail: z.string().max(4000).optional(),
    prompt_tokens: count,
    cached_tokens: count,
    completion_tokens: count,
    has_usage: z.boolean(),
    model: z.string().min(1).max(512),
    latency_ms: z.number().nonnegative().nullable(),
    tool_calls: count,
    warnings: z.array(attemptWarningSchema).max(64),
  })
  .refine((entry) => entry.cached_tokens <= entry.prompt_tokens, {
    message: "cached_tokens exceeds prompt_tokens",
    path: ["cached_tokens"],
  });

export type CacheEntry = z.infer<typeof cacheEntrySchema>;

let temporaryCounter = 0;

/** A unique sibling path: two writers of one key in one process must not share a temp file. */
export function temporaryPath(target: string): string {
  temporaryCounter += 1;
  return `${target}.${process.pid}.${temporaryCounter}.tmp`;
}

/**
 * Entries are written atomically (temp file + rename), so a reader never sees half an entry.
 * A write that fails (a full disk, a read-only folder) costs a later cache hit, never the run.
 * Call `assertWritableDirectory` on `dir` first, so an unusable folder is a user error up front.
 */
export function directoryCache(
  dir: string,
  provider: ProviderIdentity,
  log: (message: string) => void = () => {},
): AttemptCache {
  // The provider is part of the storage key: a lookup can only ever find this provider's entries.
  const storageKey = (key: string) =>
    createHash("sha256").update(`${provider.text}\u0000${key}`).digest("hex");
  const providerDigest = createHash("sha256").update(provider.text).digest("hex");
  const pathOf = (stored: string) => join(dir, stored.slice(0, 2), `${stored}.json`);
  let invalid = 0;
  let firstInvalid = "";
  const rejectCounted = (file: string, reason: string): undefined => {
    invalid++;
    if (invalid === 1) {
      firstInvalid = `${relative(dir, file)}: ${reason}`;
      log(`attempt cache: ignoring malformed entry ${file}: ${reason}`);
    }
    return undefined;
  };
  return {
    async get(key, options) {
      const stored = storageKey(key);
      const file = pathOf(stored);
      const reject = options?.quiet ? (): undefined => undefined : rejectCounted;
      let text: string;
      try {
        text = await readSmall(file);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        // Never written: an ordinary miss. Anything else at that path is not an entry.
        if (code === "ENOENT") return undefined;
        return reject(
          file,
          code === "EFBIG" ? `larger than ${MAX_ENTRY_BYTES} bytes` : `unreadable (${code})`,
        );
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        return reject(file, "not JSON");
      }
      const parsed = cacheEntrySchema.safeParse(json);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        return reject(file, `${issue?.path.join(".") || "entry"}: ${issue?.message ?? "invalid"}`);
      }
      const entry = parsed.data;
      if (entry.key !== stored) return reject(file, "written for another key");
      if (entry.provider !== providerDigest || entry.simulated !== provider.simulated) {
        return reject(file, "written for another provider");
      }
      const { format: _format, key: _key, provider: _provider, ...hit } = entry;
      return hit;
    },
    async set(key, value) {
      const stored = storageKey(key);
      const target = pathOf(stored);
      const entry: CacheEntry = {
        format: CACHE_FORMAT,
        key: stored,
        provider: providerDigest,
        simulated: provider.simulated,
        ...value,
      };
      try {
        await makeDirectories(dirname(target));
        const temporary = temporaryPath(target);
        await writeFile(temporary, JSON.stringify(entry));
        await rename(temporary, target);
      } catch (error) {
        log(`attempt cache: cannot write ${target}: ${(error as Error).message}`);
      }
    },
    warnings() {
      return invalid > 0 ? [{ code: "cache_entry_invalid", count: invalid, example: firstInvalid }] : [];
    },
  };
}

export const noCache: AttemptCache = {
  get: async () => undefined,
  set: async () => {},
  warnings: () => [],
};

async function readSmall(file: string): Promise<string> {
  const handle = await open(file, "r");
  try {
    const { size, isFile } = await handle.stat().then((s) => ({ size: s.size, isFile: s.isFile() }));
    if (!isFile) throw Object.assign(new Error("not a file"), { code: "EISDIR" });
    if (size > MAX_ENTRY_BYTES) throw Object.assign(new Error("too large"), { code: "EFBIG" });
    return await handle.readFile("utf8");
  } finally {
    await handle.close();
  }
}

/**
 * The first file tracked at the head commit that would sit inside `cacheDir` once checked out
 * (`root` is the work tree), or undefined. Both the paths as given and as resolved through
 * symlinks are compared, so neither `repo/.modelgate-cache`, a folder containing the repo, nor a
 * symlink into the work tree slips through.
 */
export function trackedInCacheDir(
  cacheDir: string,
  root: string,
  tracked: readonly string[],
): string | undefined {
  const caches = [resolve(cacheDir), realpathOfExisting(cacheDir)];
  const roots = [resolve(root), realpathOfExisting(root)];
  return tracked.find((path) =>
    roots.some((r) => caches.some((c) => isInside(c, join(r, ...path.split("/"))))),
  );
}

/**
 * True when `a` and `b` are the same folder or one contains the other: a cache folder that
 * overlaps a checkout can hold the checkout's files. Compared as given and through symlinks.
 */
export function overlaps(a: string, b: string): boolean {
  for (const x of [resolve(a), realpathOfExisting(a)]) {
    for (const y of [resolve(b), realpathOfExisting(b)]) {
      if (isInside(x, y) || isInside(y, x)) return true;
    }
  }
  return false;
}

function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * The real path of the longest existing prefix, with the rest appended (the folder may not exist
 * yet). A dangling symlink is followed by hand: its target may be checked out later.
 */
function realpathOfExisting(path: string, depth = 0): string {
  const rest: string[] = [];
  let at = resolve(path);
  for (;;) {
    try {
      return join(realpathSync(at), ...rest.reverse());
    } catch {
      const target = depth < 32 ? readlinkOrUndefined(at) : undefined;
      if (target !== undefined) {
        return join(realpathOfExisting(resolve(dirname(at), target), depth + 1), ...rest.reverse());
      }
      const parent = dirname(at);
      if (parent === at) return resolve(path);
      rest.push(at.slice(parent.length).replace(/^[/\\]/, ""));
      at = parent;
    }
  }
}

function readlinkOrUndefined(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item && typeof item === "object" && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item,
  );
}
