import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { withPolicyReference } from "../src/core/config/policy-reference.ts";
import { ROOT } from "./support/cli.ts";

describe("docs/policy.md", () => {
  const doc = readFileSync(join(ROOT, "docs/policy.md"), "utf8");

  it("keeps its generated reference current (run `npm run schema`)", () => {
    expect(doc).toBe(withPolicyReference(doc));
  });

  it("lists every policy key, the new rule forms included", () => {
    for (const key of [
      "changes.model.literals.patterns",
      "changes.infra.keys",
      "llm.routes_key",
      "gates.min_cases",
    ])
      expect(doc).toContain(`| \`${key}\` |`);
  });

  it("is linked from the README", () => {
    expect(readFileSync(join(ROOT, "README.md"), "utf8")).toContain("(docs/policy.md)");
  });
});
