import type { Knex } from 'knex';

import type { Clock } from '../domain/types.js';
import type { Logger } from '../logger.js';
import { recordSecretUse } from '../storage/secrets.js';

// Last-used times are for administrators, who read them in minutes; one batched write every few
// seconds keeps them current without a write on the token path.
const FLUSH_INTERVAL_MS = 5_000;

/** Collects the last use of each secret in memory and writes them in batches. */
export class LastUsedRecorder {
  #pending = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;

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
    this.#pending.set(secretId, this.clock.now());
  }

  async flush(): Promise<void> {
    if (this.#pending.size === 0) return;
    const batch = this.#pending;
    this.#pending = new Map();
    try {
      await recordSecretUse(this.db, batch);
    } catch (err) {
      // Keep the newer time of each secret for the next attempt.
      for (const [id, at] of batch) if ((this.#pending.get(id) ?? 0) < at) this.#pending.set(id, at);
      this.logger.warn({ err, secrets: batch.size }, 'failed to record last-used times; will retry');
    }
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.flush();
  }
}
