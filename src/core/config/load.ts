import type { z } from "zod";
import { UserError } from "../errors.ts";
import { ownGet, ownRecordFrom } from "../own.ts";
import { closestMatch } from "../text/did-you-mean.ts";
import { describeValue, valueAt } from "../text/found-value.ts";
import { parseStructured } from "../text/structured.ts";
import { type Config, configSchema, price as priceSchema } from "./schema.ts";

export const DEFAULT_CONFIG_PATH = ".github/modelgate.yml";

/** The policy a repo gets when it has no `.github/modelgate.yml`. */
export function defaultConfig(): Config {
  return configSchema.parse({});
}

/**
 * Parses `.github/modelgate.yml` text. Errors name the file, the line, the key path,
 * what was expected and what was found, e.g.
 * `.github/modelgate.yml:12 gates.max_error_rate: expected number, found string "2%"`.
 */
export function parseConfig(text: string, file: string = DEFAULT_CONFIG_PATH): Config {
  const document = parseStructured(text, file);
  const raw = document.value ?? {};
  const result = configSchema.safeParse(raw);
  if (result.success) return withOwnPricing(result.data, raw, document.lineOf, file);
  const lines = result.error.issues.flatMap((issue) => {
    // One line per unknown key, at the key's own line (the issue's path is the enclosing mapping).
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => {
        const line = document.keyLineOf(issue.path, key);
        return `${line === undefined ? file : `${file}:${line}`} ${describeUnknownKey(issue.path, key)}`;
      });
    }
    const line = document.lineOf(issue.path);
    const where = line === undefined ? file : `${file}:${line}`;
    return [`${where} ${describeIssue(issue, raw)}`];
  });
  throw new UserError(`Invalid config in ${file}:\n${lines.map((l) => `  - ${l}`).join("\n")}`);
}

const PROTO_KEY = "__proto__";

/**
 * Pricing is keyed by model IDs, which are repo text. zod's record drops a `__proto__` key and
 * returns a plain object, so the parsed map is rebuilt without a prototype from the raw mapping.
 */
function withOwnPricing(
  config: Config,
  raw: unknown,
  lineOf: (path: readonly PropertyKey[]) => number | undefined,
  file: string,
): Config {
  const pricing = ownRecordFrom(Object.entries(config.pricing));
  const rawPricing =
    raw !== null && typeof raw === "object" ? ownGet(raw as Record<string, unknown>, "pricing") : undefined;
  if (rawPricing !== null && typeof rawPricing === "object" && Object.hasOwn(rawPricing, PROTO_KEY)) {
    const entry = priceSchema.safeParse(ownGet(rawPricing as Record<string, unknown>, PROTO_KEY));
    if (!entry.success) {
      const line = lineOf(["pricing", "__proto__"]);
      throw new UserError(
        `Invalid config in ${file}:\n  - ${line === undefined ? file : `${file}:${line}`} pricing.__proto__: expected {input, output, cached_input?}`,
      );
    }
    pricing[PROTO_KEY] = entry.data;
  }
  return { ...config, pricing };
}

type Issue = z.core.$ZodIssue;

function describeIssue(issue: Issue, raw: unknown): string {
  const path = issue.path.map(String).join(".");
  const at = path === "" ? "(top level)" : path;
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((key) => describeUnknownKey(issue.path, key)).join("; ");
    case "invalid_type":
      return `${at}: expected ${issue.expected}, found ${describeValue(valueAt(raw, issue.path))}`;
    default:
      return `${at}: ${issue.message.replace(/^Invalid input: /, "")}, found ${describeValue(valueAt(raw, issue.path))}`;
  }
}

function describeUnknownKey(parent: readonly PropertyKey[], key: string): string {
  const path = parent.map(String).join(".");
  const keyPath = path === "" ? key : `${path}.${key}`;
  const known = knownKeysAt(parent);
  const hint = closestMatch(key, known);
  const suggestion = hint
    ? `; did you mean "${hint}"?`
    : known.length
      ? `; expected one of ${known.join(", ")}`
      : "";
  return `${keyPath}: unknown key${suggestion}`;
}

/** Keys the schema accepts at a path, for "did you mean" hints. */
function knownKeysAt(path: readonly PropertyKey[]): string[] {
  let schema: unknown = configSchema;
  for (const segment of [...path, undefined]) {
    schema = unwrap(schema);
    const def = schemaDef(schema);
    if (segment === undefined) return def?.type === "object" && def.shape ? Object.keys(def.shape) : [];
    if (def?.type === "object" && def.shape) schema = def.shape[String(segment)];
    else if (def?.type === "record") schema = def.valueType;
    else if (def?.type === "array") schema = def.element;
    else return [];
  }
  return [];
}

interface SchemaDef {
  type: string;
  shape?: Record<string, unknown>;
  innerType?: unknown;
  valueType?: unknown;
  element?: unknown;
}

function schemaDef(schema: unknown): SchemaDef | undefined {
  const zod = (schema as { _zod?: { def?: SchemaDef } } | undefined)?._zod;
  return zod?.def;
}

function unwrap(schema: unknown): unknown {
  let current = schema;
  for (let def = schemaDef(current); def?.innerType !== undefined; def = schemaDef(current))
    current = def.innerType;
  return current;
}
