import type { Knex } from 'knex';

import type { Clock } from '../domain/types.js';
import type { KeyValueStore } from '../shared-state/kv-store.js';
import { insertRevokedToken, isTokenRevoked, purgeRevokedTokens } from '../storage/revoked-tokens.js';
import { readStorage } from './storage-unavailable.js';

/**
 * Revoked JWT IDs, stored durably in SQL until the token's expiry, so a restart or another
 * instance still knows them. With Redis, a copy of each entry (same expiry) answers "revoked"
 * without a SQL read.
 */
export class RevocationList {
  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
    private readonly fastCopy?: KeyValueStore,
  ) {}

  async revoke(entry: { jti: string; clientId: string; expiresAt: number }): Promise<void> {
    const now = this.clock.now();
    await insertRevokedToken(this.db, { ...entry, now });
    // The SQL row is the record; a copy that fails to write only costs a SQL read later.
    await this.fastCopy?.set(entry.jti, '1', entry.expiresAt - now).catch(() => undefined);
  }

  async isRevoked(jti: string): Promise<boolean> {
    const copied = await this.fastCopy?.get(jti).catch(() => undefined);
    if (copied !== undefined) return true;
    // NOTE: a miss in Redis proves nothing (Redis keeps nothing on disk, and a revocation made
    // while it was unreachable was never copied), so "not revoked" always comes from SQL.
    return readStorage(() => isTokenRevoked(this.db, jti));
  }

  purgeExpired(): Promise<number> {
    return purgeRevokedTokens(this.db, this.clock.now());
  }
}
