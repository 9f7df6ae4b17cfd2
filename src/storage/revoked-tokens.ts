import type { Knex } from 'knex';

/**
 * Records a revoked JWT by jti until its expiry; revoking twice is harmless. A trigger moves the
 * revocation counter in the same statement, so every instance drops its cached "not revoked"
 * results before it reads the row.
 */
export async function insertRevokedToken(db: Knex, row: { jti: string; clientId: string; expiresAt: number; now: number }): Promise<void> {
  await db('revoked_tokens')
    .insert({ jti: row.jti, client_id: row.clientId, expires_at: row.expiresAt, revoked_at: row.now })
    .onConflict('jti')
    .ignore();
}

export async function isTokenRevoked(db: Knex, jti: string): Promise<boolean> {
  return (await db('revoked_tokens').where('jti', jti).first('jti')) !== undefined;
}

/** Deletes entries whose token has expired; they can no longer be presented. */
export async function purgeRevokedTokens(db: Knex, now: number): Promise<number> {
  return db('revoked_tokens').where('expires_at', '<=', now).delete();
}
