import { mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { UserError } from "../core/errors.ts";
import { type EvalResult, serializeResult } from "../core/result.ts";
import { temporaryPath } from "./cache.ts";

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
    await ensureDir(dirname(path));
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
 * `mkdir -p` one level at a time. Node's `mkdir(…, { recursive: true })` never returns for a
 * path under `/proc` (it retries forever), so the missing levels are created one by one and
 * the first refusal ends it.
 */
async function ensureDir(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let current = dir; ; current = dirname(current)) {
    const info = await stat(current).catch(() => undefined);
    if (info) {
      if (!info.isDirectory())
        throw Object.assign(new Error(`${current} is not a directory`), { code: "ENOTDIR" });
      break;
    }
    missing.unshift(current);
    if (dirname(current) === current) break;
  }
  for (const level of missing) await mkdir(level);
}

/** The result file's text, checked against the schema readers use (`serializeResult`). */
export function resultJson(result: EvalResult): string {
  return serializeResult(result);
}
