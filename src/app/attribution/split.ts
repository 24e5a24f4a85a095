import type { ChangeCategory, Classification, ClassifiedFile } from "../../core/classify/classify.ts";

/**
 * The order the suggested PRs should land in: infra first (timeouts, retry limits and token caps
 * sized for the new model's longer runs are in place before it takes traffic), then prompts,
 * then the model swap last, so its eval measures the model alone.
 */
export const SPLIT_ORDER: readonly ChangeCategory[] = ["infra", "prompt", "model"];

/** One file's share of one suggested PR: the whole file, or only some of its keys. */
export interface SplitEntry {
  path: string;
  previous_path: string | null;
  /** Keys of this category when the file also carries other categories; empty means the whole file. */
  keys: string[];
}

export interface SplitPart {
  category: ChangeCategory;
  entries: SplitEntry[];
}

export interface Split {
  parts: SplitPart[];
  /** Files of no category: they can ride along with any part. */
  other: string[];
}

/** Which files (and, for a file carrying several categories, which keys) go to which PR. */
export function suggestSplit(classification: Classification): Split {
  const parts = new Map<ChangeCategory, SplitEntry[]>();
  const other: string[] = [];
  for (const file of classification.files) {
    const categories = changeCategories(file);
    if (categories.length === 0) {
      other.push(file.path);
      continue;
    }
    for (const category of categories) {
      const keys =
        categories.length > 1 ? file.keys.filter((k) => k.category === category).map((k) => k.path) : [];
      const list = parts.get(category) ?? [];
      list.push({ path: file.path, previous_path: file.previous_path, keys });
      parts.set(category, list);
    }
  }
  return {
    parts: SPLIT_ORDER.filter((category) => parts.has(category)).map((category) => ({
      category,
      entries: parts.get(category) ?? [],
    })),
    other,
  };
}

export function changeCategories(file: ClassifiedFile): ChangeCategory[] {
  return SPLIT_ORDER.filter((category) => file.categories.includes(category));
}
