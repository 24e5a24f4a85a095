import type { Classification, ClassifiedFile } from "../../core/classify/classify.ts";
import { COMMENT_MARKERS } from "../../core/protocol.ts";
import { codeBlock, escapeUntrusted, inlineCode } from "../../core/report/escape.ts";
import { utf8Length } from "../../core/text/utf8.ts";
import { CHECK_OUTPUT_LIMIT } from "../../github/check-runs.ts";
import type { PolicySource } from "../../github/policy.ts";
import { COMMENT_BODY_LIMIT } from "../../github/sticky-comment.ts";
import { changeCategories, SPLIT_ORDER, type Split, suggestSplit } from "./split.ts";
import type { Judgement, OverrideStatus, Verdict } from "./verdict.ts";

/**
 * Markdown for the check run and the sticky comment. Paths, keys, labels and logins come from
 * the repository or its users: all of it goes through `escape.ts` (docs/action.md#security), so a file
 * named `<img src=x>` or `@org/team.md` renders as text and pings nobody.
 */

export const STICKY_MARKER = COMMENT_MARKERS.attribution;

export interface RenderContext {
  head_sha: string;
  /** The base commit the policy was read at. */
  base_sha: string;
  /** Where the policy came from; empty when the defaults applied. */
  policy_sources: PolicySource[];
  override_label: string;
  allow_author_override: boolean;
}

const LIST_LIMIT = 20;
const KEYS_PER_CELL = 8;

/** GitHub counts a check run's summary in UTF-8 bytes (a CJK path is 3 bytes a character). */
const bytes: Measure = utf8Length;
/** … and a comment's body in characters. */
const chars: Measure = (text) => text.length;
type Measure = (text: string) => number;

export function renderCheckSummary(judgement: Judgement, verdict: Verdict, ctx: RenderContext): string {
  const budget = CHECK_OUTPUT_LIMIT - 2_000;
  switch (judgement.kind) {
    case "invalid_config":
      return fitLines(
        [
          `The policy that judges this PR is read from the base branch (\`${short(ctx.base_sha)}\`), and it does not validate:`,
          "",
          codeBlock(judgement.message.slice(0, 20_000)),
          "",
          "Fix the config on the base branch (a PR cannot loosen the rule that judges it), then re-run this check.",
        ],
        budget,
        bytes,
      );
    case "error":
      return fitLines(
        [
          "modelgate failed while judging this PR, so it fails closed:",
          "",
          codeBlock(judgement.message.slice(0, 4_000)),
          "",
          "Re-run the check to try again; if it keeps failing, the App's logs have the details.",
        ],
        budget,
        bytes,
      );
    case "classified":
      return classifiedSummary(judgement.classification, judgement.override, verdict, ctx, budget);
  }
}

function classifiedSummary(
  classification: Classification,
  override: OverrideStatus,
  verdict: Verdict,
  ctx: RenderContext,
  budget: number,
): string {
  const head: string[] = [headline(classification), ""];
  head.push(...overrideLines(override, ctx));
  const tail: string[] = [...warningLines(classification), "", footer(ctx)];
  const body: string[] = [];
  if (verdict.mixed) body.push("### Suggested split", "", ...splitLines(suggestSplit(classification)), "");
  const rows = tableRows(classification);
  const tableHead = [
    "### Files and keys per category",
    "",
    "| category | file | changed keys |",
    "|---|---|---|",
  ];
  const used = length(head) + length(body) + length(tail) + length(tableHead) + 200;
  const table: string[] = [];
  let size = used;
  for (const row of rows) {
    const rowSize = bytes(row) + 1;
    if (size + rowSize > budget) break;
    table.push(row);
    size += rowSize;
  }
  if (rows.length > 0) {
    body.push(...tableHead, ...table);
    if (table.length < rows.length)
      body.push(
        "",
        `…and ${rows.length - table.length} more rows; \`modelgate classify --base ${short(ctx.base_sha)} --head ${short(ctx.head_sha)}\` lists them all.`,
      );
    body.push("");
  }
  return fitLines([...head, ...body, ...tail], budget, bytes);
}

function headline(classification: Classification): string {
  const { categories, mixed, files } = classification;
  const counted = `${files.length} ${files.length === 1 ? "file" : "files"}`;
  const unreadable = (classification.unreadable ?? []).map(
    (u) =>
      `**${inlineCode(`${u.path}${u.line === null ? "" : `:${u.line}`}`)} cannot be read** at the ${u.side} side: ${escapeUntrusted(u.reason)}. Its keys are unknown, so it counts as ${andList(u.categories)} and this check fails closed. To fix: ${escapeUntrusted(u.fix)}${u.side === "base" ? " on the base branch (or a maintainer applies the override label)" : ""}.`,
  );
  if (unreadable.length) return unreadable.join("\n\n");
  if (classification.truncated) {
    return [
      `**The file list was truncated**: GitHub lists at most 3,000 files of a PR and this one changes more, so modelgate cannot see the whole change and fails closed.`,
      mixed ? `Among the ${counted} it can see, it already finds ${andList(categories)} changes.` : "",
    ]
      .filter(Boolean)
      .join(" ");
  }
  if (mixed) {
    return `**This PR mixes ${andList(categories)} changes** in ${counted}. Split it, so each deploy changes one thing and every KPI move can be attributed to it.`;
  }
  if (categories.length === 0) return `Nothing here is a model, prompt or infra change (${counted}).`;
  return `Only **${categories[0]}** changes in ${counted}: every KPI move of this deploy can be attributed to them.`;
}

function overrideLines(override: OverrideStatus, ctx: RenderContext): string[] {
  const label = inlineCode(ctx.override_label);
  switch (override.kind) {
    case "none":
      return [];
    case "applied":
      return [
        `**Overridden** by ${login(override.by.actor)} at ${override.by.at}: label ${label} accepts the ${andList(override.categories) || "unseen"} changes in one PR. The override holds for head \`${short(ctx.head_sha)}\` only; a new push needs it again.`,
        "",
      ];
    case "refused": {
      const by = override.by;
      const text =
        by === undefined
          ? `The label ${label} is on the PR, but its event log does not say who applied it, so it does not count.`
          : override.reason === "author"
            ? `The label ${label} was applied by ${login(by.actor)}, the PR's author, at ${by.at}; an author's own override does not count (\`attribution.allow_author_override\` is off).`
            : `The label ${label} was applied by ${login(by.actor)} at ${by.at}, who lacks write access to the repository; it does not count.`;
      return [text, ""];
    }
    case "cleared":
      return [
        `New commits were pushed after the override${override.by ? ` by ${login(override.by.actor)} (${override.by.at})` : ""}, so the label ${label} was removed: head \`${short(override.head_sha)}\` is judged afresh, and a maintainer must apply the label again to accept it.`,
        "",
      ];
  }
}

function warningLines(classification: Classification): string[] {
  const lines = classification.warnings
    .filter((w) => w.code !== "truncated_file_list")
    .slice(0, 20)
    .map((w) => `- ${escapeUntrusted(w.message)}`);
  return lines.length ? ["", "**Warnings**", "", ...lines] : [];
}

function footer(ctx: RenderContext): string {
  const policy =
    ctx.policy_sources.length === 0
      ? "the default policy (no `.github/modelgate.yml` on the base branch)"
      : ctx.policy_sources
          .map(
            (s) => `${inlineCode(`${s.owner}/${s.repo}:${s.path}`)}${s.ref ? ` at \`${short(s.ref)}\`` : ""}`,
          )
          .join(" extending ");
  return `<sub>Judged at head \`${short(ctx.head_sha)}\` by ${policy}.</sub>`;
}

function tableRows(classification: Classification): string[] {
  const rows: string[] = [];
  for (const category of SPLIT_ORDER) {
    for (const file of classification.files) {
      if (!file.categories.includes(category)) continue;
      rows.push(`| ${category} | ${fileCell(file)} | ${keysCell(file, category)} |`);
    }
  }
  for (const file of classification.files) {
    if (changeCategories(file).length === 0)
      rows.push(`| other | ${fileCell(file)} | ${keysCell(file, "other")} |`);
  }
  return rows;
}

function fileCell(file: ClassifiedFile): string {
  const path = inlineCode(file.path, { table: true, max: 200 });
  return file.previous_path ? `${inlineCode(file.previous_path, { table: true, max: 200 })} → ${path}` : path;
}

function keysCell(file: ClassifiedFile, category: string): string {
  const keys = file.keys.filter((k) => k.category === category).map((k) => k.path);
  // A model ID changed in code: name it and its line rather than "(whole file)".
  if (category === "model" && keys.length === 0 && file.literals?.length)
    keys.push(...file.literals.map((l) => `${l.change === "added" ? "+" : "-"}${l.value} (line ${l.line})`));
  if (keys.length === 0) return file.keys.length === 0 ? "(whole file)" : "(by path)";
  const shown = keys.slice(0, KEYS_PER_CELL).map((k) => inlineCode(k, { table: true, max: 120 }));
  return keys.length > KEYS_PER_CELL
    ? `${shown.join(", ")} +${keys.length - KEYS_PER_CELL} more`
    : shown.join(", ");
}

function splitLines(split: Split): string[] {
  const lines = split.parts.map((part, i) => {
    const position = i === 0 ? " first" : i === split.parts.length - 1 ? " last" : "";
    const shown = part.entries.slice(0, LIST_LIMIT).map((entry) => {
      const path = inlineCode(entry.path, { max: 200 });
      if (entry.keys.length === 0) return path;
      const keys = entry.keys.slice(0, KEYS_PER_CELL).map((k) => inlineCode(k, { max: 120 }));
      const more = entry.keys.length > KEYS_PER_CELL ? ` +${entry.keys.length - KEYS_PER_CELL} more` : "";
      return `${path} (only ${keys.join(", ")}${more})`;
    });
    const more = part.entries.length > LIST_LIMIT ? `, and ${part.entries.length - LIST_LIMIT} more` : "";
    return `${i + 1}. **${part.category}**${position}: ${shown.join(", ")}${more}`;
  });
  if (split.other.length)
    lines.push(
      "",
      `${split.other.length} other ${split.other.length === 1 ? "file" : "files"} (none of model, prompt, infra) can go with any of them.`,
    );
  lines.push(
    "",
    "Infra first, so settings sized for the new behaviour are in place; the model swap last, so its eval measures the model alone.",
  );
  return lines;
}

/** The sticky comment, or undefined when there is none to post (the PR is not mixed). */
export function renderComment(
  judgement: Judgement,
  verdict: Verdict,
  ctx: RenderContext,
): string | undefined {
  if (judgement.kind !== "classified" || !verdict.mixed) return undefined;
  const { classification, override } = judgement;
  const lines = [
    STICKY_MARKER,
    `### modelgate: this PR mixes ${andList(classification.categories)} changes`,
    "",
    `As of \`${short(ctx.head_sha)}\`, one PR changes ${andList(classification.categories)}: when the KPIs move after the deploy, nobody can say which change moved them. Split it:`,
    "",
    ...splitLines(suggestSplit(classification)),
    "",
    ...overrideLines(override, ctx),
    override.kind === "applied"
      ? "The `modelgate/attribution` check passes because of the override."
      : `The \`modelgate/attribution\` check fails until the PR is split. A maintainer (write access, not the author${ctx.allow_author_override ? " unless the config allows it" : ""}) can accept it as is with the label ${inlineCode(ctx.override_label)}; the check records who and when, and a new push needs the label again.`,
  ];
  return fitLines(lines, COMMENT_BODY_LIMIT - 1_000, chars);
}

/** The sticky comment once the PR is no longer mixed. */
export function renderResolvedComment(verdict: Verdict, ctx: RenderContext): string {
  return [
    STICKY_MARKER,
    "### modelgate: no longer mixed",
    "",
    `As of \`${short(ctx.head_sha)}\` this PR no longer mixes model, prompt and infra changes (${escapeUntrusted(verdict.title)}).`,
  ].join("\n");
}

/** "a", "a and b", "a, b and c". */
function andList(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

function login(name: string): string {
  return `**${escapeUntrusted(`@${name}`)}**`;
}

function short(sha: string): string {
  return /^[0-9a-f]{40}$/i.test(sha) ? sha.slice(0, 7) : escapeUntrusted(sha.slice(0, 40));
}

/** UTF-8 bytes of the joined lines (the budget of a check summary). */
function length(lines: readonly string[]): number {
  return lines.reduce((sum, line) => sum + bytes(line) + 1, 0);
}

/** Joins lines, cutting at a line boundary when the text would exceed `limit` as `measure` counts. */
function fitLines(lines: readonly string[], limit: number, measure: Measure): string {
  const out: string[] = [];
  let size = 0;
  for (const line of lines) {
    const lineSize = measure(line) + 1;
    if (size + lineSize > limit) {
      out.push("", "…(cut to fit GitHub's size limit)");
      break;
    }
    out.push(line);
    size += lineSize;
  }
  return out.join("\n");
}
