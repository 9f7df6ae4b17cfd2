import { randomUUID } from 'node:crypto';

import { listConnections, setConnectionStatus } from '../storage/connections.js';
import {
  addGroupTenants,
  deleteGroup as deleteGroupRows,
  findGroupByName,
  getGroupRow,
  groupTenantIds,
  insertGroup,
  listGroups,
  removeGroupTenants,
  renameGroup,
  touchGroup,
} from '../storage/groups.js';
import { getNetwork } from '../storage/networks.js';
import { revokeSecrets } from '../storage/secrets.js';
import { tenantsInNetwork } from '../storage/tenants.js';
import { change, type ChangeScope, type DomainContext } from './context.js';
import { assertThat, conflict, invalid, notFound } from './errors.js';
import type { Actor, Group } from './types.js';
import { requireName } from './validation.js';

async function requireTenantsOfNetwork(scope: ChangeScope, networkId: string, tenantIds: readonly string[]): Promise<void> {
  const unique = [...new Set(tenantIds)];
  const found = await tenantsInNetwork(scope.trx, networkId, unique);
  const missing = unique.filter((id) => !found.has(id));
  if (missing.length > 0) {
    const shown = missing.slice(0, 20).join(', ') + (missing.length > 20 ? `, and ${missing.length - 20} more` : '');
    throw invalid('group.unknown_tenants', `these tenant IDs are not in this network: ${shown}`, { tenant_ids: missing });
  }
}

export async function createGroup(ctx: DomainContext, actor: Actor, networkId: string, input: { name: string; tenantIds: readonly string[] }): Promise<Group> {
  const name = requireName('group', input.name);

  return change(ctx, actor, async (scope) => {
    const { trx, now, audit } = scope;
    // Pages and the API pass the caller's own network; the CLI passes what the operator typed.
    assertThat(await getNetwork(trx, networkId), notFound('network', networkId));
    if (await findGroupByName(trx, networkId, name)) throw conflict('group.name_taken', `a group named ${JSON.stringify(name)} already exists in this network`);
    await requireTenantsOfNetwork(scope, networkId, input.tenantIds);

    const id = randomUUID();
    await insertGroup(trx, { id, networkId, name, now });
    const added = await addGroupTenants(trx, networkId, id, input.tenantIds);
    audit({ networkId, action: 'group.created', targetType: 'group', targetId: id, details: { name, tenant_ids: added } });
    return { id, networkId, name, tenantCount: added.length, connectionCount: 0 };
  });
}

export interface GroupUpdate {
  name?: string | undefined;
  add?: readonly string[] | undefined;
  remove?: readonly string[] | undefined;
}

export async function updateGroup(ctx: DomainContext, actor: Actor, networkId: string, groupId: string, update: GroupUpdate): Promise<{ added: string[]; removed: string[] }> {
  const name = update.name === undefined ? undefined : requireName('group', update.name);

  return change(ctx, actor, async (scope) => {
    const { trx, now, audit } = scope;
    const group = await getGroupRow(trx, networkId, groupId);
    assertThat(group, notFound('group', groupId));

    if (name !== undefined && name !== group.name) {
      const other = await findGroupByName(trx, networkId, name);
      if (other) throw conflict('group.name_taken', `a group named ${JSON.stringify(name)} already exists in this network`);
      await renameGroup(trx, networkId, groupId, name, now);
      audit({ networkId, action: 'group.renamed', targetType: 'group', targetId: groupId, details: { from: group.name, to: name } });
    }

    await requireTenantsOfNetwork(scope, networkId, update.add ?? []);
    const added = await addGroupTenants(trx, networkId, groupId, update.add ?? []);
    const removed = await removeGroupTenants(trx, networkId, groupId, update.remove ?? []);
    if (added.length > 0 || removed.length > 0) {
      await touchGroup(trx, networkId, groupId, now);
      audit({ networkId, action: 'group.tenants_changed', targetType: 'group', targetId: groupId, details: { added, removed } });
    }
    return { added, removed };
  });
}

/** Deletes a group and cuts every connection of it: clients and secrets stop working at once. */
export async function deleteGroup(ctx: DomainContext, actor: Actor, networkId: string, groupId: string): Promise<{ disconnected: string[] }> {
  return change(ctx, actor, async ({ trx, now, audit }) => {
    const group = await getGroupRow(trx, networkId, groupId);
    assertThat(group, notFound('group', groupId));

    const connections = await listConnections(trx, networkId, { groupId });
    const ids = connections.map((c) => c.id);
    await setConnectionStatus(trx, networkId, ids, 'disconnected', now);
    for (const connection of connections) {
      await revokeSecrets(trx, networkId, connection.id, now);
      audit({ networkId, action: 'connection.disconnected', targetType: 'connection', targetId: connection.id, details: { reason: 'group deleted', client_id: connection.clientId } });
    }
    await deleteGroupRows(trx, networkId, groupId);
    audit({ networkId, action: 'group.deleted', targetType: 'group', targetId: groupId, details: { name: group.name } });
    return { disconnected: ids };
  });
}

export async function requireGroup(ctx: DomainContext, networkId: string, groupId: string): Promise<Group & { tenantIds: string[] }> {
  const row = await getGroupRow(ctx.db, networkId, groupId);
  assertThat(row, notFound('group', groupId));
  const tenantIds = await groupTenantIds(ctx.db, networkId, groupId);
  const connections = await listConnections(ctx.db, networkId, { groupId });
  return { id: row.id, networkId, name: row.name, tenantCount: tenantIds.length, connectionCount: connections.length, tenantIds };
}

export { listGroups };
