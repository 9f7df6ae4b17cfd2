import type { Knex } from 'knex';

import type { Group } from '../domain/types.js';

const CHUNK = 300;

type GroupRow = { id: string; network_id: string; name: string };

export async function insertGroup(db: Knex | Knex.Transaction, group: { id: string; networkId: string; name: string; now: number }): Promise<void> {
  await db('groups').insert({ id: group.id, network_id: group.networkId, name: group.name, created_at: group.now, updated_at: group.now });
}

export async function getGroupRow(db: Knex | Knex.Transaction, networkId: string, id: string): Promise<GroupRow | undefined> {
  return db<GroupRow>('groups').where({ network_id: networkId, id }).first('id', 'network_id', 'name');
}

/** Returns the network of a group, for commands that name only the group; undefined when none. */
export async function findGroupNetwork(db: Knex, groupId: string): Promise<string | undefined> {
  const row = (await db('groups').where('id', groupId).first('network_id')) as { network_id: string } | undefined;
  return row?.network_id;
}

export async function findGroupByName(db: Knex | Knex.Transaction, networkId: string, name: string): Promise<GroupRow | undefined> {
  return db<GroupRow>('groups').where({ network_id: networkId, name }).first('id', 'network_id', 'name');
}

/** Lists a network's groups with their tenant and live-connection counts, by name. */
export async function listGroups(db: Knex | Knex.Transaction, networkId: string): Promise<Group[]> {
  const tenantCounts = db('group_tenants').where('network_id', networkId).groupBy('group_id').select('group_id').count({ n: '*' }).as('tc');
  const connectionCounts = db('connections')
    .where('network_id', networkId)
    .whereNot('status', 'disconnected')
    .groupBy('group_id')
    .select('group_id')
    .count({ n: '*' })
    .as('cc');
  const rows = await db('groups')
    .where('groups.network_id', networkId)
    .leftJoin(tenantCounts, 'tc.group_id', 'groups.id')
    .leftJoin(connectionCounts, 'cc.group_id', 'groups.id')
    .orderBy('groups.name')
    .select<{ id: string; network_id: string; name: string; tenants: number | string | null; connections: number | string | null }[]>(
      'groups.id',
      'groups.network_id',
      'groups.name',
      'tc.n as tenants',
      'cc.n as connections',
    );
  return rows.map((row) => ({
    id: row.id,
    networkId: row.network_id,
    name: row.name,
    tenantCount: Number(row.tenants ?? 0),
    connectionCount: Number(row.connections ?? 0),
  }));
}

export async function renameGroup(db: Knex | Knex.Transaction, networkId: string, id: string, name: string, now: number): Promise<void> {
  await db('groups').where({ network_id: networkId, id }).update({ name, updated_at: now });
}

export async function touchGroup(db: Knex | Knex.Transaction, networkId: string, id: string, now: number): Promise<void> {
  await db('groups').where({ network_id: networkId, id }).update({ updated_at: now });
}

export async function deleteGroup(db: Knex | Knex.Transaction, networkId: string, id: string): Promise<void> {
  await db('group_tenants').where({ network_id: networkId, group_id: id }).delete();
  await db('groups').where({ network_id: networkId, id }).delete();
}

export async function groupTenantIds(db: Knex | Knex.Transaction, networkId: string, groupId: string): Promise<string[]> {
  const rows = await db('group_tenants')
    .where({ network_id: networkId, group_id: groupId })
    .orderBy('tenant_id')
    .select<{ tenant_id: string }[]>('tenant_id');
  return rows.map((row) => row.tenant_id);
}

/** Adds tenants to a group, skipping those already in it; returns the IDs added. */
export async function addGroupTenants(db: Knex | Knex.Transaction, networkId: string, groupId: string, tenantIds: readonly string[]): Promise<string[]> {
  const existing = new Set(await groupTenantIds(db, networkId, groupId));
  const added = [...new Set(tenantIds)].filter((id) => !existing.has(id));
  for (let i = 0; i < added.length; i += CHUNK) {
    await db('group_tenants').insert(added.slice(i, i + CHUNK).map((tenantId) => ({ network_id: networkId, group_id: groupId, tenant_id: tenantId })));
  }
  return added;
}

/** Removes tenants from a group; returns the IDs that were in it. */
export async function removeGroupTenants(db: Knex | Knex.Transaction, networkId: string, groupId: string, tenantIds: readonly string[]): Promise<string[]> {
  const existing = new Set(await groupTenantIds(db, networkId, groupId));
  const removed = [...new Set(tenantIds)].filter((id) => existing.has(id));
  for (let i = 0; i < removed.length; i += CHUNK) {
    await db('group_tenants').where({ network_id: networkId, group_id: groupId }).whereIn('tenant_id', removed.slice(i, i + CHUNK)).delete();
  }
  return removed;
}

/**
 * Membership check for the token endpoint. The group ID comes from the authenticated client's
 * connection, which already fixes the network.
 */
export async function isGroupMember(db: Knex, groupId: string, tenantId: string): Promise<boolean> {
  const row = await db('group_tenants').where({ group_id: groupId, tenant_id: tenantId }).first('tenant_id');
  return row !== undefined;
}

export interface GroupPage {
  groups: Group[];
  /** Groups matching the search in the whole network. */
  total: number;
}

/**
 * Lists one page of a network's groups by name, optionally those whose name contains `search`,
 * with counts computed for that page only, so the cost does not grow with the network.
 */
export async function listGroupPage(
  db: Knex | Knex.Transaction,
  networkId: string,
  options: { search?: string | undefined; limit: number; offset: number },
): Promise<GroupPage> {
  const base = db('groups').where('network_id', networkId);
  if (options.search) {
    const pattern = `%${options.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    base.whereRaw("lower(name) like lower(?) escape '\\'", [pattern]);
  }
  const [{ count } = { count: 0 }] = await base.clone().count<{ count: number | string }[]>({ count: '*' });
  const rows = (await base.clone().orderBy('name').limit(options.limit).offset(options.offset).select('id', 'name')) as { id: string; name: string }[];
  const ids = rows.map((row) => row.id);

  const tenantCounts = new Map<string, number>();
  const connectionCounts = new Map<string, number>();
  if (ids.length > 0) {
    const tenants = (await db('group_tenants').where('network_id', networkId).whereIn('group_id', ids).groupBy('group_id').select('group_id').count({ n: '*' })) as {
      group_id: string;
      n: number | string;
    }[];
    for (const row of tenants) tenantCounts.set(row.group_id, Number(row.n));
    const connections = (await db('connections')
      .where('network_id', networkId)
      .whereIn('group_id', ids)
      .whereNot('status', 'disconnected')
      .groupBy('group_id')
      .select('group_id')
      .count({ n: '*' })) as { group_id: string; n: number | string }[];
    for (const row of connections) connectionCounts.set(row.group_id, Number(row.n));
  }

  return {
    groups: rows.map((row) => ({
      id: row.id,
      networkId,
      name: row.name,
      tenantCount: tenantCounts.get(row.id) ?? 0,
      connectionCount: connectionCounts.get(row.id) ?? 0,
    })),
    total: Number(count),
  };
}
