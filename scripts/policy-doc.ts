import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { withPolicyReference } from "../src/core/config/policy-reference.ts";

/** Rewrites the generated reference table of docs/policy.md from the config schema (`npm run schema`). */
const target = join(dirname(fileURLToPath(import.meta.url)), "..", "docs", "policy.md");
writeFileSync(target, withPolicyReference(readFileSync(target, "utf8")));
process.stdout.write(`wrote ${target}\n`);
