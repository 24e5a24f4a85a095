import type { Progress } from "../eval/evaluate.ts";

/** Progress on stderr: one rewritten line on a terminal, a plain line every 10 % otherwise. */
export function progressReporter(write: (text: string) => void, isTTY: boolean) {
  let lastDecile = -1;
  const line = (p: Progress) =>
    `cases ${p.done}/${p.total} · ${p.tokens.toLocaleString("en-US")} tokens · $${p.cost.toFixed(4)} · ${p.cacheHits} cache hits`;
  return {
    update(progress: Progress) {
      if (isTTY) {
        write(`\r\x1b[2K${line(progress)}`);
        return;
      }
      const decile = Math.floor((progress.done / Math.max(1, progress.total)) * 10);
      if (decile !== lastDecile) {
        lastDecile = decile;
        write(`${line(progress)}\n`);
      }
    },
    done() {
      if (isTTY) write("\n");
    },
  };
}
