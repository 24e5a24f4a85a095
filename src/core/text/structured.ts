import { isMap, isScalar, LineCounter, parseDocument } from "yaml";
import { errorMessage, UserError } from "../errors.ts";
import { STRUCTURED_LIMITS, structuredTextProblem } from "../structured-files.ts";

/**
 * Parses YAML (a superset of JSON) keeping positions, so errors can point at a line.
 * Throws a UserError naming file, line and column on a syntax error.
 */
export interface ParsedDocument {
  value: unknown;
  /** 1-based line of the node at a key path, when known. */
  lineOf(path: readonly PropertyKey[]): number | undefined;
  /**
   * 1-based line of a key itself in the mapping at `parent`: an unknown key is reported where it
   * is written (the mapping's own position is its first key, which is usually right).
   */
  keyLineOf(parent: readonly PropertyKey[], key: string): number | undefined;
}

export function parseStructured(text: string, file: string): ParsedDocument {
  const problem = structuredTextProblem(text);
  if (problem) throw new UserError(`${file}: cannot read it: ${problem}`);
  const lineCounter = new LineCounter();
  let document: ReturnType<typeof parseDocument>;
  let value: unknown;
  try {
    document = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
    value = document.errors.length
      ? undefined
      : document.toJS({ maxAliasCount: STRUCTURED_LIMITS.maxAliasCount });
  } catch (error) {
    // An alias bomb (the yaml library's "Excessive alias count") or a stack overflow from nesting.
    const reason =
      error instanceof RangeError ? "it nests too deeply to read" : firstLine(errorMessage(error));
    throw new UserError(`${file}: cannot read it: ${reason}`);
  }
  const [first] = document.errors;
  if (first) {
    const position = first.linePos?.[0];
    const where = position ? `${file}:${position.line}:${position.col}` : file;
    throw new UserError(
      `${where}: invalid ${file.endsWith(".json") ? "JSON" : "YAML"}: ${firstLine(first.message)}`,
    );
  }
  const lineOf = (path: readonly PropertyKey[]): number | undefined => {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = document.getIn(path.slice(0, depth) as unknown[], true) as
        | { range?: [number, number, number] }
        | undefined;
      if (node && typeof node === "object" && node.range) return lineCounter.linePos(node.range[0]).line;
    }
    return undefined;
  };
  return {
    value,
    lineOf,
    keyLineOf(parent, key) {
      const node = parent.length === 0 ? document.contents : document.getIn(parent as unknown[], true);
      if (isMap(node)) {
        for (const pair of node.items) {
          if (!isScalar(pair.key) || String(pair.key.value) !== key) continue;
          if (pair.key.range) return lineCounter.linePos(pair.key.range[0]).line;
        }
      }
      return lineOf([...parent, key]);
    },
  };
}

/** The yaml library repeats the position in its message; keep only the reason. */
function firstLine(message: string): string {
  const line = message.split("\n")[0] ?? message;
  return line.replace(/ at line \d+, column \d+:?$/, "");
}
