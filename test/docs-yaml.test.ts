import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { ROOT } from "./support/cli.ts";

/**
 * Readers copy the docs' YAML into their workflows and config: every ```yaml block in README.md
 * and docs/*.md must parse. A block that is deliberately not YAML (a fragment to splice in)
 * opts out with `# not-yaml` as its first line.
 */
const files = [
  "README.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];

interface Block {
  file: string;
  line: number;
  text: string;
}

function yamlBlocks(file: string): Block[] {
  const lines = readFileSync(join(ROOT, file), "utf8").split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*```ya?ml\s*$/.test(lines[i] ?? "")) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end] ?? "")) end++;
    blocks.push({ file, line: start + 1, text: lines.slice(start, end).join("\n") });
    i = end;
  }
  return blocks;
}

const blocks = files.flatMap(yamlBlocks);

describe("YAML blocks in the docs", () => {
  it("finds the blocks", () => {
    expect(blocks.length).toBeGreaterThan(5);
  });

  it.each(blocks.map((b) => [`${b.file}:${b.line}`, b] as const))("%s parses", (_where, block) => {
    if (block.text.trimStart().startsWith("# not-yaml")) return;
    const problems = parseAllDocuments(block.text, { uniqueKeys: true }).flatMap((doc) =>
      "errors" in doc ? doc.errors.map((e) => e.message.split("\n")[0]) : ["not a document"],
    );
    expect(problems).toEqual([]);
  });
});
