/**
 * Runs tasks one at a time per key, in arrival order; different keys run in parallel.
 * Two deliveries for one PR (a push and a label a second apart) then never race to create
 * two check runs or two comments within this process. Replicas behind a load balancer can
 * still race; the lookups by name and marker make the next event converge on one of each.
 *
 * Each task has a deadline (`timeoutMs`): past it, its caller gets a `QueueTimeoutError` and
 * the key moves on to the next task. Every GitHub call has its own, shorter deadline, so this
 * is the net for whatever else could hang; without it one stuck task held its PR's later
 * deliveries until the App restarted.
 */
export class QueueTimeoutError extends Error {
  override name = "QueueTimeoutError";
}

/** Ten minutes: far beyond any attribution or rollout run, well short of "until restart". */
export const DEFAULT_QUEUE_TIMEOUT_MS = 10 * 60_000;

export class KeyedQueue {
  readonly #tails = new Map<string, Promise<unknown>>();
  readonly #timeoutMs: number;

  constructor(options: { timeoutMs?: number } = {}) {
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_QUEUE_TIMEOUT_MS;
  }

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const bounded = () => this.#withDeadline(key, task);
    const result = previous.then(bounded, bounded);
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

  #withDeadline<T>(key: string, task: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new QueueTimeoutError(
              `${key}: gave up after ${this.#timeoutMs / 1000} s; the next delivery for it goes ahead`,
            ),
          ),
        this.#timeoutMs,
      );
      timer.unref();
    });
    return Promise.race([Promise.resolve().then(task), deadline]).finally(() => clearTimeout(timer));
  }
}
