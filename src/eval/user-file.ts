import { readFile } from "node:fs/promises";
import { UserError } from "../core/errors.ts";

/**
 * A file the user named (a flag's value, a result file): its text, or a one-line `UserError`
 * naming the flag and the file (`--baseline: cannot read out.json: no such file`), never a stack.
 */
export async function readUserFile(path: string, what: string, hint?: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(
      `${what}: cannot read ${path}${code === "ENOENT" ? ": no such file" : ` (${code})`}${hint ? ` ${hint}` : ""}`,
    );
  }
}
