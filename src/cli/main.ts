import { errorMessage, UserError } from "../core/errors.ts";
import { ownGet } from "../core/own.ts";
import { classifyCommand } from "./classify.ts";
import { doctorCommand } from "./doctor.ts";
import { evalCommand } from "./eval.ts";
import { type CommandIo, CommandUsageError } from "./io.ts";
import { mergeCommand } from "./merge.ts";
import { simulateCommand } from "./simulate.ts";
import { VERSION } from "./version.ts";
import { watchCommand } from "./watch.ts";

type Command = (argv: string[], io: CommandIo) => Promise<number>;

const COMMANDS: Record<string, { run: Command; summary: string }> = {
  classify: { run: classifyCommand, summary: "classify a change as model / prompt / infra / other" },
  doctor: {
    run: doctorCommand,
    summary: "readiness report before a model migration: pass/warn/fail with fixes",
  },
  eval: { run: evalCommand, summary: "eval the affected cases on base and head; KPIs, intervals, gates" },
  merge: { run: mergeCommand, summary: "combine shard results into one result and re-judge the gates" },
  simulate: {
    run: simulateCommand,
    summary: "start the built-in OpenAI-compatible simulator (no key needed)",
  },
  watch: {
    run: watchCommand,
    summary: "judge the live rollout phase from production metrics; open the rollback PR on a breach",
  },
};

const USAGE = `Usage: modelgate <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, command]) => `  ${name.padEnd(10)} ${command.summary}`)
  .join("\n")}

Run 'modelgate <command> --help' for a command's options; 'modelgate --version' for the version.`;

/** Runs one CLI invocation and returns its exit code; never throws. */
export async function runCli(argv: string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.stdout(`${USAGE}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-V" || name === "version") {
    io.stdout(`modelgate ${VERSION}\n`);
    return 0;
  }
  const command = ownGet(COMMANDS, name);
  if (!command) {
    io.stderr(`modelgate: unknown command '${name}'; see 'modelgate --help'\n`);
    return 2;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof CommandUsageError) {
      io.stderr(`modelgate ${error.message}\n`);
      return 2;
    }
    if (error instanceof UserError) {
      io.stderr(`modelgate: ${error.message}\n`);
      return 2;
    }
    // An internal error is a bug: say so in one line; the stack only on request.
    io.stderr(`modelgate: internal error: ${errorMessage(error)}\n`);
    if (io.env.MODELGATE_DEBUG && error instanceof Error) io.stderr(`${error.stack}\n`);
    return 3;
  }
}
