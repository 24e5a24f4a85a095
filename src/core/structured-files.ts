import { parseDocument, parse as parseYaml } from "yaml";
import { ownRecord } from "./own.ts";

/** What kind of structured file a path is, or undefined for files compared as opaque blobs. */
export type StructuredKind = "json" | "yaml" | "env";

export function structuredKind(path: string): StructuredKind | undefined {
  const name = path.slice(path.lastIndexOf("/") + 1).toLowerCase();
  if (name === ".env" || name.startsWith(".env.") || name.endsWith(".env")) return "env";
  if (name.endsWith(".json")) return "json";
  if (name.endsWith(".yaml") || name.endsWith(".yml")) return "yaml";
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
  /** Characters of text (≈ bytes for ASCII): 5 MiB. */
  maxChars: 5 * 1024 * 1024,
  /** `[`/`{` nesting levels. */
  maxNesting: 100,
  /** YAML aliases (`*name`) expanded per document. */
  maxAliasCount: 100,
} as const;

/** Why a structured text is refused before it is parsed, or `undefined` when it is within limits. */
export function structuredTextProblem(text: string): string | undefined {
  if (text.length > STRUCTURED_LIMITS.maxChars) {
    return `it is ${(text.length / 1024 / 1024).toFixed(1)} MB; modelgate reads structured files up to ${STRUCTURED_LIMITS.maxChars / 1024 / 1024} MB`;
  }
  if (nestingDepth(text) > STRUCTURED_LIMITS.maxNesting) {
    return `it nests deeper than ${STRUCTURED_LIMITS.maxNesting} levels of [ ] or { }`;
  }
  return undefined;
}

/** Deepest `[`/`{` nesting outside double-quoted strings and `#` comments (an upper bound for YAML). */
function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      if (char === "\\") i++;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === "#" && (i === 0 || /\s/.test(text[i - 1] ?? ""))) {
      const end = text.indexOf("\n", i);
      i = end < 0 ? text.length : end;
    } else if (char === "[" || char === "{") deepest = Math.max(deepest, ++depth);
    else if ((char === "]" || char === "}") && depth > 0) depth--;
  }
  return deepest;
}

/** Parses a structured file; throws a plain Error with the parser's reason when it is not valid. */
export function parseStructuredFile(kind: StructuredKind, text: string): unknown {
  const problem = structuredTextProblem(text);
  if (problem) throw new Error(problem);
  try {
    switch (kind) {
      case "json":
        return JSON.parse(text);
      case "yaml":
        return parseYaml(text, { uniqueKeys: true, maxAliasCount: STRUCTURED_LIMITS.maxAliasCount });
      case "env":
        return parseEnv(text);
    }
  } catch (error) {
    // A stack overflow inside a parser is the file's nesting, not a bug of ours.
    if (error instanceof RangeError) throw new Error("it nests too deeply to read");
    throw error;
  }
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

/** Describes an error of `parseStructuredFile` for people; never quotes the file's text. */
export function parseFailure(kind: StructuredKind, text: string, error: unknown): ParseFailure {
  if (text.startsWith("\uFEFF")) {
    return {
      line: 1,
      reason: "the file starts with a UTF-8 byte order mark (BOM)",
      fix: "save it as UTF-8 without a BOM",
    };
  }
  const refused = structuredTextProblem(text);
  if (refused) {
    return {
      line: null,
      reason: refused,
      fix: `keep it under ${STRUCTURED_LIMITS.maxChars / 1024 / 1024} MB and ${STRUCTURED_LIMITS.maxNesting} levels of nesting`,
    };
  }
  if (error instanceof EnvLineError) {
    return {
      line: error.line,
      reason: error.message,
      fix: "write each line as KEY=VALUE, or comment it out with #",
    };
  }
  const fix = `fix the ${kind === "json" ? "JSON" : "YAML"} so it parses`;
  const yamlLine = (error as { linePos?: Array<{ line: number }> } | null)?.linePos?.[0]?.line;
  if (yamlLine !== undefined) {
    const code = (error as { code?: unknown }).code;
    return {
      line: yamlLine,
      reason: firstLine(error).replace(/ at line \d+, column \d+:?$/, ""),
      fix: code === "DUPLICATE_KEY" ? "remove or rename the duplicate key" : fix,
    };
  }
  // V8's JSON messages quote a piece of the text and rarely say where: drop the quote, and ask
  // the YAML parser (JSON is YAML) for the line of the first problem.
  const reason = firstLine(error).replace(/, ".*$/s, "");
  const at = positionLine(error, text);
  if (at !== null || text.length > YAML_LINE_LOOKUP_MAX) return { line: at, reason, fix };
  const [first] = parseDocument(text).errors;
  return { line: first?.linePos?.[0]?.line ?? null, reason, fix };
}

/** Re-parsing as YAML only to find a line is worth it for files of ordinary size. */
const YAML_LINE_LOOKUP_MAX = 512 * 1024;

function positionLine(error: unknown, text: string): number | null {
  const position = /at position (\d+)/.exec(firstLine(error))?.[1];
  return position === undefined ? null : text.slice(0, Number(position)).split("\n").length;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0] ?? message;
}
