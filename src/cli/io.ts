import { UserError } from "../core/errors.ts";

/** Where a command writes; injected so tests can run commands in-process. */
export interface CommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
}

/** A usage error that carries the command's usage text to print after the message. */
export class UsageError extends UserError {
  readonly usage: string;
  constructor(message: string, usage: string) {
    super(message);
    this.usage = usage;
  }
}
