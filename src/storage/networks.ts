import type { Knex } from 'knex';

import type { Network } from '../domain/types.js';

type NetworkRow = { id: string; name: string; created_at: number };

const toNetwork = (row: NetworkRow): Network => ({ id: row.id, name: row.name, createdAt: Number(row.created_at) });

export async function insertNetwork(db: Knex | Knex.Transaction, network: { id: string; name: string; now: number }): Promise<void> {
  await db('networks').insert({ id: network.id, name: network.name, created_at: network.now, updated_at: network.now });
}

export async function getNetwork(db: Knex | Knex.Transaction, id: string): Promise<Network | undefined> {
  const row = await db<NetworkRow>('networks').where('id', id).first();
  return row && toNetwork(row);
}

export async function findNetworkByName(db: Knex, name: string): Promise<Network | undefined> {
  const row = await db<NetworkRow>('networks').where('name', name).orderBy('created_at').first();
  return row && toNetwork(row);
}

export async function listNetworks(db: Knex): Promise<Network[]> {
  return (await db<NetworkRow>('networks').orderBy('name')).map(toNetwork);
}

export async function renameNetwork(db: Knex | Knex.Transaction, id: string, name: string, now: number): Promise<boolean> {
  return (await db('networks').where('id', id).update({ name, updated_at: now })) > 0;
}
