import type { Knex } from 'knex';

// Introspection clients belong to APIs (resource servers), which are platform-wide.

export async function insertIntrospectionClient(
  db: Knex | Knex.Transaction,
  row: { clientId: string; apiId: string; secretHash: string; now: number },
): Promise<void> {
  await db('introspection_clients').insert({
    client_id: row.clientId,
    api_id: row.apiId,
    secret_hash: row.secretHash,
    created_at: row.now,
    revoked_at: null,
  });
}

/** Revokes the API's current introspection clients; returns their IDs. */
export async function revokeIntrospectionClients(db: Knex | Knex.Transaction, apiId: string, now: number): Promise<string[]> {
  const rows = (await db('introspection_clients').where('api_id', apiId).whereNull('revoked_at').select('client_id')) as { client_id: string }[];
  await db('introspection_clients').where('api_id', apiId).whereNull('revoked_at').update({ revoked_at: now });
  return rows.map((row) => row.client_id);
}

export async function findIntrospectionClient(
  db: Knex,
  clientId: string,
  now: number,
): Promise<{ apiId: string; audience: string; secrets: { id: string; secretHash: string; expiresAt: null }[] } | undefined> {
  const row = (await db('introspection_clients')
    .join('apis', 'apis.id', 'introspection_clients.api_id')
    .where('introspection_clients.client_id', clientId)
    .where((q) => q.whereNull('introspection_clients.revoked_at').orWhere('introspection_clients.revoked_at', '>', now))
    .first('introspection_clients.api_id', 'apis.audience', 'introspection_clients.secret_hash')) as
    | { api_id: string; audience: string; secret_hash: string }
    | undefined;
  if (!row) return undefined;
  return { apiId: row.api_id, audience: row.audience, secrets: [{ id: clientId, secretHash: row.secret_hash, expiresAt: null }] };
}
