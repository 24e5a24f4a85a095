import { LineCounter, parseDocument } from "yaml";
import { UserError } from "../errors.ts";

/**
 * Parses YAML (a superset of JSON) keeping positions, so errors can point at a line.
 * Throws a UserError naming file, line and column on a syntax error.
 */
export interface ParsedDocument {
  value: unknown;
  /** 1-based line of the node at a key path, when known. */
  lineOf(path: readonly PropertyKey[]): number | undefined;
}

export function parseStructured(text: string, file: string): ParsedDocument {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const [first] = document.errors;
  if (first) {
    const position = first.linePos?.[0];
    const where = position ? `${file}:${position.line}:${position.col}` : file;
    throw new UserError(
      `${where}: invalid ${file.endsWith(".json") ? "JSON" : "YAML"}: ${firstLine(first.message)}`,
    );
  }
  return {
    value: document.toJS({ maxAliasCount: 100 }),
    lineOf(path) {
      for (let depth = path.length; depth >= 0; depth--) {
        const node = document.getIn(path.slice(0, depth) as unknown[], true) as
          | { range?: [number, number, number] }
          | undefined;
        if (node && typeof node === "object" && node.range) return lineCounter.linePos(node.range[0]).line;
      }
      return undefined;
    },
  };
}

/** The yaml library repeats the position in its message; keep only the reason. */
function firstLine(message: string): string {
  const line = message.split("\n")[0] ?? message;
  return line.replace(/ at line \d+, column \d+:?$/, "");
}
