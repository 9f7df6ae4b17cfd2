import type { Context } from 'koa';

import { assignRoles, createRole, createUser, deleteRole, reissueSignInLink, updateRole } from '../../domain/accounts.js';
import { PERMISSION_LABELS, PERMISSIONS } from '../../domain/accounts-types.js';
import { DomainError, notFound } from '../../domain/errors.js';
import { getNetworkUser, getRole, listNetworkUsers, listRoles, userRoleIds } from '../../storage/users.js';
import { actorOf, networkOf, requirePermission } from '../auth.js';
import { field, fields } from '../forms.js';
import type { WebKit } from '../kit.js';
import { HUB, hubRouter } from './hub.js';

const USERS = `${HUB}/users`;
const ROLES = `${HUB}/roles`;

export const PERMISSION_CHOICES = PERMISSIONS.map((value) => ({ value, label: PERMISSION_LABELS[value] }));

/** Shows a one-time sign-in link once, on the page after the POST that made it. */
async function showLinkOnce(kit: WebKit, ctx: Context, back: string): Promise<void> {
  const reveal = await kit.sessions.takeReveal(ctx);
  await kit.render(ctx, 'hub/link.njk', {
    title: reveal?.kind === 'sign_in_link' ? 'Sign-in link' : 'Link already shown',
    link: reveal?.kind === 'sign_in_link' ? reveal : undefined,
    back,
  });
}

/** User Management: roles with their permissions, users with their roles, invitations. */
export function userRoutes(kit: WebKit) {
  const router = hubRouter(kit);
  const admin = requirePermission('users.manage');

  /** Renders the users page, after a rejected invitation with the form as sent and the reason. */
  const renderUsers = async (ctx: Context, rejected?: { invite: { email: string; name: string; roleIds: string[] }; error: string; status: number }) => {
    const networkId = networkOf(ctx);
    const [users, roles] = await Promise.all([listNetworkUsers(kit.domain.db, networkId), listRoles(kit.domain.db, networkId)]);
    const withRoles = await Promise.all(
      users.map(async (user) => {
        const ids = new Set(await userRoleIds(kit.domain.db, networkId, user.id));
        return { ...user, roles: roles.filter((role) => ids.has(role.id)).map((role) => role.name) };
      }),
    );
    const invite = rejected?.invite ?? { email: '', name: '', roleIds: [] };
    await kit.render(ctx, 'hub/users.njk', { title: 'Users', users: withRoles, roles, invite, error: rejected?.error, tab: 'users' }, rejected?.status);
  };

  router.get('/users', admin, async (ctx) => {
    await renderUsers(ctx);
  });

  router.post('/users', admin, async (ctx) => {
    const form = await kit.form(ctx);
    const invite = { email: field(form, 'email'), name: field(form, 'name'), roleIds: fields(form, 'role_ids') };
    try {
      const { user, link } = await createUser(kit.domain, actorOf(ctx), { networkId: networkOf(ctx), ...invite });
      await kit.sessions.putReveal(ctx, { kind: 'sign_in_link', email: user.email, url: `${kit.issuer}${link.path}`, expiresAt: String(link.expiresAt) });
      await kit.redirect(ctx, `${USERS}/link`);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      // A role that is not the network's (deleted meanwhile, or another network's) keeps its 404,
      // like every ID outside the network, but the form comes back with what was typed.
      await renderUsers(ctx, { invite, error: err.message, status: err.status });
    }
  });

  router.get('/users/link', admin, (ctx) => showLinkOnce(kit, ctx, USERS));

  router.get('/users/:userId', admin, async (ctx) => {
    const networkId = networkOf(ctx);
    const user = await getNetworkUser(kit.domain.db, networkId, ctx.params.userId!);
    if (!user) throw notFound('user', ctx.params.userId!);
    const roles = await listRoles(kit.domain.db, networkId);
    const assigned = new Set(await userRoleIds(kit.domain.db, networkId, user.id));
    await kit.render(ctx, 'hub/user.njk', { title: user.name, user, roles: roles.map((role) => ({ ...role, assigned: assigned.has(role.id) })), tab: 'users' });
  });

  router.post('/users/:userId/roles', admin, async (ctx) => {
    const form = await kit.form(ctx);
    const networkId = networkOf(ctx);
    try {
      await assignRoles(kit.domain, actorOf(ctx), networkId, ctx.params.userId!, fields(form, 'role_ids'));
    } catch (err) {
      if (!(err instanceof DomainError) || err.status === 404) throw err;
      await kit.redirect(ctx, USERS, { kind: 'error', text: err.message });
      return;
    }
    await kit.redirect(ctx, USERS, { kind: 'info', text: 'The roles were saved; they apply from the user’s next request.' });
  });

  router.post('/users/:userId/link', admin, async (ctx) => {
    await kit.form(ctx);
    const networkId = networkOf(ctx);
    const user = await getNetworkUser(kit.domain.db, networkId, ctx.params.userId!);
    if (!user) throw notFound('user', ctx.params.userId!);
    const link = await reissueSignInLink(kit.domain, actorOf(ctx), networkId, user.id);
    await kit.sessions.putReveal(ctx, { kind: 'sign_in_link', email: user.email, url: `${kit.issuer}${link.path}`, expiresAt: String(link.expiresAt) });
    await kit.redirect(ctx, `${USERS}/link`);
  });

  router.get('/roles', admin, async (ctx) => {
    const roles = await listRoles(kit.domain.db, networkOf(ctx));
    await kit.render(ctx, 'hub/roles.njk', { title: 'Roles', roles: roles.map((role) => ({ ...role, labels: role.permissions.map((p) => PERMISSION_LABELS[p]) })), tab: 'roles' });
  });

  router.get('/roles/new', admin, async (ctx) => {
    await kit.render(ctx, 'hub/role-form.njk', { title: 'New role', action: ROLES, name: '', permissions: [], choices: PERMISSION_CHOICES, tab: 'roles' });
  });

  router.post('/roles', admin, async (ctx) => {
    const form = await kit.form(ctx);
    const name = field(form, 'name');
    const permissions = fields(form, 'permissions');
    try {
      await createRole(kit.domain, actorOf(ctx), networkOf(ctx), { name, permissions });
      await kit.redirect(ctx, ROLES, { kind: 'info', text: `Role ${name.trim()} was created.` });
    } catch (err) {
      if (!(err instanceof DomainError) || err.status === 404) throw err;
      await kit.render(ctx, 'hub/role-form.njk', { title: 'New role', action: ROLES, name, permissions, choices: PERMISSION_CHOICES, error: err.message, tab: 'roles' }, err.status);
    }
  });

  router.get('/roles/:roleId', admin, async (ctx) => {
    const role = await getRole(kit.domain.db, networkOf(ctx), ctx.params.roleId!);
    if (!role) throw notFound('role', ctx.params.roleId!);
    await kit.render(ctx, 'hub/role-form.njk', {
      title: `Role ${role.name}`,
      role,
      action: `${ROLES}/${role.id}`,
      name: role.name,
      permissions: role.permissions,
      choices: PERMISSION_CHOICES,
      tab: 'roles',
    });
  });

  router.post('/roles/:roleId', admin, async (ctx) => {
    const form = await kit.form(ctx);
    const networkId = networkOf(ctx);
    const role = await getRole(kit.domain.db, networkId, ctx.params.roleId!);
    if (!role) throw notFound('role', ctx.params.roleId!);
    const name = field(form, 'name');
    const permissions = fields(form, 'permissions');
    try {
      await updateRole(kit.domain, actorOf(ctx), networkId, role.id, { name, permissions });
      await kit.redirect(ctx, ROLES, { kind: 'info', text: `Role ${name.trim()} was saved; it applies from each user’s next request.` });
    } catch (err) {
      if (!(err instanceof DomainError) || err.status === 404) throw err;
      await kit.render(ctx, 'hub/role-form.njk', { title: `Role ${role.name}`, role, action: `${ROLES}/${role.id}`, name, permissions, choices: PERMISSION_CHOICES, error: err.message, tab: 'roles' }, err.status);
    }
  });

  router.post('/roles/:roleId/delete', admin, async (ctx) => {
    await kit.form(ctx);
    try {
      await deleteRole(kit.domain, actorOf(ctx), networkOf(ctx), ctx.params.roleId!);
    } catch (err) {
      if (!(err instanceof DomainError) || err.status === 404) throw err;
      await kit.redirect(ctx, ROLES, { kind: 'error', text: err.message });
      return;
    }
    await kit.redirect(ctx, ROLES, { kind: 'info', text: 'The role was deleted.' });
  });

  return router;
}
