/**
 * Warnings as bullet points, most serious first. Cases that exist on one side only are
 * grouped per side, so thousands of them make one line, not thousands.
 */

import type { Warning } from "../result.ts";
import type { Cuttable } from "./budget.ts";
import { moreNotShown } from "./budget.ts";
import { escapeUntrusted, inlineCode } from "./escape.ts";
import { formatCount, plural } from "./format.ts";

const LIST_MAX = 10;
const TEXT_MAX = 300;

const PRIORITY: Record<Warning["code"], number> = {
  model_mismatch: 0,
  unknown_model: 1,
  partial: 2,
  endpoint_in_repo: 3,
  config: 4,
  too_small: 5,
  missing_price: 6,
  missing_usage: 6,
  truncated_file_list: 7,
  cases_changed: 8,
  case_one_side: 9,
  cache_entry_invalid: 10,
  model_change_outside_llm_config: 1,
  uncovered_route: 1,
  no_case_files: 1,
  uncovered_default_model: 1,
  format: 11,
};

function text(value: string): string {
  return escapeUntrusted(value.length > TEXT_MAX ? `${value.slice(0, TEXT_MAX - 1)}…` : value);
}

/** "`a`, `b` and 3 more" */
function idList(ids: readonly string[]): string {
  const shown = ids.slice(0, LIST_MAX).map((id) => inlineCode(id, { max: 60 }));
  const rest = ids.length - shown.length;
  return rest > 0 ? `${shown.join(", ")} and ${formatCount(rest)} more` : shown.join(", ");
}

function describe(warning: Warning): string {
  switch (warning.code) {
    case "model_mismatch":
      return (
        `**Model mismatch** on route ${inlineCode(warning.route)}: asked for ${inlineCode(warning.requested)}, ` +
        `the provider answered as ${inlineCode(warning.returned)}. This is the silent-fallback signal: ` +
        "traffic is not reaching the model the config names."
      );
    case "unknown_model":
      return (
        `**Unknown model** ${inlineCode(warning.model)} on route ${inlineCode(warning.route)} (${text(warning.side)}): ` +
        `${warning.provider ? `provider ${inlineCode(warning.provider)}` : "the provider"} does not list it, so that side stopped before spending anything.`
      );
    case "missing_price":
      return `**No price** for ${inlineCode(warning.model)}: its cost shows as n/a. Add it under \`pricing\` in the policy.`;
    case "missing_usage":
      return (
        `**No usage** in answers from ${inlineCode(warning.model)} on route ${inlineCode(warning.route)}: ` +
        "their tokens and cost are unknown (n/a), not 0."
      );
    case "partial": {
      const cap = warning.cap ? ` (cap ${inlineCode(warning.cap)})` : "";
      return `**Partial run**: ${text(warning.reason)}${cap}. The numbers cover only the cases that finished.`;
    }
    case "endpoint_in_repo":
      return (
        `**Endpoint in repo config**: ${inlineCode(warning.file)} sets ${inlineCode(warning.key)}. It was ignored; ` +
        "the provider endpoint comes only from the workflow inputs or the environment."
      );
    case "cases_changed": {
      const lists = [
        warning.added.length > 0 ? `added ${idList(warning.added)}` : "",
        warning.removed.length > 0 ? `removed ${idList(warning.removed)}` : "",
        warning.modified.length > 0 ? `modified ${idList(warning.modified)}` : "",
      ].filter((part) => part !== "");
      return `**This PR changes eval cases**${lists.length > 0 ? `: ${lists.join("; ")}` : ""}. Both sides ran the head's cases.`;
    }
    case "case_one_side":
      return oneSideLine(warning.side, [warning.id]);
    case "truncated_file_list":
      return (
        `**File list truncated**: GitHub listed only ${plural(warning.files, "file")}; ` +
        "the change was judged on what could be seen."
      );
    case "too_small":
      return `**Too small to decide**: ${text(warning.message)}`;
    case "config":
      return `**Config**: ${text(warning.message)}`;
    case "cache_entry_invalid":
      return (
        `**Attempt cache**: ${plural(warning.count, "malformed entry", "malformed entries")} ignored and run again ` +
        `(first: ${inlineCode(warning.example, { max: 120 })}).`
      );
    case "uncovered_route":
      return `**Not covered**${warning.model_change ? " (model change)" : ""}: ${text(warning.reason)}.`;
    case "uncovered_default_model":
      return (
        `**Not covered** (model change): ${inlineCode(warning.file)} ${inlineCode(warning.key)} changed the default model ` +
        `(${inlineCode(warning.from ?? "none")} → ${inlineCode(warning.to)}), and no case runs on a route that uses it.`
      );
    case "no_case_files":
      return `**No case files**: nothing matched ${warning.globs.map((g) => inlineCode(g, { max: 120 })).join(", ")} (\`evals.cases\`), so no case could run.`;
    case "model_change_outside_llm_config":
      return (
        `**Model change outside llm.config**: ${inlineCode(warning.file)}${warning.keys.length > 0 ? ` (${warning.keys.map((k) => inlineCode(k, { max: 120 })).join(", ")})` : ""}; ` +
        `the eval reads routes from ${inlineCode(warning.llm_config)} only (\`llm.config\`).`
      );
    case "format": {
      const where = warning.line === undefined ? warning.file : `${warning.file}:${warning.line}`;
      // The message already starts with the file (and line); show the place once, as code.
      const detail = warning.message.startsWith(`${where}: `)
        ? warning.message.slice(where.length + 2)
        : warning.message;
      return `**Read with a warning**: ${inlineCode(where, { max: 120 })}: ${text(detail)}`;
    }
  }
}

/** All `case_one_side` warnings of one side as one line. */
function oneSideLine(side: string, ids: readonly string[]): string {
  return `**${plural(ids.length, "case")} only on ${text(side)}**, not compared: ${idList(ids)}.`;
}

export function warningLines(warnings: readonly Warning[]): string[] {
  const sorted = [...warnings].sort((a, b) => (PRIORITY[a.code] ?? 99) - (PRIORITY[b.code] ?? 99));
  const oneSide = new Map<string, string[]>();
  const lines: string[] = [];
  for (const warning of sorted) {
    if (warning.code === "case_one_side") {
      oneSide.set(warning.side, [...(oneSide.get(warning.side) ?? []), warning.id]);
    } else {
      lines.push(describe(warning));
    }
  }
  for (const [side, ids] of oneSide) lines.push(oneSideLine(side, ids));
  return lines.map((line) => `- ${line}`);
}

/** The warnings section as a list the size budget can cut; "" when there are none. */
export function warningsSection(warnings: readonly Warning[]): Cuttable {
  return {
    items: warningLines(warnings),
    render(shown, hidden) {
      if (shown.length === 0 && hidden === 0) return "";
      const lines = ["#### Warnings", "", ...shown];
      if (hidden > 0)
        lines.push(`- ${moreNotShown(hidden, shown.length > 0 ? "more warnings" : "warnings")}`);
      return lines.join("\n");
    },
  };
}
