import picomatch from "picomatch";
import type { Config } from "../config/schema.ts";
import { changedKeys, compileKeyPattern, type KeyMatcher } from "../keys.ts";
import { parseStructuredFile, type StructuredKind, structuredKind } from "../structured-files.ts";

/** PRODUCT.md §5: which kind of change each file and key is. */

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
  keys: ClassifiedKey[];
}

export interface ClassificationWarning {
  code: "unparsable" | "truncated_file_list";
  path?: string;
  side?: "base" | "head";
  message: string;
}

export interface Classification {
  /** Sorted subset of model/prompt/infra present in the change. */
  categories: ChangeCategory[];
  mixed: boolean;
  files: ClassifiedFile[];
  warnings: ClassificationWarning[];
  /** True when the file list was cut off (GitHub lists at most 3,000 files); the verdict then fails closed. */
  truncated?: boolean;
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
  const files = input.changes.map((change) => classifyFile(policy, change, input, warnings));
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
  };
}

function classifyFile(
  policy: CompiledPolicy,
  change: ChangedPath,
  input: ClassifyInput,
  warnings: ClassificationWarning[],
): ClassifiedFile {
  const previousPath = change.previous_path ?? null;
  const basePath = previousPath ?? change.path;
  const byPath = new Set<Category>(policy.fileCategories(change.path));
  if (previousPath) for (const category of policy.fileCategories(previousPath)) byPath.add(category);

  const keys = classifyKeys(policy, change, basePath, input, warnings);
  const categories = new Set<Category>(byPath);
  for (const key of keys) if (key.category !== "other") categories.add(key.category);
  return {
    path: change.path,
    previous_path: previousPath,
    status: change.status,
    categories: sortCategories(categories),
    keys,
  };
}

function classifyKeys(
  policy: CompiledPolicy,
  change: ChangedPath,
  basePath: string,
  input: ClassifyInput,
  warnings: ClassificationWarning[],
): ClassifiedKey[] {
  const kind = structuredKind(change.path) ?? structuredKind(basePath);
  if (!kind) return [];
  const base = change.status === "added" ? ABSENT : readDocument(kind, input.base(basePath));
  const head = change.status === "removed" ? ABSENT : readDocument(kind, input.head(change.path));
  for (const [side, parsed, path] of [
    ["base", base, basePath],
    ["head", head, change.path],
  ] as const) {
    if (!parsed.ok) {
      warnings.push({
        code: "unparsable",
        path,
        side,
        message: `${path} does not parse at the ${side} side (${parsed.reason}); classified by path only`,
      });
    }
  }
  if (!base.ok || !head.ok) return [];
  return changedKeys(base.document, head.document).map((key) => ({
    path: key,
    category: policy.keyCategory(key, kind),
  }));
}

type ParsedSide = { ok: true; document: unknown } | { ok: false; reason: string };

/** A file missing on a side (or binary) has no keys there. */
const ABSENT: ParsedSide = { ok: true, document: {} };

function readDocument(kind: StructuredKind, text: string | null): ParsedSide {
  if (text === null) return ABSENT;
  try {
    return { ok: true, document: parseStructuredFile(kind, text) };
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    return { ok: false, reason: reason ?? "parse error" };
  }
}

const CATEGORY_ORDER: readonly Category[] = ["infra", "model", "other", "prompt"];

function sortCategories(categories: Set<Category>): Category[] {
  if (categories.size === 0) return ["other"];
  return CATEGORY_ORDER.filter((category) => categories.has(category));
}
