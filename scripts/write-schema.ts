import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { configJsonSchemaText } from "../src/core/config/json-schema.ts";

/** Writes schema/modelgate.schema.json from the zod schema; a test fails when it is stale. */
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const target = join(root, "schema", "modelgate.schema.json");
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, configJsonSchemaText());
process.stdout.write(`wrote ${target}\n`);
