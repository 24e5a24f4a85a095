/**
 * Runs tasks one at a time per key, in arrival order; different keys run in parallel.
 * Two deliveries for one PR (a push and a label a second apart) then never race to create
 * two check runs or two comments within this process. Replicas behind a load balancer can
 * still race; the lookups by name and marker make the next event converge on one of each.
 */
export class KeyedQueue {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  get size(): number {
    return this.#tails.size;
  }
}
