import { describe, expect, it } from "vitest";
import { runCliCaptured } from "./support/cli.ts";
import { commitFiles, git, tempDir } from "./support/git.ts";

/**
 * Issue 11, item 12: in a blobless (partial) clone, a blob git cannot fetch is the user's to fix
 * (exit 2, with the fix), not an internal error (exit 3).
 */

const LLM = (model: string, timeout: number) =>
  `${JSON.stringify({ llm: { default_model: model, timeout_ms: timeout, routes: { qna: model } } }, null, 2)}\n`;

/** A blobless clone of a local repo whose promisor remote is then gone, so missing blobs stay missing. */
function partialCloneWithoutRemote(files: {
  base: Record<string, string | null>;
  head: Record<string, string | null>;
}) {
  const origin = tempDir();
  git(origin, "init", "--quiet", "-b", "main");
  git(origin, "config", "uploadpack.allowFilter", "true");
  commitFiles(origin, files.base, "base");
  commitFiles(origin, files.head, "head");
  const clone = `${tempDir()}/clone`;
  git(origin, "clone", "--quiet", "--no-checkout", "--filter=blob:none", `file://${origin}`, clone);
  git(clone, "remote", "set-url", "origin", `file://${origin}-gone`);
  return clone;
}

describe("modelgate classify in a partial clone", () => {
  it.each([
    [
      "a modified config",
      { "config/llm.json": LLM("gpt-5.4", 30) },
      { "config/llm.json": LLM("gpt-5.5", 30) },
    ],
    [
      "a renamed config (rename detection reads blobs)",
      { "config/llm.json": LLM("gpt-5.4", 30) },
      { "config/llm.json": null, "config/llm-v2.json": LLM("gpt-5.4", 31) },
    ],
  ])("%s: exit 2, one line that says it is a partial clone and how to fetch", async (_what, base, head) => {
    const clone = partialCloneWithoutRemote({ base, head });
    const run = await runCliCaptured(["classify", "--repo", clone, "--base", "HEAD~1", "--head", "HEAD"]);
    expect(run.stderr).not.toMatch(/internal error/i);
    expect(run.code).toBe(2);
    const lines = run.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/partial clone/);
    expect(lines[0]).toContain("git fetch --refetch");
    expect(lines[0]).toContain("git rev-list --objects --missing=print");
  });
});
