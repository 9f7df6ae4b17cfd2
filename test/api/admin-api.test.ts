import { assignRoles, createRole, createUser } from '../../src/domain/accounts.js';
import { createAdminApiKey } from '../../src/domain/admin-api-keys.js';
import { findAppByName } from '../../src/domain/apps.js';
import { createNetwork } from '../../src/domain/networks.js';
import { addTenants } from '../../src/domain/tenants.js';
import { requestToken, setUpDemo } from '../support/oauth.js';
import { startServer, type TestServer } from '../support/server.js';

const actor = { id: 'test' };
let server: TestServer;
let demo: Awaited<ReturnType<typeof setUpDemo>>;
const keys: Record<'manager' | 'viewer' | 'nobody' | 'foreign', string> = { manager: '', viewer: '', nobody: '', foreign: '' };
let viewerId: string;
let managerRoleId: string;

beforeAll(async () => {
  server = await startServer();
  demo = await setUpDemo(server);
  const ctx = server.tg.domain;
  const networkId = demo.network.id;

  const manage = await createRole(ctx, actor, networkId, { name: 'Integrations', permissions: ['integrations.view', 'integrations.manage'] });
  const view = await createRole(ctx, actor, networkId, { name: 'Viewer', permissions: ['integrations.view'] });
  managerRoleId = manage.id;
  await createUser(ctx, actor, { networkId, email: 'manager@a.example', roleIds: [manage.id] });
  viewerId = (await createUser(ctx, actor, { networkId, email: 'viewer@a.example', roleIds: [view.id] })).user.id;
  await createUser(ctx, actor, { networkId, email: 'nobody@a.example' });

  const other = await createNetwork(ctx, actor, { name: 'Other Customer' });
  await addTenants(ctx, actor, other.id, ['o-1']);
  const otherRole = await createRole(ctx, actor, other.id, { name: 'Integrations', permissions: ['integrations.view', 'integrations.manage'] });
  await createUser(ctx, actor, { networkId: other.id, email: 'manager@b.example', roleIds: [otherRole.id] });

  keys.manager = (await createAdminApiKey(ctx, actor, { email: 'manager@a.example', name: 'ci' })).key;
  keys.viewer = (await createAdminApiKey(ctx, actor, { email: 'viewer@a.example', name: 'ci' })).key;
  keys.nobody = (await createAdminApiKey(ctx, actor, { email: 'nobody@a.example', name: 'ci' })).key;
  keys.foreign = (await createAdminApiKey(ctx, actor, { email: 'manager@b.example', name: 'ci' })).key;
});

afterAll(async () => {
  await server.stop();
});

async function call(key: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${server.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function rowCounts(): Promise<string> {
  const counts = [];
  for (const table of ['groups', 'group_tenants', 'connections', 'client_secrets', 'consents']) {
    const [row] = await server.tg.db(table).count({ n: '*' });
    counts.push(`${table}=${row!.n}`);
  }
  const statuses = await server.tg.db('connections').select('id', 'status').orderBy('id');
  return counts.join(' ') + JSON.stringify(statuses);
}

describe('admin API authentication and permissions', () => {
  test('no key or a wrong key → 401 auth.invalid_key', async () => {
    const none = await fetch(`${server.url}/api/v1/groups`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(((await none.json()) as { code: string }).code).toBe('auth.invalid_key');
    expect((await call('tga_wrong', 'GET', '/groups')).status).toBe(401);
  });

  test('a user without View → 403 on every route', async () => {
    for (const [method, path] of [['GET', '/groups'], ['GET', '/tenants'], ['GET', '/connections'], ['GET', `/groups/${demo.app1.group_id}`]] as const) {
      const response = await call(keys.nobody, method, path);
      expect(response.status).toBe(403);
      expect(response.body.code).toBe('auth.forbidden');
    }
  });

  test('View without Manage sees but cannot change', async () => {
    const list = await call(keys.viewer, 'GET', '/groups');
    expect(list.status).toBe(200);
    expect((list.body.groups as { name: string }[]).map((g) => g.name)).toEqual(['Group 1', 'Group 2']);
    const before = await rowCounts();
    expect((await call(keys.viewer, 'POST', '/groups', { name: 'New', tenant_ids: ['3'] })).status).toBe(403);
    expect((await call(keys.viewer, 'PATCH', `/groups/${demo.app1.group_id}`, { remove: ['15'] })).status).toBe(403);
    expect((await call(keys.viewer, 'POST', `/connections/${demo.app1.connection_id}/secrets`, {})).status).toBe(403);
    expect((await call(keys.viewer, 'DELETE', `/connections/${demo.app1.connection_id}`)).status).toBe(403);
    expect(await rowCounts()).toBe(before);
  });

  test('a role change applies to the next request', async () => {
    expect((await call(keys.viewer, 'POST', '/groups', { name: 'Promoted', tenant_ids: [] })).status).toBe(403);
    await assignRoles(server.tg.domain, actor, demo.network.id, viewerId, [managerRoleId]);
    const created = await call(keys.viewer, 'POST', '/groups', { name: 'Promoted', tenant_ids: [] });
    expect(created.status).toBe(201);
    await assignRoles(server.tg.domain, actor, demo.network.id, viewerId, []);
    expect((await call(keys.viewer, 'GET', '/groups')).status).toBe(403);
  });
});

describe('admin API flow', () => {
  test('create a group, connect App 1, generate a secret once, get a token', async () => {
    const group = await call(keys.manager, 'POST', '/groups', { name: 'Group 3', tenant_ids: ['3', '4'] });
    expect(group.status).toBe(201);
    const app = (await findAppByName(server.tg.db, 'App 1'))!;

    const stale = await call(keys.manager, 'POST', '/connections', { group_id: group.body.id, app_id: app.id, accepted_terms_version: app.termsVersion + 1 });
    expect(stale.status).toBe(409);
    expect(stale.body.code).toBe('connection.terms_outdated');

    const connection = await call(keys.manager, 'POST', '/connections', { group_id: group.body.id, app_id: app.id, accepted_terms_version: app.termsVersion });
    expect(connection.status).toBe(201);
    expect((connection.body.consent as { approved_by: string }).approved_by).toBe('manager@a.example');

    const secret = await call(keys.manager, 'POST', `/connections/${connection.body.id}/secrets`, {});
    expect(secret.status).toBe(201);
    const clientSecret = secret.body.client_secret as string;
    expect(clientSecret).toMatch(/^tgs_/);

    const token = await requestToken(server, connection.body.client_id as string, clientSecret, { tenant: '4' });
    expect(token.status).toBe(200);

    const read = await call(keys.manager, 'GET', `/connections/${connection.body.id}`);
    expect(read.status).toBe(200);
    expect(JSON.stringify(read.body)).not.toContain(clientSecret);
    expect((read.body.secrets as unknown[]).length).toBe(1);
  });

  test('bad input gets a 400 naming the field, never a 5xx', async () => {
    const missing = await call(keys.manager, 'POST', '/groups', { tenant_ids: [] });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toContain('name');
    const response = await fetch(`${server.url}/api/v1/groups`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keys.manager}`, 'content-type': 'application/json' },
      body: '{"name": ',
    });
    expect(response.status).toBe(400);
    const foreignTenant = await call(keys.manager, 'POST', '/groups', { name: 'Steal', tenant_ids: ['o-1'] });
    expect(foreignTenant.status).toBe(400);
    expect(foreignTenant.body.code).toBe('group.unknown_tenants');
  });

  test('NUL or unpaired surrogate → 400', async () => {
    const before = await rowCounts();
    const nul = await call(keys.manager, 'POST', '/groups', { name: 'n', tenant_ids: ['1\u0000'] });
    expect(nul.status).toBe(400);
    expect(nul.body).toEqual({ code: 'request.invalid', message: 'tenant_ids.0: must not contain NUL characters or unpaired surrogates' });
    const surrogate = await call(keys.manager, 'POST', '/groups', { name: 'Group \ud800', tenant_ids: ['1'] });
    expect(surrogate.status).toBe(400);
    expect(surrogate.body.message).toMatch(/^name: /);
    const inKey = await call(keys.manager, 'POST', '/groups', { name: 'n', tenant_ids: ['1'], ['x\u0000']: 1 });
    expect(inKey.status).toBe(400);
    // A surrogate pair (an emoji) is fine.
    const emoji = await call(keys.manager, 'POST', '/groups', { name: 'Group \ud83d\ude80', tenant_ids: ['1'] });
    expect(emoji.status).toBe(201);
    expect(await rowCounts()).not.toBe(before);
  });

  test('bodyless POST of optional fields → 201', async () => {
    const group = await call(keys.manager, 'POST', '/groups', { name: 'Bodyless', tenant_ids: ['1'] });
    const app = (await findAppByName(server.tg.db, 'App 1'))!;
    const connection = await call(keys.manager, 'POST', '/connections', { group_id: group.body.id, app_id: app.id, accepted_terms_version: app.termsVersion });
    expect(connection.status).toBe(201);
    const bare = await fetch(`${server.url}/api/v1/connections/${connection.body.id as string}/secrets`, { method: 'POST', headers: { authorization: `Bearer ${keys.manager}` } });
    expect(bare.status).toBe(201);
  });

  test('non-JSON body → 415, over 1 MiB → 413', async () => {
    const form = await fetch(`${server.url}/api/v1/groups`, { method: 'POST', headers: { authorization: `Bearer ${keys.manager}`, 'content-type': 'text/plain' }, body: 'name=x' });
    expect(form.status).toBe(415);
    expect(((await form.json()) as { code: string }).code).toBe('request.unsupported_media_type');

    const big = JSON.stringify({ name: 'Big', tenant_ids: ['1'], padding: 'x'.repeat(1024 * 1024) });
    const tooLarge = await fetch(`${server.url}/api/v1/groups`, { method: 'POST', headers: { authorization: `Bearer ${keys.manager}`, 'content-type': 'application/json' }, body: big });
    expect(tooLarge.status).toBe(413);
    expect(await tooLarge.json()).toEqual({ code: 'request.too_large', message: 'the body must be at most 1048576 bytes' });
  });

  test('paging parameters are clamped', async () => {
    const negative = await call(keys.manager, 'GET', '/tenants?limit=-1');
    expect(negative.status).toBe(200);
    expect((negative.body.tenant_ids as string[]).length).toBe(1);
    const huge = await call(keys.manager, 'GET', '/tenants?offset=100000000000000000000');
    expect(huge.status).toBe(200);
    expect(huge.body.tenant_ids).toEqual([]);
    expect(huge.body.total).toBeGreaterThan(0);
    const words = await call(keys.manager, 'GET', '/tenants?limit=ten&offset=-5');
    expect(words.status).toBe(200);
    expect((words.body.tenant_ids as string[]).length).toBe(huge.body.total);
    const events = await call(keys.manager, 'GET', '/audit-events?limit=-1');
    expect(events.status).toBe(200);
    expect((events.body.events as unknown[]).length).toBe(1);
  });
});

describe('admin API scoped by network', () => {
  test.each([
    ['GET /groups/:id', 'GET', () => `/groups/${demo.app1.group_id}`, undefined],
    ['PATCH /groups/:id', 'PATCH', () => `/groups/${demo.app1.group_id}`, { remove: ['15'] }],
    ['DELETE /groups/:id', 'DELETE', () => `/groups/${demo.app1.group_id}`, undefined],
    ['GET /connections/:id', 'GET', () => `/connections/${demo.app1.connection_id}`, undefined],
    ['POST /connections/:id/secrets', 'POST', () => `/connections/${demo.app1.connection_id}/secrets`, {}],
    ['POST /connections/:id/disable', 'POST', () => `/connections/${demo.app1.connection_id}/disable`, undefined],
    ['POST /connections/:id/end-grace-period', 'POST', () => `/connections/${demo.app1.connection_id}/end-grace-period`, undefined],
    ['DELETE /connections/:id', 'DELETE', () => `/connections/${demo.app1.connection_id}`, undefined],
  ])('%s of another network → 404, nothing changed', async (_label, method, path, body) => {
    const before = await rowCounts();
    const response = await call(keys.foreign, method, path(), body);
    expect(response.status).toBe(404);
    expect(await rowCounts()).toBe(before);
  });

  test("connecting another network's group → 404", async () => {
    const app = (await findAppByName(server.tg.db, 'App 2'))!;
    const response = await call(keys.foreign, 'POST', '/connections', { group_id: demo.app1.group_id, app_id: app.id, accepted_terms_version: app.termsVersion });
    expect(response.status).toBe(404);
  });

  test('lists show only the own network', async () => {
    const groups = await call(keys.foreign, 'GET', '/groups');
    expect(groups.body.groups).toEqual([]);
    const tenants = await call(keys.foreign, 'GET', '/tenants');
    expect(tenants.body.tenant_ids).toEqual(['o-1']);
    const connections = await call(keys.foreign, 'GET', '/connections');
    expect(connections.body.connections).toEqual([]);
    const byGroup = await call(keys.foreign, 'GET', `/connections?group_id=${demo.app1.group_id}`);
    expect(byGroup.status).toBe(404);
    expect(byGroup.body.code).toBe('group.not_found');
    const audit = await call(keys.foreign, 'GET', '/audit-events');
    expect((audit.body.events as { action: string }[]).every((e) => !e.action.startsWith('group.'))).toBe(true);
  });
});
