import type { Knex } from 'knex';

import type { Clock } from '../domain/types.js';
import type { Logger } from '../logger.js';
import { appendAuditEvent } from '../storage/audit.js';
import type { ClientStore } from './client-store.js';
import { FreshRun } from './fresh-run.js';

// Failed client authentications are counted in memory and written as one audit event per
// client per window, so a credential-stuffing run cannot flood the audit log.
const WINDOW_MS = 60_000;
// Distinct client IDs tracked per window; beyond that (random IDs from an attacker) failures are
// summed into one event for "other clients".
const TRACKED_CLIENTS_MAX = 1_000;
// Client IDs are attacker-controlled input; only this many characters reach the log.
const CLIENT_ID_SHOWN = 64;

/** Counts failed client authentications and records them in the audit log once a minute. */
export class AuthFailureAudit {
  #counts = new Map<string, number>();
  #overflow = 0;
  #windowStart: number;
  #timer: NodeJS.Timeout | undefined;
  readonly #writes = new FreshRun(() => this.#write());

  constructor(
    private readonly db: Knex,
    private readonly clients: ClientStore,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.#windowStart = clock.now();
  }

  start(): void {
    this.#timer = setInterval(() => void this.flush(), WINDOW_MS);
    this.#timer.unref();
  }

  record(clientId: string): void {
    const key = clientId.slice(0, CLIENT_ID_SHOWN);
    const count = this.#counts.get(key);
    if (count !== undefined) this.#counts.set(key, count + 1);
    else if (this.#counts.size < TRACKED_CLIENTS_MAX) this.#counts.set(key, 1);
    else this.#overflow += 1;
  }

  /**
   * Writes one event per client for the window that ends now. A flush called while the timer's
   * write runs waits for it and then writes what was recorded meanwhile (`FreshRun`).
   */
  flush(): Promise<void> {
    return this.#writes.run();
  }

  async #write(): Promise<void> {
    const counts = this.#counts;
    const overflow = this.#overflow;
    const windowStart = this.#windowStart;
    this.#counts = new Map();
    this.#overflow = 0;
    this.#windowStart = this.clock.now();
    if (counts.size === 0 && overflow === 0) return;

    const now = this.clock.now();
    const window = { window_start: new Date(windowStart).toISOString(), window_end: new Date(now).toISOString() };
    try {
      for (const [clientId, count] of counts) {
        const client = await this.clients.findClient(clientId).catch(() => undefined);
        const networkId = client?.kind === 'connection' ? client.record.networkId : null;
        await appendAuditEvent(this.db, {
          networkId,
          occurredAt: now,
          actor: `client:${clientId}`,
          action: 'client.authentication_failed',
          targetType: 'client',
          targetId: clientId,
          requestId: null,
          outcome: 'failure',
          details: { count, known_client: client !== undefined, ...window },
        });
      }
      if (overflow > 0) {
        await appendAuditEvent(this.db, {
          networkId: null,
          occurredAt: now,
          actor: 'client:(other)',
          action: 'client.authentication_failed',
          targetType: 'client',
          targetId: null,
          requestId: null,
          outcome: 'failure',
          details: { count: overflow, note: `more than ${TRACKED_CLIENTS_MAX} distinct client IDs failed in this window`, ...window },
        });
      }
    } catch (err) {
      this.logger.warn({ err, clients: counts.size }, 'failed to record client authentication failures in the audit log');
    }
  }

  /** Stops the timer and resolves once every write, including one the timer started, is done. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.flush();
  }
}
