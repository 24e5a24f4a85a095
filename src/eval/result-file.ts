import { mkdir, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { type EvalResult, serializeResult } from "../core/result.ts";
import { temporaryPath } from "./cache.ts";

/** Writes atomically (temp file + rename) so a reader or a kill never sees half a file. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = temporaryPath(path);
  await writeFile(temporary, text);
  await rename(temporary, path);
}

/** The result file's text, checked against the schema readers use (`serializeResult`). */
export function resultJson(result: EvalResult): string {
  return serializeResult(result);
}
