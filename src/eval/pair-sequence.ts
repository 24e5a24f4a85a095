import type { PairedCase } from "../core/gates.ts";
import type { CaseResult } from "../core/result.ts";
import type { GateMonitor } from "../core/sequential/monitor.ts";

/**
 * The run's side of the pair sequence (docs/results.md): sides finish in any order, the monitor
 * must see pairs in sequence order. Completed pairs wait in a buffer and only the contiguous
 * completed prefix of the sequence is pushed, so the monitor judges exactly the first k pairs
 * of the seeded order — the prefix a later, longer run over the same sequence extends.
 *
 * Cases that cannot be a pair (one side cannot run them) are not in the sequence: they would
 * hold the prefix forever. They still run until the verdict settles, for the KPIs.
 */
export class PairSequence {
  readonly #order: readonly string[];
  readonly #results: ReadonlyMap<string, CaseResult>;
  readonly #monitor: GateMonitor;
  readonly #mayStop: boolean;
  readonly #started = new Set<string>();
  #next = 0;

  /**
   * @param order IDs of the pairs, in sequence order.
   * @param results The run's case results, read as sides complete.
   * @param mayStop False for a shard (it cannot see the other shards' pairs) and in fixed-N mode.
   */
  constructor(
    order: readonly string[],
    results: ReadonlyMap<string, CaseResult>,
    monitor: GateMonitor,
    mayStop: boolean,
  ) {
    this.#order = order;
    this.#results = results;
    this.#monitor = monitor;
    this.#mayStop = mayStop;
  }

  /** Pairs in the sequence: the most the run can judge. */
  get planned(): number {
    return this.#order.length;
  }

  /** The verdict settled: start nothing new. */
  get stopping(): boolean {
    return this.#mayStop && this.#monitor.settled;
  }

  /**
   * May this case's side start now? A case one of whose sides started always may start the
   * other (a pair is scheduled together, never left half-run); nothing new once settled.
   */
  mayStart(id: string): boolean {
    if (this.#started.has(id)) return true;
    if (this.stopping) return false;
    this.#started.add(id);
    return true;
  }

  /** Cases with a side started (the others were never requested). */
  get startedCases(): ReadonlySet<string> {
    return this.#started;
  }

  /** A side completed: push every pair of the now-complete prefix, in order. */
  advance(): void {
    for (;;) {
      const id = this.#order[this.#next];
      if (id === undefined) return;
      const entry = this.#results.get(id);
      if (!entry?.base || !entry.head) return;
      const pair: PairedCase = { id: entry.id, route: entry.route, base: entry.base, head: entry.head };
      this.#monitor.push(pair);
      this.#next++;
    }
  }
}
