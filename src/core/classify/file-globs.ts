import picomatch from "picomatch";

/**
 * A policy's file list, read like .gitignore: globs in order, the last one that matches a path
 * decides, and `!glob` takes back what earlier globs matched (`["prompts/**", "!prompts/README.md"]`).
 * Handing the list to picomatch as is made `!x` match every other file of the repo.
 */
export type FileMatcher = (path: string) => boolean;

export function compileFileList(patterns: readonly string[]): FileMatcher {
  const rules = patterns.map((raw) => {
    const negated = raw.startsWith("!");
    const glob = normalize(negated ? raw.slice(1) : raw);
    return { negated, match: picomatch(glob, { dot: true }) };
  });
  if (rules.length === 0) return () => false;
  if (rules.every((rule) => !rule.negated)) return (path) => rules.some((rule) => rule.match(path));
  return (path) => {
    let matched = false;
    for (const rule of rules) if (rule.match(path)) matched = !rule.negated;
    return matched;
  };
}

/** A leading `/` anchors a .gitignore glob at the root, which every policy glob already is. */
function normalize(glob: string): string {
  return glob.startsWith("/") ? glob.slice(1) : glob;
}

/** Why a file glob from a policy is refused, or `undefined`: rather exit 2 than match all or nothing. */
export function filePatternProblem(pattern: string): string | undefined {
  const body = pattern.startsWith("!") ? pattern.slice(1) : pattern;
  if (body === "" || body === "/") return "a glob is empty after its `!`";
  if (body.startsWith("!")) return "`!!` is not supported; write one `!` to take files back";
  if (body.includes("\\"))
    return "a glob uses `/` between folders; `\\` (a Windows separator or an escape) is not supported";
  if (/(^|\/)\.\.?(\/|$)/.test(normalize(body)))
    return "a glob is relative to the repo root; `.` and `..` segments never match";
  return undefined;
}
