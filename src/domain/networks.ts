import { randomUUID } from 'node:crypto';

import { getNetwork, insertNetwork, listNetworks, renameNetwork as renameNetworkRow } from '../storage/networks.js';
import { change, type DomainContext } from './context.js';
import { assertThat, notFound } from './errors.js';
import type { Actor, Network } from './types.js';
import { requireName } from './validation.js';

export async function createNetwork(ctx: DomainContext, actor: Actor, input: { name: string }): Promise<Network> {
  const name = requireName('network', input.name);
  const id = randomUUID();

  return change(ctx, actor, async ({ trx, now, audit }) => {
    await insertNetwork(trx, { id, name, now });
    audit({ networkId: id, action: 'network.created', targetType: 'network', targetId: id, details: { name } });
    return { id, name, createdAt: now };
  });
}

export async function renameNetwork(ctx: DomainContext, actor: Actor, networkId: string, input: { name: string }): Promise<Network> {
  const name = requireName('network', input.name);

  return change(ctx, actor, async ({ trx, now, audit }) => {
    const network = await getNetwork(trx, networkId);
    assertThat(network, notFound('network', networkId));
    await renameNetworkRow(trx, networkId, name, now);
    audit({ networkId, action: 'network.renamed', targetType: 'network', targetId: networkId, details: { from: network.name, to: name } });
    return { ...network, name };
  });
}

export async function requireNetwork(ctx: DomainContext, networkId: string): Promise<Network> {
  const network = await getNetwork(ctx.db, networkId);
  assertThat(network, notFound('network', networkId));
  return network;
}

export { listNetworks };
