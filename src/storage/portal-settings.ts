import type { Knex } from 'knex';

/** Reads one portal setting's stored JSON value, or undefined when it was never set. */
export async function getPortalSetting(db: Knex | Knex.Transaction, name: string): Promise<unknown> {
  const row = await db('portal_settings').where('name', name).first<{ value: string } | undefined>('value');
  return row === undefined ? undefined : (JSON.parse(row.value) as unknown);
}

export async function setPortalSetting(db: Knex | Knex.Transaction, name: string, value: unknown, now: number): Promise<void> {
  await db('portal_settings')
    .insert({ name, value: JSON.stringify(value), updated_at: now })
    .onConflict('name')
    .merge(['value', 'updated_at']);
}
