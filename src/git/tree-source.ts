import type { TreeSource } from "../core/source.ts";
import type { LocalRepo } from "./local-repo.ts";

/** One commit of a local repo as a side of the comparison. */
export function commitSource(repo: LocalRepo, commit: string, side: "base" | "head"): TreeSource {
  let files: Promise<string[]> | undefined;
  return {
    label: `${side} ${commit.slice(0, 7)}`,
    readFiles: (paths) => repo.readFiles(commit, paths),
    listFiles: () => {
      files ??= repo.listFiles(commit);
      return files;
    },
  };
}
