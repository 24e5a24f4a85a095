import { z } from "zod";
import { configSchema } from "./schema.ts";

/** The JSON Schema of `.github/modelgate.yml`, generated from the zod schema (for editor completion). */
export function configJsonSchema(): Record<string, unknown> {
  return {
    $id: "https://modelgate.dev/schema/modelgate.schema.json",
    title: "modelgate configuration (.github/modelgate.yml)",
    ...z.toJSONSchema(configSchema, { io: "input", target: "draft-2020-12" }),
  };
}

export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}
