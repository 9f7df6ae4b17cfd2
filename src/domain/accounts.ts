import { createHmac, randomBytes, randomUUID } from 'node:crypto';

import { decoyHash, hashPassword, needsRehash, passwordProblem, verifyPassword } from '../crypto/password.js';
import { getNetwork } from '../storage/networks.js';
import {
  countUsersWithPermission,
  deleteRole as deleteRoleRows,
  emailTaken,
  expireSignInLinks,
  findLiveSignInLink,
  findRoleByName,
  findUserForSignIn,
  getNetworkUser,
  getRole,
  getUserById,
  insertRole,
  insertSignInLink,
  insertUser,
  listRoles,
  recordSignIn,
  renameRole,
  setPasswordHash,
  setRolePermissions,
  setUserRoles as setUserRoleRows,
  useSignInLink,
} from '../storage/users.js';
import { PERMISSIONS, type Permission, type Role, type User } from './accounts-types.js';
import { change, type DomainContext } from './context.js';
import { assertThat, conflict, DomainError, invalid, notFound } from './errors.js';
import type { Actor } from './types.js';
import { requireName } from './validation.js';

// A one-time sign-in link is a bearer credential sent by e-mail or chat. A week is long enough
// for the recipient to use it and short enough that a forgotten link expires.
export const SIGN_IN_LINK_TTL_MS = 7 * 24 * 3600 * 1000;
// The token travels in the query string, which the request log leaves out (it logs the path).
export const SIGN_IN_PATH = '/signin/link/?token=';

const EMAIL_PATTERN = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

export function normaliseEmail(value: string): string {
  const email = value.trim().toLowerCase();
  if (!EMAIL_PATTERN.test(email)) throw invalid('user.invalid_email', `${JSON.stringify(value.trim())} is not an e-mail address`);
  return email;
}

/** Keyed hash under which a one-time link or session token is stored. */
export function tokenHash(ctx: DomainContext, token: string): string {
  return createHmac('sha256', ctx.keys.webTokens).update(token).digest('hex');
}

export interface SignInLink {
  /** The URL path with the token, shown once to the user who created the link. */
  path: string;
  expiresAt: number;
}

export interface CreateUserInput {
  /** Null creates an operator. */
  networkId: string | null;
  email: string;
  name?: string | undefined;
  roleIds?: readonly string[] | undefined;
}

/**
 * Creates a user without a password and a one-time link on which they choose one. A user of a
 * network may get roles of that network at once; an operator has no roles.
 */
export async function createUser(ctx: DomainContext, actor: Actor, input: CreateUserInput): Promise<{ user: User; link: SignInLink }> {
  const email = normaliseEmail(input.email);
  const name = requireName('user', input.name?.trim() || email);
  const token = randomBytes(32).toString('base64url');

  return change(ctx, actor, async ({ trx, now, audit }) => {
    if (input.networkId !== null) assertThat(await getNetwork(trx, input.networkId), notFound('network', input.networkId));
    if (await emailTaken(trx, email)) throw conflict('user.email_taken', `a user with e-mail ${email} already exists`);

    const id = randomUUID();
    await insertUser(trx, { id, networkId: input.networkId, email, name, isOperator: input.networkId === null, now });
    if (input.networkId !== null && input.roleIds && input.roleIds.length > 0) {
      await requireRolesOfNetwork(trx, input.networkId, input.roleIds);
      await setUserRoleRows(trx, input.networkId, id, [...new Set(input.roleIds)]);
    }
    const expiresAt = now + SIGN_IN_LINK_TTL_MS;
    await insertSignInLink(trx, { tokenHash: tokenHash(ctx, token), userId: id, now, expiresAt });
    audit({
      networkId: input.networkId,
      action: input.networkId === null ? 'operator.created' : 'user.invited',
      targetType: 'user',
      targetId: id,
      details: { email, role_ids: input.roleIds ?? [] },
    });

    const user = await getUserById(trx, id);
    assertThat(user, notFound('user', id));
    return { user, link: { path: `${SIGN_IN_PATH}${token}`, expiresAt } };
  });
}

// The role a network's first administrator gets, so they can create the roles of everyone else.
export const ADMINISTRATOR_ROLE = 'Administrator';

/**
 * Creates a network's administrator: a user holding the network's "Administrator" role (User
 * Management), created with the role on first use. Other permissions are given by that user.
 */
export async function createNetworkAdmin(ctx: DomainContext, actor: Actor, networkId: string, input: { email: string; name?: string | undefined }): Promise<{ user: User; link: SignInLink }> {
  let role = (await listRoles(ctx.db, networkId)).find((candidate) => candidate.name === ADMINISTRATOR_ROLE);
  if (!role) {
    assertThat(await getNetwork(ctx.db, networkId), notFound('network', networkId));
    try {
      role = await createRole(ctx, actor, networkId, { name: ADMINISTRATOR_ROLE, permissions: ['users.manage'] });
    } catch (err) {
      // Another request created it first; use that one.
      if (!(err instanceof DomainError && err.code === 'role.name_taken')) throw err;
      role = (await listRoles(ctx.db, networkId)).find((candidate) => candidate.name === ADMINISTRATOR_ROLE);
      assertThat(role, notFound('role', ADMINISTRATOR_ROLE));
    }
  }
  return createUser(ctx, actor, { networkId, email: input.email, name: input.name, roleIds: [role.id] });
}

/** Replaces a user's unused links with a new one (invite again, or a forgotten password). */
export async function reissueSignInLink(ctx: DomainContext, actor: Actor, networkId: string | null, userId: string): Promise<SignInLink> {
  const token = randomBytes(32).toString('base64url');
  return change(ctx, actor, async ({ trx, now, audit }) => {
    const user = networkId === null ? await getUserById(trx, userId) : await getNetworkUser(trx, networkId, userId);
    assertThat(user && user.networkId === networkId, notFound('user', userId));
    await expireSignInLinks(trx, userId, now);
    const expiresAt = now + SIGN_IN_LINK_TTL_MS;
    await insertSignInLink(trx, { tokenHash: tokenHash(ctx, token), userId, now, expiresAt });
    audit({ networkId, action: 'user.link_issued', targetType: 'user', targetId: userId, details: { email: user.email } });
    return { path: `${SIGN_IN_PATH}${token}`, expiresAt };
  });
}

/** Returns the user a live link belongs to, without using it up. */
export async function peekSignInLink(ctx: DomainContext, token: string): Promise<User | undefined> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
  const userId = await findLiveSignInLink(ctx.db, tokenHash(ctx, token), ctx.clock.now());
  return userId === undefined ? undefined : getUserById(ctx.db, userId);
}

/** Uses a link once: sets the user's new password and returns the user. */
export async function redeemSignInLink(ctx: DomainContext, token: string, password: string): Promise<User> {
  const problem = passwordProblem(password);
  if (problem) throw invalid('user.weak_password', problem);
  const user = await peekSignInLink(ctx, token);
  assertThat(user, signInLinkGone);
  const passwordHash = await hashPassword(password);

  return change(ctx, { id: `user:${user.id}` }, async ({ trx, now, audit }) => {
    if (!(await useSignInLink(trx, tokenHash(ctx, token), now))) throw signInLinkGone();
    await setPasswordHash(trx, user.id, passwordHash, now);
    await recordSignIn(trx, user.id, now);
    audit({ networkId: user.networkId, action: 'user.password_set', targetType: 'user', targetId: user.id, details: {} });
    return user;
  });
}

export const signInLinkGone = (): DomainError =>
  new DomainError('user.link_gone', 404, 'this sign-in link was already used or has expired; ask for a new one');

/**
 * Checks an e-mail and password. Unknown users cost the same hash as known ones, and both
 * failures return undefined, so the caller shows one message for either.
 */
export async function authenticate(ctx: DomainContext, emailInput: string, password: string): Promise<User | undefined> {
  const email = emailInput.trim().toLowerCase();
  const found = email.length > 0 && email.length <= 320 && password.length <= 1024 ? await findUserForSignIn(ctx.db, email) : undefined;
  if (!found || found.passwordHash === null) {
    await verifyPassword(password.slice(0, 256), await decoyHash());
    return undefined;
  }
  if (!(await verifyPassword(password, found.passwordHash))) return undefined;

  const now = ctx.clock.now();
  await recordSignIn(ctx.db, found.id, now);
  if (needsRehash(found.passwordHash)) await setPasswordHash(ctx.db, found.id, await hashPassword(password), now);
  const { passwordHash: _omit, ...user } = found;
  return user;
}

// Roles.

async function requireRolesOfNetwork(db: DomainContext['db'], networkId: string, roleIds: readonly string[]): Promise<void> {
  const known = new Set((await listRoles(db, networkId)).map((role) => role.id));
  for (const roleId of roleIds) assertThat(known.has(roleId), notFound('role', roleId));
}

function requirePermissions(values: readonly string[]): Permission[] {
  for (const value of values) {
    if (!(PERMISSIONS as readonly string[]).includes(value)) throw invalid('role.unknown_permission', `unknown permission ${JSON.stringify(value)}`);
  }
  return [...new Set(values)] as Permission[];
}

export async function createRole(ctx: DomainContext, actor: Actor, networkId: string, input: { name: string; permissions: readonly string[] }): Promise<Role> {
  const name = requireName('role', input.name);
  const permissions = requirePermissions(input.permissions);

  return change(ctx, actor, async ({ trx, now, audit }) => {
    if (await findRoleByName(trx, networkId, name)) throw conflict('role.name_taken', `a role named ${JSON.stringify(name)} already exists in this network`);
    const id = randomUUID();
    await insertRole(trx, { id, networkId, name, now });
    await setRolePermissions(trx, networkId, id, permissions);
    audit({ networkId, action: 'role.created', targetType: 'role', targetId: id, details: { name, permissions } });
    return { id, networkId, name, permissions, userCount: 0 };
  });
}

/**
 * Runs a change to roles or their assignment, and rejects it when it would leave a network that
 * had a user with User Management without one. No user in the network could then manage users
 * or roles, and only an operator could repair it.
 */
async function keepingUserManager<T>(trx: Parameters<typeof countUsersWithPermission>[0], networkId: string, apply: () => Promise<T>): Promise<T> {
  const before = await countUsersWithPermission(trx, networkId, 'users.manage');
  const result = await apply();
  if (before > 0 && (await countUsersWithPermission(trx, networkId, 'users.manage')) === 0) {
    throw conflict('role.last_user_manager', 'this would leave no user with User Management in the network; give the permission to another user first');
  }
  return result;
}

export async function updateRole(
  ctx: DomainContext,
  actor: Actor,
  networkId: string,
  roleId: string,
  input: { name: string; permissions: readonly string[] },
): Promise<void> {
  const name = requireName('role', input.name);
  const permissions = requirePermissions(input.permissions);

  await change(ctx, actor, async ({ trx, now, audit }) => {
    const role = await getRole(trx, networkId, roleId);
    assertThat(role, notFound('role', roleId));
    const other = await findRoleByName(trx, networkId, name);
    if (other && other.id !== roleId) throw conflict('role.name_taken', `a role named ${JSON.stringify(name)} already exists in this network`);
    await renameRole(trx, networkId, roleId, name, now);
    await keepingUserManager(trx, networkId, () => setRolePermissions(trx, networkId, roleId, permissions));
    audit({ networkId, action: 'role.updated', targetType: 'role', targetId: roleId, details: { name, permissions, previous_permissions: role.permissions } });
  });
}

export async function deleteRole(ctx: DomainContext, actor: Actor, networkId: string, roleId: string): Promise<void> {
  await change(ctx, actor, async ({ trx, audit }) => {
    const role = await getRole(trx, networkId, roleId);
    assertThat(role, notFound('role', roleId));
    await keepingUserManager(trx, networkId, () => deleteRoleRows(trx, networkId, roleId));
    audit({ networkId, action: 'role.deleted', targetType: 'role', targetId: roleId, details: { name: role.name } });
  });
}

export async function assignRoles(ctx: DomainContext, actor: Actor, networkId: string, userId: string, roleIds: readonly string[]): Promise<void> {
  await change(ctx, actor, async ({ trx, audit }) => {
    assertThat(await getNetworkUser(trx, networkId, userId), notFound('user', userId));
    const unique = [...new Set(roleIds)];
    await requireRolesOfNetwork(trx, networkId, unique);
    await keepingUserManager(trx, networkId, () => setUserRoleRows(trx, networkId, userId, unique));
    audit({ networkId, action: 'user.roles_changed', targetType: 'user', targetId: userId, details: { role_ids: unique } });
  });
}
