import type { Knex } from 'knex';

import { readEpoch } from '../storage/epoch.js';

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
 */
export class EpochWatcher {
  #lastSeen: number | undefined;
  #running: Promise<boolean> | undefined;
  #next: Promise<boolean> | undefined;

  constructor(
    private readonly db: Knex,
    private readonly onChange: () => void,
  ) {}

  /** Returns true when a change was committed since the previous read. */
  check(): Promise<boolean> {
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

  /** Records an epoch already known to be reflected in the caches (after our own change). */
  async prime(): Promise<void> {
    this.#lastSeen = await readEpoch(this.db);
  }

  #startRead(): Promise<boolean> {
    const read = this.#read().finally(() => {
      if (this.#running === read) this.#running = undefined;
    });
    this.#running = read;
    return read;
  }

  async #read(): Promise<boolean> {
    const epoch = await readEpoch(this.db);
    if (epoch === this.#lastSeen) return false;
    this.#lastSeen = epoch;
    this.onChange();
    return true;
  }
}
