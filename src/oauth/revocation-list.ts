import type { Knex } from 'knex';
import { LRUCache } from 'lru-cache';

import type { Clock } from '../domain/types.js';
import type { KeyValueStore } from '../shared-state/kv-store.js';
import { insertRevokedToken, isTokenRevoked, purgeRevokedTokens } from '../storage/revoked-tokens.js';
import { readStorage, writeStorage } from './storage-unavailable.js';

// Tokens remembered as "not revoked" per instance. A resource server introspects the same few
// live tokens again and again; past this bound the oldest entries are read from SQL again.
const NOT_REVOKED_ENTRIES = 50_000;

/** The source of the revocation counter, which the request's freshness check updates. */
export interface RevocationEpochSource {
  readonly revocationEpoch: number;
}

/**
 * Revoked JWT IDs, stored durably in SQL until the token's expiry, so a restart or another
 * instance still knows them. With Redis, a copy of each entry (same expiry) answers "revoked"
 * without a SQL read.
 *
 * A "not revoked" result from SQL is cached until the revocation counter moves. Callers must run
 * the freshness check (`EpochWatcher.check`) before `isRevoked` in the same request. The check
 * then proves that no revocation committed since the result was read.
 */
export class RevocationList {
  readonly #notRevoked = new LRUCache<string, true>({ max: NOT_REVOKED_ENTRIES });
  /** The revocation counter under which every entry of `#notRevoked` was read. */
  #generation: number;

  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
    private readonly epochs: RevocationEpochSource,
    private readonly fastCopy?: KeyValueStore,
  ) {
    this.#generation = epochs.revocationEpoch;
  }

  async revoke(entry: { jti: string; clientId: string; expiresAt: number }): Promise<void> {
    const now = this.clock.now();
    // A revocation that was not stored must not get a 200 response (RFC 7009 §2.2), so a failed
    // write becomes a 503.
    await writeStorage(() => insertRevokedToken(this.db, { ...entry, now }));
    this.#notRevoked.delete(entry.jti);
    // The SQL row is the record; a copy that fails to write only costs a SQL read later.
    await this.fastCopy?.set(entry.jti, '1', entry.expiresAt - now).catch(() => undefined);
  }

  /** @param expiresAt the token's expiry in epoch milliseconds; no result is kept past it. */
  async isRevoked(jti: string, expiresAt: number): Promise<boolean> {
    const generation = this.epochs.revocationEpoch;
    if (generation !== this.#generation) {
      this.#notRevoked.clear();
      this.#generation = generation;
    }
    if (this.#notRevoked.has(jti)) return false;

    const copied = await this.fastCopy?.get(jti).catch(() => undefined);
    if (copied !== undefined) return true;
    // NOTE: a miss in Redis proves nothing (Redis keeps nothing on disk, and a revocation made
    // while it was unreachable was never copied), so "not revoked" always comes from SQL.
    const revoked = await readStorage(() => isTokenRevoked(this.db, jti));
    // A request that saw a newer counter during this read has emptied the cache since. This
    // result may predate that revocation, so it is not kept. (A newer counter that no request
    // has seen yet empties the cache at the next call.)
    const ttl = expiresAt - this.clock.now();
    if (!revoked && generation === this.#generation && ttl > 0) {
      this.#notRevoked.set(jti, true, { ttl });
    }
    return revoked;
  }

  purgeExpired(): Promise<number> {
    return purgeRevokedTokens(this.db, this.clock.now());
  }
}
