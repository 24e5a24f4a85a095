import { isDeepStrictEqual } from "node:util";
import { applyEdits as applyJsonEdits, modify } from "jsonc-parser";
import { isMap, isScalar, parseDocument, Scalar } from "yaml";
import { UserError } from "./errors.ts";
import { ownRecord } from "./own.ts";
import { parseStructuredFile as readStructured, type StructuredKind } from "./structured-files.ts";

/**
 * Edits of scalar values in a structured file that keep everything else byte for byte: comments,
 * order, indentation, quoting. The rollout writes its share and the rollback writes its models
 * through here; a PR whose diff shows only the changed values is one a reviewer can trust.
 *
 * Every edit is checked by reading the result back with the same reader classification uses: the
 * new document must equal the old one with exactly these values changed. An edit this module
 * cannot make exactly is refused with the key, never written approximately.
 */

/** One value to set; `path` walks mappings by key and lists by index. */
export interface ValueEdit {
  path: ReadonlyArray<string | number>;
  to: string | number | boolean;
  /** The key as the user wrote it, for messages. */
  key: string;
}

export function editStructured(
  kind: Exclude<StructuredKind, "env">,
  text: string,
  edits: readonly ValueEdit[],
  file: string,
): string {
  if (edits.length === 0) return text;
  const before = readStructured(kind, text);
  // List indices as numbers, keys as strings: what the JSON and YAML editors need to tell them apart.
  const typed = edits.map((edit) => ({ ...edit, path: typedPath(before, edit.path) }));
  let after: string;
  switch (kind) {
    case "json":
      after = editJson(text, typed);
      break;
    case "yaml":
      after = editYaml(text, typed, file);
      break;
    case "toml":
      after = editToml(text, typed, file);
      break;
  }
  verify(kind, before, after, edits, file);
  return after;
}

function typedPath(root: unknown, path: ReadonlyArray<string | number>): Array<string | number> {
  let node = root;
  return path.map((segment) => {
    if (Array.isArray(node)) {
      const index = Number(segment);
      node = node[index];
      return index;
    }
    const key = String(segment);
    node =
      node !== null && typeof node === "object" && Object.hasOwn(node, key)
        ? (node as Record<string, unknown>)[key]
        : undefined;
    return key;
  });
}

function editJson(text: string, edits: readonly ValueEdit[]): string {
  const indent = /^[{[][^\S\n]*\n([ \t]+)/.exec(text)?.[1] ?? "  ";
  const formattingOptions = {
    insertSpaces: !indent.includes("\t"),
    tabSize: indent.includes("\t") ? 1 : indent.length,
    eol: text.includes("\r\n") ? "\r\n" : "\n",
  };
  let out = text;
  for (const edit of edits) {
    out = applyJsonEdits(out, modify(out, [...edit.path], edit.to, { formattingOptions }));
  }
  return out;
}

/**
 * YAML: a value that is written as a scalar is replaced in its own character range, so comments,
 * their spacing, anchors and quoting elsewhere stay as written. Only a key that is not written
 * yet (a first share) goes through the YAML library's writer, which re-spaces comments.
 */
function editYaml(text: string, edits: readonly ValueEdit[], file: string): string {
  const document = parseYaml(text, file);
  const inPlace: Array<{ start: number; end: number; text: string }> = [];
  const added: ValueEdit[] = [];
  for (const edit of edits) {
    const node = document.getIn([...edit.path], true);
    if (isScalar(node) && node.range && !node.anchor) {
      const [start, end] = node.range;
      inPlace.push({ start, end, text: yamlScalar(edit.to, node.type) });
    } else {
      added.push(edit);
    }
  }
  let out = text;
  for (const replacement of inPlace.sort((a, b) => b.start - a.start)) {
    out = out.slice(0, replacement.start) + replacement.text + out.slice(replacement.end);
  }
  if (added.length === 0) return out;
  const rest = parseYaml(out, file);
  for (const edit of added) {
    try {
      rest.setIn([...edit.path], edit.to);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new UserError(`${file} ${edit.key}: cannot be set (${reason})`);
    }
  }
  return rest.toString();
}

function parseYaml(text: string, file: string) {
  // The same reading habits as the reader (duplicate keys: last wins; merge keys), one document.
  const document = parseDocument(text, { uniqueKeys: false, merge: true });
  if (document.errors.length > 0 || (document.contents !== null && !isMap(document.contents))) {
    throw new UserError(`${file}: modelgate can edit only a YAML file with one mapping at the top`);
  }
  return document;
}

/** The new value in the old value's quoting where that reads back the same, else JSON-quoted. */
function yamlScalar(value: string | number | boolean, type: Scalar["type"]): string {
  if (typeof value !== "string") return String(value);
  if (type === Scalar.QUOTE_DOUBLE) return JSON.stringify(value);
  if (type === Scalar.QUOTE_SINGLE && !value.includes("'")) return `'${value}'`;
  const plain = parseDocument(`v: ${value}`).get("v");
  return plain === value ? value : JSON.stringify(value);
}

// ---------------------------------------------------------------------------------------------
// TOML: no library writes TOML back with its comments, so values are replaced on their line.

const BARE = "[A-Za-z0-9_-]+";
const BASIC = '"(?:[^"\\\\\\n]|\\\\.)*"';
const LITERAL = "'[^'\\n]*'";
const KEY_PART = `(?:${BARE}|${BASIC}|${LITERAL})`;
const DOTTED = `${KEY_PART}(?:\\s*\\.\\s*${KEY_PART})*`;
const SCALAR = `(?:${BASIC}|${LITERAL}|[-+]?[0-9][0-9_]*(?:\\.[0-9_]+)?(?:[eE][-+]?[0-9]+)?|true|false)`;
const HEADER = new RegExp(`^\\s*(\\[\\[?)\\s*(${DOTTED})\\s*\\]\\]?\\s*(?:#.*)?$`);
const ASSIGNMENT = new RegExp(`^(\\s*)(${DOTTED})(\\s*=\\s*)(${SCALAR})(\\s*(?:#.*)?)$`);

function editToml(text: string, edits: readonly ValueEdit[], file: string): string {
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  const lines = text.split(eol);
  const located = locateTomlKeys(lines);
  for (const edit of edits) {
    const wanted = edit.path.map(String).join("\u0000");
    const at = located.get(wanted);
    if (at === undefined) {
      throw new UserError(
        `${file} ${edit.key}: modelgate edits TOML only where the key is written as \`key = value\` on one line (under its [table] header); write it so, or change the file by hand`,
      );
    }
    const line = lines[at] ?? "";
    lines[at] = line.replace(
      ASSIGNMENT,
      (_m, lead: string, key: string, eq: string, _old: string, tail: string) =>
        `${lead}${key}${eq}${tomlScalar(edit.to)}${tail}`,
    );
  }
  return lines.join(eol);
}

/** Full key path (NUL-joined) → line index of its one-line `key = scalar`, outside multi-line strings. */
function locateTomlKeys(lines: readonly string[]): Map<string, number> {
  const found = new Map<string, number>();
  const arrayCounts = new Map<string, number>();
  let table: string[] = [];
  let inMultiline: string | undefined;
  lines.forEach((line, index) => {
    if (inMultiline) {
      if (countDelimiters(line, inMultiline) % 2 === 1) inMultiline = undefined;
      return;
    }
    const header = HEADER.exec(line);
    if (header) {
      const path = splitDotted(header[2] ?? "");
      if (header[1] === "[[") {
        const name = path.join("\u0000");
        const next = (arrayCounts.get(name) ?? -1) + 1;
        arrayCounts.set(name, next);
        table = [...path, String(next)];
      } else {
        table = path;
      }
      return;
    }
    const assignment = ASSIGNMENT.exec(line);
    if (assignment) {
      found.set([...table, ...splitDotted(assignment[2] ?? "")].join("\u0000"), index);
      return;
    }
    for (const delimiter of ['"""', "'''"]) {
      if (countDelimiters(line, delimiter) % 2 === 1) inMultiline = delimiter;
    }
  });
  return found;
}

function countDelimiters(line: string, delimiter: string): number {
  return line.split(delimiter).length - 1;
}

function splitDotted(dotted: string): string[] {
  const parts = dotted.match(new RegExp(KEY_PART, "g")) ?? [];
  return parts.map((part) => {
    if (part.startsWith('"')) return JSON.parse(part) as string;
    if (part.startsWith("'")) return part.slice(1, -1);
    return part;
  });
}

function tomlScalar(value: string | number | boolean): string {
  // A JSON string is a valid TOML basic string for everything a model ID or share holds.
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

// ---------------------------------------------------------------------------------------------

function verify(
  kind: Exclude<StructuredKind, "env">,
  before: unknown,
  text: string,
  edits: readonly ValueEdit[],
  file: string,
): void {
  let after: unknown;
  try {
    after = readStructured(kind, text);
  } catch {
    throw new UserError(`${file}: the edited file would not parse; change ${edits[0]?.key ?? "it"} by hand`);
  }
  const expected = structuredClone(before);
  for (const edit of edits) setPlain(expected, edit.path, edit.to);
  if (!isDeepStrictEqual(plainCopy(after), plainCopy(expected))) {
    throw new UserError(
      `${file}: modelgate could not change only ${edits.map((e) => e.key).join(", ")} in this file; change it by hand`,
    );
  }
}

function setPlain(root: unknown, path: ReadonlyArray<string | number>, to: unknown): void {
  let node = root as Record<string, unknown>;
  for (const [i, segment] of path.entries()) {
    const key = String(segment);
    if (i === path.length - 1) {
      Object.defineProperty(node, key, { value: to, writable: true, enumerable: true, configurable: true });
      return;
    }
    let next = Object.hasOwn(node, key) ? node[key] : undefined;
    if (next === null || typeof next !== "object") {
      next = ownRecord<unknown>();
      Object.defineProperty(node, key, { value: next, writable: true, enumerable: true, configurable: true });
    }
    node = next as Record<string, unknown>;
  }
}

/** Same data, ordinary prototypes: the readers build null-prototype records, clones do not. */
function plainCopy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plainCopy);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      Object.defineProperty(out, key, { value: plainCopy(child), enumerable: true });
    }
    return out;
  }
  return value;
}
