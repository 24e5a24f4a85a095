import { renderClassificationText } from "../core/classify/render-text.ts";
import { DEFAULT_CONFIG_PATH } from "../core/config/load.ts";
import { classifyRefs, loadPolicyAt } from "../git/classify-refs.ts";
import { openLocalRepo } from "../git/local-repo.ts";
import { oneOf, parseCommandArgs } from "./args.ts";
import { warnAboutDefaultHead } from "./head-default.ts";
import { type CommandIo, CommandUsageError } from "./io.ts";

export const CLASSIFY_USAGE = `Usage: modelgate classify --repo DIR --base REF [--head REF] [--config PATH] [--format json|text]

Classifies the change between two revisions as model, prompt, infra or other (docs/attribution.md).
The policy (.github/modelgate.yml, or --config) is read from the base revision.
--head REF: the revision to classify (default: HEAD, the last commit; uncommitted edits are not
included, and a warning on stderr says how many there are).
Exit: 0 not mixed, 1 mixed or a structured file with key rules does not parse (fails closed),
2 usage or config error.`;

export async function classifyCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseCommandArgs("classify", argv, {
    repo: { type: "string", default: "." },
    base: { type: "string" },
    head: { type: "string" },
    config: { type: "string", default: DEFAULT_CONFIG_PATH },
    format: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    io.stdout(`${CLASSIFY_USAGE}\n`);
    return 0;
  }
  const format = oneOf("classify", values.format, ["json", "text"] as const, "--format", "json");
  if (!values.base) throw new CommandUsageError("classify", "--base REF is required");
  const repo = await openLocalRepo(values.repo);
  if (values.head === undefined) await warnAboutDefaultHead(values.repo, io);
  const [base, head] = await Promise.all([repo.resolve(values.base), repo.resolve(values.head ?? "HEAD")]);
  const config = await loadPolicyAt(repo, base, values.config, "--config");
  const result = await classifyRefs(repo, { base, head }, config);
  io.stdout(format === "json" ? `${JSON.stringify(result, null, 2)}\n` : renderClassificationText(result));
  return result.mixed || result.unreadable ? 1 : 0;
}
