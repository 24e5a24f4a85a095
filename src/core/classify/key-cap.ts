import type { Category, ClassifiedKey } from "./classify.ts";

/**
 * Changed keys listed per file (docs/attribution.md, limits). A generated 12 MB file can change
 * 100,000 keys: listing them all printed 10.9 MB of JSON that no one reads. The categories are
 * always computed from every key; only the list is cut, with the count of the rest.
 */
export const MAX_REPORTED_KEYS = 200;

/**
 * Keys listed past the cap for each category the cut would hide: readers that ask "does any key
 * of this file fall under category X" (the rollout attribution step looks for `other` keys other
 * than the share key) still find one, and a second in case the first is the one they skip.
 */
const KEPT_PER_CATEGORY = 2;

/** The first `MAX_REPORTED_KEYS` keys (they are sorted), plus a few of any category cut off. */
export function capKeys(keys: readonly ClassifiedKey[]): { keys: ClassifiedKey[]; omitted: number } {
  if (keys.length <= MAX_REPORTED_KEYS) return { keys: [...keys], omitted: 0 };
  const listed = keys.slice(0, MAX_REPORTED_KEYS);
  const shown = new Map<Category, number>();
  for (const key of listed) shown.set(key.category, (shown.get(key.category) ?? 0) + 1);
  for (const key of keys.slice(MAX_REPORTED_KEYS)) {
    const count = shown.get(key.category) ?? 0;
    if (count >= KEPT_PER_CATEGORY) continue;
    listed.push(key);
    shown.set(key.category, count + 1);
  }
  return { keys: listed, omitted: keys.length - listed.length };
}
