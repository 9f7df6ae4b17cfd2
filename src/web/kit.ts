import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';

import type { Context, Next } from 'koa';
import type nunjucks from 'nunjucks';

import type { DomainContext } from '../domain/context.js';
import { DomainError } from '../domain/errors.js';
import type { Logger } from '../logger.js';
import { Csrf, CSRF_FIELD } from './csrf.js';
import { readPageForm, type PageForm } from './forms.js';
import { createViews, findViewsDir, renderPage, type PageLocals } from './render.js';
import { SharedSessionStore, Sessions, SqlSessionStore, type ExpiringStore } from './session.js';
import { LoginThrottle, type LimiterFactory } from './throttle.js';

/** The shared pieces every page area uses: views, sessions, CSRF, the login throttle. */
export interface WebKit {
  readonly domain: DomainContext;
  readonly logger: Logger;
  readonly issuer: string;
  readonly views: nunjucks.Environment;
  readonly sessions: Sessions;
  readonly csrf: Csrf;
  readonly throttle: LoginThrottle;
  /** Renders a view with the request's CSRF token and flash message. */
  render(ctx: Context, view: string, locals: PageLocals, status?: number): Promise<void>;
  /** Reads a POSTed form and checks its CSRF token; a bad token ends the request with 403. */
  form(ctx: Context): Promise<PageForm>;
  /** Answers a POST with 303 See Other, optionally with a message for the next page. */
  redirect(ctx: Context, location: string, flash?: { kind: 'info' | 'error'; text: string }): Promise<void>;
}

export interface WebKitOptions {
  domain: DomainContext;
  logger: Logger;
  issuer: string;
  /** The shared session store (Redis) when REDIS_URL is set; SQL otherwise. */
  sessionStore?: ExpiringStore | undefined;
  /** Builds rate limiters with shared counters; in-process limiters otherwise. */
  createLimiter?: LimiterFactory | undefined;
}

export function createWebKit(options: WebKitOptions): WebKit {
  const { domain, logger, issuer } = options;
  const secure = issuer.startsWith('https:');
  const views = createViews(findViewsDir(), { watch: false });
  const store = options.sessionStore ? new SharedSessionStore(options.sessionStore, domain.clock) : new SqlSessionStore(domain.db, domain.clock);
  const sessions = new Sessions({ store, clock: domain.clock, key: domain.keys.webTokens, secure });
  const csrf = new Csrf(sessions, domain.keys.webTokens, secure);

  return {
    domain,
    logger,
    issuer,
    views,
    sessions,
    csrf,
    throttle: new LoginThrottle(options.createLimiter),
    async render(ctx, view, locals, status) {
      const [token, flash] = await Promise.all([csrf.token(ctx), sessions.takeFlash(ctx)]);
      renderPage(views, ctx, view, { csrf: token, csrfField: CSRF_FIELD, flash, ...locals }, status);
    },
    async form(ctx) {
      const form = await readPageForm(ctx);
      const submitted = form[CSRF_FIELD];
      if (typeof submitted !== 'string' || !(await csrf.verify(ctx, submitted))) {
        logger.warn({ request_id: ctx.state.requestId, path: ctx.path }, 'form rejected: missing or wrong CSRF token');
        throw new DomainError('form.csrf', 403, 'this form has expired or was sent from another site; reload the page and try again');
      }
      return form;
    },
    async redirect(ctx, location, flash) {
      if (flash) await sessions.flash(ctx, flash.kind, flash.text);
      ctx.status = 303;
      ctx.redirect(location);
    },
  };
}

const STATIC_TYPES: Readonly<Record<string, string>> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** Serves `views/static/*` under `/static/`: a fixed list of extensions, no directory walking. */
export function serveStatic(viewsDir = findViewsDir()) {
  const root = join(viewsDir, 'static');
  return async function staticFiles(ctx: Context, next: Next): Promise<void> {
    const match = /^\/static\/([a-z0-9-]+\.(css|js|svg|png))$/.exec(ctx.path);
    if (!match || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    const file = join(root, match[1]!);
    if (!existsSync(file)) return next();
    ctx.type = STATIC_TYPES[extname(file)]!;
    ctx.length = statSync(file).size;
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = createReadStream(file);
  };
}
