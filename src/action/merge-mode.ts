import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { UserError } from "../core/errors.ts";
import { mergeResults, parseResultFile } from "../core/merge-results.ts";
import type { EvalResult } from "../core/result.ts";

/**
 * `mode: merge`: the shard results named by the `results` input (files, or folders searched
 * for `*.json`, as `actions/download-artifact` lays them out) as one result.
 */
export async function readShardResults(inputs: readonly string[]): Promise<EvalResult> {
  if (inputs.length === 0) {
    throw new UserError(
      "Input 'results' is empty. Expected the shard result files or the folder they were downloaded to, e.g. results: shard-results/ (mode: merge).",
    );
  }
  const files: string[] = [];
  for (const input of inputs) files.push(...(await jsonFiles(input)));
  if (files.length === 0) throw new UserError(`Input 'results': no .json files in ${inputs.join(", ")}.`);
  const shards = await Promise.all(
    files.map(async (file) => {
      const text = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
        throw new UserError(`Input 'results': cannot read ${file} (${error.code ?? error.message}).`);
      });
      return parseResultFile(text, file);
    }),
  );
  return mergeResults(shards);
}

async function jsonFiles(path: string): Promise<string[]> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch {
    throw new UserError(`Input 'results': ${path} does not exist.`);
  }
  if (!info.isDirectory()) return [path];
  const entries = await readdir(path, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith(".json"))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}
