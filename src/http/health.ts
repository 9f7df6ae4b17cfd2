import type Router from '@koa/router';

import type { Logger } from '../logger.js';
import type { SharedState } from '../shared-state/shared-state.js';
import type { Db } from '../storage/db.js';
import type { Metrics } from './metrics.js';

/** Adds /healthz (process alive), /readyz (database and Redis reachable) and /metrics. */
export function addHealthRoutes(router: Router, deps: { db: Db; shared: SharedState; metrics: Metrics; logger: Logger }): void {
  const { db, shared, metrics, logger } = deps;
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const checks: Record<string, string> = {};
    try {
      await db.raw('select 1');
      checks.database = 'ok';
    } catch (err) {
      logger.warn({ err }, 'readiness: database unreachable');
      checks.database = 'unreachable';
    }
    if (shared.configured) checks.redis = shared.status;
    // Without Redis an instance still issues correct tokens (SQL on every request), so it stays
    // in the load balancer and reports "degraded"; without the database it cannot.
    const ready = checks.database === 'ok';
    const degraded = ready && checks.redis === 'unreachable';
    let status = 'unavailable';
    if (degraded) status = 'degraded';
    else if (ready) status = 'ready';
    ctx.status = ready ? 200 : 503;
    ctx.body = { status, checks };
  });
  router.get('/metrics', async (ctx) => {
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
}
