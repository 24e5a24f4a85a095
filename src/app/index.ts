import type { Context, Probot } from "probot";
import { runAttribution } from "./attribution/run.ts";
import { PULL_REQUEST_ACTIONS, triggerFromEvent } from "./attribution/trigger.ts";
import { registerSuiteRerun } from "./check-suite.ts";
import { appIdentity } from "./identity.ts";
import { KeyedQueue } from "./keyed-queue.ts";
import { registerRollout } from "./rollout/index.ts";

export type { AppIdentity } from "./identity.ts";

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
  // One queue per PR for every handler: an attribution run and a promotion never interleave.
  const queue = new KeyedQueue();
  const whoAmI = appIdentity(app);

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
  registerRollout(app, { queue, whoAmI });
  registerSuiteRerun(app, whoAmI);
};
