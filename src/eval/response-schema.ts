import { z } from "zod";

/**
 * docs/results.md: provider answers are validated. The SDK only parses JSON, so `model: null`,
 * `content: 42` or `usage.prompt_tokens: -5` reached the runner as typed values and crashed it
 * (or were counted). Only what the runner reads is checked; extra fields are the provider's.
 */
const tokenCount = z.int().nonnegative();

const functionCall = z.object({
  id: z.string(),
  type: z.literal("function"),
  function: z.object({ name: z.string(), arguments: z.string() }),
});
/** Other tool-call kinds (e.g. `custom`) are not run, but they are not malformed either. */
const otherCall = z.object({ type: z.string().refine((type) => type !== "function") });

const message = z.object({
  content: z.string().nullish(),
  tool_calls: z.array(z.union([functionCall, otherCall])).nullish(),
});

const usage = z.object({
  prompt_tokens: tokenCount,
  completion_tokens: tokenCount,
  prompt_tokens_details: z.object({ cached_tokens: tokenCount.nullish() }).nullish(),
});

const completion = z.object({
  model: z.string().min(1),
  choices: z.array(z.object({ message })).min(1, "no choices"),
  usage: z.unknown().optional(),
});

export interface StepUsage {
  prompt_tokens: number;
  cached_tokens: number;
  completion_tokens: number;
}

export interface ValidAnswer {
  model: string;
  content: string;
  calls: Array<{ id: string; name: string; arguments: string }>;
  /** `null` when the provider sent no usage: tokens and cost are then unknown, never 0. */
  usage: StepUsage | null;
}

export type Validated = { ok: true; answer: ValidAnswer } | { ok: false; reason: string };

export function validateCompletion(body: unknown): Validated {
  const parsed = completion.safeParse(body);
  if (!parsed.success) return { ok: false, reason: describe(parsed.error) };
  const choice = parsed.data.choices[0];
  if (!choice) return { ok: false, reason: "malformed answer: no choices" };
  const calls = (choice.message.tool_calls ?? []).flatMap((call) =>
    "function" in call && call.type === "function"
      ? [{ id: call.id, name: call.function.name, arguments: call.function.arguments }]
      : [],
  );
  const raw = parsed.data.usage;
  const absent =
    raw === null ||
    raw === undefined ||
    (typeof raw === "object" &&
      (raw as Record<string, unknown>).prompt_tokens === undefined &&
      (raw as Record<string, unknown>).completion_tokens === undefined);
  let stepUsage: StepUsage | null = null;
  if (!absent) {
    const checked = usage.safeParse(raw);
    if (!checked.success) return { ok: false, reason: describe(checked.error, "usage") };
    stepUsage = {
      prompt_tokens: checked.data.prompt_tokens,
      cached_tokens: checked.data.prompt_tokens_details?.cached_tokens ?? 0,
      completion_tokens: checked.data.completion_tokens,
    };
  }
  return {
    ok: true,
    answer: { model: parsed.data.model, content: choice.message.content ?? "", calls, usage: stepUsage },
  };
}

function describe(error: z.ZodError, prefix?: string): string {
  const issue = error.issues[0];
  if (!issue) return "malformed answer from the provider";
  const path = [...(prefix ? [prefix] : []), ...issue.path.map(String)].join(".") || "(body)";
  return `malformed answer from the provider: ${path}: ${issue.message.replace(/^Invalid input: /, "")}`;
}
