import { mkdir, rm, stat, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { UserError } from "../core/errors.ts";

let probeCounter = 0;

/**
 * `mkdir -p` one level at a time. Node's `mkdir(…, { recursive: true })` never returns for a
 * path under `/proc` (it retries the ENOENT forever), so every missing level is created on its
 * own and the first error is final.
 */
export async function makeDirectories(dir: string): Promise<void> {
  const missing: string[] = [];
  let at = resolve(dir);
  for (;;) {
    try {
      if (!(await stat(at)).isDirectory()) {
        throw Object.assign(new Error(`${at} is not a directory`), { code: "ENOTDIR" });
      }
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      missing.push(at);
      const parent = dirname(at);
      if (parent === at) throw error;
      at = parent;
    }
  }
  for (const level of missing.reverse()) {
    try {
      await mkdir(level);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
}

/**
 * Creates `dir` if needed and proves a file can be written there, before any request is spent:
 * a cache or result location the run cannot use is the user's to fix (exit 2 / input error),
 * not an internal error after the work is done.
 */
export async function assertWritableDirectory(dir: string, subject: string, fix: string): Promise<void> {
  probeCounter += 1;
  const probe = resolve(dir, `.modelgate-probe-${process.pid}-${probeCounter}.tmp`);
  try {
    await makeDirectories(dir);
    await writeFile(probe, "");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(
      `${subject} is not writable: cannot create a file in ${dir} (${code ?? "error"}); ${fix}`,
    );
  }
  await rm(probe, { force: true });
}
