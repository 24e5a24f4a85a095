import type { Context, Probot } from "probot";
import { type AppIdentity, appIdentity } from "../identity.ts";
import { KeyedQueue } from "../keyed-queue.ts";
import { runHandEdit } from "./hand-edit.ts";
import { rerunTrigger, runRerun } from "./rerun.ts";
import { type RolloutDeps, runRollout } from "./run.ts";
import { handEditTrigger, rolloutTrigger } from "./trigger.ts";

export interface RolloutOptions {
  /** Where `PROMETHEUS_URL` and `PROMETHEUS_BEARER_TOKEN` come from; read at each delivery. */
  env?: Readonly<Record<string, string | undefined>>;
  fetch?: typeof fetch;
  /** Shared with the other handlers so deliveries for one PR run one at a time across them. */
  queue?: KeyedQueue;
  whoAmI?: () => Promise<AppIdentity>;
}

/**
 * Label-driven promotion and rollback (issue 6, docs/rollout.md): `rollout:<N>` on a rollout PR
 * promotes the candidate to N % once the evidence allows, `rollout:rollback` on a PR or an
 * issue opens a rollback PR. Deliveries for one PR or issue run one at a time in this process;
 * across replicas, the fast-forward-only commit and the lookups by marker keep them apart.
 */
export function registerRollout(app: Probot, options: RolloutOptions = {}): void {
  const queue = options.queue ?? new KeyedQueue();
  const whoAmI = options.whoAmI ?? appIdentity(app);

  const handle = async (
    context: Context<"pull_request.labeled"> | Context<"issues.labeled">,
  ): Promise<void> => {
    const result = rolloutTrigger(context.name, context.payload, context.id);
    if ("skip" in result) {
      context.log.debug(`rollout: delivery ${context.id}: ${result.skip}`);
      return;
    }
    const trigger = result.run;
    const self = await whoAmI();
    const key = `${trigger.owner}/${trigger.repo}#${trigger.number}`.toLowerCase();
    const outcome = await queue.run(key, () =>
      runRollout(
        {
          gh: context.octokit,
          log: context.log,
          identity: self,
          env: options.env ?? process.env,
          ...(options.fetch ? { fetch: options.fetch } : {}),
        },
        trigger,
      ),
    );
    if (outcome.kind === "skipped") context.log.debug(`rollout: delivery ${context.id}: ${outcome.reason}`);
  };

  app.on(["pull_request.labeled", "issues.labeled"], handle);

  const deps = async (context: Context): Promise<RolloutDeps> => ({
    gh: context.octokit,
    log: context.log,
    identity: await whoAmI(),
    env: options.env ?? process.env,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });

  // A PR that raises the share by hand is flagged on every push (issue 13).
  const handEdit = async (
    context: Context<"pull_request.opened" | "pull_request.synchronize" | "pull_request.reopened">,
  ): Promise<void> => {
    const result = handEditTrigger(context.name, context.payload);
    if ("skip" in result) {
      context.log.debug(`rollout: delivery ${context.id}: ${result.skip}`);
      return;
    }
    const trigger = result.run;
    const key = `${trigger.owner}/${trigger.repo}#${trigger.number}`.toLowerCase();
    const outcome = await queue.run(key, async () => runHandEdit(await deps(context), trigger));
    if (outcome.kind === "skipped") context.log.debug(`rollout: delivery ${context.id}: ${outcome.reason}`);
  };
  app.on(["pull_request.opened", "pull_request.synchronize", "pull_request.reopened"], handEdit);

  // Re-running the `modelgate/rollout` check re-judges what it judged (issue 13).
  const rerun = async (context: Context<"check_run.rerequested">): Promise<void> => {
    const result = rerunTrigger(context.payload, context.id);
    if ("skip" in result) {
      context.log.debug(`rollout: delivery ${context.id}: ${result.skip}`);
      return;
    }
    const trigger = result.run;
    const key = `${trigger.owner}/${trigger.repo}#${trigger.number}`.toLowerCase();
    const outcome = await queue.run(key, async () => runRerun(await deps(context), trigger));
    if (outcome.kind === "skipped") context.log.debug(`rollout: delivery ${context.id}: ${outcome.reason}`);
  };
  app.on("check_run.rerequested", rerun);
}
