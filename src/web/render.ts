import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Context } from 'koa';
import nunjucks from 'nunjucks';

/**
 * Finds the repository's `views/` folder from this module, which runs from `src/web/` under
 * the test runner and from `dist/src/web/` when compiled.
 */
export function findViewsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i += 1) {
    const candidate = join(dir, 'views');
    if (existsSync(join(candidate, 'layout.njk'))) return candidate;
    dir = resolve(dir, '..');
  }
  throw new Error('views/layout.njk not found above src/web; the views folder must ship with tenantgate');
}

const dateFormat = new Intl.DateTimeFormat('en-GB', {
  year: 'numeric',
  month: 'short',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  timeZone: 'UTC',
  timeZoneName: 'short',
});

/** Builds the template environment: autoescape on, so every value is HTML-escaped unless marked. */
export function createViews(viewsDir = findViewsDir(), options: { watch?: boolean } = {}): nunjucks.Environment {
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(viewsDir, { noCache: options.watch ?? false }), {
    autoescape: true,
    throwOnUndefined: false,
    trimBlocks: true,
    lstripBlocks: true,
  });
  env.addFilter('datetime', (value: unknown) => (typeof value === 'number' && value > 0 ? dateFormat.format(new Date(value)) : '—'));
  env.addFilter('plural', (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`);
  return env;
}

/** Values every page gets; areas add their own navigation and viewer. */
export interface PageLocals {
  title: string;
  csrf?: string | undefined;
  [name: string]: unknown;
}

/**
 * Renders a view as the response. Pages are private to their viewer, so no cache may keep
 * them, and the back button re-requests instead of showing a stored copy.
 */
export function renderPage(env: nunjucks.Environment, ctx: Context, view: string, locals: PageLocals, status = 200): void {
  ctx.status = status;
  ctx.type = 'text/html; charset=utf-8';
  ctx.set('Cache-Control', 'no-store');
  ctx.body = env.render(view, { ...(ctx.state.pageLocals as object | undefined), ...locals });
}
