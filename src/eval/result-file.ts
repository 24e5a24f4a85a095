import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { EvalResult } from "../core/result.ts";
import { temporaryPath } from "./cache.ts";

/** Writes atomically (temp file + rename) so a reader or a kill never sees half a file. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = temporaryPath(path);
  await writeFile(temporary, text);
  await rename(temporary, path);
}

/** The same, synchronously: for the last write of a process that is about to exit. */
export function writeFileAtomicSync(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = temporaryPath(path);
  writeFileSync(temporary, text);
  renameSync(temporary, path);
}

export function resultJson(result: EvalResult): string {
  return `${JSON.stringify(result, null, 2)}\n`;
}
