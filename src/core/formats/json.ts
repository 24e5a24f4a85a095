import { type Node, type ParseError, parseTree, printParseErrorCode } from "jsonc-parser";
import { ownRecord } from "../own.ts";
import { FormatError, lineAt, type ReadDocument } from "./read-result.ts";

/**
 * JSON as editors and tsconfig-style runtimes read it: `//` and `/* *\/` comments and trailing
 * commas allowed (JSONC). Plain JSON takes the native parser (a 12 MB file parses several times
 * faster); only text it refuses goes through jsonc-parser, which also says where a real error is.
 */
export function readJson(text: string): ReadDocument {
  try {
    return { value: JSON.parse(text), warnings: [] };
  } catch {
    // Not plain JSON: comments, trailing commas, or a real error; jsonc-parser tells which.
  }
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  const [first] = errors;
  if (first || root === undefined) {
    const reason = first ? describe(printParseErrorCode(first.error)) : "the file is empty";
    throw new FormatError(reason, first ? lineAt(text, first.offset) : 1, "fix the JSON so it parses");
  }
  return { value: nodeValue(root), warnings: [] };
}

/** `CommaExpected` → `comma expected`. */
function describe(code: string): string {
  return code.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
}

/**
 * Builds the value from the syntax tree. Objects have no prototype, so a key named `__proto__`
 * is an ordinary entry (as with JSON.parse), and a repeated key keeps its last value.
 */
function nodeValue(node: Node): unknown {
  switch (node.type) {
    case "object": {
      const record = ownRecord<unknown>();
      for (const property of node.children ?? []) {
        const [key, value] = property.children ?? [];
        if (key === undefined || value === undefined) continue;
        record[String(key.value)] = nodeValue(value);
      }
      return record;
    }
    case "array":
      return (node.children ?? []).map(nodeValue);
    default:
      return node.value;
  }
}
