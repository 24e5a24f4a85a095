/**
 * What a schema error found at a key path, for "expected X, found Y" messages. Reads own keys
 * only: a path from hostile text (`constructor`) must not report what `Object.prototype` holds.
 */
export function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let current = raw;
  for (const segment of path) {
    if (current === null || typeof current !== "object" || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

/** A short description of a parsed value; `mapping` names an object the way the file's readers say it. */
export function describeValue(value: unknown, mapping = "a mapping"): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return mapping;
  if (typeof value === "string")
    return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value} ${String(value)}`;
}
