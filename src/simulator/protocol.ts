import type { ChatCompletion, ChatCompletionChunk } from "openai/resources/chat/completions";
import type { Model } from "openai/resources/models";
import { z } from "zod";

/**
 * The slice of the OpenAI Chat Completions protocol the simulator speaks: request validation
 * (loose, like the real API: unknown fields are accepted and ignored) and the error shape.
 */

const contentPart = z.looseObject({ type: z.string(), text: z.string().optional() });
const content = z.union([z.string(), z.array(contentPart), z.null()]);

const toolCallSchema = z.looseObject({
  id: z.string(),
  type: z.literal("function"),
  function: z.looseObject({ name: z.string(), arguments: z.string() }),
});

const messageSchema = z.discriminatedUnion("role", [
  z.looseObject({ role: z.literal("system"), content }),
  z.looseObject({ role: z.literal("developer"), content }),
  z.looseObject({ role: z.literal("user"), content }),
  z.looseObject({
    role: z.literal("assistant"),
    content: content.optional(),
    tool_calls: z.array(toolCallSchema).nullish(),
  }),
  z.looseObject({ role: z.literal("tool"), content, tool_call_id: z.string() }),
]);

const jsonSchemaObject = z.record(z.string(), z.unknown());

const toolSchema = z.looseObject({
  type: z.literal("function"),
  function: z.looseObject({
    name: z.string().min(1),
    description: z.string().optional(),
    parameters: jsonSchemaObject.optional(),
  }),
});

const responseFormat = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("text") }),
  z.looseObject({ type: z.literal("json_object") }),
  z.looseObject({
    type: z.literal("json_schema"),
    json_schema: z.looseObject({ name: z.string(), schema: jsonSchemaObject.optional() }),
  }),
]);

const toolChoice = z.union([
  z.enum(["none", "auto", "required"]),
  z.looseObject({ type: z.literal("function"), function: z.looseObject({ name: z.string() }) }),
]);

export const chatRequestSchema = z.looseObject({
  model: z.string().min(1),
  messages: z.array(messageSchema).min(1),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
  max_completion_tokens: z.int().positive().nullish(),
  max_tokens: z.int().positive().nullish(),
  tools: z.array(toolSchema).nullish(),
  tool_choice: toolChoice.nullish(),
  response_format: responseFormat.nullish(),
  n: z.literal(1).nullish(),
});

export type ChatRequest = z.output<typeof chatRequestSchema>;
export type ChatMessage = ChatRequest["messages"][number];
export type ToolSpec = NonNullable<ChatRequest["tools"]>[number];

export type { ChatCompletion, ChatCompletionChunk, Model };

export interface OpenAIErrorBody {
  error: { message: string; type: string; code: string | null; param: string | null };
}

export function errorBody(
  message: string,
  type: string,
  code: string | null = null,
  param: string | null = null,
) {
  return { error: { message, type, code, param } } satisfies OpenAIErrorBody;
}

/** `messages[0].role` from a zod path, the way OpenAI names a parameter. */
export function paramName(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path)
    out += typeof key === "number" ? `[${key}]` : out === "" ? String(key) : `.${String(key)}`;
  return out;
}

/** A 400 for a body that does not validate: the first issue, named like OpenAI names it. */
export function invalidRequest(error: z.ZodError): OpenAIErrorBody {
  const issue = error.issues[0];
  if (!issue) return errorBody("Invalid request body.", "invalid_request_error");
  const param = paramName(issue.path);
  const extra = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problem(s))` : "";
  if (issue.path[0] === "n") {
    return errorBody("The simulator supports only n=1.", "invalid_request_error", "unsupported_value", "n");
  }
  return errorBody(
    `Invalid value for '${param || "body"}': ${issue.message}${extra}`,
    "invalid_request_error",
    issue.code === "invalid_type" && issue.message.includes("received undefined")
      ? "missing_required_parameter"
      : "invalid_value",
    param || null,
  );
}

/** Text of a message's content (parts joined). */
export function messageText(message: { content?: unknown }): string {
  const c = message.content;
  if (typeof c === "string") return c;
  if (Array.isArray(c)) {
    return c
      .map((part) =>
        part !== null && typeof part === "object" && typeof (part as { text?: unknown }).text === "string"
          ? (part as { text: string }).text
          : "",
      )
      .join("\n");
  }
  return "";
}
