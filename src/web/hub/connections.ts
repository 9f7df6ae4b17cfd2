import { disableConnection, disconnectConnection, requireConnection, restoreConnection } from '../../domain/connections.js';
import { pendingScopeUpdate } from '../../domain/consent-updates.js';
import { DomainError } from '../../domain/errors.js';
import { requireGroup } from '../../domain/groups.js';
import { endGracePeriod, listSecrets } from '../../domain/secrets.js';
import type { Actor } from '../../domain/types.js';
import type { DomainContext } from '../../domain/context.js';
import { listApps } from '../../storage/apps.js';
import { listConnections } from '../../storage/connections.js';
import { actorOf, networkOf, requirePermission } from '../auth.js';
import type { WebKit } from '../kit.js';
import { INTEGRATIONS } from './groups.js';
import { hubRouter } from './hub.js';

type ConnectionAction = (ctx: DomainContext, actor: Actor, networkId: string, connectionId: string) => Promise<unknown>;

const ACTIONS: Readonly<Record<string, { run: ConnectionAction; done: string }>> = {
  disable: { run: disableConnection, done: 'was disabled: its secrets are refused until you restore it' },
  restore: { run: restoreConnection, done: 'was restored' },
  disconnect: { run: disconnectConnection, done: 'was disconnected: its client ID and secrets no longer work' },
  'end-grace': { run: endGracePeriod, done: 'now accepts only its current secret' },
};

/** Serves the connections of a group, with their secrets and the actions on them. */
export function connectionRoutes(kit: WebKit) {
  const router = hubRouter(kit);
  const view = requirePermission('integrations.view');
  const manage = requirePermission('integrations.manage');

  router.get('/integrations/groups/:groupId/connections', view, async (ctx) => {
    const networkId = networkOf(ctx);
    const group = await requireGroup(kit.domain, networkId, ctx.params.groupId!);
    const apps = new Map((await listApps(kit.domain.db)).map((app) => [app.id, app]));
    const now = kit.domain.clock.now();
    const connections = await Promise.all(
      (await listConnections(kit.domain.db, networkId, { groupId: group.id })).map(async (connection) => {
        const secrets = (await listSecrets(kit.domain.db, networkId, connection.id)).filter(
          (s) => s.revokedAt === null && (s.expiresAt === null || s.expiresAt > now),
        );
        return {
          ...connection,
          app: apps.get(connection.appId),
          current: secrets.find((s) => s.expiresAt === null),
          inGrace: secrets.filter((s) => s.expiresAt !== null),
          update: await pendingScopeUpdate(kit.domain, networkId, connection.id),
        };
      }),
    );
    await kit.render(ctx, 'hub/connections.njk', { title: `Connections of ${group.name}`, group, connections });
  });

  router.get('/integrations/connections/:connectionId/disconnect', manage, async (ctx) => {
    const networkId = networkOf(ctx);
    const connection = await requireConnection(kit.domain, networkId, ctx.params.connectionId!);
    if (connection.status === 'disconnected') throw new DomainError('connection.not_found', 404, 'connection not found');
    const group = await requireGroup(kit.domain, networkId, connection.groupId);
    const app = (await listApps(kit.domain.db)).find((candidate) => candidate.id === connection.appId);
    await kit.render(ctx, 'hub/disconnect.njk', { title: 'Disconnect app', connection, group, app });
  });

  for (const [name, action] of Object.entries(ACTIONS)) {
    router.post(`/integrations/connections/:connectionId/${name}`, manage, async (ctx) => {
      await kit.form(ctx);
      const networkId = networkOf(ctx);
      const connection = await requireConnection(kit.domain, networkId, ctx.params.connectionId!);
      const back = `${INTEGRATIONS}/groups/${connection.groupId}/connections`;
      try {
        await action.run(kit.domain, actorOf(ctx), networkId, connection.id);
        await kit.redirect(ctx, back, { kind: 'info', text: `The connection with client ID ${connection.clientId} ${action.done}.` });
      } catch (err) {
        if (!(err instanceof DomainError) || err.status === 404) throw err;
        await kit.redirect(ctx, back, { kind: 'error', text: err.message });
      }
    });
  }

  return router;
}
