import type { Context, Probot } from "probot";
import { runAttribution } from "./attribution/run.ts";
import { PULL_REQUEST_ACTIONS, triggerFromEvent } from "./attribution/trigger.ts";
import { KeyedQueue } from "./keyed-queue.ts";
import { registerRollout } from "./rollout/index.ts";

/** Who the App is on GitHub: its comments are found by its bot login, its check runs by its slug. */
export interface AppIdentity {
  bot_login: string;
  app_slug: string;
}

export const EVENTS = [
  ...PULL_REQUEST_ACTIONS.map((action) => `pull_request.${action}` as const),
  "check_run.rerequested",
] as const;

/**
 * The modelgate Probot app (issue 5): the `modelgate/attribution` check on every PR, one sticky
 * comment while a PR mixes model, prompt and infra changes, and the audited override label.
 * Stateless: everything it needs to be idempotent lives on GitHub (check runs, comments, labels).
 */
export default (app: Probot): void => {
  const queue = new KeyedQueue();
  let identity: Promise<AppIdentity> | undefined;

  /** `GET /app` once per process (a failure is not cached, the next event asks again). */
  const whoAmI = (): Promise<AppIdentity> => {
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

  const handle = async (context: Context<"pull_request"> | Context<"check_run">): Promise<void> => {
    const self = await whoAmI();
    const result = triggerFromEvent(context.name, context.payload, self.bot_login);
    if ("skip" in result) {
      context.log.debug(`delivery ${context.id}: ${result.skip}`);
      return;
    }
    const trigger = result.run;
    const key = `${trigger.owner}/${trigger.repo}#${trigger.pull_number}`.toLowerCase();
    await queue.run(key, () =>
      runAttribution({ gh: context.octokit, log: context.log, identity: self }, trigger),
    );
  };

  app.on([...EVENTS], handle);
  registerRollout(app);
};
