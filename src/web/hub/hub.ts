import Router from '@koa/router';
import type { Context, Next } from 'koa';

import { loadViewer, requireNetworkUser, requireSignIn, viewerOf, type Viewer } from '../auth.js';
import type { WebKit } from '../kit.js';

export const HUB = '/hub';

/** The hub's navigation: a module appears only for a viewer whose roles grant it. */
export function hubNav(viewer: Viewer, path: string): { href: string; label: string; current: boolean }[] {
  const items: { href: string; label: string }[] = [];
  if (viewer.can('integrations.view')) items.push({ href: `${HUB}/integrations`, label: 'API & Integrations' });
  if (viewer.can('users.manage')) items.push({ href: `${HUB}/users`, label: 'User Management' });
  if (viewer.can('integrations.view') || viewer.can('users.manage')) items.push({ href: `${HUB}/audit`, label: 'Audit log' });
  return items.map((item) => ({ ...item, current: path === item.href || path.startsWith(`${item.href}/`) }));
}

/** Fills the layout's header for hub pages. */
export async function hubLocals(kit: WebKit, ctx: Context, next: Next): Promise<void> {
  const viewer = (await loadViewer(kit, ctx))!;
  ctx.state.pageLocals = {
    areaName: 'Hub',
    homeHref: HUB,
    viewerName: viewer.user.name,
    networkName: viewer.network?.name,
    nav: hubNav(viewer, ctx.path),
    can: {
      view: viewer.can('integrations.view'),
      manage: viewer.can('integrations.manage'),
      users: viewer.can('users.manage'),
    },
  };
  await next();
}

/** A router for one hub module: signed in, a user of a network, layout filled. */
export function hubRouter(kit: WebKit): Router {
  const router = new Router({ prefix: HUB });
  router.use(requireSignIn(kit), requireNetworkUser, (ctx, next) => hubLocals(kit, ctx, next));
  return router;
}

export function hubHome(kit: WebKit): Router {
  const router = hubRouter(kit);
  router.get('/', async (ctx) => {
    const viewer = viewerOf(ctx);
    if (viewer.can('integrations.view')) return ctx.redirect(`${HUB}/integrations`);
    if (viewer.can('users.manage')) return ctx.redirect(`${HUB}/users`);
    await kit.render(ctx, 'hub/home.njk', { title: 'Hub' });
  });
  return router;
}
