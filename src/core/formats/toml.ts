import { parse, TomlDate, TomlError } from "smol-toml";
import { ownRecord } from "../own.ts";
import { FormatError, type ReadDocument, reasonOf } from "./read-result.ts";

/**
 * TOML (pr-agent-style settings: `[config] model = …`, prompt text in multi-line strings).
 * Values are made comparable as plain data: dates become their TOML text, integers past 2^53
 * their decimal text (exact, where a number would round), tables records without a prototype.
 */
export function readToml(text: string): ReadDocument {
  let table: unknown;
  try {
    table = parse(text, { integersAsBigInt: "asNeeded" });
  } catch (error) {
    if (error instanceof TomlError) {
      throw new FormatError(
        reasonOf(error.message).replace(/^Invalid TOML document: /, ""),
        error.line,
        "fix the TOML so it parses",
      );
    }
    throw error;
  }
  return { value: plain(table), warnings: [] };
}

function plain(value: unknown): unknown {
  if (value instanceof TomlDate) return value.toISOString();
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    const record = ownRecord<unknown>();
    for (const [key, child] of Object.entries(value)) record[key] = plain(child);
    return record;
  }
  return value;
}
