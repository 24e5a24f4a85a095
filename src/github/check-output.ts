import { utf8Length, utf8Prefix } from "../core/text/utf8.ts";
import { httpStatus } from "./client.ts";

const CUT_NOTE = "\n\n…(cut to fit GitHub's 65,535-byte limit for check runs)\n";

/**
 * `summary` and `text` within `maxBytes` UTF-8 bytes each, cut at a line with a note. The
 * renderers budget in bytes already; this is the net under every writer (rollout decisions,
 * error bodies) so no check write is refused for its size.
 */
export function fitCheckOutput<T extends { title: string; summary: string; text?: string }>(
  output: T,
  maxBytes: number,
): T {
  const cut = (value: string) =>
    utf8Length(value) <= maxBytes ? value : `${utf8Prefix(value, maxBytes - CUT_NOTE.length)}${CUT_NOTE}`;
  return {
    ...output,
    summary: cut(output.summary),
    ...(output.text === undefined ? {} : { text: cut(output.text) }),
  };
}

/** The summary of a completed run whose full report GitHub refused. */
export function shortFailureSummary(error: unknown): string {
  const status = httpStatus(error);
  const first = (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
  const message = first.length > 300 ? `${first.slice(0, 299)}…` : first;
  return [
    `The full report could not be written to this check (${status ? `HTTP ${status}: ` : ""}${message.replace(/[<>`]/g, "")}).`,
    "",
    "The conclusion and title of this check stand; the full report is in the PR comment or the logs.",
  ].join("\n");
}
