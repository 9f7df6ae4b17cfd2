import Router from '@koa/router';
import type { Context } from 'koa';

import { PASSWORD_MIN } from '../../crypto/password.js';
import { acceptInvitation, authenticateDeveloper, describeInvitation, INVITATION_PATH, isOpenSignUp, signUpDeveloper } from '../../domain/developers.js';
import { DomainError } from '../../domain/errors.js';
import { field } from '../forms.js';
import type { WebKit } from '../kit.js';
import { signInWithPassword, type SignInLocals } from '../password-signin.js';
import { DEVELOPER_SUBJECT_PREFIX, loadDeveloper, PORTAL_HOME, PORTAL_SIGN_IN, setPortalLocals } from './session.js';

// The same message for an unknown e-mail and a wrong password, so the form reveals no accounts.
export const PORTAL_SIGN_IN_FAILED = 'The e-mail address or password is incorrect.';

/** Accepts only a path inside the portal as the page to return to. */
function safeNext(value: string): string | undefined {
  return /^\/portal(\/[\x21-\x7e]*)?$/.test(value) && !value.includes('//') && value.length <= 2000 ? value : undefined;
}

const anonymousActor = (ctx: Context) => ({ id: 'anonymous', requestId: ctx.state.requestId as string | undefined });

async function showSignIn(kit: WebKit, ctx: Context, locals: SignInLocals, status = 200): Promise<void> {
  setPortalLocals(ctx);
  const openSignUp = await isOpenSignUp(kit.domain);
  await kit.render(ctx, 'portal/signin.njk', { title: 'Developer sign-in', email: locals.email ?? '', next: locals.next ?? '', error: locals.error, openSignUp }, status);
}

async function showSignUp(kit: WebKit, ctx: Context, locals: { email?: string; orgName?: string; error?: string }, status = 200): Promise<void> {
  setPortalLocals(ctx);
  await kit.render(ctx, 'portal/signup.njk', { title: 'Create a developer account', email: locals.email ?? '', orgName: locals.orgName ?? '', minLength: PASSWORD_MIN, error: locals.error }, status);
}

/** Sign-in, sign-out, open sign-up and invitation acceptance of the developer portal. */
export function accountRoutes(kit: WebKit): Router {
  const router = new Router();

  router.get('/portal', (ctx) => ctx.redirect(PORTAL_HOME));

  router.get(PORTAL_SIGN_IN, async (ctx) => {
    if (await loadDeveloper(kit, ctx)) return ctx.redirect(PORTAL_HOME);
    await showSignIn(kit, ctx, { next: safeNext(String(ctx.query.next ?? '')) ?? '' });
  });

  router.post(PORTAL_SIGN_IN, (ctx) =>
    signInWithPassword(kit, ctx, {
      authenticate: async (email, password) => (await authenticateDeveloper(kit.domain, email, password)) ?? undefined,
      subject: (account) => `${DEVELOPER_SUBJECT_PREFIX}${account.id}`,
      home: () => PORTAL_HOME,
      safeNext,
      show: (context, locals, status) => showSignIn(kit, context, locals, status),
      failedMessage: PORTAL_SIGN_IN_FAILED,
      label: 'portal sign-in',
    }),
  );

  router.post('/portal/signout', async (ctx) => {
    await kit.form(ctx);
    await kit.sessions.end(ctx);
    await kit.redirect(ctx, PORTAL_SIGN_IN);
  });

  router.get('/portal/signup', async (ctx) => {
    if (!(await isOpenSignUp(kit.domain))) throw signUpClosed();
    await showSignUp(kit, ctx, {});
  });

  router.post('/portal/signup', async (ctx) => {
    const form = await kit.form(ctx);
    if (!(await isOpenSignUp(kit.domain))) throw signUpClosed();
    const email = field(form, 'email');
    const orgName = field(form, 'org_name');
    const password = field(form, 'password');
    if (password !== field(form, 'confirm')) return showSignUp(kit, ctx, { email, orgName, error: 'The two passwords differ; type the same password twice.' }, 400);

    let account;
    try {
      account = await signUpDeveloper(kit.domain, anonymousActor(ctx), { email, password, orgName });
    } catch (err) {
      if (err instanceof DomainError && err.status !== 403) return showSignUp(kit, ctx, { email, orgName, error: err.message }, err.status);
      throw err;
    }
    await kit.sessions.start(ctx, `${DEVELOPER_SUBJECT_PREFIX}${account.id}`);
    await kit.redirect(ctx, PORTAL_HOME, { kind: 'info', text: `Welcome. Your organisation ${account.org.name} is ready; create your first app.` });
  });

  router.get(INVITATION_PATH, async (ctx) => {
    const token = String(ctx.query.token ?? '');
    const invitation = await describeInvitation(kit.domain, token);
    setPortalLocals(ctx);
    await kit.render(ctx, 'portal/invitation.njk', { title: 'Join the developer portal', invitation, token, minLength: PASSWORD_MIN });
  });

  router.post(INVITATION_PATH, async (ctx) => {
    const form = await kit.form(ctx);
    const token = field(form, 'token');
    const invitation = await describeInvitation(kit.domain, token);
    const retry = (error: string, status = 400) => {
      setPortalLocals(ctx);
      return kit.render(ctx, 'portal/invitation.njk', { title: 'Join the developer portal', invitation, token, minLength: PASSWORD_MIN, error }, status);
    };
    const password = field(form, 'password');
    if (password !== field(form, 'confirm')) return retry('The two passwords differ; type the same password twice.');

    let account;
    try {
      account = await acceptInvitation(kit.domain, anonymousActor(ctx), { token, password });
    } catch (err) {
      if (err instanceof DomainError && err.code === 'developer.invalid_password') return retry(err.message);
      throw err;
    }
    await kit.sessions.start(ctx, `${DEVELOPER_SUBJECT_PREFIX}${account.id}`);
    await kit.redirect(ctx, PORTAL_HOME, { kind: 'info', text: `Welcome to ${account.org.name}. Your password is set and you are signed in.` });
  });

  return router;
}

function signUpClosed(): DomainError {
  return new DomainError('portal.sign_up_closed', 403, 'Sign-up is by invitation only. Ask the platform operator for an invitation.');
}
