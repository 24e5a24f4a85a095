import { z } from "zod";
import { type AttributionTrigger, CHECK_NAME, pullNumberFromExternalId } from "./run.ts";

/** The `pull_request` actions that can change the verdict (issue 5, point 2). */
export const PULL_REQUEST_ACTIONS = [
  "opened",
  "synchronize",
  "reopened",
  "edited",
  "labeled",
  "unlabeled",
  "ready_for_review",
] as const;

const repository = z.object({ name: z.string(), owner: z.object({ login: z.string() }) });
const sender = z.object({ login: z.string() }).optional();

const pullRequestEvent = z.object({
  action: z.string(),
  repository,
  sender,
  pull_request: z.object({
    number: z.number().int().positive(),
    updated_at: z.string().optional(),
    head: z.object({ sha: z.string() }).optional(),
  }),
  label: z.object({ name: z.string() }).optional(),
  changes: z.object({ base: z.unknown().optional() }).optional(),
});

const checkRunEvent = z.object({
  action: z.string(),
  repository,
  sender,
  check_run: z.object({
    name: z.string(),
    head_sha: z.string().optional(),
    external_id: z.string().nullable().optional(),
    pull_requests: z.array(z.object({ number: z.number().int().positive() })).default([]),
  }),
});

export type TriggerResult = { run: AttributionTrigger } | { skip: string };

/**
 * Which PR an event asks to judge, or why it asks for nothing. Shared by the Probot app and
 * the workflow adapter, which both hand over a raw payload. `self` is the App's own login:
 * the label it removes after a push needs no second run.
 */
export function triggerFromEvent(name: string, payload: unknown, self?: string): TriggerResult {
  if (name === "pull_request" || name === "pull_request_target") {
    const parsed = pullRequestEvent.safeParse(payload);
    if (!parsed.success) return { skip: `${name} payload without a pull request` };
    const event = parsed.data;
    const reason = `${name}.${event.action}`;
    if (!(PULL_REQUEST_ACTIONS as readonly string[]).includes(event.action))
      return { skip: `${reason} is not handled` };
    if (event.action === "edited" && event.changes?.base === undefined)
      return { skip: `${reason} did not change the base` };
    if (event.action === "unlabeled" && self && event.sender?.login.toLowerCase() === self.toLowerCase())
      return { skip: `${reason} by this app itself` };
    const base = {
      owner: event.repository.owner.login,
      repo: event.repository.name,
      pull_number: event.pull_request.number,
      head_sha: event.pull_request.head?.sha,
      reason,
    };
    if (event.action === "labeled" || event.action === "unlabeled") {
      if (!event.label) return { skip: `${reason} without a label` };
      return { run: { ...base, label: event.label.name } };
    }
    if (event.action === "synchronize") return { run: { ...base, pushed_at: event.pull_request.updated_at } };
    return { run: base };
  }
  if (name === "check_run") {
    const parsed = checkRunEvent.safeParse(payload);
    if (!parsed.success) return { skip: "check_run payload without a check run" };
    const event = parsed.data;
    const reason = `check_run.${event.action}`;
    if (event.action !== "rerequested") return { skip: `${reason} is not handled` };
    if (event.check_run.name !== CHECK_NAME)
      return { skip: `${reason} of another check (${event.check_run.name})` };
    const number =
      pullNumberFromExternalId(event.check_run.external_id) ?? event.check_run.pull_requests[0]?.number;
    if (number === undefined) return { skip: `${reason}: the check run names no pull request` };
    return {
      run: {
        owner: event.repository.owner.login,
        repo: event.repository.name,
        pull_number: number,
        head_sha: event.check_run.head_sha,
        reason,
        rerun: true,
      },
    };
  }
  return { skip: `${name} events are not handled` };
}
