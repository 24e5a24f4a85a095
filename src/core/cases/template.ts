import { UserError } from "../errors.ts";
import { ownGet } from "../own.ts";

const PLACEHOLDER = /\{\{\s*([\w.-]+)\s*\}\}/g;

/** Fills `{{name}}` from vars; a placeholder without a var is an error, never an empty string. */
export function renderTemplate(
  template: string,
  vars: Record<string, string | number | boolean>,
  where: { template: string; caseId: string },
): string {
  return template.replace(PLACEHOLDER, (_, name: string) => {
    const value = ownGet(vars, name);
    if (value === undefined) {
      const known = Object.keys(vars);
      throw new UserError(
        `${where.template}: {{${name}}} has no value in the vars of case ${where.caseId}` +
          (known.length ? ` (it has: ${known.join(", ")})` : " (it has no vars)"),
      );
    }
    return String(value);
  });
}
