import type { Knex } from 'knex';

import type { SecretInfo } from '../domain/types.js';

type SecretRow = {
  id: string;
  secret_hash: string;
  hint: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
};

const toInfo = (row: SecretRow): SecretInfo => ({
  id: row.id,
  hint: row.hint,
  createdAt: Number(row.created_at),
  expiresAt: row.expires_at === null ? null : Number(row.expires_at),
  revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
  lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
});

export async function insertSecret(
  db: Knex | Knex.Transaction,
  secret: { id: string; networkId: string; connectionId: string; secretHash: string; hint: string; createdBy: string; now: number },
): Promise<void> {
  await db('client_secrets').insert({
    id: secret.id,
    network_id: secret.networkId,
    connection_id: secret.connectionId,
    secret_hash: secret.secretHash,
    hint: secret.hint,
    created_by: secret.createdBy,
    created_at: secret.now,
    expires_at: null,
    revoked_at: null,
    last_used_at: null,
  });
}

const validAt = (query: Knex.QueryBuilder, now: number) =>
  query.whereNull('revoked_at').where((q) => q.whereNull('expires_at').orWhere('expires_at', '>', now));

/** Lists the secrets of a connection that still authenticate at `now`, newest first. */
export async function listValidSecrets(db: Knex | Knex.Transaction, networkId: string, connectionId: string, now: number): Promise<SecretInfo[]> {
  const rows = await validAt(db('client_secrets').where({ network_id: networkId, connection_id: connectionId }), now).orderBy('created_at', 'desc');
  return (rows as SecretRow[]).map(toInfo);
}

/** Returns the hashes that authenticate a connection at `now`, with their expiry, for the client cache. */
export async function validSecretHashes(
  db: Knex,
  connectionId: string,
  now: number,
): Promise<{ id: string; secretHash: string; expiresAt: number | null }[]> {
  const rows = (await validAt(db('client_secrets').where({ connection_id: connectionId }), now).select('id', 'secret_hash', 'expires_at')) as SecretRow[];
  return rows.map((row) => ({ id: row.id, secretHash: row.secret_hash, expiresAt: row.expires_at === null ? null : Number(row.expires_at) }));
}

/** Gives every current secret of the connection an expiry, starting its grace period. */
export async function expireCurrentSecrets(db: Knex | Knex.Transaction, networkId: string, connectionId: string, expiresAt: number): Promise<string[]> {
  const rows = (await db('client_secrets')
    .where({ network_id: networkId, connection_id: connectionId })
    .whereNull('revoked_at')
    .whereNull('expires_at')
    .select('id')) as { id: string }[];
  if (rows.length > 0) {
    await db('client_secrets').whereIn('id', rows.map((row) => row.id)).update({ expires_at: expiresAt });
  }
  return rows.map((row) => row.id);
}

/** Revokes the given still-valid secrets of a connection (all of them when `ids` is omitted). */
export async function revokeSecrets(
  db: Knex | Knex.Transaction,
  networkId: string,
  connectionId: string,
  now: number,
  ids?: readonly string[],
): Promise<string[]> {
  const query = validAt(db('client_secrets').where({ network_id: networkId, connection_id: connectionId }), now);
  if (ids !== undefined) query.whereIn('id', ids);
  const rows = (await query.select('id')) as { id: string }[];
  if (rows.length > 0) {
    await db('client_secrets').whereIn('id', rows.map((row) => row.id)).update({ revoked_at: now });
  }
  return rows.map((row) => row.id);
}

export async function listSecrets(db: Knex | Knex.Transaction, networkId: string, connectionId: string): Promise<SecretInfo[]> {
  const rows = (await db('client_secrets').where({ network_id: networkId, connection_id: connectionId }).orderBy('created_at', 'desc')) as SecretRow[];
  return rows.map(toInfo);
}

// Updates per transaction when recording last use. One transaction per batch saves a commit
// (an fsync on SQLite) per secret, and releasing the connection between batches lets token
// requests waiting on SQLite's single connection read the cache epoch in between.
const LAST_USED_BATCH = 200;

/** Writes batched last-used times; a later time never goes backwards. */
export async function recordSecretUse(db: Knex, uses: ReadonlyMap<string, number>): Promise<void> {
  const entries = [...uses];
  for (let start = 0; start < entries.length; start += LAST_USED_BATCH) {
    await db.transaction(async (trx) => {
      for (const [id, at] of entries.slice(start, start + LAST_USED_BATCH)) {
        await trx('client_secrets')
          .where('id', id)
          .where((q) => q.whereNull('last_used_at').orWhere('last_used_at', '<', at))
          .update({ last_used_at: at });
      }
    });
  }
}
