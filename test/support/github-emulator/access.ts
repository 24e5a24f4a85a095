/** Authentication and repository access checks shared by the route handlers. */

import type { Auth } from "./http.ts";
import { type Ctx, HttpError, notFound } from "./http.ts";
import {
  appIdentity,
  type EmulatorState,
  findRepo,
  hasPermission,
  type Identity,
  type IssueRecord,
  type RepoRecord,
  WORKFLOW_TOKEN,
} from "./state.ts";

function looksLikeJwt(token: string): boolean {
  return token.startsWith("eyJ") && token.split(".").length === 3;
}

/** Maps an `Authorization` header to who is calling. JWTs are accepted without verification. */
export function authenticate(state: EmulatorState, header: string | undefined): Auth {
  if (!header) return { kind: "anonymous" };
  const token = header.replace(/^(token|bearer)\s+/i, "").trim();
  if (looksLikeJwt(token)) return { kind: "jwt" };
  const known = state.tokens[token];
  if (known) return { kind: "token", token, identity: known };
  if (token.startsWith("ghs_")) return { kind: "token", token, identity: appIdentity(state) };
  if (token === WORKFLOW_TOKEN)
    return { kind: "token", token, identity: { login: "github-actions[bot]", type: "Bot" } };
  return { kind: "invalid" };
}

/** The authenticated identity, or 401. */
export function actor(ctx: Ctx): Identity {
  if (ctx.auth.kind !== "token") throw new HttpError(401, "Requires authentication");
  return ctx.auth.identity;
}

/**
 * The repository named by `:owner/:repo`, checked for `access`. Bots (app installations and the
 * workflow token) may read and write every repository; users need a permission (or ownership).
 */
export function repoFor(ctx: Ctx, access: "read" | "write" = "read"): RepoRecord {
  const repo = findRepo(ctx.state, ctx.params.owner ?? "", ctx.params.repo ?? "");
  if (!repo) throw notFound();
  if (ctx.auth.kind === "jwt") return repo;
  if (ctx.auth.kind !== "token") {
    if (repo.private) throw notFound();
    if (access === "write") throw new HttpError(401, "Requires authentication");
    return repo;
  }
  const { identity } = ctx.auth;
  if (identity.type === "Bot") return repo;
  if (!hasPermission(repo, identity.login, "read")) throw notFound();
  if (access === "write" && !hasPermission(repo, identity.login, "write")) {
    throw new HttpError(403, "Must have push access to this repository.");
  }
  return repo;
}

export function issueFor(repo: RepoRecord, number: number): IssueRecord {
  const issue = repo.issues.get(number);
  if (!issue) throw notFound();
  return issue;
}
