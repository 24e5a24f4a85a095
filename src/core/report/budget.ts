/**
 * Fitting the comment under GitHub's size limit: some parts are fixed, others are lists
 * that can show fewer items (with a "… N more not shown" note). Lists are cut in a given
 * order, each as little as possible, until the whole fits.
 */

/** A list section: `render` gets the items it may show and how many it must leave out. */
export interface Cuttable {
  readonly items: readonly string[];
  render(shown: readonly string[], hidden: number): string;
}

export type Part = string | Cuttable;

export const SEPARATOR = "\n\n";

/** "… 12 more not shown" */
export function moreNotShown(hidden: number, what = "more"): string {
  return `… ${hidden} ${what} not shown (comment size limit)`;
}

function renderPart(part: Part, shown: number): string {
  if (typeof part === "string") return part;
  return part.render(part.items.slice(0, shown), part.items.length - shown);
}

/** How a limit counts: UTF-16 units (`.length`, comments) or UTF-8 bytes (check runs). */
export type Measure = (text: string) => number;

const units: Measure = (text) => text.length;

/** Size of the joined body, with its final newline (separators and newline are ASCII). */
function joinedLength(texts: readonly string[], measure: Measure): number {
  const present = texts.filter((text) => text !== "");
  return present.reduce(
    (sum, text) => sum + measure(text),
    SEPARATOR.length * Math.max(0, present.length - 1) + 1,
  );
}

/**
 * Renders `parts` joined by blank lines within `maxChars` (as `measure` counts), cutting the lists of `cutOrder`
 * in turn: each keeps the most items that fit, or none when even that is too long. Fixed
 * parts are never cut, so the result exceeds `maxChars` only when they alone do.
 */
export function fitParts(
  parts: readonly Part[],
  cutOrder: readonly Cuttable[],
  maxChars: number,
  measure: Measure = units,
): string {
  const texts = parts.map((part) => renderPart(part, typeof part === "string" ? 0 : part.items.length));
  for (const list of cutOrder) {
    if (joinedLength(texts, measure) <= maxChars) break;
    const index = parts.indexOf(list);
    if (index < 0) continue;
    const fits = (shown: number): boolean => {
      texts[index] = renderPart(list, shown);
      return joinedLength(texts, measure) <= maxChars;
    };
    let low = 0;
    let high = list.items.length - 1;
    let best = 0;
    while (low <= high) {
      const middle = Math.floor((low + high) / 2);
      if (fits(middle)) {
        best = middle;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    texts[index] = renderPart(list, best);
  }
  return `${texts.filter((text) => text !== "").join(SEPARATOR)}\n`;
}
