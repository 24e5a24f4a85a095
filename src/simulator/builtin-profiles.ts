import type { AnswerSpec, SimulatorProfiles } from "./profiles.ts";

/**
 * Built-in profiles: a SIMULATED gpt-5.4 → gpt-5.5 move, so a newcomer sees the whole flow
 * without an API key. The figures are illustrative, not measurements of the real models; every
 * model here is listed with `owned_by: "modelgate-simulator"` and every response carries
 * `x-modelgate-simulated: true`.
 *
 * - `gpt-5.4`: fast, terse, decent quality, rarely calls tools, keeps JSON clean.
 * - `gpt-5.5`: slower and wordier, more reasoning tokens, better on hard tasks, calls tools more
 *   and chains them, wraps JSON in prose or a fence about 15 % of the time.
 * - `gpt-5.4-mini`: cheap and fast, a judge-ish model.
 *
 * Each answers under its plain ID and a dated alias, and reports the dated snapshot in the
 * response's `model` field, as the real API does.
 */

export const BUILTIN_SNAPSHOTS = {
  "gpt-5.4": "gpt-5.4-2026-03-05",
  "gpt-5.5": "gpt-5.5-2026-04-23",
  "gpt-5.4-mini": "gpt-5.4-mini-2026-03-17",
} as const;

/** Generic answers (not tied to any repo), tried after a repo's own answers. */
export const BUILTIN_ANSWERS: AnswerSpec[] = [
  {
    match:
      "\\b(human|real person|agent|representative|operator)\\b.*\\b(talk|speak|chat|connect|transfer)|\\b(talk|speak|chat|connect|transfer)\\b.*\\b(human|real person|agent|representative|operator)\\b",
    answer: "[HANDOFF] I'm connecting you with a member of our support team who can take it from here.",
  },
  {
    match: "\\b(reset|forgot|change)\\b.*\\bpassword\\b|\\bpassword\\b.*\\b(reset|forgot|change)",
    answer:
      "Open Settings → Security and choose “Send reset link”. We email you a reset link that is valid for 24 hours; follow it to set a new password.",
  },
  {
    match: "\\brefund",
    answer:
      "Refunds go back to the original payment method within 5–10 business days once the request is approved. You can request one from Orders → Request refund within 30 days of purchase.",
  },
  {
    match: "\\bcancel\\b.*\\b(subscription|plan|account)\\b",
    answer:
      "Go to Billing → Subscription and choose “Cancel plan”. Your plan stays active until the end of the current billing period.",
  },
  {
    match: "\\bcapital of france\\b",
    answer: "The capital of France is Paris.",
  },
  {
    match: "\\bfizz\\s*buzz\\b",
    difficulty: "hard",
    answer: [
      "```python",
      "def fizzbuzz(n):",
      "    for i in range(1, n + 1):",
      "        if i % 15 == 0:",
      '            print("FizzBuzz")',
      "        elif i % 3 == 0:",
      '            print("Fizz")',
      "        elif i % 5 == 0:",
      '            print("Buzz")',
      "        else:",
      "            print(i)",
      "```",
    ].join("\n"),
  },
  {
    match: "\\breverse\\b.*\\blinked list\\b",
    difficulty: "hard",
    answer: [
      "```python",
      "def reverse(head):",
      "    prev = None",
      "    while head:",
      "        head.next, prev, head = prev, head, head.next",
      "    return prev",
      "```",
      "This runs in O(n) time and O(1) extra space.",
    ].join("\n"),
  },
  {
    match: "\\bsentiment\\b.*\\b(love|great|excellent|amazing|happy)\\b",
    answer: '{"sentiment":"positive","confidence":0.93}',
  },
  {
    match: "\\bsentiment\\b.*\\b(hate|terrible|awful|broken|angry)\\b",
    answer: '{"sentiment":"negative","confidence":0.91}',
  },
  {
    match: "\\brubric\\b|\\bgrade (the|this) (answer|response)\\b",
    answer: '{"pass":true,"score":1,"reason":"The response satisfies every point of the rubric."}',
  },
];

export function builtinProfiles(): SimulatorProfiles {
  return structuredClone({
    version: 1,
    defaults: { owned_by: "modelgate-simulator", cache_share: 0.9 },
    answers: BUILTIN_ANSWERS,
    models: {
      "gpt-5.4": {
        created: 1_772_668_800,
        aliases: [BUILTIN_SNAPSHOTS["gpt-5.4"]],
        serve_as: BUILTIN_SNAPSHOTS["gpt-5.4"],
        latency: { base_ms: 400, per_token_ms: 4, jitter_ms: 120 },
        verbosity: 1,
        reasoning_share: 0.2,
        quality: { easy: 0.9, hard: 0.8 },
        tools: { tendency: 0.35, steps: 1 },
        format_drift: 0,
        takeover: 0.03,
        errors: { server_error: 0.002, unavailable: 0.001, rate_limit: 0.005, retry_after_ms: 1000 },
      },
      "gpt-5.5": {
        created: 1_776_902_400,
        aliases: [BUILTIN_SNAPSHOTS["gpt-5.5"]],
        serve_as: BUILTIN_SNAPSHOTS["gpt-5.5"],
        latency: { base_ms: 900, per_token_ms: 6, jitter_ms: 300 },
        verbosity: 1.8,
        reasoning_share: 0.45,
        quality: { easy: 0.94, hard: 0.92 },
        tools: { tendency: 0.8, steps: 2 },
        format_drift: 0.15,
        takeover: 0.02,
        errors: { server_error: 0.003, unavailable: 0.002, rate_limit: 0.01, retry_after_ms: 1000 },
      },
      "gpt-5.4-mini": {
        created: 1_773_705_600,
        aliases: [BUILTIN_SNAPSHOTS["gpt-5.4-mini"]],
        serve_as: BUILTIN_SNAPSHOTS["gpt-5.4-mini"],
        latency: { base_ms: 150, per_token_ms: 1.5, jitter_ms: 40 },
        verbosity: 0.8,
        reasoning_share: 0.1,
        quality: { easy: 0.85, hard: 0.6 },
        tools: { tendency: 0.25, steps: 1 },
        format_drift: 0.02,
        takeover: 0.02,
        errors: { server_error: 0.001, rate_limit: 0.002, retry_after_ms: 500 },
      },
    },
  } satisfies SimulatorProfiles);
}
