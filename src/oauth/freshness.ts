import type { Knex } from 'knex';

import { readEpoch } from '../storage/epoch.js';

/**
 * Detects changes committed by other processes (the CLI, other instances) through the cache
 * epoch row. Each check is one primary-key read; a check is never shared between requests,
 * because a read that started before another process committed would hide that commit from a
 * request that arrived after it.
 */
export class EpochWatcher {
  #lastSeen: number | undefined;

  constructor(
    private readonly db: Knex,
    private readonly onChange: () => void,
  ) {}

  /** Returns true when a change was committed since the previous check. */
  async check(): Promise<boolean> {
    const epoch = await readEpoch(this.db);
    if (epoch === this.#lastSeen) return false;
    this.#lastSeen = epoch;
    this.onChange();
    return true;
  }

  /** Records an epoch already known to be reflected in the caches (after our own change). */
  async prime(): Promise<void> {
    this.#lastSeen = await readEpoch(this.db);
  }
}
