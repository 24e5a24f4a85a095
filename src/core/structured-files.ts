import { parse as parseYaml } from "yaml";
import { ownRecord } from "./own.ts";

/** What kind of structured file a path is, or undefined for files compared as opaque blobs. */
export type StructuredKind = "json" | "yaml" | "env";

export function structuredKind(path: string): StructuredKind | undefined {
  const name = path.slice(path.lastIndexOf("/") + 1).toLowerCase();
  if (name === ".env" || name.startsWith(".env.") || name.endsWith(".env")) return "env";
  if (name.endsWith(".json")) return "json";
  if (name.endsWith(".yaml") || name.endsWith(".yml")) return "yaml";
  return undefined;
}

/** Parses a `.env` file: KEY=VALUE lines, `export` allowed, quotes stripped, `#` comments skipped. */
export function parseEnv(text: string): Record<string, string> {
  const variables = ownRecord<string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line);
    if (!match) throw new Error(`not a KEY=VALUE line: ${line.slice(0, 60)}`);
    const [, key = "", value = ""] = match;
    variables[key] = unquote(value);
  }
  return variables;
}

function unquote(value: string): string {
  const quoted = /^(['"])(.*)\1$/.exec(value);
  if (quoted) return quoted[2] ?? "";
  const hash = value.indexOf(" #");
  return (hash >= 0 ? value.slice(0, hash) : value).trim();
}

/** Parses a structured file; throws a plain Error with the parser's reason when it is not valid. */
export function parseStructuredFile(kind: StructuredKind, text: string): unknown {
  switch (kind) {
    case "json":
      return JSON.parse(text);
    case "yaml":
      return parseYaml(text, { uniqueKeys: true });
    case "env":
      return parseEnv(text);
  }
}
