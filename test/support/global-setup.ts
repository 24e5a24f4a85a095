import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Every temporary folder a test run makes (git repos, caches, result files, Prometheus data) goes
 * under one folder that is removed when the run ends, so a run leaves nothing behind in /tmp.
 * Workers and the processes they spawn inherit TMPDIR, which `os.tmpdir()` and git honour.
 * MODELGATE_KEEP_TEST_TMP=1 keeps it for debugging.
 */
export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), "modelgate-tests-"));
  process.env.TMPDIR = root;
  return () => {
    if (process.env.MODELGATE_KEEP_TEST_TMP) {
      process.stderr.write(`test temp files kept in ${root}\n`);
      return;
    }
    rmSync(root, { recursive: true, force: true });
  };
}
