import type { Knex } from 'knex';

export interface AdminApiKeyRow {
  id: string;
  networkId: string;
  userId: string;
  name: string;
  createdAt: number;
}

export async function insertAdminApiKey(
  db: Knex | Knex.Transaction,
  key: { id: string; networkId: string; userId: string; name: string; keyHash: string; now: number },
): Promise<void> {
  await db('admin_api_keys').insert({
    id: key.id,
    network_id: key.networkId,
    user_id: key.userId,
    name: key.name,
    key_hash: key.keyHash,
    created_at: key.now,
    revoked_at: null,
  });
}

/**
 * Finds a live key by its hash. Not scoped by network: the key is the credential that
 * establishes the network, as a client ID does at the token endpoint.
 */
export async function findAdminApiKey(db: Knex, keyHash: string): Promise<AdminApiKeyRow | undefined> {
  const row = (await db('admin_api_keys').where('key_hash', keyHash).whereNull('revoked_at').first('id', 'network_id', 'user_id', 'name', 'created_at')) as
    | { id: string; network_id: string; user_id: string; name: string; created_at: number }
    | undefined;
  return row && { id: row.id, networkId: row.network_id, userId: row.user_id, name: row.name, createdAt: Number(row.created_at) };
}

export async function revokeAdminApiKey(db: Knex | Knex.Transaction, networkId: string, id: string, now: number): Promise<boolean> {
  return (await db('admin_api_keys').where({ network_id: networkId, id }).whereNull('revoked_at').update({ revoked_at: now })) > 0;
}

/** Lists the network's keys, live and revoked, newest first, without their hashes. */
export async function listAdminApiKeys(db: Knex, networkId: string): Promise<(AdminApiKeyRow & { revokedAt: number | null })[]> {
  const rows = (await db('admin_api_keys')
    .where('network_id', networkId)
    .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id' }])
    .select('id', 'network_id', 'user_id', 'name', 'created_at', 'revoked_at')) as {
    id: string;
    network_id: string;
    user_id: string;
    name: string;
    created_at: number;
    revoked_at: number | null;
  }[];
  return rows.map((row) => ({
    id: row.id,
    networkId: row.network_id,
    userId: row.user_id,
    name: row.name,
    createdAt: Number(row.created_at),
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
  }));
}
