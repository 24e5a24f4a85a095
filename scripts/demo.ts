import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeExampleRepo } from "../examples/make-example-repo.ts";
import { runCli } from "../src/cli/main.ts";

/**
 * `npm run demo`: the main job on the bundled example, with no key and no network.
 * Builds the example as a git repo, then classifies its two example pull requests.
 */
const io = {
  stdout: (text: string) => process.stdout.write(text),
  stderr: (text: string) => process.stderr.write(text),
  isTTY: Boolean(process.stderr.isTTY),
  env: process.env,
};
const repo = makeExampleRepo(mkdtempSync(join(tmpdir(), "modelgate-demo-"))).dir;
process.stdout.write(`Example repo: ${repo}\n`);

for (const branch of ["migrate-agentic-coding", "mixed"]) {
  process.stdout.write(`\n$ modelgate classify --repo ${repo} --base main --head ${branch} --format text\n`);
  const code = await runCli(
    ["classify", "--repo", repo, "--base", "main", "--head", branch, "--format", "text"],
    io,
  );
  process.stdout.write(`(exit ${code})\n`);
}
