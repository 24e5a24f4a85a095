import { z } from "zod";
import { repoPathProblem } from "../repo-path.ts";
import { compileUserRegex } from "./regex.ts";

/** docs/cases.md: one eval case. */

const matchValue = z.string().min(1);

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * A mapping kept as parsed. zod's record rebuilds the object and silently drops a `__proto__`
 * key, so a tool named `__proto__` would lose its result and an expected argument would vanish
 * from a `tool_called` assert; keys here are case text and stay exactly as written.
 */
const mapping = z.custom<Record<string, unknown>>(isMapping, { message: "expected a mapping" });

const scalarMapping = z
  .custom<Record<string, string | number | boolean>>(isMapping, { message: "expected a mapping" })
  .superRefine((value, ctx) => {
    for (const [key, entry] of Object.entries(value)) {
      if (!["string", "number", "boolean"].includes(typeof entry))
        ctx.addIssue({ code: "custom", path: [key], message: "expected a string, number or boolean" });
    }
  });

export const assertionSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("equals"), value: z.string() }),
  z.strictObject({ type: z.literal("contains"), value: matchValue, ignore_case: z.boolean().optional() }),
  z.strictObject({ type: z.literal("not_contains"), value: matchValue, ignore_case: z.boolean().optional() }),
  z
    .strictObject({
      type: z.literal("regex"),
      value: matchValue,
      flags: z
        .string()
        .regex(/^[imsu]*$/)
        .optional(),
    })
    .superRefine((assertion, context) => {
      // Rejected at load (file:line, case ID), not mid-run: the run uses the same compiler.
      const compiled = compileUserRegex(assertion.value, assertion.flags);
      if (!compiled.ok) context.addIssue({ code: "custom", path: ["value"], message: compiled.reason });
    }),
  z.strictObject({ type: z.literal("json_schema"), schema: mapping }),
  z.strictObject({
    type: z.literal("tool_called"),
    name: z.string().min(1),
    args: mapping.optional(),
  }),
  z.strictObject({ type: z.literal("judge"), rubric: z.string().min(1), model: z.string().optional() }),
]);

export type Assertion = z.output<typeof assertionSchema>;

const message = z.strictObject({
  role: z.enum(["system", "user", "assistant", "developer"]),
  content: z.string(),
});

const tool = z.strictObject({
  type: z.literal("function"),
  function: z.strictObject({
    name: z.string().min(1),
    description: z.string().optional(),
    parameters: mapping.optional(),
    strict: z.boolean().optional(),
  }),
});

export const caseSchema = z
  .strictObject({
    id: z
      .string()
      .min(1)
      .regex(/^[\w.:/-]+$/, "letters, digits and . _ : / - only"),
    route: z.string().min(1),
    prompt: z
      .string()
      .min(1)
      .superRefine((path, ctx) => {
        const problem = repoPathProblem(path);
        if (problem) ctx.addIssue({ code: "custom", message: `${JSON.stringify(path)} ${problem}` });
      })
      .optional()
      .describe("Template file used as the system message, read from the side."),
    vars: scalarMapping.default({}),
    input: z.string().optional(),
    messages: z.array(message).min(1).optional(),
    tools: z.array(tool).optional(),
    tool_results: mapping.optional(),
    max_steps: z.int().positive().max(64).optional(),
    response_format: z.enum(["text", "json_object"]).optional(),
    assert: z.array(assertionSchema).default([]),
    takeover: assertionSchema.optional(),
  })
  .refine((c) => (c.input === undefined) !== (c.messages === undefined), {
    message: "give exactly one of `input` (one user message) or `messages` (a full list)",
  });

export type EvalCase = z.output<typeof caseSchema>;

/** A case with where it was defined, for errors and the report. */
export interface LocatedCase {
  case: EvalCase;
  file: string;
  line: number;
}
