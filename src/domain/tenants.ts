import { deleteTenant, findTenantOwners, insertTenants } from '../storage/tenants.js';
import { getNetwork } from '../storage/networks.js';
import { change, type DomainContext } from './context.js';
import { assertThat, notFound } from './errors.js';
import type { Actor } from './types.js';
import { tenantIdProblem } from './validation.js';

// Upper bound on one paste or command; larger imports go in several calls.
export const TENANT_BATCH_MAX = 100_000;

export interface RejectedTenant {
  tenantId: string;
  reason: string;
}

export interface AddTenantsResult {
  added: string[];
  /** Already in this network: nothing to do, not an error. */
  existing: string[];
  rejected: RejectedTenant[];
}

/**
 * Adds tenant IDs to a network. Invalid IDs and IDs of another network are listed back with the
 * reason, and the valid ones are added in the same call, so a partial failure loses nothing.
 * The reason for a foreign ID does not name the other network.
 */
export async function addTenants(ctx: DomainContext, actor: Actor, networkId: string, tenantIds: readonly string[]): Promise<AddTenantsResult> {
  const rejected: RejectedTenant[] = [];
  const candidates: string[] = [];
  const seen = new Set<string>();
  for (const tenantId of tenantIds) {
    if (seen.has(tenantId)) continue;
    seen.add(tenantId);
    const problem = tenantIdProblem(tenantId);
    if (problem) rejected.push({ tenantId, reason: `tenant ID ${problem}` });
    else candidates.push(tenantId);
  }
  if (candidates.length + rejected.length > TENANT_BATCH_MAX) {
    rejected.push(...candidates.splice(TENANT_BATCH_MAX).map((tenantId) => ({ tenantId, reason: `more than ${TENANT_BATCH_MAX} IDs in one request` })));
  }

  return change(ctx, actor, async ({ trx, now, audit }) => {
    assertThat(await getNetwork(trx, networkId), notFound('network', networkId));

    const owners = await findTenantOwners(trx, candidates);
    const added: string[] = [];
    const existing: string[] = [];
    for (const tenantId of candidates) {
      const owner = owners.get(tenantId);
      if (owner === undefined) added.push(tenantId);
      else if (owner === networkId) existing.push(tenantId);
      else rejected.push({ tenantId, reason: 'tenant ID is already registered to another network' });
    }

    await insertTenants(trx, networkId, added, now);
    if (added.length > 0) {
      audit({ networkId, action: 'tenants.added', targetType: 'network', targetId: networkId, details: { tenant_ids: added } });
    }
    return { added, existing, rejected };
  });
}

/** Removes a tenant from its network and from every group of it. */
export async function removeTenant(ctx: DomainContext, actor: Actor, networkId: string, tenantId: string): Promise<void> {
  await change(ctx, actor, async ({ trx, audit }) => {
    const removed = await deleteTenant(trx, networkId, tenantId);
    assertThat(removed, notFound('tenant', tenantId));
    audit({ networkId, action: 'tenant.removed', targetType: 'tenant', targetId: tenantId, details: {} });
  });
}
