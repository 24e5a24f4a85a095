import { createHash } from "node:crypto";
import { ownRecord } from "../core/own.ts";

/**
 * Seeded randomness for the simulator. Every draw is a pure function of a key and a purpose, so
 * two fresh servers given the same requests in the same order answer identically, and the
 * order in which the behaviour code asks for draws does not change any single draw.
 */

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** JSON with object keys sorted, so equal values hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    // Keys are request text: a `__proto__` key must stay a key (and count in the digest).
    const out = ownRecord<unknown>();
    for (const key of Object.keys(value).sort()) {
      out[key] = sortKeys((value as Record<string, unknown>)[key]);
    }
    return out;
  }
  return value;
}

/** sfc32: small, fast, good enough for simulation; state seeded from a SHA-256 digest. */
function sfc32(a0: number, b0: number, c0: number, d0: number): () => number {
  let a = a0 >>> 0;
  let b = b0 >>> 0;
  let c = c0 >>> 0;
  let d = d0 >>> 0;
  return () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
}

export function streamFor(key: string): () => number {
  const digest = createHash("sha256").update(key).digest();
  const next = sfc32(
    digest.readUInt32LE(0),
    digest.readUInt32LE(4),
    digest.readUInt32LE(8),
    digest.readUInt32LE(12),
  );
  for (let i = 0; i < 12; i++) next();
  return next;
}

/** Independent uniform [0, 1) streams, one per purpose, all derived from one request key. */
export interface Rng {
  /** Next uniform draw in [0, 1) of the stream named `purpose`. */
  next(purpose: string): number;
  /** Integer in [0, n). */
  int(purpose: string, n: number): number;
  /** True with probability `p`. */
  chance(purpose: string, p: number): boolean;
  pick<T>(purpose: string, items: readonly T[]): T;
}

export function createRng(key: string): Rng {
  const streams = new Map<string, () => number>();
  const next = (purpose: string): number => {
    let stream = streams.get(purpose);
    if (!stream) {
      stream = streamFor(`${key}\u0000${purpose}`);
      streams.set(purpose, stream);
    }
    return stream();
  };
  const int = (purpose: string, n: number): number => Math.min(n - 1, Math.floor(next(purpose) * n));
  return {
    next,
    int,
    chance: (purpose, p) => p > 0 && next(purpose) < p,
    pick: <T>(purpose: string, items: readonly T[]): T => {
      const item = items[int(purpose, items.length)];
      if (item === undefined) throw new Error(`pick from an empty list (${purpose})`);
      return item;
    },
  };
}

/** The key of one request: (seed, model, hash of messages, n-th sighting of this exact body). */
export function requestKey(seed: string, model: string, messages: unknown, occurrence: number): string {
  return canonicalJson([seed, model, sha256(canonicalJson(messages)), occurrence]);
}
