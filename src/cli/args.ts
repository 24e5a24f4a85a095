import { type ParseArgsConfig, parseArgs } from "node:util";
import { closestMatch } from "../core/text/did-you-mean.ts";
import { CommandUsageError } from "./io.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** `util.parseArgs` with errors a user can act on (exit 2), never a stack trace. */
export function parseCommandArgs<T extends Options>(
  command: string,
  argv: string[],
  options: T,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (error) {
    throw new CommandUsageError(command, describeParseError(error, Object.keys(options)));
  }
}

/**
 * node's messages are long and written for programmers ("To specify a positional argument
 * starting with a '-', place it at the end…"): each becomes the few words a user needs.
 */
function describeParseError(error: unknown, known: readonly string[]): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  const quoted = /'([^']*)'/.exec(message)?.[1];
  switch (code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION": {
      const hint = quoted?.startsWith("--") ? closestMatch(quoted.slice(2), known) : undefined;
      return `unknown option '${quoted ?? message}'${hint ? `; did you mean '--${hint}'?` : ""}`;
    }
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return `unexpected argument '${quoted ?? message}'`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE": {
      const flag = /^Option '(-[^ ']*(?:, -[^ ']*)?)/.exec(message)?.[1]?.split(", ").at(-1);
      if (flag && /argument missing/.test(message)) return `${flag} needs a value`;
      if (flag && /ambiguous/.test(message))
        return `${flag} needs a value; write ${flag}=VALUE for a value starting with '-'`;
      if (flag && /does not take an argument/.test(message)) return `${flag} does not take a value`;
      return message.split("\n")[0] ?? message;
    }
    default:
      return (message.split("\n")[0] ?? message).replace(/\.$/, "");
  }
}

export function positiveInt(command: string, value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0)
    throw new CommandUsageError(command, `${flag}: expected a positive integer, found '${value}'`);
  return number;
}

export function oneOf<T extends string>(
  command: string,
  value: string | undefined,
  allowed: readonly T[],
  flag: string,
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new CommandUsageError(command, `${flag}: expected one of ${allowed.join(", ")}, found '${value}'`);
}
