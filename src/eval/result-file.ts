import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { UserError } from "../core/errors.ts";
import type { EvalResult } from "../core/result.ts";
import { temporaryPath } from "./cache.ts";
import { makeDirectories } from "./writable.ts";

/**
 * Writes atomically (temp file + rename) so a reader or a kill never sees half a file. A path
 * that cannot be written is the user's to fix (one line), never an internal error or a hang.
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  try {
    await makeDirectories(dirname(path));
    const temporary = temporaryPath(path);
    await writeFile(temporary, text);
    await rename(temporary, path);
  } catch (error) {
    throw new UserError(`cannot write ${path} (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
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
