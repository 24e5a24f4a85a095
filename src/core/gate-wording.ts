/** How gate reasons write numbers: one place, so the sequential and fixed-N gates read alike. */

/** x without the −0 that would otherwise show up in results as "-0". */
export function negateZero(x: number): number {
  return x === 0 ? 0 : x;
}

export function pct(rate: number): string {
  return `${(rate * 100).toFixed(1)} %`;
}

export function signedPct(rate: number): string {
  return `${rate >= 0 ? "+" : ""}${pct(rate)}`;
}

/** An absolute change of a rate, in percentage points. */
export function points(change: number): string {
  return `${(change * 100).toFixed(1)} points`;
}
