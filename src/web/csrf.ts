import { createHmac, randomBytes } from 'node:crypto';

import type { Context } from 'koa';

import { sameToken, setCookie, type Sessions } from './session.js';

export const CSRF_FIELD = '_csrf';

/**
 * CSRF tokens for page forms. Signed-in users get their session's synchronizer token. Forms
 * shown before sign-in (sign-in, one-time links) use a signed double-submit cookie, so a
 * forged cross-site login is rejected as well (OWASP CSRF Prevention Cheat Sheet).
 */
export class Csrf {
  private readonly cookieName: string;

  constructor(
    private readonly sessions: Sessions,
    private readonly key: Buffer,
    private readonly secure: boolean,
  ) {
    this.cookieName = secure ? '__Host-tg_csrf' : 'tg_csrf';
  }

  private sign(value: string): string {
    return createHmac('sha256', this.key).update(`csrf|${value}`).digest('base64url');
  }

  /** Returns the token to put in the request's forms as the `_csrf` field. */
  async token(ctx: Context): Promise<string> {
    const session = await this.sessions.load(ctx);
    if (session) return session.csrf;

    let value = ctx.cookies.get(this.cookieName);
    if (!value || !/^[A-Za-z0-9_-]{43}$/.test(value)) {
      value = randomBytes(32).toString('base64url');
      setCookie(ctx, this.cookieName, value, { secure: this.secure, sameSite: 'strict' });
    }
    return this.sign(value);
  }

  /** True when the submitted token belongs to this browser's session or pre-session cookie. */
  async verify(ctx: Context, submitted: string | undefined): Promise<boolean> {
    if (!submitted) return false;
    const session = await this.sessions.load(ctx);
    if (session) return sameToken(submitted, session.csrf);
    const value = ctx.cookies.get(this.cookieName);
    return value !== undefined && sameToken(submitted, this.sign(value));
  }
}
