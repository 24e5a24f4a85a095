/**
 * Lookups keyed by repository text (route names, model IDs, env names, case IDs, policy keys).
 * On a plain `{}`, `record["constructor"]` finds `Object.prototype.constructor` and
 * `record["__proto__"] = x` replaces the prototype instead of storing an entry, so a route or model
 * named like an `Object.prototype` member would silently resolve to the wrong thing. Every such
 * record is built with `ownRecord()` and read with `ownGet()`.
 */

/** An empty record with no prototype: every key, `__proto__` included, is an ordinary entry. */
export function ownRecord<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** `Object.fromEntries` into a record with no prototype. */
export function ownRecordFrom<T>(entries: Iterable<readonly [string, T]>): Record<string, T> {
  const out = ownRecord<T>();
  for (const [key, value] of entries) out[key] = value;
  return out;
}

/** The record's own entry for `key`; never a member inherited from `Object.prototype`. */
export function ownGet<T>(record: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}
