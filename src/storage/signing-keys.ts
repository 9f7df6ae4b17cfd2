import type { Knex } from 'knex';

export type KeyState = 'next' | 'active' | 'retired';

export interface SigningKeyRow {
  kid: string;
  alg: string;
  state: KeyState;
  public_jwk: string;
  encrypted_private_jwk: string;
  created_at: number;
  activated_at: number | null;
  retired_at: number | null;
  expires_at: number | null;
}

// Signing keys are the platform's, not a network's: every network's tokens are signed by them.

export async function listSigningKeys(db: Knex | Knex.Transaction): Promise<SigningKeyRow[]> {
  const rows = await db<SigningKeyRow>('signing_keys').orderBy('created_at', 'asc');
  return rows.map((row) => ({
    ...row,
    created_at: Number(row.created_at),
    activated_at: row.activated_at === null ? null : Number(row.activated_at),
    retired_at: row.retired_at === null ? null : Number(row.retired_at),
    expires_at: row.expires_at === null ? null : Number(row.expires_at),
  }));
}

export async function insertSigningKey(db: Knex | Knex.Transaction, row: SigningKeyRow): Promise<void> {
  await db('signing_keys').insert(row);
}

export async function updateSigningKey(db: Knex | Knex.Transaction, kid: string, changes: Partial<Omit<SigningKeyRow, 'kid'>>): Promise<void> {
  await db('signing_keys').where('kid', kid).update(changes);
}

export async function deleteSigningKey(db: Knex | Knex.Transaction, kid: string): Promise<void> {
  await db('signing_keys').where('kid', kid).delete();
}
