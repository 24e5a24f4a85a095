import { type Classification, classifyChange, compilePolicy } from "../core/classify/classify.ts";
import { policyFromBase } from "../core/config/policy.ts";
import type { Config } from "../core/config/schema.ts";
import { structuredKind } from "../core/structured-files.ts";
import type { LocalRepo } from "./local-repo.ts";

export interface RefPair {
  base: string;
  head: string;
}

export async function loadPolicyAt(repo: LocalRepo, commit: string, configPath: string): Promise<Config> {
  const files = await repo.readFiles(commit, [configPath]);
  return policyFromBase(files.get(configPath) ?? null, configPath);
}

/** Classifies the change between two commits, reading only the structured files it needs. */
export async function classifyRefs(repo: LocalRepo, refs: RefPair, config: Config): Promise<Classification> {
  const changes = await repo.changedPaths(refs.base, refs.head);
  const basePaths: string[] = [];
  const headPaths: string[] = [];
  for (const change of changes) {
    const basePath = change.previous_path ?? change.path;
    if (!structuredKind(change.path) && !structuredKind(basePath)) continue;
    if (change.status !== "added") basePaths.push(basePath);
    if (change.status !== "removed") headPaths.push(change.path);
  }
  const [baseFiles, headFiles] = await Promise.all([
    repo.readFiles(refs.base, basePaths),
    repo.readFiles(refs.head, headPaths),
  ]);
  return classifyChange(compilePolicy(config), {
    changes,
    base: (path) => baseFiles.get(path) ?? null,
    head: (path) => headFiles.get(path) ?? null,
  });
}
