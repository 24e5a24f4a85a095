import type { Classification } from "../core/classify/classify.ts";
import { classifySides } from "../core/classify/classify-sides.ts";
import { policyFromBase } from "../core/config/policy.ts";
import type { Config } from "../core/config/schema.ts";
import type { LocalRepo } from "./local-repo.ts";

export interface RefPair {
  base: string;
  head: string;
}

/** The policy at `commit`; a missing file is an error when `option` (e.g. `--config`) named it. */
export async function loadPolicyAt(
  repo: LocalRepo,
  commit: string,
  configPath: string,
  option?: string,
): Promise<Config> {
  const files = await repo.readFiles(commit, [configPath]);
  const named = option ? { option, at: `base commit ${commit.slice(0, 12)}` } : undefined;
  return policyFromBase(files.get(configPath) ?? null, configPath, named);
}

/** Classifies the change between two commits, reading only the structured files it needs. */
export async function classifyRefs(repo: LocalRepo, refs: RefPair, config: Config): Promise<Classification> {
  return classifySides(config, {
    changes: await repo.changedPaths(refs.base, refs.head),
    readBase: (paths) => repo.readFiles(refs.base, paths),
    readHead: (paths) => repo.readFiles(refs.head, paths),
  });
}
