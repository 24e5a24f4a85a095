import picomatch from "picomatch";

/**
 * Key paths inside structured documents: `llm.routes.agentic_coding`.
 *
 * A path is a list of segments, written joined by `.`:
 * - a mapping key is written bare when it holds no `.`, `"`, `[`, `]` or `*` and is not empty,
 *   else quoted: `pricing."gpt-4.1".input` (`\"` and `\\` escape inside quotes). So a model ID
 *   used as a map key stays one segment.
 * - a list item is addressed by its identity field when it has one (`name`, then `id`, then
 *   `model`, a string or number unique in its list): `[name=gpt-4o]`, written without a dot
 *   before it (`containers[name=app].env[name=OPENAI_MODEL].value`); else by its index (`57`).
 *
 * Patterns use the same syntax, plus `*` (one segment), `**` (any number, zero included) and
 * globs inside a bare segment or an identity value (`llm.*_model`, `[name=gpt-*]`).
 */

export type KeyPath = string;

/** The fields that name a list item, in the order they are tried. */
export const IDENTITY_FIELDS = ["name", "id", "model"] as const;

const BARE_SEGMENT = /^[^."[\]*\\]+$/;

/** One mapping key as it is written in a key path. */
export function formatKeySegment(key: string): string {
  return BARE_SEGMENT.test(key) ? key : quote(key);
}

function quote(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

function identitySegment(field: string, value: string): string {
  return `[${field}=${/^[^\]"\\]+$/.test(value) ? value : quote(value)}]`;
}

/** Joins written segments: a list item's `[field=value]` follows its parent without a dot. */
export function joinSegments(segments: readonly string[]): KeyPath {
  let out = "";
  for (const segment of segments) {
    if (out === "" || segment.startsWith("[")) out += segment;
    else out += `.${segment}`;
  }
  return out;
}

/**
 * A container's children, keyed by their written segment: mapping keys formatted, list items
 * by identity (else index). A list whose identities repeat falls back to indices for the
 * repeated ones, so no two children share a segment.
 */
export function childEntries(value: object): Array<readonly [string, unknown]> {
  if (!Array.isArray(value)) return Object.entries(value).map(([k, v]) => [formatKeySegment(k), v] as const);
  const ids = value.map(itemIdentity);
  const counts = new Map<string, number>();
  for (const id of ids) if (id !== undefined) counts.set(id, (counts.get(id) ?? 0) + 1);
  return value.map((item, i) => {
    const id = ids[i];
    return [id !== undefined && counts.get(id) === 1 ? id : String(i), item] as const;
  });
}

function itemIdentity(item: unknown): string | undefined {
  if (item === null || typeof item !== "object" || Array.isArray(item)) return undefined;
  for (const field of IDENTITY_FIELDS) {
    if (!Object.hasOwn(item, field)) continue;
    const value = (item as Record<string, unknown>)[field];
    if (typeof value === "string" && value !== "") return identitySegment(field, value);
    if (typeof value === "number") return identitySegment(field, String(value));
  }
  return undefined;
}

/** Flattens a document to leaf key paths with a canonical value, so two sides can be compared. */
export function flattenLeaves(
  value: unknown,
  prefix: readonly string[] = [],
  into = new Map<KeyPath, string>(),
): Map<KeyPath, string> {
  if (value !== null && typeof value === "object") {
    const entries = childEntries(value);
    if (entries.length === 0) into.set(joinSegments(prefix), Array.isArray(value) ? "[]" : "{}");
    for (const [key, child] of entries) flattenLeaves(child, [...prefix, key], into);
    return into;
  }
  into.set(joinSegments(prefix), JSON.stringify(value) ?? "undefined");
  return into;
}

/** A changed leaf: its written path, its segments, and the value on each side (`undefined` when absent). */
export interface ChangedKey {
  path: KeyPath;
  segments: readonly string[];
  base: unknown;
  head: unknown;
}

/**
 * Leaf key paths whose value differs between two documents, sorted. Walks both trees together
 * so that equal parts cost one comparison each and build no key strings: the path is a stack of
 * segments, joined only for a leaf that changed (a 12 MB file of 100,000 entries built 500,000
 * path strings to report its changes).
 */
export function changedKeys(base: unknown, head: unknown): KeyPath[] {
  return changedLeaves(base, head).map((key) => key.path);
}

/** Like `changedKeys`, with each leaf's segments and values (model-ID literals are read from them). */
export function changedLeaves(base: unknown, head: unknown): ChangedKey[] {
  const leaves: ChangedKey[] = [];
  visitChangedLeaves(base, head, (leaf) => leaves.push({ ...leaf, segments: [...leaf.segments] }));
  return leaves.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * Calls `visit` once per changed leaf, in walk order (unsorted), without collecting them: a
 * caller that reduces each leaf at once (classification keeps a path and a category) never
 * holds 100,000 leaf records. `leaf.segments` is the walk's own stack, valid only during the
 * call: copy it to keep it.
 */
export function visitChangedLeaves(base: unknown, head: unknown, visit: (leaf: ChangedKey) => void): void {
  diffInto(base, head, [], visit);
}

type Visit = (leaf: ChangedKey) => void;

/**
 * `prefix` is one array pushed and popped along the walk; a path string is built only for a
 * changed leaf, so equal parts of large documents build no paths.
 */
function diffInto(base: unknown, head: unknown, prefix: string[], visit: Visit): void {
  if (base === head) return;
  const baseIsContainer = isContainer(base);
  if (baseIsContainer && isContainer(head) && Array.isArray(base) === Array.isArray(head)) {
    if (!Array.isArray(base)) {
      diffObjects(base as Record<string, unknown>, head as Record<string, unknown>, prefix, visit);
      return;
    }
    const baseEntries = new Map(childEntries(base));
    const headEntries = new Map(childEntries(head));
    if (baseEntries.size === 0 && headEntries.size === 0) return;
    for (const [key, child] of baseEntries) {
      prefix.push(key);
      if (headEntries.has(key)) diffInto(child, headEntries.get(key), prefix, visit);
      else addLeaves(child, prefix, "base", visit);
      prefix.pop();
    }
    for (const [key, child] of headEntries) {
      if (baseEntries.has(key)) continue;
      prefix.push(key);
      addLeaves(child, prefix, "head", visit);
      prefix.pop();
    }
    return;
  }
  if (!baseIsContainer && !isContainer(head)) {
    if (!Object.is(base, head)) visit({ path: joinSegments(prefix), segments: prefix, base, head });
    return;
  }
  // Different shapes: every leaf on either side under this path changed, and a leaf present on
  // both sides (e.g. `[]` vs `{}`) is one change with both values.
  const merged = new Map<KeyPath, ChangedKey>();
  const collect = (leaf: ChangedKey, side: "base" | "head") => {
    let entry = merged.get(leaf.path);
    if (!entry) {
      entry = { path: leaf.path, segments: [...leaf.segments], base: undefined, head: undefined };
      merged.set(leaf.path, entry);
    }
    entry[side] = leaf[side];
  };
  addLeaves(base, prefix, "base", (leaf) => collect(leaf, "base"));
  addLeaves(head, prefix, "head", (leaf) => collect(leaf, "head"));
  for (const leaf of merged.values()) visit(leaf);
}

/** Mappings are walked by their own keys (no entry lists): most of a large document is mappings. */
function diffObjects(
  base: Record<string, unknown>,
  head: Record<string, unknown>,
  prefix: string[],
  visit: Visit,
): void {
  for (const key in base) {
    if (!Object.hasOwn(base, key)) continue;
    prefix.push(formatKeySegment(key));
    if (Object.hasOwn(head, key)) diffInto(base[key], head[key], prefix, visit);
    else addLeaves(base[key], prefix, "base", visit);
    prefix.pop();
  }
  for (const key in head) {
    if (!Object.hasOwn(head, key) || Object.hasOwn(base, key)) continue;
    prefix.push(formatKeySegment(key));
    addLeaves(head[key], prefix, "head", visit);
    prefix.pop();
  }
}

/** Every leaf under `value`, present on one side only. */
function addLeaves(value: unknown, prefix: string[], side: "base" | "head", visit: Visit): void {
  if (isContainer(value)) {
    const entries = childEntries(value);
    if (entries.length === 0) emit(prefix, side, Array.isArray(value) ? [] : {}, visit);
    for (const [key, child] of entries) {
      prefix.push(key);
      addLeaves(child, prefix, side, visit);
      prefix.pop();
    }
    return;
  }
  emit(prefix, side, value, visit);
}

function emit(prefix: string[], side: "base" | "head", value: unknown, visit: Visit): void {
  visit({
    path: joinSegments(prefix),
    segments: prefix,
    base: side === "base" ? value : undefined,
    head: side === "head" ? value : undefined,
  });
}

function isContainer(value: unknown): value is object {
  return value !== null && typeof value === "object";
}

/**
 * Splits a written key path (or pattern) into segments. Throws a plain Error naming the
 * problem when the text is not a well-formed path (unclosed quote or bracket, empty segment).
 */
export function splitKeyPath(path: string): string[] {
  const segments: string[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`${why} at character ${i + 1}`);
  };
  while (i < path.length) {
    const start = i;
    if (path[i] === '"') {
      i = skipQuoted(path, i, fail);
    } else if (path[i] === "[") {
      i++;
      while (i < path.length && path[i] !== "]") {
        if (path[i] === '"') i = skipQuoted(path, i, fail);
        else i++;
      }
      if (i >= path.length) fail("unclosed [");
      i++;
    } else {
      while (i < path.length && path[i] !== "." && path[i] !== "[") {
        if (path[i] === '"' || path[i] === "]") fail(`unexpected ${path[i]}`);
        i++;
      }
      if (i === start) fail("empty segment");
    }
    segments.push(path.slice(start, i));
    if (i < path.length && path[i] === ".") {
      i++;
      if (i === path.length) fail("empty segment");
    } else if (i < path.length && path[i] !== "[") fail("expected . between segments");
  }
  return segments;
}

function skipQuoted(path: string, open: number, fail: (why: string) => never): number {
  let i = open + 1;
  while (i < path.length && path[i] !== '"') i += path[i] === "\\" ? 2 : 1;
  if (i >= path.length) fail("unclosed quote");
  return i + 1;
}

/** The key a written mapping segment stands for (quotes removed); `undefined` for a list item. */
export function unquoteSegment(segment: string): string | undefined {
  if (segment.startsWith("[")) return undefined;
  if (!segment.startsWith('"')) return segment;
  return segment.slice(1, -1).replace(/\\(.)/g, "$1");
}

export type KeyMatcher = (segments: readonly string[]) => boolean;

/** How specific a pattern is; compared field by field, larger first (docs/policy.md, precedence). */
export interface PatternSpecificity {
  exact: number;
  noDoubleStar: number;
  literalPrefix: number;
  literalSegments: number;
}

export interface CompiledKeyPattern {
  pattern: string;
  match: KeyMatcher;
  specificity: PatternSpecificity;
}

type SegmentTest =
  | { kind: "any" }
  | { kind: "deep" }
  | { kind: "test"; test: (segment: string) => boolean; literal: boolean };

/**
 * Compiles a key pattern; a `UserError`-worthy problem (unclosed quote, a glob the matcher does
 * not support) throws a plain Error with the reason, which the config loader names by key.
 */
export function compileKeyPattern(pattern: string): KeyMatcher {
  return compileKeyPatternWithSpecificity(pattern).match;
}

export function compileKeyPatternWithSpecificity(pattern: string): CompiledKeyPattern {
  const parts = splitKeyPath(pattern).map(compileSegment);
  const firstWildcard = parts.findIndex((part) => part.kind !== "test" || !part.literal);
  const literalSegments = parts.filter((part) => part.kind === "test" && part.literal).length;
  return {
    pattern,
    match: (segments) => matchSegments(parts, 0, segments, 0),
    specificity: {
      exact: firstWildcard < 0 ? 1 : 0,
      noDoubleStar: parts.some((part) => part.kind === "deep") ? 0 : 1,
      literalPrefix: firstWildcard < 0 ? parts.length : firstWildcard,
      literalSegments,
    },
  };
}

/** Positive when `a` is more specific than `b`. */
export function compareSpecificity(a: PatternSpecificity, b: PatternSpecificity): number {
  return (
    a.exact - b.exact ||
    a.noDoubleStar - b.noDoubleStar ||
    a.literalPrefix - b.literalPrefix ||
    a.literalSegments - b.literalSegments
  );
}

function compileSegment(part: string): SegmentTest {
  if (part === "**") return { kind: "deep" };
  if (part === "*") return { kind: "any" };
  if (part.includes("**")) throw new Error(`"${part}": ** must be a whole segment`);
  if (part.startsWith("[")) {
    const inner = /^\[([A-Za-z_][A-Za-z0-9_]*)=(.*)\]$/s.exec(part);
    if (!inner) throw new Error(`"${part}": a list item is written [field=value]`);
    const [, field = "", raw = ""] = inner;
    const value = raw.startsWith('"') ? (unquoteSegment(raw) ?? raw) : raw;
    if (raw.startsWith('"') || !raw.includes("*")) {
      const written = identitySegment(field, value);
      return { kind: "test", test: (segment) => segment === written, literal: true };
    }
    const glob = picomatch(value, { dot: true });
    const prefix = `[${field}=`;
    return {
      kind: "test",
      literal: false,
      test: (segment) => {
        if (!segment.startsWith(prefix)) return false;
        const v = segment.slice(prefix.length, -1);
        return glob(v.startsWith('"') ? (unquoteSegment(v) ?? v) : v);
      },
    };
  }
  if (part.startsWith('"')) {
    const written = formatKeySegment(unquoteSegment(part) ?? part);
    return { kind: "test", test: (segment) => segment === written, literal: true };
  }
  // Other glob syntax would silently match nothing: refused (quote the segment to mean it literally).
  if (/[?{}]/.test(part) || part.startsWith("!"))
    throw new Error(
      `"${part}": only * is supported inside a key segment; quote a key that holds ?, {, } or a leading !`,
    );
  if (!part.includes("*")) return { kind: "test", test: (segment) => segment === part, literal: true };
  // `*` inside a segment matches any characters of one mapping key, never a list item.
  const glob = picomatch(part, { dot: true });
  return {
    kind: "test",
    literal: false,
    test: (segment) => {
      const key = unquoteSegment(segment);
      return key !== undefined && glob(key);
    },
  };
}

function matchSegments(
  pattern: readonly SegmentTest[],
  p: number,
  segments: readonly string[],
  s: number,
): boolean {
  if (p === pattern.length) return s === segments.length;
  const part = pattern[p];
  if (part?.kind === "deep") {
    for (let skip = s; skip <= segments.length; skip++)
      if (matchSegments(pattern, p + 1, segments, skip)) return true;
    return false;
  }
  if (s === segments.length) return false;
  const segment = segments[s] ?? "";
  const ok = part?.kind === "any" || (part?.kind === "test" && part.test(segment));
  return ok && matchSegments(pattern, p + 1, segments, s + 1);
}

/** Checks a key pattern from a policy; the reason why it is not one, or `undefined`. */
export function keyPatternProblem(pattern: string): string | undefined {
  try {
    compileKeyPattern(pattern);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * Reads a value at a key path (quoted segments and `[field=value]` list items allowed);
 * `undefined` when any segment is missing or the path is not well-formed.
 */
export function getAtPath(document: unknown, path: KeyPath): unknown {
  if (path === "") return document;
  let segments: string[];
  try {
    segments = splitKeyPath(path);
  } catch {
    return undefined;
  }
  let current = document;
  for (const segment of segments) {
    if (current === null || typeof current !== "object") return undefined;
    if (Array.isArray(current)) {
      if (/^(0|[1-9][0-9]*)$/.test(segment)) {
        current = current[Number(segment)];
        continue;
      }
      const child = childEntries(current).find(([key]) => key === normalizeItemSegment(segment));
      if (!child) return undefined;
      current = child[1];
      continue;
    }
    const key = unquoteSegment(segment);
    if (key === undefined || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function normalizeItemSegment(segment: string): string {
  const inner = /^\[([A-Za-z_][A-Za-z0-9_]*)=(.*)\]$/s.exec(segment);
  if (!inner) return segment;
  const [, field = "", raw = ""] = inner;
  return identitySegment(field, raw.startsWith('"') ? (unquoteSegment(raw) ?? raw) : raw);
}
