/**
 * Server-rendered pages: sign-in, the hub (`/hub`), the operator pages (`/operator`), and the
 * pieces other page areas (the developer portal under `/portal`) reuse.
 *
 * How another area mounts its pages:
 *
 *   const web = createWebPages({ domain, logger, issuer });   // once, in src/app.ts
 *   app.use(web.routes);
 *   app.use(portalPages(web.kit));                             // your own router
 *
 * Inside your router, with `kit: WebKit`:
 * - `kit.render(ctx, 'portal/x.njk', { title, ... })` renders a nunjucks view from `views/`
 *   (autoescape on) extending `layout.njk`, with `csrf`, `csrfField` and the flash message set.
 *   Set `ctx.state.pageLocals = { areaName, nav, viewerName, homeHref, signOutAction }` first
 *   to fill the layout's header.
 * - Every POST handler starts with `const form = await kit.form(ctx)`: it reads the urlencoded
 *   body and rejects a missing or wrong CSRF token with 403 before anything changes.
 *   Put `<input type="hidden" name="{{ csrfField }}" value="{{ csrf }}">` in each form.
 * - `kit.sessions.start(ctx, 'developer:<id>')` signs a subject in (a fresh session ID, an
 *   HttpOnly SameSite=Lax cookie, Secure and `__Host-` when the issuer is https);
 *   `kit.sessions.load(ctx)` returns `{ subject, csrf, ... }` or undefined;
 *   `kit.sessions.end(ctx)` signs out.
 * - `kit.throttle` (check, recordFailure, recordSuccess) locks an account after repeated failed
 *   sign-ins; `new LoginThrottle(factory, 'portal_login')` gives an area its own counters.
 * - `hashPassword` / `verifyPassword` in `src/crypto/password.ts` (scrypt, OWASP parameters).
 * - `kit.redirect(ctx, path, flash?)` answers a POST with 303 See Other.
 * - `pageErrors(kit)` renders DomainErrors as HTML pages; `pageSecurityHeaders` sets the CSP.
 */
import type { Context, Middleware, Next } from 'koa';

import { pageErrors } from './errors.js';
import { createWebKit, serveStatic, type WebKit, type WebKitOptions } from './kit.js';
import { pageSecurityHeaders } from './security.js';
import { signInRoutes } from './signin-routes.js';
import { auditRoutes } from './hub/audit.js';
import { connectRoutes } from './hub/connect.js';
import { connectionRoutes } from './hub/connections.js';
import { groupRoutes } from './hub/groups.js';
import { hubHome } from './hub/hub.js';
import { userRoutes } from './hub/users.js';
import { operatorRoutes } from './operator/operator.js';

export type { WebKit } from './kit.js';
export { createWebKit } from './kit.js';
export { pageErrors } from './errors.js';
export { pageSecurityHeaders } from './security.js';

const PAGE_PREFIXES = ['/signin', '/signout', '/hub', '/operator', '/static/'];

function isPagePath(path: string): boolean {
  return PAGE_PREFIXES.some((prefix) => path === prefix || path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`));
}

/** Runs middlewares in order, each calling the next (what koa does with app.use). */
function chain(middlewares: Middleware[]): (ctx: Context, next: Next) => Promise<void> {
  return (ctx, next) => {
    const run = (i: number): Promise<void> => (i === middlewares.length ? next() : Promise.resolve(middlewares[i]!(ctx, () => run(i + 1))));
    return run(0);
  };
}

export interface WebPages {
  readonly kit: WebKit;
  /** Serves every page path and passes other requests on untouched. */
  readonly routes: Middleware;
}

export function createWebPages(options: WebKitOptions): WebPages {
  const kit = createWebKit(options);
  const routers = [
    signInRoutes(kit),
    hubHome(kit),
    groupRoutes(kit),
    connectRoutes(kit),
    connectionRoutes(kit),
    userRoutes(kit),
    auditRoutes(kit),
    operatorRoutes(kit),
  ];
  const pages = chain([
    pageSecurityHeaders,
    serveStatic(),
    pageErrors(kit),
    ...routers.map((router) => router.routes() as unknown as Middleware),
  ]);

  return {
    kit,
    routes: async (ctx: Context, next: Next) => {
      if (!isPagePath(ctx.path)) return next();
      ctx.state.pageRoute = true;
      // A NUL in the path or query would reach SQL, where Postgres rejects it; no page uses one.
      if (/%00|\u0000/i.test(ctx.url)) {
        ctx.status = 400;
        ctx.type = 'text/plain; charset=utf-8';
        ctx.body = 'the request URL must not contain NUL characters\n';
        return;
      }
      await pages(ctx, next);
    },
  };
}
