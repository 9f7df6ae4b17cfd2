import type { Context } from 'koa';

import { currentTerms, requireApp } from '../../domain/apps.js';
import { connectApp, declineConnection, requireConnection } from '../../domain/connections.js';
import { approveScopeUpdate, pendingScopeUpdate } from '../../domain/consent-updates.js';
import { DomainError } from '../../domain/errors.js';
import { requireGroup } from '../../domain/groups.js';
import { generateSecret, listSecrets } from '../../domain/secrets.js';
import type { App } from '../../domain/types.js';
import { listApis } from '../../storage/apis.js';
import { listApps } from '../../storage/apps.js';
import { listConnections } from '../../storage/connections.js';
import { actorOf, networkOf, requirePermission, viewerOf } from '../auth.js';
import { field, fields } from '../forms.js';
import type { WebKit } from '../kit.js';
import { INTEGRATIONS } from './groups.js';
import { hubRouter } from './hub.js';

// Tenants listed by name on the Allow Access screen; the rest are counted.
const ALLOW_TENANTS_SHOWN = 200;

/** Progress of Connect New App, kept in the session between its steps. */
interface ConnectFlow {
  groupId: string;
  appId: string;
  acceptedTermsVersion?: number;
  connectConfirmed?: boolean;
}

/** Describes each scope an app requests, in the words of the API catalogue and of the app's developer. */
export async function describeScopes(kit: WebKit, app: App, only?: ReadonlySet<string>) {
  const apis = await listApis(kit.domain.db);
  return app.scopes
    .filter((s) => !only || only.has(`${s.audience}|${s.scope}`))
    .map((s) => {
      const api = apis.find((candidate) => candidate.id === s.apiId);
      return {
        key: `${s.audience}|${s.scope}`,
        scope: s.scope,
        apiName: api?.name ?? s.audience,
        description: api?.scopes.find((c) => c.scope === s.scope)?.description ?? s.scope,
        reason: s.reason,
      };
    });
}

async function publishedApp(kit: WebKit, appId: string): Promise<App> {
  const app = await requireApp(kit.domain, appId);
  if (!app.published) throw new DomainError('app.not_found', 404, `app ${JSON.stringify(appId)} was not found`);
  return app;
}

/** Connect New App, the Allow Access screen, Generate and the one-time display of the secret. */
export function connectRoutes(kit: WebKit) {
  const router = hubRouter(kit);
  const manage = requirePermission('integrations.manage');
  const base = '/integrations/groups/:groupId/connect';
  const flowUrl = (groupId: string, appId: string, step = '') => `${INTEGRATIONS}/groups/${groupId}/connect/${appId}${step}`;

  /** Reads the flow for this group and app; a flow of another group or app is not ours. */
  const flowOf = async (ctx: Context): Promise<ConnectFlow | undefined> => {
    const flow = await kit.sessions.recall<ConnectFlow>(ctx, 'connect');
    return flow && flow.groupId === ctx.params.groupId && flow.appId === ctx.params.appId ? flow : undefined;
  };

  router.get(base, manage, async (ctx) => {
    const networkId = networkOf(ctx);
    const group = await requireGroup(kit.domain, networkId, ctx.params.groupId!);
    const connected = new Set((await listConnections(kit.domain.db, networkId, { groupId: group.id })).map((c) => c.appId));
    const apps = (await listApps(kit.domain.db, { publishedOnly: true })).map((app) => ({ ...app, connected: connected.has(app.id) }));
    await kit.render(ctx, 'hub/connect-apps.njk', { title: `Connect New App to ${group.name}`, group, apps });
  });

  router.post(base, manage, async (ctx) => {
    const form = await kit.form(ctx);
    const group = await requireGroup(kit.domain, networkOf(ctx), ctx.params.groupId!);
    const app = await publishedApp(kit, field(form, 'app_id'));
    await kit.sessions.remember(ctx, 'connect', { groupId: group.id, appId: app.id } satisfies ConnectFlow);
    await kit.redirect(ctx, flowUrl(group.id, app.id, '/terms'));
  });

  router.get(`${base}/:appId/terms`, manage, async (ctx) => {
    const group = await requireGroup(kit.domain, networkOf(ctx), ctx.params.groupId!);
    const app = await publishedApp(kit, ctx.params.appId!);
    await kit.render(ctx, 'hub/connect-terms.njk', { title: `Terms and Conditions of ${app.name}`, group, app, terms: await currentTerms(kit.domain, app) });
  });

  router.post(`${base}/:appId/terms`, manage, async (ctx) => {
    const form = await kit.form(ctx);
    const group = await requireGroup(kit.domain, networkOf(ctx), ctx.params.groupId!);
    const app = await publishedApp(kit, ctx.params.appId!);
    if (field(form, 'terms_version') !== String(app.termsVersion)) {
      return kit.redirect(ctx, flowUrl(group.id, app.id, '/terms'), { kind: 'error', text: `The terms of ${app.name} changed while you read them; read and accept the current version.` });
    }
    await kit.sessions.remember(ctx, 'connect', { groupId: group.id, appId: app.id, acceptedTermsVersion: app.termsVersion } satisfies ConnectFlow);
    await kit.redirect(ctx, flowUrl(group.id, app.id));
  });

  router.get(`${base}/:appId`, manage, async (ctx) => {
    const group = await requireGroup(kit.domain, networkOf(ctx), ctx.params.groupId!);
    const app = await publishedApp(kit, ctx.params.appId!);
    const flow = await flowOf(ctx);
    if (flow?.acceptedTermsVersion !== app.termsVersion) return ctx.redirect(flowUrl(group.id, app.id, '/terms'));
    await kit.render(ctx, 'hub/connect-confirm.njk', { title: `Connect ${app.name}`, group, app });
  });

  router.post(`${base}/:appId`, manage, async (ctx) => {
    await kit.form(ctx);
    const group = await requireGroup(kit.domain, networkOf(ctx), ctx.params.groupId!);
    const app = await publishedApp(kit, ctx.params.appId!);
    const flow = await flowOf(ctx);
    if (flow?.acceptedTermsVersion !== app.termsVersion) return kit.redirect(ctx, flowUrl(group.id, app.id, '/terms'));
    await kit.sessions.remember(ctx, 'connect', { ...flow, connectConfirmed: true } satisfies ConnectFlow);
    await kit.redirect(ctx, flowUrl(group.id, app.id, '/allow'));
  });

  router.get(`${base}/:appId/allow`, manage, async (ctx) => {
    const group = await requireGroup(kit.domain, networkOf(ctx), ctx.params.groupId!);
    const app = await publishedApp(kit, ctx.params.appId!);
    const flow = await flowOf(ctx);
    if (flow?.acceptedTermsVersion !== app.termsVersion || !flow.connectConfirmed) return ctx.redirect(flowUrl(group.id, app.id, '/terms'));
    await kit.render(ctx, 'hub/allow-access.njk', {
      title: 'Allow Access',
      group,
      app,
      scopes: await describeScopes(kit, app),
      tenants: group.tenantIds.slice(0, ALLOW_TENANTS_SHOWN),
      moreTenants: Math.max(0, group.tenantIds.length - ALLOW_TENANTS_SHOWN),
      action: flowUrl(group.id, app.id, '/allow'),
    });
  });

  router.post(`${base}/:appId/allow`, manage, async (ctx) => {
    const form = await kit.form(ctx);
    const networkId = networkOf(ctx);
    const group = await requireGroup(kit.domain, networkId, ctx.params.groupId!);
    const app = await publishedApp(kit, ctx.params.appId!);
    const flow = await flowOf(ctx);
    if (flow?.acceptedTermsVersion === undefined || !flow.connectConfirmed) return kit.redirect(ctx, flowUrl(group.id, app.id, '/terms'));
    await kit.sessions.remember(ctx, 'connect', undefined);

    if (field(form, 'decision') !== 'allow') {
      await declineConnection(kit.domain, actorOf(ctx), networkId, { groupId: group.id, appId: app.id });
      return kit.redirect(ctx, INTEGRATIONS, { kind: 'info', text: `You declined access for ${app.name}; nothing was connected.` });
    }
    try {
      // Approve exactly the scopes the screen showed: if the app asked for more meanwhile, the
      // extra ones wait for their own Allow Access screen ("update available"). A form without
      // the list (a script, not the page) approves what the app requests now.
      const shown = fields(form, 'shown_scope');
      const connection = await connectApp(kit.domain, actorOf(ctx), networkId, {
        groupId: group.id,
        appId: app.id,
        acceptedTermsVersion: flow.acceptedTermsVersion,
        approvedBy: viewerOf(ctx).user.email,
        scopes: shown.length > 0 ? shown : undefined,
      });
      await kit.redirect(ctx, `${INTEGRATIONS}/connections/${connection.id}/connected`);
    } catch (err) {
      if (!(err instanceof DomainError) || err.status === 404) throw err;
      await kit.redirect(ctx, `${INTEGRATIONS}/groups/${group.id}/connections`, { kind: 'error', text: err.message });
    }
  });

  const connectionView = async (ctx: Context) => {
    const networkId = networkOf(ctx);
    const connection = await requireConnection(kit.domain, networkId, ctx.params.connectionId!);
    if (connection.status === 'disconnected') throw new DomainError('connection.not_found', 404, 'connection not found');
    const group = await requireGroup(kit.domain, networkId, connection.groupId);
    const app = await requireApp(kit.domain, connection.appId);
    return { connection, group, app };
  };

  router.get('/integrations/connections/:connectionId/connected', manage, async (ctx) => {
    const { connection, group, app } = await connectionView(ctx);
    await kit.render(ctx, 'hub/connected.njk', { title: 'Access allowed', connection, group, app });
  });

  router.post('/integrations/connections/:connectionId/generate', manage, async (ctx) => {
    await kit.form(ctx);
    const { connection } = await connectionView(ctx);
    await kit.redirect(ctx, `${INTEGRATIONS}/connections/${connection.id}/generate`);
  });

  router.get('/integrations/connections/:connectionId/generate', manage, async (ctx) => {
    const { connection, group, app } = await connectionView(ctx);
    const now = kit.domain.clock.now();
    const valid = (await listSecrets(kit.domain.db, networkOf(ctx), connection.id)).filter((s) => s.revokedAt === null && (s.expiresAt === null || s.expiresAt > now));
    await kit.render(ctx, 'hub/generate.njk', {
      title: 'Generate client secret',
      connection,
      group,
      app,
      rotating: valid.length > 0,
      defaultGraceHours: Math.round(kit.domain.settings.secretGracePeriod / 3600),
    });
  });

  router.post('/integrations/connections/:connectionId/secret', manage, async (ctx) => {
    const form = await kit.form(ctx);
    const { connection, group } = await connectionView(ctx);
    const graceText = field(form, 'grace_hours');
    const graceSeconds = graceText === '' ? undefined : /^\d{1,4}$/.test(graceText) ? Number(graceText) * 3600 : -1;
    try {
      const generated = await generateSecret(kit.domain, actorOf(ctx), networkOf(ctx), connection.id, { graceSeconds });
      await kit.sessions.putReveal(ctx, {
        kind: 'client_secret',
        connectionId: connection.id,
        clientId: generated.clientId,
        clientSecret: generated.clientSecret,
        previousExpiresAt: generated.previousExpiresAt === null ? '' : String(generated.previousExpiresAt),
      });
      await kit.redirect(ctx, `${INTEGRATIONS}/connections/${connection.id}/secret`);
    } catch (err) {
      if (!(err instanceof DomainError) || err.status === 404) throw err;
      await kit.redirect(ctx, `${INTEGRATIONS}/groups/${group.id}/connections`, { kind: 'error', text: err.message });
    }
  });

  // The secret is shown on the first GET after it was generated and never again: the sealed
  // copy leaves the session as it is read, and the page may not be cached.
  router.get('/integrations/connections/:connectionId/secret', manage, async (ctx) => {
    const { connection, group, app } = await connectionView(ctx);
    const reveal = await kit.sessions.takeReveal(ctx);
    const shown = reveal?.kind === 'client_secret' && reveal.connectionId === connection.id ? reveal : undefined;
    await kit.render(ctx, 'hub/secret.njk', {
      title: shown ? 'Client ID and secret' : 'Secret already shown',
      connection,
      group,
      app,
      secret: shown?.clientSecret,
      previousExpiresAt: shown?.previousExpiresAt ? Number(shown.previousExpiresAt) : null,
    });
  });

  // A fresh Allow Access screen for scopes the app added after the connection's consent.
  router.get('/integrations/connections/:connectionId/update', manage, async (ctx) => {
    const { connection, group, app } = await connectionView(ctx);
    const update = await pendingScopeUpdate(kit.domain, networkOf(ctx), connection.id);
    if (!update) return ctx.redirect(`${INTEGRATIONS}/groups/${group.id}/connections`);
    await kit.render(ctx, 'hub/allow-access.njk', {
      title: 'Allow Access',
      group,
      app,
      update,
      terms: await currentTerms(kit.domain, app),
      scopes: await describeScopes(kit, app, new Set(update.added.map((s) => `${s.audience}|${s.scope}`))),
      tenants: group.tenantIds.slice(0, ALLOW_TENANTS_SHOWN),
      moreTenants: Math.max(0, group.tenantIds.length - ALLOW_TENANTS_SHOWN),
      action: `${INTEGRATIONS}/connections/${connection.id}/update`,
    });
  });

  router.post('/integrations/connections/:connectionId/update', manage, async (ctx) => {
    const form = await kit.form(ctx);
    const { connection, group, app } = await connectionView(ctx);
    const back = `${INTEGRATIONS}/groups/${group.id}/connections`;
    if (field(form, 'decision') !== 'allow') return kit.redirect(ctx, back, { kind: 'info', text: `The new scopes of ${app.name} were not approved; the connection keeps its scopes.` });
    try {
      await approveScopeUpdate(kit.domain, actorOf(ctx), networkOf(ctx), connection.id, {
        approvedBy: viewerOf(ctx).user.email,
        acceptedTermsVersion: Number(field(form, 'terms_version')),
        shownScopes: fields(form, 'shown_scope').length > 0 ? fields(form, 'shown_scope') : undefined,
      });
      await kit.redirect(ctx, back, { kind: 'info', text: `The new scopes of ${app.name} were approved.` });
    } catch (err) {
      if (!(err instanceof DomainError) || err.status === 404) throw err;
      await kit.redirect(ctx, back, { kind: 'error', text: err.message });
    }
  });

  return router;
}
