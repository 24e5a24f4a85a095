import { UserError } from "../core/errors.ts";

/** Where a command writes; injected so tests can run commands in-process. */
export interface CommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
}

/**
 * A mistake in a command's flags or arguments: one line, the same shape for every command,
 * `modelgate <command>: <what is wrong>; see 'modelgate <command> --help'` (exit 2).
 */
export class CommandUsageError extends UserError {
  readonly command: string;
  constructor(command: string, problem: string) {
    super(`${command}: ${problem}; see 'modelgate ${command} --help'`);
    this.command = command;
  }
}
