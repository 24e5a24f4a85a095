import { z } from "zod";
import { evalResultSchema } from "./result.ts";

/** The JSON Schema of the result file (docs/results.md), generated from the zod schema every reader uses. */
export function resultJsonSchema(): Record<string, unknown> {
  return {
    $id: "https://modelgate.dev/schema/modelgate-result.schema.json",
    title: "modelgate result file (schema_version 1)",
    ...z.toJSONSchema(evalResultSchema, { io: "output", target: "draft-2020-12" }),
  };
}

export function resultJsonSchemaText(): string {
  return `${JSON.stringify(resultJsonSchema(), null, 2)}\n`;
}
