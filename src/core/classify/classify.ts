import picomatch from "picomatch";
import type { Config } from "../config/schema.ts";
import { changedKeys, compileKeyPattern, type KeyMatcher } from "../keys.ts";
import {
  describeFormatWarning,
  type FormatWarning,
  type ParseFailure,
  parseFailure,
  readStructuredFile,
  type StructuredKind,
  structuredKind,
} from "../structured-files.ts";
import { capKeys } from "./key-cap.ts";

/** docs/attribution.md: which kind of change each file and key is. */

export const CHANGE_CATEGORIES = ["model", "prompt", "infra"] as const;
export type ChangeCategory = (typeof CHANGE_CATEGORIES)[number];
export type Category = ChangeCategory | "other";

export type FileStatus = "added" | "modified" | "removed" | "renamed";

export interface ChangedPath {
  path: string;
  status: FileStatus;
  /** The old path of a rename. */
  previous_path?: string | null;
}

/** File contents at one side; `null` when the file does not exist there or is binary. */
export type ContentReader = (path: string) => string | null;

export interface ClassifiedKey {
  path: string;
  category: Category;
}

export interface ClassifiedFile {
  path: string;
  previous_path: string | null;
  status: FileStatus;
  categories: Category[];
  /** Changed keys, sorted; at most `MAX_REPORTED_KEYS` (+ a few, see key-cap.ts) are listed. */
  keys: ClassifiedKey[];
  /** Changed keys not listed in `keys`; present only when the list was cut. */
  keys_omitted?: number;
}

export interface ClassificationWarning {
  /** `format`: a structured file was read, but something in it was tolerated (duplicate key, custom tag). */
  code: "unparsable" | "truncated_file_list" | "format";
  path?: string;
  side?: "base" | "head";
  /** 1-based line the warning is about, when known (`format`). */
  line?: number;
  message: string;
}

/** A structured file that does not parse on a side: its keys are unknown, so it fails closed. */
export interface UnreadableFile extends ParseFailure {
  path: string;
  side: "base" | "head";
  /** Every category whose key rules could match a file of this kind: what the file counts as. */
  categories: ChangeCategory[];
}

export interface Classification {
  /** Sorted subset of model/prompt/infra present in the change. */
  categories: ChangeCategory[];
  mixed: boolean;
  files: ClassifiedFile[];
  warnings: ClassificationWarning[];
  /** True when the file list was cut off (GitHub lists at most 3,000 files); the verdict then fails closed. */
  truncated?: boolean;
  /** Structured files with key rules that do not parse; present (non-empty) only then, and the verdict fails closed. */
  unreadable?: UnreadableFile[];
}

export interface ClassifyInput {
  changes: readonly ChangedPath[];
  base: ContentReader;
  head: ContentReader;
  truncated?: boolean;
}

/** A policy compiled once: matching 3,000 paths against raw globs each time would dominate. */
export interface CompiledPolicy {
  fileCategories(path: string): ChangeCategory[];
  keyCategory(keyPath: string, kind: StructuredKind): Category;
  /** Categories with key rules for this kind of file (`env` rules for env files, `keys` otherwise). */
  keyRuleCategories(kind: StructuredKind): ChangeCategory[];
}

export function compilePolicy(config: Config): CompiledPolicy {
  const rules = CHANGE_CATEGORIES.map((category) => {
    const rule = config.changes[category];
    return {
      category,
      files: rule.files.length ? picomatch(rule.files, { dot: true }) : () => false,
      keys: rule.keys.map(compileKeyPattern),
      env: rule.env.map((pattern) => picomatch(pattern, { dot: true, nocase: false })),
    };
  });
  return {
    fileCategories: (path) => rules.filter((rule) => rule.files(path)).map((rule) => rule.category),
    keyCategory(keyPath, kind) {
      if (kind === "env")
        return rules.find((rule) => rule.env.some((match) => match(keyPath)))?.category ?? "other";
      return keyCategoryByNearestMatch(keyPath.split("."), rules);
    },
    keyRuleCategories: (kind) =>
      rules.filter((rule) => (kind === "env" ? rule.env : rule.keys).length > 0).map((rule) => rule.category),
  };
}

/**
 * The most specific match wins: the leaf key itself, else its nearest ancestor, so that
 * `llm.routes.x.timeout_ms` under a rule for `llm.routes.*` is a change of that route.
 */
function keyCategoryByNearestMatch(
  segments: string[],
  rules: ReadonlyArray<{ category: ChangeCategory; keys: KeyMatcher[] }>,
): Category {
  for (let length = segments.length; length > 0; length--) {
    const prefix = segments.slice(0, length);
    const rule = rules.find((r) => r.keys.some((match) => match(prefix)));
    if (rule) return rule.category;
  }
  return "other";
}

export function classifyChange(policy: CompiledPolicy, input: ClassifyInput): Classification {
  const warnings: ClassificationWarning[] = [];
  const unreadable: UnreadableFile[] = [];
  const files = input.changes.map((change) => classifyFile(policy, change, input, warnings, unreadable));
  const present = new Set<ChangeCategory>();
  for (const file of files)
    for (const category of file.categories) if (category !== "other") present.add(category);
  const categories = [...present].sort();
  if (input.truncated) {
    warnings.push({
      code: "truncated_file_list",
      message: `the file list was truncated after ${input.changes.length} files; the change is judged on the files listed and fails closed`,
    });
  }
  return {
    categories,
    mixed: categories.length >= 2,
    files,
    warnings,
    ...(input.truncated ? { truncated: true } : {}),
    ...(unreadable.length ? { unreadable } : {}),
  };
}

function classifyFile(
  policy: CompiledPolicy,
  change: ChangedPath,
  input: ClassifyInput,
  warnings: ClassificationWarning[],
  unreadable: UnreadableFile[],
): ClassifiedFile {
  const previousPath = change.previous_path ?? null;
  const basePath = previousPath ?? change.path;
  const byPath = new Set<Category>(policy.fileCategories(change.path));
  if (previousPath) for (const category of policy.fileCategories(previousPath)) byPath.add(category);

  const before = unreadable.length;
  const allKeys = classifyKeys(policy, change, basePath, input, warnings, unreadable);
  const categories = new Set<Category>(byPath);
  for (const file of unreadable.slice(before))
    for (const category of file.categories) categories.add(category);
  for (const key of allKeys) if (key.category !== "other") categories.add(key.category);
  const { keys, omitted } = capKeys(allKeys);
  return {
    path: change.path,
    previous_path: previousPath,
    status: change.status,
    categories: sortCategories(categories),
    keys,
    ...(omitted > 0 ? { keys_omitted: omitted } : {}),
  };
}

function classifyKeys(
  policy: CompiledPolicy,
  change: ChangedPath,
  basePath: string,
  input: ClassifyInput,
  warnings: ClassificationWarning[],
  unreadable: UnreadableFile[],
): ClassifiedKey[] {
  const kind = structuredKind(change.path) ?? structuredKind(basePath);
  if (!kind) return [];
  const base = change.status === "added" ? ABSENT : readDocument(kind, input.base(basePath));
  const head = change.status === "removed" ? ABSENT : readDocument(kind, input.head(change.path));
  for (const [side, parsed, path] of [
    ["base", base, basePath],
    ["head", head, change.path],
  ] as const) {
    if (parsed.ok) continue;
    const categories = policy.keyRuleCategories(kind);
    if (categories.length === 0) {
      // No key rules could match this file: its path decides, as for any other file.
      warnings.push({
        code: "unparsable",
        path,
        side,
        message: `${where(path, parsed.failure)} does not parse at the ${side} side (${parsed.failure.reason}); classified by path only, as no key rules apply to it`,
      });
      continue;
    }
    unreadable.push({ path, side, categories, ...parsed.failure });
    warnings.push({
      code: "unparsable",
      path,
      side,
      message: `${where(path, parsed.failure)} cannot be read at the ${side} side: ${parsed.failure.reason}. Its keys are unknown, so it counts as ${categories.join(" + ")} (every category with key rules) and the check fails. To fix: ${parsed.failure.fix}${side === "base" ? " on the base branch (or a maintainer applies the override label)" : ""}.`,
    });
  }
  if (!base.ok || !head.ok) return [];
  for (const [side, parsed, path] of [
    ["base", base, basePath],
    ["head", head, change.path],
  ] as const) {
    for (const warning of parsed.warnings) {
      warnings.push({
        code: "format",
        path,
        side,
        ...(warning.line === null ? {} : { line: warning.line }),
        message: `${describeFormatWarning(path, warning)} (${side} side)`,
      });
    }
  }
  return changedKeys(base.document, head.document).map((key) => ({
    path: key,
    category: policy.keyCategory(key, kind),
  }));
}

type ParsedSide =
  | { ok: true; document: unknown; warnings: FormatWarning[] }
  | { ok: false; failure: ParseFailure };

function where(path: string, failure: ParseFailure): string {
  return failure.line === null ? path : `${path}:${failure.line}`;
}

/** A file missing on a side (or binary) has no keys there. */
const ABSENT: ParsedSide = { ok: true, document: {}, warnings: [] };

function readDocument(kind: StructuredKind, text: string | null): ParsedSide {
  if (text === null) return ABSENT;
  try {
    const { value, warnings } = readStructuredFile(kind, text);
    return { ok: true, document: value, warnings };
  } catch (error) {
    return { ok: false, failure: parseFailure(kind, text, error) };
  }
}

const CATEGORY_ORDER: readonly Category[] = ["infra", "model", "other", "prompt"];

function sortCategories(categories: Set<Category>): Category[] {
  if (categories.size === 0) return ["other"];
  return CATEGORY_ORDER.filter((category) => categories.has(category));
}
