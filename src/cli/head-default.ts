import { headDefaultWarning } from "../git/worktree.ts";
import type { CommandIo } from "./io.ts";

/** Without --head the run reads committed HEAD: say so when the work tree has edits it leaves out. */
export async function warnAboutDefaultHead(repoDir: string, io: CommandIo): Promise<void> {
  const warning = await headDefaultWarning(repoDir);
  if (warning) io.stderr(`modelgate: ${warning}\n`);
}
