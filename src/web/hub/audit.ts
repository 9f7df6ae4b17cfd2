import { listAuditEvents } from '../../storage/audit.js';
import { forbidden, networkOf, viewerOf } from '../auth.js';
import type { WebKit } from '../kit.js';
import { hubRouter } from './hub.js';

const AUDIT_PAGE_SIZE = 50;

/** Lists the audit log of the viewer's network, newest first, filtered by action or actor. */
export function auditRoutes(kit: WebKit) {
  const router = hubRouter(kit);

  router.get('/audit', async (ctx) => {
    const viewer = viewerOf(ctx);
    if (!viewer.can('integrations.view') && !viewer.can('users.manage')) throw forbidden();
    const action = String(ctx.query.action ?? '').trim().slice(0, 100);
    const actor = String(ctx.query.actor ?? '').trim().slice(0, 100);
    const before = Number.parseInt(String(ctx.query.before ?? ''), 10);
    const events = await listAuditEvents(kit.domain.db, networkOf(ctx), {
      action: action || undefined,
      actor: actor || undefined,
      beforeId: Number.isSafeInteger(before) && before > 0 ? before : undefined,
      limit: AUDIT_PAGE_SIZE + 1,
    });
    const page = events.slice(0, AUDIT_PAGE_SIZE);
    await kit.render(ctx, 'hub/audit.njk', {
      title: 'Audit log',
      events: page.map((event) => ({ ...event, detailsText: JSON.stringify(event.details) })),
      action,
      actor,
      nextBefore: events.length > AUDIT_PAGE_SIZE ? page[page.length - 1]!.id : null,
    });
  });

  return router;
}
