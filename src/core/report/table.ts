/** Markdown table rows. Cells must already be escaped for a table (no raw `|` or newline). */

export function tableRow(cells: readonly string[]): string {
  return `| ${cells.join(" | ")} |`;
}

/** Header row and its separator. */
export function tableHeader(headings: readonly string[]): string {
  return `${tableRow(headings)}\n${tableRow(headings.map(() => "---"))}`;
}
