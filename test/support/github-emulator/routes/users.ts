/** The authenticated user (`GET /user`), as GitHub answers it for each kind of token. */
import { actor } from "../access.ts";
import { type Ctx, HttpError, type Reply, type Route } from "../http.ts";
import { userJson } from "../shapes.ts";

/**
 * A user's token gets its user (the public-user shape); an installation token or the workflow's
 * `GITHUB_TOKEN` gets GitHub's 403, which is how a client tells that it writes as a bot.
 */
function getAuthenticatedUser(ctx: Ctx): Reply {
  const identity = actor(ctx);
  if (identity.type === "Bot") throw new HttpError(403, "Resource not accessible by integration");
  return {
    body: {
      ...userJson(ctx, identity.login),
      name: null,
      company: null,
      blog: "",
      location: null,
      email: null,
      hireable: null,
      bio: null,
      public_repos: 0,
      public_gists: 0,
      followers: 0,
      following: 0,
      created_at: "2020-01-01T00:00:00Z",
      updated_at: "2020-01-01T00:00:00Z",
    },
  };
}

export const userRoutes: Route[] = [{ method: "GET", pattern: "/user", handler: getAuthenticatedUser }];
