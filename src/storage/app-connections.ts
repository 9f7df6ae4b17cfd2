import type { Knex } from 'knex';

import type { ConnectionStatus } from '../domain/types.js';

/** One connection of an app as its developer sees it: no client ID, no secret, no approver. */
export interface AppConnectionView {
  networkName: string;
  /** Null when the group was deleted after the connection was cut. */
  groupName: string | null;
  tenantIds: string[];
  status: ConnectionStatus;
  consentedAt: number | null;
}

type Row = {
  network_id: string;
  group_id: string;
  network_name: string;
  group_name: string | null;
  status: ConnectionStatus;
  consented_at: number | string | null;
  created_at: number | string;
};

/**
 * Lists the connections made to one app in every network. This is the one storage read that
 * crosses networks on purpose, because the app's developer may learn who connected the app.
 * The select list names every column it returns, so no client ID, secret or approver leaves.
 */
export async function listConnectionsOfApp(db: Knex, appId: string): Promise<AppConnectionView[]> {
  const rows = await db('connections')
    .join('networks', 'networks.id', 'connections.network_id')
    .leftJoin('groups', function joinGroup() {
      this.on('groups.id', '=', 'connections.group_id').andOn('groups.network_id', '=', 'connections.network_id');
    })
    .leftJoin('consents', 'consents.id', 'connections.consent_id')
    .where('connections.app_id', appId)
    .orderBy([{ column: 'networks.name' }, { column: 'connections.created_at' }])
    .select<Row[]>(
      'connections.network_id',
      'connections.group_id',
      'networks.name as network_name',
      'groups.name as group_name',
      'connections.status',
      'consents.approved_at as consented_at',
      'connections.created_at',
    );

  const tenants = await tenantsOfLiveConnections(db, appId);
  return rows.map((row) => ({
    networkName: row.network_name,
    groupName: row.group_name,
    // A cut connection no longer reaches its group's tenants, so none are listed for it.
    tenantIds: row.status === 'disconnected' ? [] : (tenants.get(`${row.network_id}\u0000${row.group_id}`) ?? []),
    status: row.status,
    consentedAt: row.consented_at === null ? null : Number(row.consented_at),
  }));
}

async function tenantsOfLiveConnections(db: Knex, appId: string): Promise<Map<string, string[]>> {
  const rows = await db('connections')
    .join('group_tenants', function joinMembers() {
      this.on('group_tenants.group_id', '=', 'connections.group_id').andOn('group_tenants.network_id', '=', 'connections.network_id');
    })
    .where('connections.app_id', appId)
    .whereNot('connections.status', 'disconnected')
    .orderBy(['group_tenants.network_id', 'group_tenants.group_id', 'group_tenants.tenant_id'])
    .select<{ network_id: string; group_id: string; tenant_id: string }[]>('group_tenants.network_id', 'group_tenants.group_id', 'group_tenants.tenant_id');

  const byGroup = new Map<string, string[]>();
  for (const row of rows) {
    const groupKey = `${row.network_id}\u0000${row.group_id}`;
    const list = byGroup.get(groupKey) ?? [];
    list.push(row.tenant_id);
    byGroup.set(groupKey, list);
  }
  return byGroup;
}
