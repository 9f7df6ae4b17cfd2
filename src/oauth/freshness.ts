import type { Knex } from 'knex';

import { readEpochs } from '../storage/epoch.js';
import type { WalIndexSignal } from '../storage/wal-index-signal.js';

const NO_CHANGE = Promise.resolve(false);

/**
 * Detects changes committed by other processes (the CLI, other instances) through the cache
 * epoch row, with one primary-key read per check.
 *
 * Concurrent checks share reads, but only a read that started after the check was called: a
 * read already running may have started before another process committed, so it would hide
 * that commit from a request that arrived after it. Such a check waits for the next read, which
 * starts when the running one ends and serves every check that arrived in between. Under load
 * this turns one read per request into about two per batch of concurrent requests, with the
 * same guarantee as a read of its own.
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
  #running: Promise<boolean> | undefined;
  #next: Promise<boolean> | undefined;
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
    if (this.#confirmed !== undefined && this.#running === undefined) {
      const sample = this.signal?.sample();
      if (sample?.equals(this.#confirmed)) return NO_CHANGE;
    }
    if (this.#running === undefined) return this.#startRead();

    this.#next ??= this.#running
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => {
        this.#next = undefined;
        return this.#startRead();
      });
    return this.#next;
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

  #startRead(): Promise<boolean> {
    const read = this.#read().finally(() => {
      if (this.#running === read) this.#running = undefined;
    });
    this.#running = read;
    return read;
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
