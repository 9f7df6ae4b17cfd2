import type { Knex } from 'knex';

// SQLite allows 32,766 bound parameters per statement and Postgres 65,535; 500 rows of two
// values each stays far below both.
const CHUNK = 500;

function chunks<T>(items: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Returns, for the given IDs, the network each one belongs to (IDs of no network are absent). */
export async function findTenantOwners(db: Knex | Knex.Transaction, tenantIds: readonly string[]): Promise<Map<string, string>> {
  const owners = new Map<string, string>();
  for (const part of chunks(tenantIds)) {
    const rows = await db('tenants').whereIn('tenant_id', part).select<{ tenant_id: string; network_id: string }[]>('tenant_id', 'network_id');
    for (const row of rows) owners.set(row.tenant_id, row.network_id);
  }
  return owners;
}

export async function insertTenants(db: Knex | Knex.Transaction, networkId: string, tenantIds: readonly string[], now: number): Promise<void> {
  for (const part of chunks(tenantIds)) {
    await db('tenants').insert(part.map((tenantId) => ({ tenant_id: tenantId, network_id: networkId, created_at: now })));
  }
}

export async function deleteTenant(db: Knex | Knex.Transaction, networkId: string, tenantId: string): Promise<boolean> {
  await db('group_tenants').where({ network_id: networkId, tenant_id: tenantId }).delete();
  return (await db('tenants').where({ network_id: networkId, tenant_id: tenantId }).delete()) > 0;
}

export interface TenantPage {
  tenantIds: string[];
  total: number;
}

/** Lists a network's tenant IDs in order, optionally those containing `search`. */
export async function listTenants(
  db: Knex,
  networkId: string,
  options: { search?: string | undefined; limit?: number | undefined; offset?: number | undefined } = {},
): Promise<TenantPage> {
  const base = db('tenants').where('network_id', networkId);
  if (options.search) {
    const pattern = `%${options.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    base.whereRaw("tenant_id like ? escape '\\'", [pattern]);
  }
  const [{ count } = { count: 0 }] = await base.clone().count<{ count: number | string }[]>({ count: '*' });
  const rows = await base
    .clone()
    .orderBy('tenant_id')
    .limit(options.limit ?? 100_000)
    .offset(options.offset ?? 0)
    .select<{ tenant_id: string }[]>('tenant_id');
  return { tenantIds: rows.map((row) => row.tenant_id), total: Number(count) };
}

/** Returns the subset of `tenantIds` that belongs to the network. */
export async function tenantsInNetwork(db: Knex | Knex.Transaction, networkId: string, tenantIds: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (const part of chunks(tenantIds)) {
    const rows = await db('tenants').where('network_id', networkId).whereIn('tenant_id', part).select<{ tenant_id: string }[]>('tenant_id');
    for (const row of rows) found.add(row.tenant_id);
  }
  return found;
}
