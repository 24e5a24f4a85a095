/**
 * A tiny response-shape checker against GitHub's OpenAPI description (@octokit/openapi,
 * api.github.com). It checks required properties, basic types and nullability, following
 * $ref / allOf / oneOf / anyOf. Not a full JSON Schema validator (no formats, enums, patterns).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

export interface Schema {
  $ref?: string;
  type?: string;
  nullable?: boolean;
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  allOf?: Schema[];
  oneOf?: Schema[];
  anyOf?: Schema[];
}

interface MediaType {
  schema?: Schema;
}

interface ResponseObject {
  $ref?: string;
  content?: Record<string, MediaType>;
}

interface Operation {
  operationId?: string;
  responses?: Record<string, ResponseObject>;
}

interface OpenApi {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; responses: Record<string, ResponseObject> };
}

let spec: OpenApi | undefined;

function loadSpec(): OpenApi {
  if (!spec) {
    const require = createRequire(import.meta.url);
    const file = require.resolve("@octokit/openapi/generated/api.github.com.json");
    spec = JSON.parse(readFileSync(file, "utf8")) as OpenApi;
  }
  return spec;
}

function resolveRef<T>(ref: string): T {
  let node: unknown = loadSpec();
  for (const key of ref.replace(/^#\//, "").split("/")) {
    node = (node as Record<string, unknown>)[key];
    if (node === undefined) throw new Error(`openapi: unresolved $ref ${ref}`);
  }
  return node as T;
}

function deref(schema: Schema): Schema {
  let current = schema;
  while (current.$ref) current = resolveRef<Schema>(current.$ref);
  return current;
}

function findOperation(operationId: string): Operation {
  for (const item of Object.values(loadSpec().paths)) {
    for (const op of Object.values(item)) if (op.operationId === operationId) return op;
  }
  throw new Error(`openapi: no operation ${operationId}`);
}

/** The JSON schema of an operation's success response (the first 2xx unless `status` is given). */
export function responseSchema(operationId: string, status?: number): Schema {
  const responses = findOperation(operationId).responses ?? {};
  const code = status === undefined ? Object.keys(responses).find((c) => c.startsWith("2")) : String(status);
  let response = code === undefined ? undefined : responses[code];
  while (response?.$ref) response = resolveRef<ResponseObject>(response.$ref);
  const schema = response?.content?.["application/json"]?.schema;
  if (!schema) throw new Error(`openapi: ${operationId} has no JSON schema for ${code ?? "2xx"}`);
  return schema;
}

function isNullable(schema: Schema): boolean {
  const s = deref(schema);
  if (s.nullable) return true;
  return [...(s.oneOf ?? []), ...(s.anyOf ?? [])].some(isNullable);
}

function typeMatches(type: string, value: unknown): boolean {
  switch (type) {
    case "object":
      return typeof value === "object" && value !== null && !Array.isArray(value);
    case "array":
      return Array.isArray(value);
    case "integer":
      return Number.isInteger(value);
    case "number":
      return typeof value === "number";
    default:
      return typeof value === type;
  }
}

const ARRAY_SAMPLE = 3;

function check(schema: Schema, value: unknown, path: string, errors: string[]): void {
  const s = deref(schema);
  if (value === null) {
    if (!isNullable(s)) errors.push(`${path}: null, but the schema is not nullable`);
    return;
  }
  for (const part of s.allOf ?? []) check(part, value, path, errors);
  const variants = s.oneOf ?? s.anyOf;
  if (variants) {
    const results = variants.map((v) => {
      const found: string[] = [];
      check(v, value, path, found);
      return found;
    });
    if (!results.some((r) => r.length === 0)) {
      errors.push(...results.reduce((best, r) => (r.length < best.length ? r : best)));
    }
  }
  if (s.type && !typeMatches(s.type, value)) {
    errors.push(`${path}: expected ${s.type}, got ${Array.isArray(value) ? "array" : typeof value}`);
    return;
  }
  if (Array.isArray(value) && s.items) {
    value.slice(0, ARRAY_SAMPLE).forEach((item, i) => {
      check(s.items as Schema, item, `${path}[${i}]`, errors);
    });
  }
  if (typeof value === "object" && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    for (const key of s.required ?? []) if (!(key in record)) errors.push(`${path}.${key}: missing`);
    for (const [key, sub] of Object.entries(s.properties ?? {})) {
      if (key in record && record[key] !== undefined) check(sub, record[key], `${path}.${key}`, errors);
    }
  }
}

/**
 * Problems of `value` as the response of `operationId` (e.g. "pulls/get"): missing required
 * properties (nested objects included), wrong basic types, nulls where not nullable. [] = fine.
 */
export function responseShapeErrors(operationId: string, value: unknown, status?: number): string[] {
  const errors: string[] = [];
  check(responseSchema(operationId, status), value, "$", errors);
  return errors;
}
