import Router from '@koa/router';
import type { Context } from 'koa';

import { PASSWORD_MIN } from '../crypto/password.js';
import { authenticate, peekSignInLink, redeemSignInLink } from '../domain/accounts.js';
import type { User } from '../domain/accounts-types.js';
import { DomainError } from '../domain/errors.js';
import { loadViewer, USER_SUBJECT_PREFIX } from './auth.js';
import { field } from './forms.js';
import type { WebKit } from './kit.js';
import { signInWithPassword, type SignInLocals } from './password-signin.js';

// One message for an unknown e-mail and a wrong password, so the form does not reveal which
// accounts exist.
export const SIGN_IN_FAILED = 'The e-mail address or password is incorrect.';

/** Returns the page a user lands on after signing in: the operator pages or the hub. */
export function homeOf(user: User): string {
  return user.isOperator ? '/operator' : '/hub';
}

/** Accepts only a local path as the page to return to, never another site. */
function safeNext(value: string): string | undefined {
  return /^\/(?![/\\])[\x21-\x7e]*$/.test(value) && value.length <= 2000 ? value : undefined;
}

async function showSignIn(kit: WebKit, ctx: Context, locals: SignInLocals, status = 200): Promise<void> {
  await kit.render(ctx, 'signin.njk', { title: 'Sign in', email: locals.email ?? '', next: locals.next ?? '', error: locals.error }, status);
}

/** Sign-in with e-mail and password, sign-out, and the one-time links that set a password. */
export function signInRoutes(kit: WebKit): Router {
  const router = new Router();

  router.get('/signin', async (ctx) => {
    const viewer = await loadViewer(kit, ctx);
    if (viewer) return ctx.redirect(homeOf(viewer.user));
    await showSignIn(kit, ctx, { next: safeNext(String(ctx.query.next ?? '')) ?? '' });
  });

  router.post('/signin', (ctx) =>
    signInWithPassword(kit, ctx, {
      authenticate: (email, password) => authenticate(kit.domain, email, password),
      subject: (user) => `${USER_SUBJECT_PREFIX}${user.id}`,
      home: homeOf,
      safeNext,
      show: (context, locals, status) => showSignIn(kit, context, locals, status),
      failedMessage: SIGN_IN_FAILED,
      label: 'sign-in',
    }),
  );

  router.post('/signout', async (ctx) => {
    await kit.form(ctx);
    await kit.sessions.end(ctx);
    await kit.redirect(ctx, '/signin');
  });

  // The one-time link: GET shows the password form, whose POST carries the token in the body.
  const linkGone = () => new DomainError('user.link_gone', 404, 'This sign-in link was already used or has expired. Ask for a new one.');

  router.get(['/signin/link', '/signin/link/'], async (ctx) => {
    const token = String(ctx.query.token ?? '');
    const user = await peekSignInLink(kit.domain, token);
    if (!user) throw linkGone();
    await kit.render(ctx, 'signin-link.njk', { title: 'Choose your password', user, token, minLength: PASSWORD_MIN });
  });

  router.post('/signin/link', async (ctx) => {
    const form = await kit.form(ctx);
    const token = field(form, 'token');
    const password = field(form, 'password');
    const user = await peekSignInLink(kit.domain, token);
    if (!user) throw linkGone();
    const retry = (error: string) => kit.render(ctx, 'signin-link.njk', { title: 'Choose your password', user, token, minLength: PASSWORD_MIN, error }, 400);
    if (password !== field(form, 'confirm')) return retry('The two passwords differ; type the same password twice.');

    try {
      await redeemSignInLink(kit.domain, token, password);
    } catch (err) {
      if (err instanceof DomainError && err.code === 'user.weak_password') return retry(err.message);
      throw err;
    }
    await kit.sessions.start(ctx, `${USER_SUBJECT_PREFIX}${user.id}`);
    await kit.redirect(ctx, homeOf(user), { kind: 'info', text: 'Your password is set and you are signed in.' });
  });

  return router;
}
