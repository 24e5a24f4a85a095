import type { Context, Probot } from "probot";
import { KeyedQueue } from "../keyed-queue.ts";
import { type RolloutDeps, runRollout } from "./run.ts";
import { rolloutTrigger } from "./trigger.ts";

export interface RolloutOptions {
  /** Where `PROMETHEUS_URL` and `PROMETHEUS_BEARER_TOKEN` come from; read at each delivery. */
  env?: Readonly<Record<string, string | undefined>>;
  fetch?: typeof fetch;
}

/**
 * Label-driven promotion and rollback (issue 6, docs/rollout.md): `rollout:<N>` on a rollout PR
 * promotes the candidate to N % once the evidence allows, `rollout:rollback` on a PR or an
 * issue opens a rollback PR. Deliveries for one PR or issue run one at a time in this process;
 * across replicas, the fast-forward-only commit and the lookups by marker keep them apart.
 */
export function registerRollout(app: Probot, options: RolloutOptions = {}): void {
  const queue = new KeyedQueue();
  let identity: Promise<RolloutDeps["identity"]> | undefined;

  const whoAmI = (): Promise<RolloutDeps["identity"]> => {
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
}
