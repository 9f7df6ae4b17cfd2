import type { Context } from 'koa';

import { field } from './forms.js';
import type { WebKit } from './kit.js';

export interface SignInLocals {
  email?: string;
  next?: string;
  error?: string;
}

export interface PasswordSignIn<Account extends { id: string }> {
  /** Checks the e-mail and password; undefined for an unknown e-mail and a wrong password alike. */
  authenticate(email: string, password: string): Promise<Account | undefined>;
  /** The session subject, such as `user:<id>` or `developer:<id>`. */
  subject(account: Account): string;
  /** The page to redirect to when the form names no return path. */
  home(account: Account): string;
  /** Accepts only a local path of this area as the return path. */
  safeNext(value: string): string | undefined;
  show(ctx: Context, locals: SignInLocals, status: number): Promise<void>;
  /** One message for both failures, so the form reveals no accounts. */
  failedMessage: string;
  /** Names the area in log lines, such as "sign-in" or "portal sign-in". */
  label: string;
}

/**
 * Handles the POST of an e-mail and password form: throttle first, then the check, then the
 * session. Shared by the hub's and the portal's sign-in, which differ only in the options.
 */
export async function signInWithPassword<Account extends { id: string }>(kit: WebKit, ctx: Context, options: PasswordSignIn<Account>): Promise<void> {
  const form = await kit.form(ctx);
  const email = field(form, 'email').trim();
  const password = field(form, 'password');
  const next = options.safeNext(field(form, 'next'));

  const verdict = await kit.throttle.check(email, ctx.ip);
  if (!verdict.allowed) {
    ctx.set('Retry-After', String(verdict.retryAfterSeconds));
    const minutes = Math.max(1, Math.ceil(verdict.retryAfterSeconds / 60));
    kit.logger.warn({ request_id: ctx.state.requestId }, `${options.label} rejected: too many failed attempts`);
    return options.show(ctx, { email, next, error: `Too many failed sign-ins. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.` }, 429);
  }

  const account = await options.authenticate(email, password);
  if (!account) {
    await kit.throttle.recordFailure(email, ctx.ip);
    kit.logger.info({ request_id: ctx.state.requestId }, `${options.label} failed`);
    return options.show(ctx, { email, next, error: options.failedMessage }, 400);
  }

  await kit.throttle.recordSuccess(email);
  await kit.sessions.start(ctx, options.subject(account));
  kit.logger.info({ request_id: ctx.state.requestId, subject: options.subject(account) }, `${options.label} succeeded`);
  await kit.redirect(ctx, next ?? options.home(account));
}
