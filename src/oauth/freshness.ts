import type { Knex } from 'knex';

import { readEpochs } from '../storage/epoch.js';
import { FreshRun } from './fresh-run.js';
import type { WalIndexSignal } from '../storage/wal-index-signal.js';

const NO_CHANGE = Promise.resolve(false);

/**
 * Detects changes committed by other processes (the CLI, other instances) through the cache
 * epoch row, with one primary-key read per check.
 *
 * Concurrent checks share reads, but only a read that started after the check was called
 * (`FreshRun`): a read already running may have started before another process committed, so
 * it would hide that commit from a request that arrived after it.
 *
 * The same read returns the revocation counter, which `revocationEpoch` exposes without a
 * refresh: after a check resolves, it counts every revocation committed before the check.
 *
 * On SQLite, a WAL-index signal skips the read while no connection has committed since the last
 * read that completed. The signal is sampled before that read starts, so an unchanged sample
 * proves that the read saw every commit acknowledged before the check.
 */
export class EpochWatcher {
  #lastSeen: number | undefined;
  #revocations = 0;
  readonly #reads = new FreshRun(() => this.#read());
  /** The signal's sample taken just before the last read that completed, with its refresh. */
  #confirmed: Buffer | undefined;

  /**
   * @param onChange called once per new epoch; the checks that saw it resolve after the promise
   *   it returns. A rejected refresh leaves the epoch unseen, so the next check tries again.
   */
  constructor(
    private readonly db: Knex,
    private readonly onChange: () => Promise<void> | void,
    private readonly signal?: WalIndexSignal,
  ) {}

  /** Returns true when a change was committed since the previous read. */
  check(): Promise<boolean> {
    if (this.#confirmed !== undefined && !this.#reads.busy) {
      const sample = this.signal?.sample();
      if (sample?.equals(this.#confirmed)) return NO_CHANGE;
    }
    return this.#reads.run();
  }

  /** The revocation counter as of the last completed read. */
  get revocationEpoch(): number {
    return this.#revocations;
  }

  /** Records an epoch already known to be reflected in the caches (after our own change). */
  async prime(): Promise<void> {
    const sample = this.signal?.sample();
    const epochs = await readEpochs(this.db);
    this.#lastSeen = epochs.cache;
    this.#revocations = epochs.revocations;
    this.#confirmed = sample;
  }

  async #read(): Promise<boolean> {
    const sample = this.signal?.sample();
    this.#confirmed = undefined;
    const epochs = await readEpochs(this.db);
    this.#revocations = epochs.revocations;
    const changed = epochs.cache !== this.#lastSeen;
    if (changed) {
      await this.onChange();
      this.#lastSeen = epochs.cache;
    }
    this.#confirmed = sample;
    return changed;
  }
}
