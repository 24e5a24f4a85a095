import type { Classification } from "./classify.ts";

/** A human-readable summary of a classification, for `--format text`. */
export function renderClassificationText(result: Classification): string {
  const lines: string[] = [];
  const [unreadable] = result.unreadable ?? [];
  const verdict = unreadable
    ? `UNREADABLE: ${unreadable.path}${unreadable.line === null ? "" : `:${unreadable.line}`} does not parse at the ${unreadable.side} side (${unreadable.reason}); it counts as ${unreadable.categories.join(" + ")} and the check fails. To fix: ${unreadable.fix}`
    : result.mixed
      ? `MIXED: this change touches ${result.categories.join(" + ")}; split it so each deploy changes one thing`
      : result.categories.length === 1
        ? `OK: one kind of change (${result.categories[0]})`
        : "OK: nothing LLM-relevant changed";
  lines.push(verdict, "");
  for (const file of result.files) {
    const name = file.previous_path ? `${file.previous_path} -> ${file.path}` : file.path;
    lines.push(`  ${file.status.padEnd(8)} ${name}  [${file.categories.join(", ")}]`);
    for (const key of file.keys) lines.push(`             ${key.path}  (${key.category})`);
    for (const literal of file.literals ?? []) {
      const at = literal.side === "base" ? (file.previous_path ?? file.path) : file.path;
      lines.push(
        `             ${at}:${literal.line}  ${JSON.stringify(literal.value)} ${literal.change} (model)`,
      );
    }
    if (file.keys_omitted) lines.push(`             … and ${file.keys_omitted} more changed keys`);
  }
  if (result.warnings.length) {
    lines.push("", "Warnings:");
    for (const warning of result.warnings) lines.push(`  - ${warning.message}`);
  }
  return `${lines.join("\n")}\n`;
}
