/** What every format reader returns, and how it fails: the file's value, or a line and a fix. */

/** Something a reader tolerated but people should know (a duplicate key, a custom tag). */
export interface FormatWarning {
  /** 1-based line, when the reader can tell. */
  line: number | null;
  message: string;
}

export interface ReadDocument {
  value: unknown;
  warnings: FormatWarning[];
}

/** A file that cannot be read as its format: where, why, and what to do. Never quotes the text. */
export class FormatError extends Error {
  readonly line: number | null;
  readonly fix: string;
  constructor(reason: string, line: number | null, fix: string) {
    super(reason);
    this.line = line;
    this.fix = fix;
  }
}

/** 1-based line of a character offset. */
export function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i >= 0 && i < offset; i = text.indexOf("\n", i + 1)) line++;
  return line;
}

/** Parsers repeat the position (and sometimes a code frame) in their message; keep the reason. */
export function reasonOf(message: string): string {
  const first = message.split("\n")[0] ?? message;
  return first.replace(/ at line \d+, column \d+:?$/, "");
}
