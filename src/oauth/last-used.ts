import type { Knex } from 'knex';
import { LRUCache } from 'lru-cache';

import type { Clock } from '../domain/types.js';
import type { Logger } from '../logger.js';
import { recordSecretUse } from '../storage/secrets.js';
import { FreshRun } from './fresh-run.js';

// Last-used times are for administrators, who read them in minutes; one batched write every few
// seconds keeps them current without a write on the token path.
const FLUSH_INTERVAL_MS = 5_000;

// A secret's time is written again only once it is this much older than the stored one, because
// rewriting every used secret on every flush was, by an estimate from the benchmark with 4,000
// busy clients, about a tenth of the token path's CPU, for a precision administrators do not use.
const REWRITE_AFTER_MS = 60_000;
// Secrets whose last written time is remembered; a forgotten one is simply written on next use.
const WRITTEN_MAX = 100_000;

/** Collects the last use of each secret in memory and writes them in batches. */
export class LastUsedRecorder {
  #pending = new Map<string, number>();
  readonly #written = new LRUCache<string, number>({ max: WRITTEN_MAX });
  #timer: NodeJS.Timeout | undefined;
  readonly #writes = new FreshRun(() => this.#write());

  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.#timer = setInterval(() => void this.flush(), FLUSH_INTERVAL_MS);
    this.#timer.unref();
  }

  record(secretId: string): void {
    const now = this.clock.now();
    const written = this.#written.get(secretId);
    if (written !== undefined && now - written < REWRITE_AFTER_MS) return;
    this.#pending.set(secretId, now);
  }

  /**
   * Writes the pending times. A flush called while the timer's write runs waits for it and then
   * writes what was recorded meanwhile (`FreshRun`).
   */
  flush(): Promise<void> {
    return this.#writes.run();
  }

  async #write(): Promise<void> {
    if (this.#pending.size === 0) return;
    const batch = this.#pending;
    this.#pending = new Map();
    try {
      await recordSecretUse(this.db, batch);
      for (const [id, at] of batch) this.#written.set(id, at);
    } catch (err) {
      // Keep the newer time of each secret for the next attempt.
      for (const [id, at] of batch) if ((this.#pending.get(id) ?? 0) < at) this.#pending.set(id, at);
      this.logger.warn({ err, secrets: batch.size }, 'failed to record last-used times; will retry');
    }
  }

  /** Stops the timer and resolves once every write, including one the timer started, is done. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.flush();
  }
}
