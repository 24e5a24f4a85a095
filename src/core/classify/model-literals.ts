import { RE2JS } from "re2js";

/**
 * Model IDs written in code (`DEFAULT_MODEL_NAME = "gpt-4o"`, a model map in a Python module):
 * the zero-config way to see a model change. A literal is a quoted string on one line whose
 * whole text is a model ID; prose is never read (`o1` or `gpt` in a comment is no literal).
 * Patterns run on RE2 (linear time), anchored to the whole string, case-insensitive.
 */

/** An optional provider prefix: `openai/`, `openrouter/anthropic/`, `bedrock/`, `meta-llama/`. */
const PREFIX = "(?:[a-z0-9_.-]+/){0,3}";
/** What may follow a family name: versions, sizes, dates, `:tag` (ollama), `@date` (Vertex). */
const TAIL = "[a-z0-9._:@-]*";

/**
 * Built-in model families. Each needs a digit or a `-` after its name, so `gpt`, `claude`,
 * `llama` or `mistral` alone (a provider name, a word) are not model IDs; `o1`/`o3`/`o4` count
 * only as a whole quoted string (`"o3-mini"`), never in prose.
 */
export const DEFAULT_MODEL_PATTERNS: readonly string[] = [
  `gpt-(?:[0-9]|oss)${TAIL}`,
  `o[1-9](?:-${TAIL})?`,
  `chatgpt-${TAIL}`,
  `(?:anthropic\\.)?claude-${TAIL}`,
  `gemini-${TAIL}`,
  `gemma-?[0-9]${TAIL}`,
  `deepseek-${TAIL}`,
  `(?:meta-)?llama-?[0-9]${TAIL}`,
  `(?:open-)?(?:mistral|mixtral|codestral|ministral|pixtral|magistral|devstral)-${TAIL}`,
  `command-(?:r|a|light|nightly)${TAIL}`,
  `qwen(?:[0-9]|-)${TAIL}`,
  `qwq-${TAIL}`,
  `grok-${TAIL}`,
  `text-embedding-${TAIL}`,
  `text-davinci-${TAIL}`,
].map((pattern) => PREFIX + pattern);

/** Files whose literals say nothing about what the app runs: CI, eval cases, docs, tests, lock files. */
export const DEFAULT_LITERAL_SKIP_FILES: readonly string[] = [
  // CI workflows and modelgate's own policy (its judge model) are not what the app runs.
  ".github/**",
  "evals/**",
  "**/*.md",
  "**/*.mdx",
  "**/*.rst",
  "docs/**",
  "**/CHANGELOG*",
  "**/HISTORY*",
  "test/**",
  "tests/**",
  "**/test/**",
  "**/tests/**",
  "**/__tests__/**",
  "**/test_*.py",
  "**/*_test.py",
  "**/*_test.go",
  "**/*.test.*",
  "**/*.spec.*",
  "**/*.lock",
  "**/package-lock.json",
  "**/pnpm-lock.yaml",
  "**/yarn.lock",
];

/** Longest quoted string considered: model IDs are short, and this bounds the work per line. */
const MAX_LITERAL_LENGTH = 200;

export interface ModelIdMatcher {
  isModelId(text: string): boolean;
}

/** Why a policy regex cannot be a model-ID pattern, or `undefined`. */
export function literalPatternProblem(pattern: string): string | undefined {
  try {
    RE2JS.compile(`^(?:${pattern})$`, RE2JS.CASE_INSENSITIVE);
    return undefined;
  } catch (error) {
    const detail = (error as Error).message.replace(/^error parsing regexp: /, "");
    return `not a supported regex (${detail}); RE2 syntax: no lookaround or backreferences`;
  }
}

/** One RE2 program for all patterns: each alternative anchored, so a match is the whole string. */
export function compileModelIdMatcher(patterns: readonly string[]): ModelIdMatcher {
  if (patterns.length === 0) return { isModelId: () => false };
  const regex = RE2JS.compile(`^(?:${patterns.map((p) => `(?:${p})`).join("|")})$`, RE2JS.CASE_INSENSITIVE);
  return {
    isModelId: (text) => text.length > 0 && text.length <= MAX_LITERAL_LENGTH && regex.matches(text),
  };
}

export interface LiteralOccurrence {
  value: string;
  /** 1-based line. */
  line: number;
}

/**
 * Every quoted string on a line whose text is a model ID. Each pair of consecutive equal quote
 * characters is tried, so an apostrophe in a comment (`don't use 'gpt-4o'`) does not hide the
 * literal after it; model IDs hold no spaces, so the text between two literals never counts.
 */
export function findModelLiterals(text: string, matcher: ModelIdMatcher): LiteralOccurrence[] {
  const found: LiteralOccurrence[] = [];
  const lines = text.split("\n");
  for (const [index, line] of lines.entries()) {
    if (!/["'`]/.test(line)) continue;
    const last = new Map<string, number>();
    for (let i = 0; i < line.length; i++) {
      const char = line[i] ?? "";
      if (char !== '"' && char !== "'" && char !== "`") continue;
      if (i > 0 && line[i - 1] === "\\") continue;
      const open = last.get(char);
      if (open !== undefined && i - open - 1 <= MAX_LITERAL_LENGTH) {
        const value = line.slice(open + 1, i);
        if (matcher.isModelId(value)) found.push({ value, line: index + 1 });
      }
      last.set(char, i);
    }
    const bare = UNQUOTED_VALUE.exec(line)?.[1];
    if (bare !== undefined && matcher.isModelId(bare)) found.push({ value: bare, line: index + 1 });
  }
  return found;
}

/**
 * An unquoted value at the end of a `key: value` or `KEY=value` line (a Dockerfile `ENV`, an
 * `.ini`, a YAML file that did not parse): read as a literal too, since such formats do not quote.
 */
const UNQUOTED_VALUE =
  /^\s*(?:-\s+)?(?:export\s+|ENV\s+|ARG\s+)?[\w.-]+\s*[:=]\s*([^\s"'`#,;{}()[\]]+)\s*(?:#.*)?\r?$/;

export interface LiteralChange {
  value: string;
  /** `added` when head holds more of it than base (the line is on head), `removed` otherwise (line on base). */
  change: "added" | "removed";
  side: "base" | "head";
  line: number;
}

/**
 * Compares the multiset of model-ID literals of one file at two sides, so a reformat that keeps
 * the same literals is no change. Each extra occurrence is reported at a line of the side that
 * has it, preferring lines whose text is not on the other side (the edited ones).
 */
export function diffModelLiterals(
  base: string | null,
  head: string | null,
  matcher: ModelIdMatcher,
): LiteralChange[] {
  const before = base === null ? [] : findModelLiterals(base, matcher);
  const after = head === null ? [] : findModelLiterals(head, matcher);
  const changes: LiteralChange[] = [];
  const baseLines = lineSet(base);
  const headLines = lineSet(head);
  for (const [value, delta] of countDelta(before, after)) {
    if (delta > 0) changes.push(...pick(after, value, delta, baseLines, head, "added", "head"));
    else changes.push(...pick(before, value, -delta, headLines, base, "removed", "base"));
  }
  return changes.sort((a, b) => (a.side === b.side ? a.line - b.line : a.side === "base" ? -1 : 1));
}

function countDelta(before: LiteralOccurrence[], after: LiteralOccurrence[]): Map<string, number> {
  const delta = new Map<string, number>();
  for (const { value } of before) delta.set(value, (delta.get(value) ?? 0) - 1);
  for (const { value } of after) delta.set(value, (delta.get(value) ?? 0) + 1);
  for (const [value, count] of delta) if (count === 0) delta.delete(value);
  return delta;
}

function lineSet(text: string | null): Set<string> {
  return new Set(text === null ? [] : text.split("\n").map((line) => line.trim()));
}

function pick(
  occurrences: LiteralOccurrence[],
  value: string,
  count: number,
  otherLines: Set<string>,
  text: string | null,
  change: LiteralChange["change"],
  side: LiteralChange["side"],
): LiteralChange[] {
  const lines = text?.split("\n") ?? [];
  const mine = occurrences.filter((o) => o.value === value);
  const edited = mine.filter((o) => !otherLines.has((lines[o.line - 1] ?? "").trim()));
  const chosen = [...edited, ...mine.filter((o) => !edited.includes(o))].slice(0, count);
  return chosen.map((o) => ({ value, change, side, line: o.line }));
}
