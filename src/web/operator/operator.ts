import Router from '@koa/router';
import type { Context, Next } from 'koa';

import { createNetworkAdmin } from '../../domain/accounts.js';
import { createApi, listApis, rotateIntrospectionClient } from '../../domain/apis.js';
import { DomainError } from '../../domain/errors.js';
import { createNetwork, listNetworks, renameNetwork, requireNetwork } from '../../domain/networks.js';
import { MAX_QUERY_OFFSET, queryInt } from '../../http/query-int.js';
import { addTenants, type RejectedTenant } from '../../domain/tenants.js';
import { listTenants } from '../../storage/tenants.js';
import { listNetworkUsers } from '../../storage/users.js';
import { actorOf, loadViewer, requireOperator, requireSignIn } from '../auth.js';
import { field, splitList } from '../forms.js';
import type { WebKit } from '../kit.js';

const OPERATOR = '/operator';
const TENANT_PAGE_SIZE = 100;
// Rejected tenant IDs kept for the result page; the count covers the rest.
const REJECTED_SHOWN = 500;

/** The outcome of a tenant paste, kept for the page after the POST. */
interface TenantImport {
  networkId: string;
  addedCount: number;
  existingCount: number;
  rejected: RejectedTenant[];
  rejectedTotal: number;
}

function operatorNav(path: string) {
  return [
    { href: `${OPERATOR}`, label: 'Networks' },
    { href: `${OPERATOR}/apis`, label: 'API catalogue' },
    // Served by the developer portal's module (src/web/portal/operator-routes.ts).
    { href: `${OPERATOR}/developers`, label: 'Developers' },
  ].map((item) => ({ ...item, current: item.href === OPERATOR ? path === OPERATOR || path.startsWith(`${OPERATOR}/networks`) : path.startsWith(item.href) }));
}

async function operatorLocals(kit: WebKit, ctx: Context, next: Next): Promise<void> {
  const viewer = (await loadViewer(kit, ctx))!;
  ctx.state.pageLocals = { areaName: 'Operator', homeHref: OPERATOR, viewerName: viewer.user.name, nav: operatorNav(ctx.path) };
  await next();
}

/** Parses the API form's scope lines: `scope` or `scope description…`, one per line. */
function parseScopes(text: string): { scope: string; description: string }[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [scope = '', ...rest] = line.split(/\s+/);
      return { scope, description: rest.join(' ') };
    });
}

async function showOnce(kit: WebKit, ctx: Context, kind: string, view: string, title: string, back: string): Promise<void> {
  const reveal = await kit.sessions.takeReveal(ctx);
  await kit.render(ctx, view, { title, shown: reveal?.kind === kind ? reveal : undefined, back });
}

/** Operator pages: networks, their tenant IDs and first administrators, and the API catalogue. */
export function operatorRoutes(kit: WebKit): Router {
  const router = new Router({ prefix: OPERATOR });
  router.use(requireSignIn(kit), requireOperator, (ctx, next) => operatorLocals(kit, ctx, next));

  router.get('/', async (ctx) => {
    await kit.render(ctx, 'operator/networks.njk', { title: 'Networks', networks: await listNetworks(kit.domain.db) });
  });

  router.post('/networks', async (ctx) => {
    const form = await kit.form(ctx);
    try {
      const network = await createNetwork(kit.domain, actorOf(ctx), { name: field(form, 'name') });
      await kit.redirect(ctx, `${OPERATOR}/networks/${network.id}`, { kind: 'info', text: `Network ${network.name} was created.` });
    } catch (err) {
      if (!(err instanceof DomainError) || err.status === 404) throw err;
      await kit.redirect(ctx, OPERATOR, { kind: 'error', text: err.message });
    }
  });

  router.get('/networks/:networkId', async (ctx) => {
    const network = await requireNetwork(kit.domain, ctx.params.networkId!);
    const search = String(ctx.query.q ?? '').trim().slice(0, 64);
    const page = queryInt(ctx.query.page, { fallback: 1, min: 1, max: MAX_QUERY_OFFSET / TENANT_PAGE_SIZE });
    const tenants = await listTenants(kit.domain.db, network.id, { search: search || undefined, limit: TENANT_PAGE_SIZE, offset: (page - 1) * TENANT_PAGE_SIZE });
    const result = await kit.sessions.recall<TenantImport>(ctx, 'tenant-import');
    if (result) await kit.sessions.remember(ctx, 'tenant-import', undefined);
    await kit.render(ctx, 'operator/network.njk', {
      title: network.name,
      network,
      tenants: tenants.tenantIds,
      tenantTotal: tenants.total,
      search,
      page,
      pages: Math.max(1, Math.ceil(tenants.total / TENANT_PAGE_SIZE)),
      result: result?.networkId === network.id ? result : undefined,
      users: await listNetworkUsers(kit.domain.db, network.id),
    });
  });

  router.post('/networks/:networkId/rename', async (ctx) => {
    const form = await kit.form(ctx);
    const network = await requireNetwork(kit.domain, ctx.params.networkId!);
    try {
      const renamed = await renameNetwork(kit.domain, actorOf(ctx), network.id, { name: field(form, 'name') });
      await kit.redirect(ctx, `${OPERATOR}/networks/${network.id}`, { kind: 'info', text: `The network is now called ${renamed.name}.` });
    } catch (err) {
      if (!(err instanceof DomainError) || err.status === 404) throw err;
      await kit.redirect(ctx, `${OPERATOR}/networks/${network.id}`, { kind: 'error', text: err.message });
    }
  });

  // Valid IDs are added and invalid ones listed back with the reason, in one request.
  router.post('/networks/:networkId/tenants', async (ctx) => {
    const form = await kit.form(ctx);
    const network = await requireNetwork(kit.domain, ctx.params.networkId!);
    const ids = splitList(field(form, 'tenant_ids'));
    const result = await addTenants(kit.domain, actorOf(ctx), network.id, ids);
    await kit.sessions.remember(ctx, 'tenant-import', {
      networkId: network.id,
      addedCount: result.added.length,
      existingCount: result.existing.length,
      rejected: result.rejected.slice(0, REJECTED_SHOWN),
      rejectedTotal: result.rejected.length,
    } satisfies TenantImport);
    await kit.redirect(ctx, `${OPERATOR}/networks/${network.id}`);
  });

  router.post('/networks/:networkId/admins', async (ctx) => {
    const form = await kit.form(ctx);
    const network = await requireNetwork(kit.domain, ctx.params.networkId!);
    try {
      const { user, link } = await createNetworkAdmin(kit.domain, actorOf(ctx), network.id, { email: field(form, 'email'), name: field(form, 'name') });
      await kit.sessions.putReveal(ctx, { kind: 'sign_in_link', email: user.email, url: `${kit.issuer}${link.path}`, expiresAt: String(link.expiresAt) });
      await kit.redirect(ctx, `${OPERATOR}/link`);
    } catch (err) {
      if (!(err instanceof DomainError) || err.status === 404) throw err;
      await kit.redirect(ctx, `${OPERATOR}/networks/${network.id}`, { kind: 'error', text: err.message });
    }
  });

  router.get('/link', (ctx) => showOnce(kit, ctx, 'sign_in_link', 'operator/link.njk', 'Sign-in link', OPERATOR));

  router.get('/apis', async (ctx) => {
    await kit.render(ctx, 'operator/apis.njk', { title: 'API catalogue', apis: await listApis(kit.domain.db) });
  });

  router.post('/apis', async (ctx) => {
    const form = await kit.form(ctx);
    try {
      const { api, introspection } = await createApi(kit.domain, actorOf(ctx), {
        audience: field(form, 'audience').trim(),
        name: field(form, 'name'),
        scopes: parseScopes(field(form, 'scopes')),
      });
      await kit.sessions.putReveal(ctx, { kind: 'introspection', apiName: api.name, clientId: introspection.clientId, clientSecret: introspection.clientSecret });
      await kit.redirect(ctx, `${OPERATOR}/apis/credentials`);
    } catch (err) {
      if (!(err instanceof DomainError) || err.status === 404) throw err;
      await kit.redirect(ctx, `${OPERATOR}/apis`, { kind: 'error', text: err.message });
    }
  });

  router.post('/apis/:apiId/rotate', async (ctx) => {
    await kit.form(ctx);
    const api = (await listApis(kit.domain.db)).find((candidate) => candidate.id === ctx.params.apiId);
    if (!api) throw new DomainError('api.not_found', 404, 'API not found');
    const introspection = await rotateIntrospectionClient(kit.domain, actorOf(ctx), api.id);
    await kit.sessions.putReveal(ctx, { kind: 'introspection', apiName: api.name, clientId: introspection.clientId, clientSecret: introspection.clientSecret });
    await kit.redirect(ctx, `${OPERATOR}/apis/credentials`);
  });

  router.get('/apis/credentials', (ctx) => showOnce(kit, ctx, 'introspection', 'operator/credentials.njk', 'Introspection credentials', `${OPERATOR}/apis`));

  return router;
}
