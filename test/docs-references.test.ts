import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./support/cli.ts";

/**
 * The docs are self-contained: every relative link in a tracked Markdown file resolves to a file
 * that ships in the repository, and nothing points users at design notes that are not in it.
 */
const tracked = execFileSync("git", ["-C", ROOT, "ls-files", "-z"], { encoding: "utf8" })
  .split("\0")
  .filter(Boolean);
const markdown = tracked.filter((file) => file.endsWith(".md") && !file.startsWith("examples/"));
const userFacing = tracked.filter(
  (file) => /\.(md|ts|yml)$/.test(file) && !file.startsWith("test/") && !file.startsWith("examples/"),
);

function relativeLinks(text: string): string[] {
  const links: string[] = [];
  for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = match[1] ?? "";
    if (/^[a-z]+:/i.test(target) || target.startsWith("#")) continue;
    links.push(target.split("#")[0] ?? "");
  }
  return links;
}

describe("documentation references", () => {
  it.each(markdown)("%s links only to files that exist", (file) => {
    const text = readFileSync(join(ROOT, file), "utf8");
    const dangling = relativeLinks(text).filter((target) => !existsSync(join(ROOT, dirname(file), target)));
    expect(dangling).toEqual([]);
  });

  it("no shipped file cites design notes that are not in the repository", () => {
    const citing = userFacing.filter((file) => readFileSync(join(ROOT, file), "utf8").includes("PRODUCT.md"));
    expect(citing).toEqual([]);
  });

  it("cites docs that exist", () => {
    const cited = new Set<string>();
    for (const file of userFacing) {
      for (const match of readFileSync(join(ROOT, file), "utf8").matchAll(/\bdocs\/[\w-]+\.md\b/g)) {
        cited.add(match[0]);
      }
    }
    expect([...cited].filter((doc) => !existsSync(join(ROOT, doc)))).toEqual([]);
  });
});
