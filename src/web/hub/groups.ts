import type { Context } from 'koa';

import { DomainError } from '../../domain/errors.js';
import { createGroup, deleteGroup, requireGroup, updateGroup } from '../../domain/groups.js';
import { MAX_QUERY_OFFSET, queryInt } from '../../http/query-int.js';
import { listApps } from '../../storage/apps.js';
import { listConnections } from '../../storage/connections.js';
import { listGroupPage } from '../../storage/groups.js';
import { listTenants } from '../../storage/tenants.js';
import { actorOf, networkOf, requirePermission } from '../auth.js';
import { field, fields, splitList, type PageForm } from '../forms.js';
import type { WebKit } from '../kit.js';
import { HUB, hubRouter } from './hub.js';

export const INTEGRATIONS = `${HUB}/integrations`;

// Groups on one page of the list; a network may have 10,000 of them.
const GROUP_PAGE_SIZE = 50;

// Tenants sent to the browser at once: one page of the picker or of a group's member list.
export const TENANT_PAGE_SIZE = 100;
// Bound on "select all matching" per search, equal to the largest tenant paste.
const MATCHING_MAX = 100_000;

/**
 * Resolves the tenants a group form chose: the IDs typed or ticked, plus every tenant matching
 * each "select all matching" search. Only tenants of the viewer's network can match.
 */
async function chosenTenants(kit: WebKit, networkId: string, form: PageForm, listField: string, matchingField: string): Promise<string[]> {
  const chosen = new Set(splitList(field(form, listField)));
  for (const search of fields(form, matchingField).slice(0, 20)) {
    const page = await listTenants(kit.domain.db, networkId, { search: search.trim() || undefined, limit: MATCHING_MAX });
    for (const id of page.tenantIds) chosen.add(id);
  }
  return [...chosen];
}

async function showGroupForm(kit: WebKit, ctx: Context, locals: Record<string, unknown>, status = 200): Promise<void> {
  await kit.render(ctx, 'hub/group-form.njk', { tenantSearchUrl: `${INTEGRATIONS}/tenants`, ...locals, title: String(locals.title) }, status);
}

/** Pages of the API & Integrations module that list, create, edit and delete groups. */
export function groupRoutes(kit: WebKit) {
  const router = hubRouter(kit);
  const view = requirePermission('integrations.view');
  const manage = requirePermission('integrations.manage');

  router.get('/integrations', view, async (ctx) => {
    const search = String(ctx.query.q ?? '').slice(0, 200);
    const requested = queryInt(ctx.query.page, { fallback: 1, min: 1, max: MAX_QUERY_OFFSET / GROUP_PAGE_SIZE });
    const page = await listGroupPage(kit.domain.db, networkOf(ctx), { search: search || undefined, limit: GROUP_PAGE_SIZE, offset: (requested - 1) * GROUP_PAGE_SIZE });
    const pages = Math.max(1, Math.ceil(page.total / GROUP_PAGE_SIZE));
    await kit.render(ctx, 'hub/groups.njk', {
      title: 'API & Integrations',
      groups: page.groups,
      total: page.total,
      search,
      page: requested,
      pages,
      previousPage: requested > 1 ? requested - 1 : undefined,
      nextPage: requested < pages ? requested + 1 : undefined,
    });
  });

  // One page of the network's tenants for the picker, as JSON.
  router.get('/integrations/tenants', view, async (ctx) => {
    const offset = queryInt(ctx.query.offset, { fallback: 0, min: 0, max: MAX_QUERY_OFFSET });
    const search = String(ctx.query.q ?? '').slice(0, 64);
    const page = await listTenants(kit.domain.db, networkOf(ctx), { search: search || undefined, limit: TENANT_PAGE_SIZE, offset });
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { tenantIds: page.tenantIds, total: page.total, offset };
  });

  router.get('/integrations/groups/new', manage, async (ctx) => {
    await showGroupForm(kit, ctx, { title: 'Create New Group', action: `${INTEGRATIONS}/groups`, name: '', tenantText: '' });
  });

  router.post('/integrations/groups', manage, async (ctx) => {
    const form = await kit.form(ctx);
    const networkId = networkOf(ctx);
    const name = field(form, 'name');
    const tenantIds = await chosenTenants(kit, networkId, form, 'tenant_ids', 'add_matching');
    try {
      const group = await createGroup(kit.domain, actorOf(ctx), networkId, { name, tenantIds });
      await kit.redirect(ctx, INTEGRATIONS, { kind: 'info', text: `Group ${group.name} was created with ${group.tenantCount} tenants.` });
    } catch (err) {
      if (!(err instanceof DomainError) || err.status === 404) throw err;
      await showGroupForm(kit, ctx, { title: 'Create New Group', action: `${INTEGRATIONS}/groups`, name, tenantText: field(form, 'tenant_ids'), error: err.message }, err.status);
    }
  });

  router.get('/integrations/groups/:groupId', view, async (ctx) => {
    ctx.redirect(`${INTEGRATIONS}/groups/${encodeURIComponent(ctx.params.groupId!)}/connections`);
  });

  const editLocals = async (ctx: Context, groupId: string) => {
    const group = await requireGroup(kit.domain, networkOf(ctx), groupId);
    const search = String(ctx.query.q ?? '').trim();
    const matching = search ? group.tenantIds.filter((id) => id.includes(search)) : group.tenantIds;
    const page = queryInt(ctx.query.page, { fallback: 1, min: 1, max: MAX_QUERY_OFFSET / TENANT_PAGE_SIZE });
    const members = matching.slice((page - 1) * TENANT_PAGE_SIZE, page * TENANT_PAGE_SIZE);
    return {
      title: `Edit ${group.name}`,
      group,
      action: `${INTEGRATIONS}/groups/${group.id}/edit`,
      name: group.name,
      members,
      memberSearch: search,
      memberTotal: matching.length,
      page,
      pages: Math.max(1, Math.ceil(matching.length / TENANT_PAGE_SIZE)),
      tenantText: '',
    };
  };

  router.get('/integrations/groups/:groupId/edit', manage, async (ctx) => {
    await showGroupForm(kit, ctx, await editLocals(ctx, ctx.params.groupId!));
  });

  router.post('/integrations/groups/:groupId/edit', manage, async (ctx) => {
    const form = await kit.form(ctx);
    const networkId = networkOf(ctx);
    const group = await requireGroup(kit.domain, networkId, ctx.params.groupId!);
    const add = await chosenTenants(kit, networkId, form, 'tenant_ids', 'add_matching');
    const remove = fields(form, 'remove');
    try {
      const result = await updateGroup(kit.domain, actorOf(ctx), networkId, group.id, { name: field(form, 'name'), add, remove });
      await kit.redirect(ctx, INTEGRATIONS, {
        kind: 'info',
        text: `Group ${field(form, 'name').trim() || group.name} was saved: ${result.added.length} tenants added, ${result.removed.length} removed.`,
      });
    } catch (err) {
      if (!(err instanceof DomainError) || err.status === 404) throw err;
      await showGroupForm(kit, ctx, { ...(await editLocals(ctx, group.id)), name: field(form, 'name'), tenantText: field(form, 'tenant_ids'), error: err.message }, err.status);
    }
  });

  router.get('/integrations/groups/:groupId/delete', manage, async (ctx) => {
    const networkId = networkOf(ctx);
    const group = await requireGroup(kit.domain, networkId, ctx.params.groupId!);
    const connections = await listConnections(kit.domain.db, networkId, { groupId: group.id });
    const apps = new Map((await listApps(kit.domain.db)).map((app) => [app.id, app.name]));
    await kit.render(ctx, 'hub/group-delete.njk', {
      title: `Delete ${group.name}`,
      group,
      connections: connections.map((c) => ({ ...c, appName: apps.get(c.appId) ?? c.appId })),
    });
  });

  router.post('/integrations/groups/:groupId/delete', manage, async (ctx) => {
    await kit.form(ctx);
    const networkId = networkOf(ctx);
    const group = await requireGroup(kit.domain, networkId, ctx.params.groupId!);
    const { disconnected } = await deleteGroup(kit.domain, actorOf(ctx), networkId, group.id);
    await kit.redirect(ctx, INTEGRATIONS, { kind: 'info', text: `Group ${group.name} was deleted and ${disconnected.length} connections were cut.` });
  });

  return router;
}
