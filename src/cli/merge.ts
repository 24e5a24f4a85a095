import { resultBlocks } from "../core/inconclusive.ts";
import { mergeResults, parseResultFile } from "../core/merge-results.ts";
import { renderComment } from "../core/report/markdown.ts";
import { resultJson, writeFileAtomic } from "../eval/result-file.ts";
import { readUserFile } from "../eval/user-file.ts";
import { parseCommandArgs } from "./args.ts";
import { type CommandIo, CommandUsageError } from "./io.ts";

export const MERGE_USAGE = `Usage: modelgate merge FILE… --out FILE [--markdown FILE] [--head-sha SHA]

Combines the result files of a sharded eval (\`shard: i/n\`) into one result: cases are
concatenated (deduplicated by id) and KPIs, intervals and gates are computed again over all of
them, with the gate thresholds the shards were judged by. Shards must agree on schema_version
and gates; a missing shard makes the result partial.
Output: the merged result file (--out) and the PR comment body (--markdown).
Exit: 0 pass/skipped or inconclusive with on_inconclusive neutral, 1 fail or inconclusive with
on_inconclusive fail, 2 usage error or shards that do not fit together.`;

export async function mergeCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    "merge",
    argv,
    {
      out: { type: "string" },
      markdown: { type: "string" },
      "head-sha": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    true,
  );
  if (values.help) {
    io.stdout(`${MERGE_USAGE}\n`);
    return 0;
  }
  if (positionals.length === 0) throw new CommandUsageError("merge", "give at least one result file");
  if (!values.out) throw new CommandUsageError("merge", "--out FILE is required");

  const shards = await Promise.all(
    positionals.map(async (file) => {
      return parseResultFile(await readUserFile(file, "merge"), file);
    }),
  );
  const result = mergeResults(shards);
  await writeFileAtomic(values.out, resultJson(result));
  if (values.markdown) {
    await writeFileAtomic(
      values.markdown,
      renderComment(result, values["head-sha"] ? { headSha: values["head-sha"] } : {}),
    );
  }
  io.stderr(
    `modelgate: merged ${shards.length} result file(s), ${result.cases.length} cases: verdict ${result.verdict}${
      result.partial ? ` (partial: ${result.partial_reason})` : ""
    }\n`,
  );
  return resultBlocks(result) ? 1 : 0;
}
