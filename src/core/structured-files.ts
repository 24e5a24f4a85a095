import { readJson } from "./formats/json.ts";
import { FormatError, type FormatWarning, type ReadDocument } from "./formats/read-result.ts";
import { readToml } from "./formats/toml.ts";
import { MAX_EXPANDED_YAML_NODES, readYaml } from "./formats/yaml.ts";
import { ownRecord } from "./own.ts";

export type { FormatWarning } from "./formats/read-result.ts";

/** What kind of structured file a path is, or undefined for files compared as opaque blobs. */
export type StructuredKind = "json" | "yaml" | "toml" | "env";

export function structuredKind(path: string): StructuredKind | undefined {
  const name = path.slice(path.lastIndexOf("/") + 1).toLowerCase();
  if (name === ".env" || name.startsWith(".env.") || name.endsWith(".env")) return "env";
  if (name.endsWith(".json") || name.endsWith(".jsonc")) return "json";
  if (name.endsWith(".yaml") || name.endsWith(".yml")) return "yaml";
  if (name.endsWith(".toml")) return "toml";
  return undefined;
}

/** Parses a `.env` file: KEY=VALUE lines, `export` allowed, quotes stripped, `#` comments skipped. */
export function parseEnv(text: string): Record<string, string> {
  const variables = ownRecord<string>();
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line);
    // Never the line's text: env files hold API keys and PEMs.
    if (!match) throw new EnvLineError(index + 1);
    const [, key = "", value = ""] = match;
    variables[key] = unquote(value);
  }
  return variables;
}

function unquote(value: string): string {
  const quoted = /^(['"])(.*)\1$/.exec(value);
  if (quoted) return quoted[2] ?? "";
  const hash = value.indexOf(" #");
  return (hash >= 0 ? value.slice(0, hash) : value).trim();
}

/**
 * Limits on structured files (config, LLM config, any JSON/YAML/env the policy has key rules
 * for), so hostile text costs bounded time and memory: a 33 MB JSON took 33 s and 1.9 GB, an
 * alias bomb expands exponentially, 10,000-deep nesting overflows the stack. Documented in
 * docs/attribution.md (limits).
 */
export const STRUCTURED_LIMITS = {
  /** Characters of text (≈ bytes for ASCII): 5 MiB (YAML, TOML, env, and the policy and case files). */
  maxChars: 5 * 1024 * 1024,
  /**
   * Characters of a JSON file read as a structured file: 16 MiB. Generated JSON (price tables,
   * model metadata) is big and parses natively: 12 MB with 100,000 changed keys classifies in
   * about 2 s (`npm run bench classify`); the YAML and TOML parsers are many times slower.
   */
  maxJsonChars: 16 * 1024 * 1024,
  /** `[`/`{` nesting levels. */
  maxNesting: 100,
  /**
   * YAML aliases (`*name`) expanded per document, for the policy and case files (read by
   * `text/structured.ts`). Structured files being classified or read as the LLM config bound what
   * aliases expand to instead (`maxExpandedYamlNodes`): real configs use one alias hundreds of times.
   */
  maxAliasCount: 100,
  /** Nodes a YAML document may expand to, every alias counted as a copy of what it names. */
  maxExpandedYamlNodes: MAX_EXPANDED_YAML_NODES,
} as const;

/** Why a structured text is refused before it is parsed, or `undefined` when it is within limits. */
export function structuredTextProblem(text: string, kind?: StructuredKind): string | undefined {
  const limit = maxCharsOf(kind);
  if (text.length > limit) {
    return `it is ${(text.length / 1024 / 1024).toFixed(1)} MB; modelgate reads ${kind === "json" ? "JSON" : "structured"} files up to ${limit / 1024 / 1024} MB`;
  }
  if (nestingDepth(text) > STRUCTURED_LIMITS.maxNesting) {
    return `it nests deeper than ${STRUCTURED_LIMITS.maxNesting} levels of [ ] or { }`;
  }
  return undefined;
}

function maxCharsOf(kind: StructuredKind | undefined): number {
  return kind === "json" ? STRUCTURED_LIMITS.maxJsonChars : STRUCTURED_LIMITS.maxChars;
}

/**
 * Deepest `[`/`{` nesting outside double-quoted strings and `#` comments (an upper bound for YAML).
 * Scans character codes: it runs over every byte of a 16 MB file, where one-character strings cost
 * more than the JSON parse itself.
 */
function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) i = closingQuote(text, i);
    else if (code === HASH && (i === 0 || /\s/.test(text[i - 1] ?? ""))) {
      const end = text.indexOf("\n", i);
      i = end < 0 ? text.length : end;
    } else if (code === OPEN_BRACKET || code === OPEN_BRACE) deepest = Math.max(deepest, ++depth);
    else if ((code === CLOSE_BRACKET || code === CLOSE_BRACE) && depth > 0) depth--;
  }
  return deepest;
}

/** Index of the `"` closing the string opened at `open` (the end of the text if none); indexOf jumps. */
function closingQuote(text: string, open: number): number {
  let at = text.indexOf('"', open + 1);
  while (at > 0) {
    let backslashes = 0;
    while (text.charCodeAt(at - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return at;
    at = text.indexOf('"', at + 1);
  }
  return text.length;
}

/** Character codes of `\\ " # [ { ] }`. */
const [BACKSLASH, QUOTE, HASH, OPEN_BRACKET, OPEN_BRACE, CLOSE_BRACKET, CLOSE_BRACE] = [
  92, 34, 35, 91, 123, 93, 125,
];

/**
 * Reads a structured file as the team's runtime does (JSONC, YAML 1.1 habits, TOML, env), with
 * what the reader tolerated as warnings; throws a `FormatError` (line, reason, fix) when it cannot.
 * A UTF-8 byte order mark is dropped first: every runtime that reads these files ignores it.
 */
export function readStructuredFile(kind: StructuredKind, raw: string): ReadDocument {
  const text = raw.startsWith("\uFEFF") ? raw.slice(1) : raw;
  const problem = structuredTextProblem(text, kind);
  if (problem) throw new Error(problem);
  try {
    switch (kind) {
      case "json":
        return readJson(text);
      case "yaml":
        return readYaml(text);
      case "toml":
        return readToml(text);
      case "env":
        return { value: parseEnv(text), warnings: [] };
    }
  } catch (error) {
    // A stack overflow inside a parser is the file's nesting, not a bug of ours.
    if (error instanceof RangeError) throw new Error("it nests too deeply to read");
    throw error;
  }
}

/** The value of a structured file (see `readStructuredFile`), without the warnings. */
export function parseStructuredFile(kind: StructuredKind, text: string): unknown {
  return readStructuredFile(kind, text).value;
}

/** A warning of `readStructuredFile`, said about a file. */
export function describeFormatWarning(path: string, warning: FormatWarning): string {
  return `${warning.line === null ? path : `${path}:${warning.line}`}: ${warning.message}`;
}

class EnvLineError extends Error {
  readonly line: number;
  constructor(line: number) {
    super(`line ${line} is not a KEY=VALUE line`);
    this.line = line;
  }
}

/** Why a structured file does not parse, where, and what to do about it. */
export interface ParseFailure {
  /** 1-based line of the first problem, when the parser can tell. */
  line: number | null;
  reason: string;
  fix: string;
}

/** Describes an error of `readStructuredFile` for people; never quotes the file's text. */
export function parseFailure(kind: StructuredKind, raw: string, error: unknown): ParseFailure {
  if (error instanceof FormatError) return { line: error.line, reason: error.message, fix: error.fix };
  if (error instanceof EnvLineError) {
    return {
      line: error.line,
      reason: error.message,
      fix: "write each line as KEY=VALUE, or comment it out with #",
    };
  }
  const text = raw.startsWith("\uFEFF") ? raw.slice(1) : raw;
  const refused = structuredTextProblem(text, kind);
  if (refused) {
    return {
      line: null,
      reason: refused,
      fix: `keep it under ${maxCharsOf(kind) / 1024 / 1024} MB and ${STRUCTURED_LIMITS.maxNesting} levels of nesting`,
    };
  }
  return { line: null, reason: firstLine(error), fix: "fix the file so it parses" };
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0] ?? message;
}
