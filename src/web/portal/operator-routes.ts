import Router from '@koa/router';

import { invitationLink, inviteDeveloper, isOpenSignUp, setOpenSignUp } from '../../domain/developers.js';
import { DomainError } from '../../domain/errors.js';
import { listDeveloperOrgs } from '../../storage/developers.js';
import { actorOf, loadViewer, requireOperator, requireSignIn } from '../auth.js';
import { field } from '../forms.js';
import type { WebKit } from '../kit.js';

export const OPERATOR_DEVELOPERS = '/operator/developers';
const INVITATION_REVEAL = 'developer-invitation';

/** Operator page of the developer portal: the open sign-up setting and developer invitations. */
export function operatorDeveloperRoutes(kit: WebKit): Router {
  const router = new Router({ prefix: OPERATOR_DEVELOPERS });
  router.use(requireSignIn(kit), requireOperator, async (ctx, next) => {
    const viewer = (await loadViewer(kit, ctx))!;
    ctx.state.pageLocals = {
      areaName: 'Operator',
      homeHref: '/operator',
      viewerName: viewer.user.name,
      nav: [
        { href: '/operator', label: 'Networks', current: false },
        { href: '/operator/apis', label: 'API catalogue', current: false },
        { href: OPERATOR_DEVELOPERS, label: 'Developers', current: true },
      ],
    };
    await next();
  });

  router.get('/', async (ctx) => {
    const [openSignUp, orgs] = await Promise.all([isOpenSignUp(kit.domain), listDeveloperOrgs(kit.domain.db)]);
    await kit.render(ctx, 'portal/operator-developers.njk', { title: 'Developers', openSignUp, orgs });
  });

  router.post('/sign-up', async (ctx) => {
    const form = await kit.form(ctx);
    const enabled = field(form, 'open_sign_up') === 'on';
    await setOpenSignUp(kit.domain, actorOf(ctx), enabled);
    const text = enabled ? 'Open sign-up is on: anyone may create a developer account.' : 'Open sign-up is off: developers join by invitation only.';
    await kit.redirect(ctx, OPERATOR_DEVELOPERS, { kind: 'info', text });
  });

  router.post('/invitations', async (ctx) => {
    const form = await kit.form(ctx);
    const orgId = field(form, 'org_id');
    try {
      const invitation = await inviteDeveloper(kit.domain, actorOf(ctx), {
        email: field(form, 'email'),
        orgId: orgId === '' ? undefined : orgId,
        orgName: field(form, 'org_name'),
      });
      await kit.sessions.putReveal(ctx, {
        kind: INVITATION_REVEAL,
        email: invitation.email,
        url: invitationLink(kit.issuer, invitation.token),
        expiresAt: String(invitation.expiresAt),
      });
      await kit.redirect(ctx, `${OPERATOR_DEVELOPERS}/invitation`);
    } catch (err) {
      if (!(err instanceof DomainError) || err.status === 404) throw err;
      await kit.redirect(ctx, OPERATOR_DEVELOPERS, { kind: 'error', text: err.message });
    }
  });

  // The one-time link is a credential, so it is shown on exactly one page view.
  router.get('/invitation', async (ctx) => {
    const reveal = await kit.sessions.takeReveal(ctx);
    const shown = reveal?.kind === INVITATION_REVEAL ? reveal : undefined;
    await kit.render(ctx, 'operator/link.njk', { title: 'Developer invitation', shown, back: OPERATOR_DEVELOPERS });
  });

  return router;
}
