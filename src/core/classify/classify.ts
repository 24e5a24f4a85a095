import type { Config } from "../config/schema.ts";
import {
  type ChangedKey,
  type CompiledKeyPattern,
  compareSpecificity,
  compileKeyPatternWithSpecificity,
  unquoteSegment,
  visitChangedLeaves,
} from "../keys.ts";
import {
  describeFormatWarning,
  type FormatWarning,
  type ParseFailure,
  parseFailure,
  readStructuredFile,
  STRUCTURED_LIMITS,
  type StructuredKind,
  structuredKind,
} from "../structured-files.ts";
import { compileFileList, type FileMatcher } from "./file-globs.ts";
import { capKeys } from "./key-cap.ts";
import {
  compileModelIdMatcher,
  DEFAULT_MODEL_PATTERNS,
  diffModelLiterals,
  type LiteralChange,
  type ModelIdMatcher,
} from "./model-literals.ts";

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
  /** Model-ID literals whose count changed in a file read as text; present only when some did. */
  literals?: LiteralChange[];
  /** Changed keys not listed in `keys`; present only when the list was cut. */
  keys_omitted?: number;
}

export interface ClassificationWarning {
  /** `format`: a structured file was read, but something in it was tolerated (duplicate key, custom tag). */
  code: "unparsable" | "truncated_file_list" | "not_scanned" | "format";
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
  /** The category of a changed key of a file (its written path for env files, segments otherwise). */
  keyCategory(key: string | readonly string[], kind: StructuredKind, filePath?: string): Category;
  /** Categories with key rules for this kind of file (`env` rules for env files, `keys` otherwise), scoped rules included when they name this file. */
  keyRuleCategories(kind: StructuredKind, filePath?: string): ChangeCategory[];
  /** Whether model-ID literals are looked for in this file. */
  scansLiterals(path: string): boolean;
  modelIds: ModelIdMatcher;
}

interface KeyRule extends CompiledKeyPattern {
  category: ChangeCategory;
  /** For a `{file, keys}` rule: the files it applies to. */
  file?: FileMatcher;
}

export function compilePolicy(config: Config): CompiledPolicy {
  const rules = CHANGE_CATEGORIES.map((category) => {
    const rule = config.changes[category];
    return {
      category,
      files: compileFileList(rule.files),
      // Same order-and-negation reading as file lists: `!EMBEDDING_MODEL` takes one variable back.
      env: compileFileList(rule.env),
    };
  });
  const keyRules: KeyRule[] = CHANGE_CATEGORIES.flatMap((category) =>
    config.changes[category].keys.flatMap((entry): KeyRule[] => {
      if (typeof entry === "string") return [{ ...compileKeyPatternWithSpecificity(entry), category }];
      const file = compileFileList([entry.file]);
      return entry.keys.map((pattern) => ({ ...compileKeyPatternWithSpecificity(pattern), category, file }));
    }),
  );
  const literals = config.changes.model.literals;
  const skip = compileFileList(literals.skip_files);
  const modelIds = compileModelIdMatcher(
    literals.enabled
      ? [...(literals.replace_defaults ? [] : DEFAULT_MODEL_PATTERNS), ...literals.patterns]
      : [],
  );
  const appliesTo = (rule: KeyRule, filePath: string | undefined) =>
    !rule.file || (filePath !== undefined && rule.file(filePath));
  return {
    fileCategories: (path) => rules.filter((rule) => rule.files(path)).map((rule) => rule.category),
    keyCategory(key, kind, filePath) {
      if (kind === "env") {
        const name = typeof key === "string" ? key : key.join(".");
        return rules.find((rule) => rule.env(name))?.category ?? "other";
      }
      const segments = typeof key === "string" ? [key] : key;
      return keyCategoryByNearestMatch(
        segments,
        keyRules.filter((rule) => appliesTo(rule, filePath)),
      );
    },
    keyRuleCategories: (kind, filePath) =>
      CHANGE_CATEGORIES.filter((category) =>
        kind === "env"
          ? config.changes[category].env.length > 0
          : keyRules.some((rule) => rule.category === category && appliesTo(rule, filePath)),
      ),
    scansLiterals: (path) => literals.enabled && !skip(path),
    modelIds,
  };
}

/**
 * The leaf key itself, else its nearest ancestor, so that `llm.routes.x.timeout_ms` under a
 * rule for `llm.routes.*` is a change of that route. Among the patterns matching at that depth
 * the most specific wins, whatever its category: a rule naming its file over one that does not,
 * then exact over `*` over `**`, then the longer literal prefix (docs/policy.md#precedence).
 * Only a full tie falls back to the order model, prompt, infra.
 */
function keyCategoryByNearestMatch(segments: readonly string[], rules: readonly KeyRule[]): Category {
  for (let length = segments.length; length > 0; length--) {
    const prefix = segments.slice(0, length);
    let best: KeyRule | undefined;
    for (const rule of rules) {
      if (!rule.match(prefix)) continue;
      if (!best || moreSpecific(rule, best)) best = rule;
    }
    if (best) return best.category;
  }
  return "other";
}

function moreSpecific(a: KeyRule, b: KeyRule): boolean {
  const scoped = (a.file ? 1 : 0) - (b.file ? 1 : 0);
  if (scoped !== 0) return scoped > 0;
  return compareSpecificity(a.specificity, b.specificity) > 0;
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
  const {
    keys: allKeys,
    literals,
    parsed,
  } = classifyContent(policy, change, basePath, input, warnings, unreadable);
  // A structured file read on both sides is judged by its keys: a key rule (or a model ID) is
  // more specific than a file glob, which decides only for keys nothing else names. So a k8s
  // manifest under `k8s/**` whose only change is OPENAI_MODEL is a model change, and one whose
  // keys did not change at all (a reformat, a comment) is no change.
  const pathDecides = !parsed || allKeys.some((key) => key.category === "other");
  const categories = new Set<Category>(pathDecides ? byPath : []);
  for (const file of unreadable.slice(before))
    for (const category of file.categories) categories.add(category);
  for (const key of allKeys) if (key.category !== "other") categories.add(key.category);
  if (literals.length > 0) categories.add("model");
  const { keys, omitted } = capKeys(allKeys);
  return {
    path: change.path,
    previous_path: previousPath,
    status: change.status,
    categories: sortCategories(categories),
    keys,
    ...(literals.length > 0 ? { literals } : {}),
    ...(omitted > 0 ? { keys_omitted: omitted } : {}),
  };
}

/**
 * Whether a file's text is worth reading to classify it: a structured file (key-level diff) or
 * a file scanned for model-ID literals. Readers are asked only for these.
 */
export function needsContent(policy: CompiledPolicy, path: string): boolean {
  return structuredKind(path) !== undefined || (policy.scansLiterals(path) && !BINARY_EXTENSION.test(path));
}

/** Files that are never text: not worth a read (a REST request each) to find they are binary. */
const BINARY_EXTENSION =
  /\.(png|jpe?g|gif|webp|ico|bmp|tiff?|pdf|zip|gz|tgz|bz2|xz|7z|tar|jar|war|whl|egg|so|dylib|dll|exe|bin|o|a|class|pyc|woff2?|ttf|otf|eot|mp[34]|wav|ogg|mov|avi|webm|parquet|npy|npz|pt|pth|onnx|safetensors|sqlite|db)$/i;

interface ContentResult {
  keys: ClassifiedKey[];
  literals: LiteralChange[];
  /** True when the file is structured and both sides parsed: its keys are all that changed. */
  parsed?: boolean;
}

function classifyContent(
  policy: CompiledPolicy,
  change: ChangedPath,
  basePath: string,
  input: ClassifyInput,
  warnings: ClassificationWarning[],
  unreadable: UnreadableFile[],
): ContentResult {
  const none: ContentResult = { keys: [], literals: [] };
  const kind = structuredKind(change.path) ?? structuredKind(basePath);
  const scans = policy.scansLiterals(change.path) || policy.scansLiterals(basePath);
  if (!kind && (!scans || !needsContent(policy, change.path))) return none;
  const baseText = change.status === "added" ? null : input.base(basePath);
  const headText = change.status === "removed" ? null : input.head(change.path);
  if (!kind)
    return { keys: [], literals: scanLiterals(policy, change, basePath, baseText, headText, warnings) };
  const base = change.status === "added" ? ABSENT : readDocument(kind, baseText);
  const head = change.status === "removed" ? ABSENT : readDocument(kind, headText);
  let asText = false;
  // A text over the size limit is not scanned for model IDs either (scanLiterals says so).
  const scannable = (text: string | null) =>
    scans && text !== null && text.length <= STRUCTURED_LIMITS.maxChars;
  for (const [side, parsed, path] of [
    ["base", base, basePath],
    ["head", head, change.path],
  ] as const) {
    if (parsed.ok) continue;
    const categories = policy.keyRuleCategories(kind, path);
    if (categories.length === 0) {
      // No key rules could match this file: its path decides, and its quoted model IDs.
      asText = true;
      warnings.push({
        code: "unparsable",
        path,
        side,
        message: `${where(path, parsed.failure)} does not parse at the ${side} side (${parsed.failure.reason}); classified by path${scannable(side === "base" ? baseText : headText) ? " and the model IDs in its text" : ""} only, as no key rules apply to it`,
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
  if (!base.ok || !head.ok) {
    if (!asText || !scans) return none;
    return { keys: [], literals: scanLiterals(policy, change, basePath, baseText, headText, warnings) };
  }
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
  // Each leaf is reduced to its path and category as the walk finds it: a 100,000-key change
  // never holds its leaves' segments and values at once.
  const keys: ClassifiedKey[] = [];
  visitChangedLeaves(base.document, head.document, (leaf) =>
    keys.push({ path: leaf.path, category: leafCategory(policy, leaf, kind, change.path, scans) }),
  );
  keys.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { keys, literals: [], parsed: true };
}

/**
 * A key no rule names is a model change when its value is a model ID on either side (zero
 * config: `OPENAI_MODEL: gpt-4o` in a manifest, `model = "gpt-4o"` in settings).
 */
function leafCategory(
  policy: CompiledPolicy,
  leaf: ChangedKey,
  kind: StructuredKind,
  filePath: string,
  scans: boolean,
): Category {
  const key = kind === "env" ? (unquoteSegment(leaf.segments[0] ?? "") ?? leaf.path) : leaf.segments;
  const category = policy.keyCategory(key, kind, filePath);
  if (category !== "other" || !scans) return category;
  const isModelId = (value: unknown) => typeof value === "string" && policy.modelIds.isModelId(value.trim());
  return isModelId(leaf.base) || isModelId(leaf.head) ? "model" : "other";
}

function scanLiterals(
  policy: CompiledPolicy,
  change: ChangedPath,
  basePath: string,
  baseText: string | null,
  headText: string | null,
  warnings: ClassificationWarning[],
): LiteralChange[] {
  for (const [side, text, path] of [
    ["base", baseText, basePath],
    ["head", headText, change.path],
  ] as const) {
    if (text === null || text.length <= STRUCTURED_LIMITS.maxChars) continue;
    warnings.push({
      code: "not_scanned",
      path,
      side,
      message: `${path} is ${(text.length / 1024 / 1024).toFixed(1)} MB at the ${side} side, over the ${STRUCTURED_LIMITS.maxChars / 1024 / 1024} MB limit; it was not scanned for model IDs and is classified by its path only`,
    });
    return [];
  }
  return diffModelLiterals(baseText, headText, policy.modelIds);
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
