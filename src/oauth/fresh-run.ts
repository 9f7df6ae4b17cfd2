/**
 * Coalesces concurrent calls of a task so that every call resolves with a run that started after
 * the call. A run already in progress may have read its input (a database row, pending writes)
 * before the caller's reason to call, so a call made during it waits for the next run. That run
 * starts when the current one ends and serves every call made in between, so a burst of calls
 * costs at most two runs, with the same guarantee as one run per call.
 */
export class FreshRun<T> {
  #running: Promise<T> | undefined;
  #next: Promise<T> | undefined;

  constructor(private readonly task: () => Promise<T>) {}

  /** Whether a run is in progress. */
  get busy(): boolean {
    return this.#running !== undefined;
  }

  /** Resolves or rejects with the first run that starts after this call. */
  run(): Promise<T> {
    if (this.#running === undefined) return this.#start();

    this.#next ??= this.#running
      .catch(() => undefined)
      .then(() => {
        this.#next = undefined;
        return this.#start();
      });
    return this.#next;
  }

  #start(): Promise<T> {
    const running = this.task().finally(() => {
      if (this.#running === running) this.#running = undefined;
    });
    this.#running = running;
    return running;
  }
}
