import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { UserError } from "../core/errors.ts";
import { type EvalResult, serializeResult } from "../core/result.ts";
import { temporaryPath } from "./cache.ts";
import { makeDirectories } from "./writable.ts";

/**
 * Writes atomically (temp file + rename) so a reader or a kill never sees half a file. A path
 * that cannot be written (a directory, `/proc`, no permission) is the user's to fix: a
 * `UserError` naming the file and the reason, never an internal error.
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  await writeOrExplain(path, text, true);
}

/**
 * Fails now, with the same `UserError` the final write would give, when `path` cannot be
 * written: a run must not spend its whole budget before finding out it cannot save the result.
 * Leaves an existing file as it is.
 */
export async function assertWritable(path: string): Promise<void> {
  await writeOrExplain(path, "", false);
}

async function writeOrExplain(path: string, text: string, commit: boolean): Promise<void> {
  const temporary = temporaryPath(path);
  try {
    await makeDirectories(dirname(path));
    await writeFile(temporary, text);
    const info = await stat(path).catch(() => undefined);
    if (info?.isDirectory()) throw Object.assign(new Error(`${path} is a directory`), { code: "EISDIR" });
    if (commit) await rename(temporary, path);
    else await rm(temporary, { force: true });
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => {});
    const code = (error as NodeJS.ErrnoException | null)?.code;
    const reason =
      code === "EISDIR"
        ? "it is a directory"
        : code === "EACCES" || code === "EPERM" || code === "EROFS"
          ? "permission denied"
          : code === "ENOENT" || code === "ENOTDIR"
            ? "no such folder, and it cannot be created there"
            : (code ?? (error instanceof Error ? error.message.split("\n")[0] : String(error)));
    throw new UserError(`cannot write ${path}: ${reason}`);
  }
}

/**
 * The same, synchronously: for the last write of a process that is about to exit. Its folder was
 * checked (and made) before the run began, so a plain recursive mkdir cannot hang here.
 */
export function writeFileAtomicSync(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = temporaryPath(path);
  writeFileSync(temporary, text);
  renameSync(temporary, path);
}

/** The result file's text, checked against the schema readers use (`serializeResult`). */
export function resultJson(result: EvalResult): string {
  return serializeResult(result);
}
