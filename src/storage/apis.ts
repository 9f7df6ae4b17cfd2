import type { Knex } from 'knex';

import type { Api } from '../domain/types.js';

// The API catalogue is platform-wide (operators own it), so these queries take no network.

type ApiRow = { id: string; audience: string; name: string; is_default: boolean | number };

export async function insertApi(
  db: Knex | Knex.Transaction,
  api: { id: string; audience: string; name: string; isDefault: boolean; scopes: { scope: string; description: string }[]; now: number },
): Promise<void> {
  await db('apis').insert({ id: api.id, audience: api.audience, name: api.name, is_default: api.isDefault, created_at: api.now, updated_at: api.now });
  if (api.scopes.length > 0) {
    await db('api_scopes').insert(api.scopes.map((s) => ({ api_id: api.id, scope: s.scope, description: s.description })));
  }
}

export async function listApis(db: Knex | Knex.Transaction): Promise<Api[]> {
  const rows = await db<ApiRow>('apis').orderBy('name');
  const scopes = await db('api_scopes').orderBy(['api_id', 'scope']).select<{ api_id: string; scope: string; description: string }[]>();
  return rows.map((row) => ({
    id: row.id,
    audience: row.audience,
    name: row.name,
    isDefault: Boolean(row.is_default),
    scopes: scopes.filter((s) => s.api_id === row.id).map((s) => ({ scope: s.scope, description: s.description })),
  }));
}

export async function countApis(db: Knex | Knex.Transaction): Promise<number> {
  const [{ count } = { count: 0 }] = await db('apis').count<{ count: number | string }[]>({ count: '*' });
  return Number(count);
}

export async function findApiByAudience(db: Knex | Knex.Transaction, audience: string): Promise<Api | undefined> {
  return (await listApis(db)).find((api) => api.audience === audience);
}
