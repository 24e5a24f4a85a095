import type { Config } from "../config/schema.ts";
import { structuredKind } from "../structured-files.ts";
import {
  type ChangedPath,
  type Classification,
  classifyChange,
  compilePolicy,
  needsContent,
} from "./classify.ts";

/**
 * Files read only to look for model-ID literals, per change: each costs a request per side over
 * REST, and a 3,000-file PR read whole took the App past its webhook deadline. Past the limit
 * (or when the file list is truncated, which fails closed anyway) the rest are named in a warning.
 */
export const MAX_LITERAL_SCAN_FILES = 200;

/** Reads text of files at one side; missing or binary files map to `null` (or are absent). */
export type SideReader = (paths: readonly string[]) => Promise<ReadonlyMap<string, string | null>>;

/**
 * Classifies a change whose two sides are read through readers (git, REST…), reading only
 * the files it needs (structured files for key-level diffs, text files scanned for model-ID
 * literals): the base path of everything not added, the head path of everything not removed.
 * A reader is not called when it has nothing to read.
 */
export async function classifySides(
  config: Config,
  input: { changes: readonly ChangedPath[]; truncated?: boolean; readBase: SideReader; readHead: SideReader },
): Promise<Classification> {
  const policy = compilePolicy(config);
  const basePaths: string[] = [];
  const headPaths: string[] = [];
  let scanned = 0;
  const unscanned: string[] = [];
  for (const change of input.changes) {
    const basePath = change.previous_path ?? change.path;
    if (!needsContent(policy, change.path) && !needsContent(policy, basePath)) continue;
    if (!structuredKind(change.path) && !structuredKind(basePath)) {
      if (input.truncated || scanned >= MAX_LITERAL_SCAN_FILES) {
        unscanned.push(change.path);
        continue;
      }
      scanned++;
    }
    if (change.status !== "added") basePaths.push(basePath);
    if (change.status !== "removed") headPaths.push(change.path);
  }
  const none: ReadonlyMap<string, string | null> = new Map();
  const [baseFiles, headFiles] = await Promise.all([
    basePaths.length ? input.readBase(basePaths) : none,
    headPaths.length ? input.readHead(headPaths) : none,
  ]);
  const skipped = new Set(unscanned);
  const result = classifyChange(policy, {
    changes: input.changes,
    ...(input.truncated ? { truncated: true } : {}),
    base: (path) => (skipped.has(path) ? null : (baseFiles.get(path) ?? null)),
    head: (path) => (skipped.has(path) ? null : (headFiles.get(path) ?? null)),
  });
  if (unscanned.length > 0) {
    result.warnings.push({
      code: "not_scanned",
      message: `${unscanned.length} changed file${unscanned.length === 1 ? " was" : "s were"} not scanned for model IDs (${input.truncated ? "the file list is truncated" : `over ${MAX_LITERAL_SCAN_FILES} files`}), e.g. ${unscanned[0]}; they are classified by path only`,
    });
  }
  return result;
}
