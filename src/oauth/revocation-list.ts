import type { Knex } from 'knex';

import type { Clock } from '../domain/types.js';
import { insertRevokedToken, isTokenRevoked, purgeRevokedTokens } from '../storage/revoked-tokens.js';

/**
 * Revoked JWT IDs, stored durably in SQL until the token's expiry, so a restart or another
 * instance still knows them.
 */
export class RevocationList {
  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
  ) {}

  async revoke(entry: { jti: string; clientId: string; expiresAt: number }): Promise<void> {
    await insertRevokedToken(this.db, { ...entry, now: this.clock.now() });
  }

  isRevoked(jti: string): Promise<boolean> {
    return isTokenRevoked(this.db, jti);
  }

  purgeExpired(): Promise<number> {
    return purgeRevokedTokens(this.db, this.clock.now());
  }
}
