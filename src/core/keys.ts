/**
 * Key paths inside structured documents: `llm.routes.agentic_coding`.
 * Patterns: `*` matches one segment, `**` any number (zero included).
 */

export type KeyPath = string;

/** Flattens a document to leaf key paths with a canonical value, so two sides can be compared. */
export function flattenLeaves(
  value: unknown,
  prefix = "",
  into = new Map<KeyPath, string>(),
): Map<KeyPath, string> {
  if (value !== null && typeof value === "object") {
    const entries = Array.isArray(value)
      ? value.map((v, i) => [String(i), v] as const)
      : Object.entries(value);
    if (entries.length === 0) into.set(prefix, Array.isArray(value) ? "[]" : "{}");
    for (const [key, child] of entries) flattenLeaves(child, prefix === "" ? key : `${prefix}.${key}`, into);
    return into;
  }
  into.set(prefix, JSON.stringify(value) ?? "undefined");
  return into;
}

/**
 * Leaf key paths whose value differs between two documents, sorted. Walks both trees together
 * so that equal parts cost one comparison each and build no key strings: the path is a stack of
 * segments, joined only for a leaf that changed (a 12 MB file of 100,000 entries built 500,000
 * path strings to report its changes).
 */
export function changedKeys(base: unknown, head: unknown): KeyPath[] {
  const changed: KeyPath[] = [];
  diffInto(base, head, [], changed);
  // Sorted, then repeats dropped (a leaf on both sides of a shape change): cheaper than hashing
  // 100,000 long strings into a Set.
  changed.sort();
  return changed.filter((key, i) => i === 0 || key !== changed[i - 1]);
}

function diffInto(base: unknown, head: unknown, segments: string[], changed: KeyPath[]): void {
  if (base === head) return;
  const baseIsContainer = isContainer(base);
  const headIsContainer = isContainer(head);
  if (baseIsContainer && headIsContainer && Array.isArray(base) === Array.isArray(head)) {
    const baseRecord = base as Record<string, unknown>;
    const headRecord = head as Record<string, unknown>;
    // `for…in` walks the enumeration cache without allocating a key array per object (the
    // documents come from parsers: no enumerable inherited keys); `hasOwn` keeps to own entries.
    for (const key in baseRecord) {
      if (!Object.hasOwn(baseRecord, key)) continue;
      segments.push(key);
      if (Object.hasOwn(headRecord, key)) diffInto(baseRecord[key], headRecord[key], segments, changed);
      else addLeaves(baseRecord[key], segments, changed);
      segments.pop();
    }
    for (const key in headRecord) {
      if (!Object.hasOwn(headRecord, key) || Object.hasOwn(baseRecord, key)) continue;
      segments.push(key);
      addLeaves(headRecord[key], segments, changed);
      segments.pop();
    }
    return;
  }
  if (!baseIsContainer && !headIsContainer) {
    if (!Object.is(base, head)) changed.push(segments.join("."));
    return;
  }
  // Different shapes: every leaf on either side under this path changed.
  addLeaves(base, segments, changed);
  addLeaves(head, segments, changed);
}

function addLeaves(value: unknown, segments: readonly string[], changed: KeyPath[]): void {
  for (const leaf of flattenLeaves(value, segments.join(".")).keys()) changed.push(leaf);
}

function isContainer(value: unknown): value is object {
  return value !== null && typeof value === "object";
}

export type KeyMatcher = (segments: readonly string[]) => boolean;

export function compileKeyPattern(pattern: string): KeyMatcher {
  const parts = pattern.split(".");
  return (segments) => matchSegments(parts, 0, segments, 0);
}

function matchSegments(
  pattern: readonly string[],
  p: number,
  segments: readonly string[],
  s: number,
): boolean {
  if (p === pattern.length) return s === segments.length;
  const part = pattern[p];
  if (part === "**") {
    for (let skip = s; skip <= segments.length; skip++)
      if (matchSegments(pattern, p + 1, segments, skip)) return true;
    return false;
  }
  if (s === segments.length) return false;
  return (part === "*" || part === segments[s]) && matchSegments(pattern, p + 1, segments, s + 1);
}

/** Reads a value at a dot path; `undefined` when any segment is missing. */
export function getAtPath(document: unknown, path: KeyPath): unknown {
  if (path === "") return document;
  let current = document;
  for (const segment of path.split(".")) {
    if (current === null || typeof current !== "object" || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}
