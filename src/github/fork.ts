/**
 * Whether a pull request's head lives outside the base repository. One rule for every door
 * (Action, App, workflow adapter): a head repository GitHub reports as `null` is a fork whose
 * repository was deleted, never the base repository, so it counts as a fork. An unknown base
 * repository also counts as one: fail closed, as a fork gets the least trust.
 */

/** The part of a pull request (REST `pulls.get` or a webhook payload) the rule reads. */
export interface ForkShape {
  head?: { repo?: { full_name?: unknown } | null } | null;
  base?: { repo?: { full_name?: unknown } | null } | null;
}

/**
 * `baseRepo` ("owner/name") is the repository the run acts on, for payloads whose `base.repo`
 * is missing; when both are known they must agree, or the PR is treated as a fork.
 */
export function isFork(pull: ForkShape, baseRepo?: string): boolean {
  const head = pull.head?.repo?.full_name;
  const base = pull.base?.repo?.full_name;
  if (typeof head !== "string") return true;
  const bases = [typeof base === "string" ? base : undefined, baseRepo].filter(
    (name): name is string => name !== undefined,
  );
  if (bases.length === 0) return true;
  return bases.some((name) => name.toLowerCase() !== head.toLowerCase());
}
