import type { Knex } from 'knex';

// Developer organisations, their developers and the invitations that add developers. None of
// these belongs to a network: developers register apps that every network may connect.

export interface DeveloperOrg {
  id: string;
  name: string;
}

export interface Developer {
  id: string;
  orgId: string;
  email: string;
  passwordHash: string;
  disabledAt: number | null;
}

export interface DeveloperInvitation {
  id: string;
  orgId: string;
  email: string;
  expiresAt: number;
  acceptedAt: number | null;
}

type DeveloperRow = { id: string; org_id: string; email: string; password_hash: string; disabled_at: number | string | null };
type InvitationRow = { id: string; org_id: string; email: string; expires_at: number | string; accepted_at: number | string | null };

const toDeveloper = (row: DeveloperRow): Developer => ({
  id: row.id,
  orgId: row.org_id,
  email: row.email,
  passwordHash: row.password_hash,
  disabledAt: row.disabled_at === null ? null : Number(row.disabled_at),
});

const toInvitation = (row: InvitationRow): DeveloperInvitation => ({
  id: row.id,
  orgId: row.org_id,
  email: row.email,
  expiresAt: Number(row.expires_at),
  acceptedAt: row.accepted_at === null ? null : Number(row.accepted_at),
});

export async function insertDeveloperOrg(db: Knex | Knex.Transaction, org: { id: string; name: string; now: number }): Promise<void> {
  await db('developer_orgs').insert({ id: org.id, name: org.name, created_at: org.now });
}

export async function getDeveloperOrg(db: Knex | Knex.Transaction, id: string): Promise<DeveloperOrg | undefined> {
  return db<DeveloperOrg>('developer_orgs').where('id', id).first('id', 'name');
}

export async function findDeveloperOrgByName(db: Knex | Knex.Transaction, name: string): Promise<DeveloperOrg | undefined> {
  return db<DeveloperOrg>('developer_orgs').where('name', name).first('id', 'name');
}

export async function listDeveloperOrgs(db: Knex | Knex.Transaction): Promise<DeveloperOrg[]> {
  return db<DeveloperOrg>('developer_orgs').orderBy('name').select('id', 'name');
}

export async function insertDeveloper(
  db: Knex | Knex.Transaction,
  developer: { id: string; orgId: string; email: string; passwordHash: string; now: number },
): Promise<void> {
  await db('developers').insert({
    id: developer.id,
    org_id: developer.orgId,
    email: developer.email,
    password_hash: developer.passwordHash,
    created_at: developer.now,
    updated_at: developer.now,
    disabled_at: null,
  });
}

export async function getDeveloper(db: Knex | Knex.Transaction, id: string): Promise<Developer | undefined> {
  const row = await db<DeveloperRow>('developers').where('id', id).first();
  return row && toDeveloper(row);
}

export async function findDeveloperByEmail(db: Knex | Knex.Transaction, email: string): Promise<Developer | undefined> {
  const row = await db<DeveloperRow>('developers').where('email', email).first();
  return row && toDeveloper(row);
}

export async function setDeveloperPasswordHash(db: Knex | Knex.Transaction, id: string, passwordHash: string, now: number): Promise<void> {
  await db('developers').where('id', id).update({ password_hash: passwordHash, updated_at: now });
}

export async function insertInvitation(
  db: Knex | Knex.Transaction,
  invitation: { id: string; orgId: string; email: string; tokenHash: string; createdBy: string; now: number; expiresAt: number },
): Promise<void> {
  await db('developer_invitations').insert({
    id: invitation.id,
    org_id: invitation.orgId,
    email: invitation.email,
    token_hash: invitation.tokenHash,
    created_by: invitation.createdBy,
    created_at: invitation.now,
    expires_at: invitation.expiresAt,
    accepted_at: null,
  });
}

export async function findInvitationByTokenHash(db: Knex | Knex.Transaction, tokenHash: string): Promise<DeveloperInvitation | undefined> {
  const row = await db<InvitationRow>('developer_invitations').where('token_hash', tokenHash).first('id', 'org_id', 'email', 'expires_at', 'accepted_at');
  return row && toInvitation(row);
}

/** Marks an invitation used; returns false when another request used it first. */
export async function markInvitationAccepted(db: Knex | Knex.Transaction, id: string, now: number): Promise<boolean> {
  return (await db('developer_invitations').where('id', id).whereNull('accepted_at').update({ accepted_at: now })) > 0;
}
