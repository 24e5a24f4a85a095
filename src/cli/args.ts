import { type ParseArgsConfig, parseArgs } from "node:util";
import { UserError } from "../core/errors.ts";

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
    const message = error instanceof Error ? error.message : String(error);
    throw new UserError(`${command}: ${message}. Run 'modelgate ${command} --help' for usage.`);
  }
}

export function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0)
    throw new UserError(`${flag}: expected a positive integer, found '${value}'`);
  return number;
}

export function oneOf<T extends string>(
  value: string | undefined,
  allowed: readonly T[],
  flag: string,
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UserError(`${flag}: expected one of ${allowed.join(", ")}, found '${value}'`);
}
