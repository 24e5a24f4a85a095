import { z } from "zod";
import type { HandEditTrigger } from "./hand-edit.ts";
import type { RolloutTrigger } from "./run.ts";

/**
 * The rollout trigger in a `pull_request.labeled` or `issues.labeled` payload, or why there is
 * none. Shapes are checked, not trusted blindly: a payload without what is needed is skipped.
 * Which labels are rollout labels depends on `rollout.label_prefix` in the base's policy, so
 * that is decided later, with the policy in hand.
 */

const repository = z.object({
  name: z.string(),
  owner: z.object({ login: z.string() }),
  default_branch: z.string().optional(),
});
const sender = z.object({ login: z.string() });
const label = z.object({ name: z.string() });

const pullRequestLabeled = z.object({
  action: z.literal("labeled"),
  repository,
  sender,
  label,
  pull_request: z.object({
    number: z.number().int().positive(),
    updated_at: z.string().optional(),
    head: z.object({ sha: z.string(), ref: z.string() }),
  }),
});

const issueLabeled = z.object({
  action: z.literal("labeled"),
  repository,
  sender,
  label,
  issue: z.object({
    number: z.number().int().positive(),
    updated_at: z.string().optional(),
    pull_request: z.unknown().optional(),
  }),
});

export type TriggerResult = { run: RolloutTrigger } | { skip: string };

export function rolloutTrigger(name: string, payload: unknown, delivery: string): TriggerResult {
  if (name === "pull_request") {
    const parsed = pullRequestLabeled.safeParse(payload);
    if (!parsed.success) return { skip: "not a pull_request.labeled payload" };
    const event = parsed.data;
    return {
      run: {
        owner: event.repository.owner.login,
        repo: event.repository.name,
        number: event.pull_request.number,
        is_pull: true,
        label: event.label.name,
        sender: event.sender.login,
        pinned_sha: event.pull_request.head.sha,
        head_ref: event.pull_request.head.ref,
        labeled_at: event.pull_request.updated_at,
        default_branch: event.repository.default_branch,
        delivery,
      },
    };
  }
  if (name === "issues") {
    const parsed = issueLabeled.safeParse(payload);
    if (!parsed.success) return { skip: "not an issues.labeled payload" };
    const event = parsed.data;
    // A PR's labels arrive as pull_request events, with the head to pin.
    if (event.issue.pull_request !== undefined) return { skip: "issues.labeled of a pull request" };
    return {
      run: {
        owner: event.repository.owner.login,
        repo: event.repository.name,
        number: event.issue.number,
        is_pull: false,
        label: event.label.name,
        sender: event.sender.login,
        labeled_at: event.issue.updated_at,
        default_branch: event.repository.default_branch,
        delivery,
      },
    };
  }
  return { skip: `${name} events are not handled` };
}

const pullRequestPushed = z.object({
  action: z.enum(["opened", "synchronize", "reopened"]),
  repository,
  sender: sender.optional(),
  pull_request: z.object({
    number: z.number().int().positive(),
    head: z.object({ sha: z.string() }),
  }),
});

/** The hand-edit rule's trigger: a PR opened, reopened or pushed to. */
export function handEditTrigger(name: string, payload: unknown): { run: HandEditTrigger } | { skip: string } {
  if (name !== "pull_request") return { skip: `${name} events are not handled` };
  const parsed = pullRequestPushed.safeParse(payload);
  if (!parsed.success) return { skip: "not a pull_request opened/synchronize/reopened payload" };
  const event = parsed.data;
  return {
    run: {
      owner: event.repository.owner.login,
      repo: event.repository.name,
      number: event.pull_request.number,
      reason: `pull_request.${event.action}`,
      sender: event.sender?.login,
      event_head_sha: event.pull_request.head.sha,
      rerun: false,
    },
  };
}
