import type { Knex } from 'knex';

/**
 * Increments the cache epoch inside the caller's transaction, so the new value becomes visible
 * to other processes exactly when the change commits.
 */
export async function bumpEpoch(trx: Knex | Knex.Transaction): Promise<void> {
  await trx('cache_epoch').where('id', 1).increment('value', 1);
}

export async function readEpoch(db: Knex): Promise<number> {
  const row = await db('cache_epoch').where('id', 1).first('value');
  return Number(row?.value ?? 0);
}
