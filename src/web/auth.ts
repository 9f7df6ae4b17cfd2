import type { Context, Next } from 'koa';

import type { Permission, User } from '../domain/accounts-types.js';
import { DomainError } from '../domain/errors.js';
import type { Network } from '../domain/types.js';
import { getNetwork } from '../storage/networks.js';
import { getUserById, userPermissions } from '../storage/users.js';
import type { WebKit } from './kit.js';

/** The signed-in hub or operator user of a request, with permissions read fresh. */
export interface Viewer {
  user: User;
  /** Null for operators. */
  network: Network | null;
  permissions: ReadonlySet<Permission>;
  can(permission: Permission): boolean;
}

export const USER_SUBJECT_PREFIX = 'user:';

/**
 * Loads the viewer from the session on every request, so a role change or a removed user
 * takes effect on the next request, never later.
 */
export async function loadViewer(kit: WebKit, ctx: Context): Promise<Viewer | undefined> {
  if (ctx.state.viewerLoaded) return ctx.state.viewer as Viewer | undefined;
  ctx.state.viewerLoaded = true;
  const session = await kit.sessions.load(ctx);
  if (!session?.subject.startsWith(USER_SUBJECT_PREFIX)) return undefined;

  const user = await getUserById(kit.domain.db, session.subject.slice(USER_SUBJECT_PREFIX.length));
  if (!user) return undefined;
  const network = user.networkId === null ? null : ((await getNetwork(kit.domain.db, user.networkId)) ?? null);
  if (user.networkId !== null && network === null) return undefined;
  const permissions = network ? await userPermissions(kit.domain.db, network.id, user.id) : new Set<Permission>();
  const viewer: Viewer = { user, network, permissions, can: (permission) => permissions.has(permission) };
  ctx.state.viewer = viewer;
  return viewer;
}

/** Sends a visitor without a session to the sign-in page, back to this page afterwards. */
export function requireSignIn(kit: WebKit) {
  return async function signedIn(ctx: Context, next: Next): Promise<void> {
    const viewer = await loadViewer(kit, ctx);
    if (!viewer) {
      const back = ctx.method === 'GET' ? `?next=${encodeURIComponent(ctx.originalUrl)}` : '';
      ctx.status = 303;
      ctx.redirect(`/signin${back}`);
      return;
    }
    await next();
  };
}

export const forbidden = (message = 'your role does not allow this page; ask an administrator of your network for access'): DomainError =>
  new DomainError('page.forbidden', 403, message);

export function viewerOf(ctx: Context): Viewer {
  return ctx.state.viewer as Viewer;
}

/** The hub is for users of a network; operators use the operator pages. */
export async function requireNetworkUser(ctx: Context, next: Next): Promise<void> {
  if (viewerOf(ctx).network === null) throw forbidden('the hub is for users of a network; operators use the operator pages');
  await next();
}

export async function requireOperator(ctx: Context, next: Next): Promise<void> {
  if (!viewerOf(ctx).user.isOperator) throw forbidden('only operators may open the operator pages');
  await next();
}

/** Answers 403 unless the viewer's roles grant the permission. */
export function requirePermission(permission: Permission) {
  return async function permitted(ctx: Context, next: Next): Promise<void> {
    if (!viewerOf(ctx).can(permission)) throw forbidden();
    await next();
  };
}

/** The viewer's network ID; every hub query takes it, never an ID from the request. */
export function networkOf(ctx: Context): string {
  const network = viewerOf(ctx).network;
  if (!network) throw forbidden();
  return network.id;
}

export function actorOf(ctx: Context): { id: string; requestId?: string } {
  return { id: `${USER_SUBJECT_PREFIX}${viewerOf(ctx).user.id}`, requestId: ctx.state.requestId as string | undefined };
}
