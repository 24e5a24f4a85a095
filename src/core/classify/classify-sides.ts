import type { Config } from "../config/schema.ts";
import {
  type ChangedPath,
  type Classification,
  classifyChange,
  compilePolicy,
  needsContent,
} from "./classify.ts";

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
  for (const change of input.changes) {
    const basePath = change.previous_path ?? change.path;
    if (!needsContent(policy, change.path) && !needsContent(policy, basePath)) continue;
    if (change.status !== "added") basePaths.push(basePath);
    if (change.status !== "removed") headPaths.push(change.path);
  }
  const none: ReadonlyMap<string, string | null> = new Map();
  const [baseFiles, headFiles] = await Promise.all([
    basePaths.length ? input.readBase(basePaths) : none,
    headPaths.length ? input.readHead(headPaths) : none,
  ]);
  return classifyChange(policy, {
    changes: input.changes,
    ...(input.truncated ? { truncated: true } : {}),
    base: (path) => baseFiles.get(path) ?? null,
    head: (path) => headFiles.get(path) ?? null,
  });
}
