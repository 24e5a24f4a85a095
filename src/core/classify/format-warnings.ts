import type { Warning } from "../result.ts";
import type { Classification } from "./classify.ts";

/**
 * What readers tolerated in the changed structured files (a duplicate YAML key, a custom tag), for
 * the result file's `warnings[]`: said once per file and line even when both sides repeat it.
 */
export function formatWarnings(classification: Classification): Warning[] {
  const seen = new Set<string>();
  const warnings: Warning[] = [];
  for (const warning of classification.warnings) {
    if (warning.code !== "format" || warning.path === undefined) continue;
    const message = warning.message.replace(/ \((base|head) side\)$/, "");
    if (seen.has(message)) continue;
    seen.add(message);
    warnings.push({
      code: "format",
      file: warning.path,
      ...(warning.line === undefined ? {} : { line: warning.line }),
      message,
    });
  }
  return warnings;
}
