import { type GitHub, httpStatus, type RepoRef } from "./client.ts";

export interface LabelEvent {
  actor: string;
  created_at: string;
}

/**
 * The most recent time `label` was applied to the issue or PR, and by whom, from its event
 * log (`GET /issues/{n}/events`, oldest first). Undefined when it never was.
 */
export async function latestLabeling(
  gh: GitHub,
  issue: RepoRef & { issue_number: number; label: string },
): Promise<LabelEvent | undefined> {
  const wanted = issue.label.toLowerCase();
  let latest: LabelEvent | undefined;
  for (let page = 1; ; page++) {
    const { data } = await gh.request("GET /repos/{owner}/{repo}/issues/{issue_number}/events", {
      owner: issue.owner,
      repo: issue.repo,
      issue_number: issue.issue_number,
      per_page: 100,
      page,
    });
    for (const event of data) {
      if (event.event !== "labeled") continue;
      const name = "label" in event ? event.label?.name : undefined;
      if (name?.toLowerCase() !== wanted) continue;
      const actor = event.actor?.login;
      if (!actor) continue;
      if (!latest || event.created_at >= latest.created_at) latest = { actor, created_at: event.created_at };
    }
    if (data.length < 100) break;
  }
  return latest;
}

/** Removes a label from an issue or PR; one that is already gone is fine. */
export async function removeLabel(
  gh: GitHub,
  issue: RepoRef & { issue_number: number; name: string },
): Promise<boolean> {
  try {
    await gh.request("DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}", {
      owner: issue.owner,
      repo: issue.repo,
      issue_number: issue.issue_number,
      name: issue.name,
    });
    return true;
  } catch (error) {
    if (httpStatus(error) === 404) return false;
    throw error;
  }
}

export type RepoPermission = "admin" | "maintain" | "write" | "triage" | "read" | "none";

/** A user's permission on a repository (`role_name` when GitHub gives it); `none` for strangers. */
export async function permissionOf(gh: GitHub, at: RepoRef & { username: string }): Promise<RepoPermission> {
  try {
    const { data } = await gh.request("GET /repos/{owner}/{repo}/collaborators/{username}/permission", at);
    const role = (data as { role_name?: string }).role_name;
    const known: readonly string[] = ["admin", "maintain", "write", "triage", "read", "none"];
    if (role && known.includes(role)) return role as RepoPermission;
    return known.includes(data.permission) ? (data.permission as RepoPermission) : "none";
  } catch (error) {
    if (httpStatus(error) === 404) return "none";
    throw error;
  }
}

/** Write access or more: who may vouch for a change to the repository. */
export function canWrite(permission: RepoPermission): boolean {
  return permission === "admin" || permission === "maintain" || permission === "write";
}
