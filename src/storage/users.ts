import type { Knex } from 'knex';

import type { Permission, Role, User } from '../domain/accounts-types.js';

type Db = Knex | Knex.Transaction;

type UserRow = {
  id: string;
  network_id: string | null;
  email: string;
  name: string;
  password_hash: string | null;
  is_operator: boolean | number;
  created_at: number;
  last_sign_in_at: number | null;
};

const toUser = (row: UserRow): User => ({
  id: row.id,
  networkId: row.network_id,
  email: row.email,
  name: row.name,
  isOperator: Boolean(row.is_operator),
  hasPassword: row.password_hash !== null,
  createdAt: Number(row.created_at),
  lastSignInAt: row.last_sign_in_at === null ? null : Number(row.last_sign_in_at),
});

export async function insertUser(
  db: Db,
  user: { id: string; networkId: string | null; email: string; name: string; isOperator: boolean; now: number },
): Promise<void> {
  await db('users').insert({
    id: user.id,
    network_id: user.networkId,
    email: user.email,
    name: user.name,
    password_hash: null,
    is_operator: user.isOperator,
    created_at: user.now,
    updated_at: user.now,
  });
}

/** Reads a user by ID without a network filter: only for the session of that same user. */
export async function getUserById(db: Db, id: string): Promise<User | undefined> {
  const row = await db<UserRow>('users').where('id', id).first();
  return row && toUser(row);
}

/** Reads a user of one network; operators (network null) are never returned here. */
export async function getNetworkUser(db: Db, networkId: string, id: string): Promise<User | undefined> {
  const row = await db<UserRow>('users').where({ network_id: networkId, id }).first();
  return row && toUser(row);
}

/** Looks a user up by e-mail for sign-in; returns the password hash as well. */
export async function findUserForSignIn(db: Db, email: string): Promise<(User & { passwordHash: string | null }) | undefined> {
  const row = await db<UserRow>('users').where('email', email).first();
  return row && { ...toUser(row), passwordHash: row.password_hash };
}

export async function emailTaken(db: Db, email: string): Promise<boolean> {
  return (await db('users').where('email', email).first('id')) !== undefined;
}

export async function listNetworkUsers(db: Db, networkId: string): Promise<User[]> {
  return (await db<UserRow>('users').where('network_id', networkId).orderBy('email')).map(toUser);
}

export async function listOperators(db: Db): Promise<User[]> {
  return (await db<UserRow>('users').whereNull('network_id').where('is_operator', true).orderBy('email')).map(toUser);
}

export async function countUsers(db: Db): Promise<number> {
  const [{ count } = { count: 0 }] = await db('users').count<{ count: number | string }[]>({ count: '*' });
  return Number(count);
}

export async function setPasswordHash(db: Db, id: string, passwordHash: string, now: number): Promise<void> {
  await db('users').where('id', id).update({ password_hash: passwordHash, updated_at: now });
}

export async function recordSignIn(db: Db, id: string, now: number): Promise<void> {
  await db('users').where('id', id).update({ last_sign_in_at: now });
}

// Roles and permissions. Every query takes the network, so a role ID of another network reads
// as missing.

type RoleRow = { id: string; network_id: string; name: string };

export async function insertRole(db: Db, role: { id: string; networkId: string; name: string; now: number }): Promise<void> {
  await db('roles').insert({ id: role.id, network_id: role.networkId, name: role.name, created_at: role.now, updated_at: role.now });
}

export async function renameRole(db: Db, networkId: string, id: string, name: string, now: number): Promise<void> {
  await db('roles').where({ network_id: networkId, id }).update({ name, updated_at: now });
}

export async function deleteRole(db: Db, networkId: string, id: string): Promise<void> {
  await db('user_roles').where({ network_id: networkId, role_id: id }).delete();
  await db('role_permissions').where({ network_id: networkId, role_id: id }).delete();
  await db('roles').where({ network_id: networkId, id }).delete();
}

export async function setRolePermissions(db: Db, networkId: string, roleId: string, permissions: readonly Permission[]): Promise<void> {
  await db('role_permissions').where({ network_id: networkId, role_id: roleId }).delete();
  if (permissions.length > 0) {
    await db('role_permissions').insert(permissions.map((permission) => ({ role_id: roleId, network_id: networkId, permission })));
  }
}

export async function findRoleByName(db: Db, networkId: string, name: string): Promise<RoleRow | undefined> {
  return db<RoleRow>('roles').where({ network_id: networkId, name }).first('id', 'network_id', 'name');
}

export async function listRoles(db: Db, networkId: string): Promise<Role[]> {
  const roles = await db<RoleRow>('roles').where('network_id', networkId).orderBy('name').select('id', 'network_id', 'name');
  const permissions = await db('role_permissions').where('network_id', networkId).select<{ role_id: string; permission: Permission }[]>('role_id', 'permission');
  const members = await db('user_roles')
    .where('network_id', networkId)
    .groupBy('role_id')
    .select('role_id')
    .count<{ role_id: string; n: number | string }[]>({ n: '*' });
  return roles.map((row) => ({
    id: row.id,
    networkId: row.network_id,
    name: row.name,
    permissions: permissions.filter((p) => p.role_id === row.id).map((p) => p.permission),
    userCount: Number(members.find((m) => m.role_id === row.id)?.n ?? 0),
  }));
}

export async function getRole(db: Db, networkId: string, id: string): Promise<Role | undefined> {
  return (await listRoles(db, networkId)).find((role) => role.id === id);
}

export async function setUserRoles(db: Db, networkId: string, userId: string, roleIds: readonly string[]): Promise<void> {
  await db('user_roles').where({ network_id: networkId, user_id: userId }).delete();
  if (roleIds.length > 0) await db('user_roles').insert(roleIds.map((roleId) => ({ user_id: userId, role_id: roleId, network_id: networkId })));
}

export async function userRoleIds(db: Db, networkId: string, userId: string): Promise<string[]> {
  const rows = await db('user_roles').where({ network_id: networkId, user_id: userId }).select<{ role_id: string }[]>('role_id');
  return rows.map((row) => row.role_id);
}

/** The union of the permissions of a user's roles, read fresh on every request. */
export async function userPermissions(db: Db, networkId: string, userId: string): Promise<Set<Permission>> {
  const rows = await db('user_roles')
    .join('role_permissions', 'role_permissions.role_id', 'user_roles.role_id')
    .where({ 'user_roles.network_id': networkId, 'user_roles.user_id': userId, 'role_permissions.network_id': networkId })
    .distinct<{ permission: Permission }[]>('role_permissions.permission');
  return new Set(rows.map((row) => row.permission));
}

/** Counts the users of a network whose roles give them a permission. */
export async function countUsersWithPermission(db: Db, networkId: string, permission: Permission): Promise<number> {
  const row = await db('user_roles')
    .join('role_permissions', 'role_permissions.role_id', 'user_roles.role_id')
    .where({ 'user_roles.network_id': networkId, 'role_permissions.network_id': networkId, 'role_permissions.permission': permission })
    .countDistinct({ n: 'user_roles.user_id' })
    .first();
  return Number(row?.n ?? 0);
}

// One-time sign-in links.

export async function insertSignInLink(db: Db, link: { tokenHash: string; userId: string; now: number; expiresAt: number }): Promise<void> {
  await db('sign_in_links').insert({ token_hash: link.tokenHash, user_id: link.userId, created_at: link.now, expires_at: link.expiresAt, used_at: null });
}

/** Returns the user ID of a link that is unused and not expired. */
export async function findLiveSignInLink(db: Db, tokenHash: string, now: number): Promise<string | undefined> {
  const row = await db('sign_in_links').where('token_hash', tokenHash).whereNull('used_at').where('expires_at', '>', now).first<{ user_id: string } | undefined>('user_id');
  return row?.user_id;
}

/** Marks a link used; returns false when another request used it first. */
export async function useSignInLink(db: Db, tokenHash: string, now: number): Promise<boolean> {
  return (await db('sign_in_links').where('token_hash', tokenHash).whereNull('used_at').where('expires_at', '>', now).update({ used_at: now })) > 0;
}

/** Ends every unused link of a user, so a new invitation replaces the old one. */
export async function expireSignInLinks(db: Db, userId: string, now: number): Promise<void> {
  await db('sign_in_links').where('user_id', userId).whereNull('used_at').update({ used_at: now });
}
