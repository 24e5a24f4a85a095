export interface BenchResult {
  name: string;
  runs: number;
  median_ms: number;
  p95_ms: number;
  min_ms: number;
  target_ms?: number;
  extra?: Record<string, string | number>;
}

export function summarize(
  name: string,
  samples: number[],
  options: { target_ms?: number; extra?: Record<string, string | number> } = {},
): BenchResult {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
  return {
    name,
    runs: samples.length,
    median_ms: round(at(0.5)),
    p95_ms: round(at(0.95)),
    min_ms: round(sorted[0] ?? Number.NaN),
    ...options,
  };
}

export function round(value: number): number {
  return Math.round(value * 10) / 10;
}

export function printResults(results: BenchResult[]): void {
  for (const result of results) {
    const target = result.target_ms === undefined ? "" : `  (target < ${result.target_ms} ms)`;
    process.stdout.write(
      `${result.name}\n  median ${result.median_ms} ms, p95 ${result.p95_ms} ms, min ${result.min_ms} ms over ${result.runs} runs${target}\n`,
    );
    for (const [key, value] of Object.entries(result.extra ?? {}))
      process.stdout.write(`  ${key}: ${value}\n`);
  }
}
