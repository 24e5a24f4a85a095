import type { Context, Probot } from "probot";
import { z } from "zod";
import { CHECK_NAMES } from "../core/protocol.ts";
import type { AppIdentity } from "./identity.ts";

/**
 * "Re-run all checks" on a commit (`check_suite.rerequested`) re-runs each of this App's checks
 * on it, exactly as if each had been re-run on its own: one `check_run.rerequested` per check,
 * built from the check run as GitHub reports it and handed to this App's own handlers, which
 * decide what a re-run of their check means (and who may ask for it).
 */

const OUR_CHECKS: ReadonlySet<string> = new Set([CHECK_NAMES.attribution, CHECK_NAMES.rollout]);

const suiteRerequested = z.object({
  action: z.literal("rerequested"),
  check_suite: z.object({ head_sha: z.string().regex(/^[0-9a-f]{40}$/) }),
  repository: z.object({ name: z.string(), owner: z.object({ login: z.string() }) }),
  sender: z.object({ login: z.string() }).passthrough(),
});

export function registerSuiteRerun(app: Probot, whoAmI: () => Promise<AppIdentity>): void {
  app.on("check_suite.rerequested", async (context: Context<"check_suite.rerequested">) => {
    const parsed = suiteRerequested.safeParse(context.payload);
    if (!parsed.success) {
      context.log.debug(`delivery ${context.id}: not a check_suite.rerequested payload`);
      return;
    }
    const event = parsed.data;
    const self = await whoAmI();
    const { data } = await context.octokit.request("GET /repos/{owner}/{repo}/commits/{ref}/check-runs", {
      owner: event.repository.owner.login,
      repo: event.repository.name,
      ref: event.check_suite.head_sha,
      per_page: 100,
    });
    const ours = data.check_runs.filter((run) => run.app?.slug === self.app_slug && OUR_CHECKS.has(run.name));
    for (const run of ours) {
      await app.receive({
        id: `${context.id}:${run.id}`,
        name: "check_run",
        payload: {
          action: "rerequested",
          check_run: run,
          repository: context.payload.repository,
          sender: context.payload.sender,
          ...(context.payload.installation ? { installation: context.payload.installation } : {}),
        },
      } as Parameters<Probot["receive"]>[0]);
    }
    context.log.info(
      `check_suite.rerequested on ${event.repository.owner.login}/${event.repository.name}@${event.check_suite.head_sha.slice(0, 7)} by ${event.sender.login}: re-ran ${ours.map((r) => r.name).join(", ") || "none of this App's checks"}`,
    );
  });
}
