import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EXAMPLE_ROOT, makeExampleRepo } from "../examples/make-example-repo.ts";
import { runCli } from "../src/cli/main.ts";

/**
 * `npm run demo`: the main job on the bundled example, with no key and no network.
 * 1. builds the example app as a git repo with two example pull requests;
 * 2. classifies both (one is model-only, one mixes model + prompt + infra);
 * 3. evals the model-only migration (gpt-5.4 → gpt-5.5 on `agentic_coding`) base vs head on
 *    the built-in simulator, and prints the PR comment modelgate would post.
 * The example suite is grown with generated coding cases (DEMO_EXTRA_CASES) so the sequential
 * run has enough pairs to reach a decisive verdict, and stops as soon as it has one; the
 * simulator runs at a fraction of its modelled latency (DEMO_TIME_SCALE) to keep the demo short.
 */
const DEMO_EXTRA_CASES = 376;
const DEMO_TIME_SCALE = "0.05";
const work = mkdtempSync(join(tmpdir(), "modelgate-demo-"));
const repo = makeExampleRepo(join(work, "acme-support"), { extraCases: DEMO_EXTRA_CASES }).dir;
// The demo never reaches a real provider, even when the shell has OPENAI_* set.
const env = { ...process.env, OPENAI_BASE_URL: "", OPENAI_API_KEY: "" };
const io = {
  stdout: (text: string) => process.stdout.write(text),
  stderr: (text: string) => process.stderr.write(text),
  isTTY: Boolean(process.stderr.isTTY),
  env,
};
// Bold headings on a terminal only; piped output stays plain text.
const bold = process.stdout.isTTY ? (text: string) => `\x1b[1m${text}\x1b[0m` : (text: string) => text;
const say = (text: string) => process.stdout.write(`\n${bold(text)}\n`);

say(`Example repo: ${repo} (branches: main, migrate-agentic-coding, mixed)`);
process.stdout.write("The cache and files live in that temporary folder, never in this checkout.\n");
for (const branch of ["migrate-agentic-coding", "mixed"]) {
  say(`$ modelgate classify --repo ${repo} --base main --head ${branch} --format text`);
  const code = await runCli(
    ["classify", "--repo", repo, "--base", "main", "--head", branch, "--format", "text"],
    io,
  );
  process.stdout.write(
    `(exit ${code}${code === 1 ? ": mixed, the App would fail this PR's attribution check" : ""})\n`,
  );
}

const result = join(work, "result.json");
const comment = join(work, "comment.md");
const evalArgs = [
  "eval",
  "--repo",
  repo,
  "--base",
  "main",
  "--head",
  "migrate-agentic-coding",
  "--max-cases",
  "400",
];
const files = [
  "--out",
  result,
  "--markdown",
  comment,
  "--simulator-profile",
  join(EXAMPLE_ROOT, "simulator.yml"),
  "--simulator-time-scale",
  DEMO_TIME_SCALE,
];
say(`$ modelgate ${evalArgs.join(" ")} --out result.json --markdown comment.md`);
const started = Date.now();
const code = await runCli([...evalArgs, ...files, "--cache-dir", join(work, "cache")], io);
process.stdout.write(`(exit ${code} after ${((Date.now() - started) / 1000).toFixed(1)} s)\n`);

say(`The sticky PR comment modelgate posts (${comment}):`);
// The hidden evidence block (one long line of JSON, for the App) is invisible on GitHub; leave it
// out on the terminal too.
const visible = readFileSync(comment, "utf8")
  .split("\n")
  .filter((line) => !line.startsWith("<!-- modelgate:evidence "))
  .join("\n");
process.stdout.write(`${visible}\n(plus a hidden evidence block for the App, in comment.md)\n`);
// The demo cleans up after itself unless asked to keep its repo and files (`npm run demo -- --keep`).
if (process.argv.includes("--keep")) {
  say(`Kept: the example repo ${repo}, the result file ${result} (format: docs/results.md), ${comment}`);
} else {
  rmSync(work, { recursive: true, force: true });
  say("Removed the demo's temporary repo and files; `npm run demo -- --keep` keeps them.");
}
process.exitCode = code === 2 ? 2 : 0;
