import type { Probot } from "probot";

/** Who the App is on GitHub: its comments are found by its bot login, its check runs by its slug. */
export interface AppIdentity {
  bot_login: string;
  app_slug: string;
}

/**
 * `GET /app` once per process, shared by every handler. A failure is not cached: the next
 * event asks again.
 */
export function appIdentity(app: Probot): () => Promise<AppIdentity> {
  let identity: Promise<AppIdentity> | undefined;
  return () => {
    identity ??= (async () => {
      const octokit = await app.auth();
      const { data } = await octokit.request("GET /app");
      const slug = data?.slug;
      if (!slug) throw new Error("GET /app returned no slug");
      return { bot_login: `${slug}[bot]`, app_slug: slug };
    })();
    identity.catch(() => {
      identity = undefined;
    });
    return identity;
  };
}
