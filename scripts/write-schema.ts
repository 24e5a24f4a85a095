import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { configJsonSchemaText } from "../src/core/config/json-schema.ts";
import { resultJsonSchemaText } from "../src/core/result-json-schema.ts";

/**
 * Writes schema/modelgate.schema.json (the config) and schema/modelgate-result.schema.json (the
 * result file) from their zod schemas; a test fails when the config schema is stale.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
for (const [name, text] of [
  ["modelgate.schema.json", configJsonSchemaText()],
  ["modelgate-result.schema.json", resultJsonSchemaText()],
] as const) {
  const target = join(root, "schema", name);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, text);
  process.stdout.write(`wrote ${target}\n`);
}
