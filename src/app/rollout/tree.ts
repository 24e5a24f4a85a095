import type { GitHub, RepoRef } from "../../github/client.ts";

/**
 * The SHA of `base` with one file's text replaced, as GitHub builds it (the same request the
 * promotion commit makes). Nothing points at the tree; it only names the contents.
 */
export async function treeWith(
  gh: GitHub,
  repo: RepoRef,
  base: string,
  path: string,
  text: string,
): Promise<string> {
  const { data } = await gh.request("POST /repos/{owner}/{repo}/git/trees", {
    ...repo,
    base_tree: base,
    tree: [{ path, mode: "100644", type: "blob", content: text }],
  });
  return data.sha;
}
