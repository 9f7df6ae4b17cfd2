import type { Context, Middleware, Next } from 'koa';

import { DomainError } from '../../domain/errors.js';
import { pageErrors } from '../errors.js';
import type { WebKit } from '../kit.js';
import { pageSecurityHeaders } from '../security.js';
import { accountRoutes } from './account-routes.js';
import { appRoutes } from './app-routes.js';
import { OPERATOR_DEVELOPERS, operatorDeveloperRoutes } from './operator-routes.js';
import { loadDeveloper, PORTAL_SIGN_IN, setPortalLocals } from './session.js';

const PORTAL_ROOT = '/portal';

/** Checks whether a path belongs here: the portal, or the operator page for developers. */
function isPagePath(path: string): boolean {
  return [PORTAL_ROOT, OPERATOR_DEVELOPERS].some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
}

/** Renders "not found" in the portal's own words, because apps belong to organisations, not networks. */
function portalNotFound(kit: WebKit) {
  return async function portalNotFoundPage(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (err) {
      if (!(err instanceof DomainError) || err.status !== 404) throw err;
      setPortalLocals(ctx, await loadDeveloper(kit, ctx));
      const message = err.code === 'invitation.invalid' ? err.message : 'The page or app was not found in your organisation.';
      await kit.render(ctx, 'error.njk', { title: 'Not found', message, homeHref: PORTAL_SIGN_IN }, 404);
    }
  };
}

/** Runs middlewares in order, each calling the next, as koa's app.use does. */
function chain(middlewares: Middleware[]): (ctx: Context, next: Next) => Promise<void> {
  return (ctx, next) => {
    const run = (i: number): Promise<void> => (i === middlewares.length ? next() : Promise.resolve(middlewares[i]!(ctx, () => run(i + 1))));
    return run(0);
  };
}

/**
 * Builds the developer portal under `/portal`: its own sign-in and sign-up, My Apps and View
 * Connections, on the shared page kit (sessions, CSRF, login throttle, views).
 */
export function portalPages(kit: WebKit): Middleware {
  const accounts = accountRoutes(kit);
  const apps = appRoutes(kit);
  const operator = operatorDeveloperRoutes(kit);
  const pages = chain([
    pageSecurityHeaders,
    pageErrors(kit, PORTAL_SIGN_IN),
    portalNotFound(kit),
    accounts.routes() as unknown as Middleware,
    accounts.allowedMethods() as unknown as Middleware,
    apps.routes() as unknown as Middleware,
    apps.allowedMethods() as unknown as Middleware,
    operator.routes() as unknown as Middleware,
    operator.allowedMethods() as unknown as Middleware,
  ]);

  return async function portal(ctx: Context, next: Next): Promise<void> {
    if (!isPagePath(ctx.path)) return next();
    ctx.state.pageRoute = true;
    if (ctx.path.startsWith(PORTAL_ROOT)) setPortalLocals(ctx);
    await pages(ctx, next);
  };
}
