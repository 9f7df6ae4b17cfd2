import Router from '@koa/router';
import { z } from 'zod';

import { listApps } from '../domain/apps.js';
import {
  connectApp,
  disableConnection,
  disconnectConnection,
  listConnections,
  requireConnection,
  restoreConnection,
} from '../domain/connections.js';
import type { DomainContext } from '../domain/context.js';
import { createGroup, deleteGroup, listGroups, requireGroup, updateGroup } from '../domain/groups.js';
import { endGracePeriod, generateSecret, listSecrets } from '../domain/secrets.js';
import type { Connection } from '../domain/types.js';
import { listAuditEvents } from '../storage/audit.js';
import { listTenants } from '../storage/tenants.js';
import { MAX_QUERY_OFFSET, queryInt } from '../http/query-int.js';
import { authenticateApi, caller, readJson, requirePermission } from './context.js';

const VIEW = requirePermission('integrations.view');
const MANAGE = requirePermission('integrations.manage');

const tenantList = z.array(z.string()).max(100_000);

function connectionView(connection: Connection) {
  return {
    id: connection.id,
    group_id: connection.groupId,
    app_id: connection.appId,
    client_id: connection.clientId,
    status: connection.status,
    created_at: new Date(connection.createdAt).toISOString(),
    consent: connection.consent && {
      approved_by: connection.consent.approvedBy,
      approved_at: new Date(connection.consent.approvedAt).toISOString(),
      terms_version: connection.consent.termsVersion,
      scopes: connection.consent.scopes.map((s) => s.scope),
    },
  };
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * The admin JSON API: the hub's operations for scripts, on the same domain services. Every
 * route works inside the key's network, and an ID of another network gets 404.
 */
export function adminApiRoutes(domain: DomainContext): Router {
  const router = new Router({ prefix: '/api/v1' });
  router.use(authenticateApi(domain));

  router.get('/tenants', VIEW, async (ctx) => {
    const limit = queryInt(ctx.query.limit, { fallback: 1000, min: 1, max: 10_000 });
    const offset = queryInt(ctx.query.offset, { fallback: 0, min: 0, max: MAX_QUERY_OFFSET });
    const search = typeof ctx.query.search === 'string' ? ctx.query.search : undefined;
    const page = await listTenants(domain.db, caller(ctx).networkId, { search, limit, offset });
    ctx.body = { tenant_ids: page.tenantIds, total: page.total };
  });

  router.get('/groups', VIEW, async (ctx) => {
    const groups = await listGroups(domain.db, caller(ctx).networkId);
    ctx.body = { groups: groups.map((g) => ({ id: g.id, name: g.name, tenant_count: g.tenantCount, connection_count: g.connectionCount })) };
  });

  router.post('/groups', MANAGE, async (ctx) => {
    const body = await readJson(ctx, z.object({ name: z.string(), tenant_ids: tenantList.default([]) }));
    const group = await createGroup(domain, caller(ctx).actor, caller(ctx).networkId, { name: body.name, tenantIds: body.tenant_ids });
    ctx.status = 201;
    ctx.body = { id: group.id, name: group.name, tenant_count: group.tenantCount };
  });

  router.get('/groups/:id', VIEW, async (ctx) => {
    const group = await requireGroup(domain, caller(ctx).networkId, ctx.params.id!);
    ctx.body = { id: group.id, name: group.name, tenant_ids: group.tenantIds, connection_count: group.connectionCount };
  });

  router.patch('/groups/:id', MANAGE, async (ctx) => {
    const body = await readJson(ctx, z.object({ name: z.string().optional(), add: tenantList.optional(), remove: tenantList.optional() }));
    ctx.body = await updateGroup(domain, caller(ctx).actor, caller(ctx).networkId, ctx.params.id!, body);
  });

  router.delete('/groups/:id', MANAGE, async (ctx) => {
    const result = await deleteGroup(domain, caller(ctx).actor, caller(ctx).networkId, ctx.params.id!);
    ctx.body = { deleted: true, disconnected_connection_ids: result.disconnected };
  });

  router.get('/apps', VIEW, async (ctx) => {
    const apps = await listApps(domain.db, { publishedOnly: true });
    ctx.body = {
      apps: apps.map((app) => ({
        id: app.id,
        name: app.name,
        developer: app.developerName,
        terms_version: app.termsVersion,
        scopes: app.scopes.map((s) => ({ audience: s.audience, scope: s.scope, reason: s.reason })),
      })),
    };
  });

  router.get('/connections', VIEW, async (ctx) => {
    const groupId = typeof ctx.query.group_id === 'string' ? ctx.query.group_id : undefined;
    // A group of another network, or none, is a 404 like everywhere else, not an empty list.
    if (groupId !== undefined) await requireGroup(domain, caller(ctx).networkId, groupId);
    const connections = await listConnections(domain.db, caller(ctx).networkId, groupId === undefined ? {} : { groupId });
    ctx.body = { connections: connections.map(connectionView) };
  });

  router.post('/connections', MANAGE, async (ctx) => {
    const body = await readJson(
      ctx,
      z.object({ group_id: z.string(), app_id: z.string(), accepted_terms_version: z.number().int(), scopes: z.array(z.string()).optional() }),
    );
    const { actor, networkId, user } = caller(ctx);
    const connection = await connectApp(domain, actor, networkId, {
      groupId: body.group_id,
      appId: body.app_id,
      acceptedTermsVersion: body.accepted_terms_version,
      approvedBy: user.email,
      scopes: body.scopes,
    });
    ctx.status = 201;
    ctx.body = connectionView(connection);
  });

  router.get('/connections/:id', VIEW, async (ctx) => {
    const { networkId } = caller(ctx);
    const connection = await requireConnection(domain, networkId, ctx.params.id!);
    const secrets = await listSecrets(domain.db, networkId, connection.id);
    ctx.body = {
      ...connectionView(connection),
      secrets: secrets.map((s) => ({ id: s.id, hint: s.hint, created_at: iso(s.createdAt), expires_at: iso(s.expiresAt), revoked_at: iso(s.revokedAt), last_used_at: iso(s.lastUsedAt) })),
    };
  });

  router.post('/connections/:id/secrets', MANAGE, async (ctx) => {
    const body = await readJson(ctx, z.object({ grace_seconds: z.number().int().optional() }));
    const generated = await generateSecret(domain, caller(ctx).actor, caller(ctx).networkId, ctx.params.id!, { graceSeconds: body.grace_seconds });
    ctx.status = 201;
    ctx.body = { client_id: generated.clientId, client_secret: generated.clientSecret, previous_secret_expires_at: iso(generated.previousExpiresAt) };
  });

  router.post('/connections/:id/end-grace-period', MANAGE, async (ctx) => {
    ctx.body = { revoked_secret_ids: await endGracePeriod(domain, caller(ctx).actor, caller(ctx).networkId, ctx.params.id!) };
  });

  router.post('/connections/:id/disable', MANAGE, async (ctx) => {
    await disableConnection(domain, caller(ctx).actor, caller(ctx).networkId, ctx.params.id!);
    ctx.body = connectionView(await requireConnection(domain, caller(ctx).networkId, ctx.params.id!));
  });

  router.post('/connections/:id/restore', MANAGE, async (ctx) => {
    await restoreConnection(domain, caller(ctx).actor, caller(ctx).networkId, ctx.params.id!);
    ctx.body = connectionView(await requireConnection(domain, caller(ctx).networkId, ctx.params.id!));
  });

  router.delete('/connections/:id', MANAGE, async (ctx) => {
    await disconnectConnection(domain, caller(ctx).actor, caller(ctx).networkId, ctx.params.id!);
    ctx.body = { disconnected: true };
  });

  router.get('/audit-events', VIEW, async (ctx) => {
    const action = typeof ctx.query.action === 'string' ? ctx.query.action : undefined;
    const limit = queryInt(ctx.query.limit, { fallback: 100, min: 1, max: 1000 });
    const events = await listAuditEvents(domain.db, caller(ctx).networkId, { action, limit });
    ctx.body = {
      events: events.map((e) => ({
        id: e.id,
        occurred_at: iso(e.occurredAt),
        actor: e.actor,
        action: e.action,
        target_type: e.targetType,
        target_id: e.targetId,
        request_id: e.requestId,
        outcome: e.outcome,
        details: e.details,
      })),
    };
  });

  return router;
}
