import { clopperPearson, studentizedBootstrapRatio, tangoPairedInterval } from "../src/core/fixed-n.ts";
import { logGamma } from "../src/core/incomplete-beta.ts";
import {
  bootstrapRatioDelta,
  newcombePairedInterval,
  type PairedTable,
  type RatioPair,
  seededRandom,
  wilson,
} from "../src/core/stats.ts";

/**
 * Calibration of the fixed-N intervals (issue 10, `evals.sequential: false`) at the limits the
 * gates judge, next to the intervals they replace. A one-sided miss is the chance that the
 * interval lies wholly on one side of the true value: "false pass" is the side that lets a
 * change at the limit through, "false fail" the side that blocks it. Nominal: 2.5 % each.
 *
 * Rates and paired completion are enumerated exactly (every outcome weighted by its
 * probability: no Monte Carlo noise); the cost ratio is a seeded Monte Carlo.
 */

export const SIZES = [20, 50, 100, 200] as const;

export interface Miss {
  /** P(upper bound < truth). */
  below: number;
  /** P(lower bound > truth). */
  above: number;
}

function logBinomialPmf(k: number, n: number, p: number): number {
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1) + k * Math.log(p) + (n - k) * Math.log1p(-p);
}

/** Exact one-sided misses of a rate interval at true rate p. */
export function rateMiss(
  interval: (k: number, n: number) => [number, number] | null,
  n: number,
  p: number,
): Miss {
  const miss: Miss = { below: 0, above: 0 };
  for (let k = 0; k <= n; k++) {
    const bounds = interval(k, n);
    if (bounds === null) continue;
    const probability = Math.exp(logBinomialPmf(k, n, p));
    if (bounds[1] < p) miss.below += probability;
    if (bounds[0] > p) miss.above += probability;
  }
  return miss;
}

/** Cell probabilities of a paired binary outcome with these margins and correlation. */
export function pairedCells(baseRate: number, headRate: number, correlation: number): PairedTable {
  const both =
    baseRate * headRate + correlation * Math.sqrt(baseRate * (1 - baseRate) * headRate * (1 - headRate));
  const headOnly = headRate - both;
  const baseOnly = baseRate - both;
  return { both, headOnly, baseOnly, neither: 1 - both - headOnly - baseOnly };
}

/**
 * Exact one-sided misses of a paired-difference interval at the true difference of `cells`,
 * enumerating the discordant counts (b, c) — Tango's interval depends on nothing else — with
 * the trinomial weight of (b, c, rest). Tables below 1e-13 probability are skipped.
 */
export function pairedMiss(
  interval: (t: PairedTable) => [number, number] | null,
  n: number,
  cells: PairedTable,
): Miss {
  const truth = cells.headOnly - cells.baseOnly;
  const concordant = cells.both + cells.neither;
  const miss: Miss = { below: 0, above: 0 };
  const logFactorial = (k: number) => logGamma(k + 1);
  for (let b = 0; b <= n; b++) {
    for (let c = 0; b + c <= n; c++) {
      const rest = n - b - c;
      // A count of 0 in a cell of probability 0 weighs 1 (0·log 0 = 0); any other count is impossible.
      const term = (count: number, probability: number) => (count === 0 ? 0 : count * Math.log(probability));
      const logP =
        logFactorial(n) -
        logFactorial(b) -
        logFactorial(c) -
        logFactorial(rest) +
        term(b, cells.headOnly) +
        term(c, cells.baseOnly) +
        term(rest, concordant);
      if (!(logP >= -30)) continue;
      // Split the concordant pairs by their share: only Newcombe's interval looks at them.
      const both = Math.round((rest * cells.both) / concordant);
      const bounds = interval({ both, headOnly: b, baseOnly: c, neither: rest - both });
      if (bounds === null) continue;
      const probability = Math.exp(logP);
      if (bounds[1] < truth) miss.below += probability;
      if (bounds[0] > truth) miss.above += probability;
    }
  }
  return miss;
}

/** A head that loses 5 points of the cases the base completed and wins none back. */
export const ONE_WAY_DROP: PairedTable = { both: 0.75, headOnly: 0, baseOnly: 0.05, neither: 0.2 };

export interface CostScenario {
  /** True per-completed-task cost ratio head/base. */
  ratio: number;
  /** SD of log cost (lognormal). */
  logSd: number;
  /** Correlation of a case's base and head log costs (same prompt, same difficulty). */
  correlation: number;
  /** Completion probability of each side, independent of cost. */
  completion: number;
}

export const COST_AT_LIMIT: CostScenario = { ratio: 1.1, logSd: 1, correlation: 0.5, completion: 0.9 };

/**
 * One seeded sample of n paired cases: costs are lognormal and every attempt costs, completed or
 * not, so the per-completed-task ratio is ratio × E[cost]/completion over E[cost]/completion.
 */
export function costSample(n: number, scenario: CostScenario, random: () => number): RatioPair[] {
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const { logSd, correlation } = scenario;
  const pairs: RatioPair[] = [];
  for (let i = 0; i < n; i++) {
    const shared = normal();
    const own = normal();
    const baseLog = logSd * shared;
    const headLog = logSd * (correlation * shared + Math.sqrt(1 - correlation * correlation) * own);
    pairs.push({
      base: { numerator: Math.exp(baseLog), denominator: random() < scenario.completion ? 1 : 0 },
      head: {
        numerator: scenario.ratio * Math.exp(headLog),
        denominator: random() < scenario.completion ? 1 : 0,
      },
    });
  }
  return pairs;
}

/** Seeded Monte Carlo misses of a relative-change interval at the scenario's true ratio. */
export function costMiss(
  interval: (pairs: RatioPair[], seed: string) => [number, number] | null,
  n: number,
  scenario: CostScenario,
  replications: number,
  seed = "fixed-n-calibration",
): Miss & { undecidable: number } {
  const random = seededRandom(`${seed}:${n}`);
  const truth = scenario.ratio - 1;
  let below = 0;
  let above = 0;
  let undecidable = 0;
  for (let r = 0; r < replications; r++) {
    const bounds = interval(costSample(n, scenario, random), `${seed}:${n}:${r}`);
    if (bounds === null) undecidable++;
    else if (bounds[1] < truth) below++;
    else if (bounds[0] > truth) above++;
  }
  return {
    below: below / replications,
    above: above / replications,
    undecidable: undecidable / replications,
  };
}

export const studentizedRelative =
  (iterations: number, tails: "symmetric" | "equal-tailed" = "symmetric") =>
  (pairs: RatioPair[], seed: string) =>
    studentizedBootstrapRatio(pairs, { contrast: "relative", iterations, seed, tails }).ci95;
export const percentileRelative = (iterations: number) => (pairs: RatioPair[], seed: string) =>
  bootstrapRatioDelta(pairs, { contrast: "relative", iterations, seed }).ci95;

export const tango = (t: PairedTable) => tangoPairedInterval(t).ci95;
export const newcombe = (t: PairedTable) => newcombePairedInterval(t).ci95;
export const cp = (k: number, n: number) => clopperPearson(k, n);
export const wilsonInterval = (k: number, n: number) => wilson(k, n);

const percent = (value: number) => `${(100 * value).toFixed(2)} %`.padStart(8);

function row(label: string, cells: string[]): string {
  return `${label.padEnd(44)}${cells.map((c) => c.padStart(18)).join("")}\n`;
}

/** The calibration table; `replications` and `iterations` size the cost Monte Carlo. */
export function runFixedNBench(replications = 1000, iterations = 999): void {
  const out = (text: string) => process.stdout.write(text);
  const format = (m: Miss) => `${percent(m.below)} /${percent(m.above)}`;
  const line = (label: string, miss: (n: number) => Miss) =>
    out(
      row(
        label,
        SIZES.map((n) => format(miss(n))),
      ),
    );
  const header = () =>
    out(
      row(
        "one-sided miss (below / above the truth)",
        SIZES.map((n) => `n=${n}`),
      ),
    );

  out("\nError rate at its limit (exact; 'below' = upper bound under the true rate):\n");
  header();
  for (const p of [0.02, 0.05]) {
    line(`Clopper–Pearson, rate ${p * 100} %`, (n) => rateMiss(cp, n, p));
    line(`  old: Wilson, rate ${p * 100} %`, (n) => rateMiss(wilsonInterval, n, p));
  }

  out("\nPaired completion 90 % → 85 %, correlation 0.5, limit −5 pts (exact; 'above' = false pass):\n");
  header();
  const cells = pairedCells(0.9, 0.85, 0.5);
  line("Tango score", (n) => pairedMiss(tango, n, cells));
  line("  old: Newcombe hybrid (method 10)", (n) => pairedMiss(newcombe, n, cells));
  out("\nOne-way drop 80 % → 75 % (the head only loses cases), limit −5 pts (exact):\n");
  header();
  line("Tango score", (n) => pairedMiss(tango, n, ONE_WAY_DROP));
  line("  old: Newcombe hybrid (method 10)", (n) => pairedMiss(newcombe, n, ONE_WAY_DROP));

  out(
    `\nCost per completed task, lognormal (σ = ${COST_AT_LIMIT.logSd}, ρ = ${COST_AT_LIMIT.correlation}), ` +
      `completion ${COST_AT_LIMIT.completion * 100} %, ratio exactly 1.10 ` +
      `(${replications} runs × ${iterations} resamples; 'below' = false pass):\n`,
  );
  header();
  const symmetric = SIZES.map((n) =>
    costMiss(studentizedRelative(iterations), n, COST_AT_LIMIT, replications),
  );
  out(row("Symmetric bootstrap-t (log scale)", symmetric.map(format)));
  out(
    row(
      "  undecidable (< 10 completed on a side)",
      symmetric.map((m) => percent(m.undecidable)),
    ),
  );
  line("  equal-tailed bootstrap-t (log scale)", (n) =>
    costMiss(studentizedRelative(iterations, "equal-tailed"), n, COST_AT_LIMIT, replications),
  );
  line("  old: percentile bootstrap", (n) =>
    costMiss(percentileRelative(iterations), n, COST_AT_LIMIT, replications),
  );
  const lighter = { ...COST_AT_LIMIT, logSd: 0.5 };
  line("Symmetric bootstrap-t, σ = 0.5", (n) =>
    costMiss(studentizedRelative(iterations), n, lighter, replications),
  );
  line("  old: percentile bootstrap, σ = 0.5", (n) =>
    costMiss(percentileRelative(iterations), n, lighter, replications),
  );
  const mcError = Math.sqrt((0.025 * 0.975) / replications);
  out(`(Monte Carlo standard error at 2.5 %: ±${(100 * mcError).toFixed(2)} pts)\n`);
}

if (import.meta.main) runFixedNBench(Number(process.argv[2] ?? 1000), Number(process.argv[3] ?? 999));
