import type { Context, Next } from 'koa';

import { findDeveloperAccount, type DeveloperAccount } from '../../domain/developers.js';
import type { AppAccess } from '../../domain/app-updates.js';
import type { Actor } from '../../domain/types.js';
import type { WebKit } from '../kit.js';

// Portal sessions carry `developer:<id>` as their subject. The hub loads only `user:` subjects
// and the portal only `developer:` ones, so neither kind of session opens the other area.
export const DEVELOPER_SUBJECT_PREFIX = 'developer:';
export const PORTAL_HOME = '/portal/apps';
export const PORTAL_SIGN_IN = '/portal/signin';

/** Loads the signed-in developer afresh on every request, so a disabled account stops at once. */
export async function loadDeveloper(kit: WebKit, ctx: Context): Promise<DeveloperAccount | undefined> {
  if (ctx.state.developerLoaded) return ctx.state.developer as DeveloperAccount | undefined;
  ctx.state.developerLoaded = true;
  const session = await kit.sessions.load(ctx);
  if (!session?.subject.startsWith(DEVELOPER_SUBJECT_PREFIX)) return undefined;

  const account = await findDeveloperAccount(kit.domain, session.subject.slice(DEVELOPER_SUBJECT_PREFIX.length));
  if (!account) return undefined;
  ctx.state.developer = account;
  return account;
}

/** Sends a visitor without a developer session to the portal's sign-in page. */
export function requireDeveloper(kit: WebKit) {
  return async function developerSignedIn(ctx: Context, next: Next): Promise<void> {
    const account = await loadDeveloper(kit, ctx);
    if (!account) {
      const back = ctx.method === 'GET' ? `?next=${encodeURIComponent(ctx.originalUrl)}` : '';
      ctx.status = 303;
      ctx.redirect(`${PORTAL_SIGN_IN}${back}`);
      return;
    }
    setPortalLocals(ctx, account);
    await next();
  };
}

export function developerOf(ctx: Context): DeveloperAccount {
  return ctx.state.developer as DeveloperAccount;
}

/** The developer's organisation scope: every app read or change in the portal goes through it. */
export function accessOf(ctx: Context): AppAccess {
  return { kind: 'org', orgId: developerOf(ctx).org.id };
}

export function developerActor(ctx: Context): Actor {
  return { id: `${DEVELOPER_SUBJECT_PREFIX}${developerOf(ctx).id}`, requestId: ctx.state.requestId as string | undefined };
}

/** Fills the layout header for portal pages; without an account only the area name shows. */
export function setPortalLocals(ctx: Context, account?: DeveloperAccount): void {
  ctx.state.pageLocals = {
    areaName: 'Developer portal',
    homeHref: account ? PORTAL_HOME : PORTAL_SIGN_IN,
    viewerName: account ? account.email : undefined,
    networkName: account ? account.org.name : undefined,
    signOutAction: '/portal/signout',
    nav: account ? [{ label: 'My Apps', href: PORTAL_HOME, current: ctx.path.startsWith(PORTAL_HOME) }] : [],
  };
}
