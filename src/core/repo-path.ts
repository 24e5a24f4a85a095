/**
 * Paths that come from repository text (file names in a diff, `prompt` paths in cases) and are
 * handed to git or shown in reports. A control character (a newline above all) can split a
 * `git cat-file --batch` request or a report line; `..` and absolute paths leave the tree.
 */

const CONTROL = /\p{Cc}/u;

export function hasControlCharacter(path: string): boolean {
  return CONTROL.test(path);
}

/** Why `path` is not a plain path inside the repository, or `undefined` when it is one. */
export function repoPathProblem(path: string): string | undefined {
  if (hasControlCharacter(path)) return "contains a control character (such as a newline)";
  if (path.startsWith("/") || /^[A-Za-z]:[\\/]/.test(path))
    return "is absolute; give a path from the repository root";
  if (path.split(/[\\/]/).some((segment) => segment === ".." || segment === "."))
    return "has a . or .. segment; give a path from the repository root";
  return undefined;
}
