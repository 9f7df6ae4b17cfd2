import { updateRole } from '../../src/domain/accounts.js';
import { createApp } from '../../src/domain/apps.js';
import { startServer, type TestServer } from '../support/server.js';
import { createHubFixture, type HubFixture } from './fixture.js';
import { PageClient, snapshot } from './support.js';

let server: TestServer;
let fx: HubFixture;
let admin: PageClient;

beforeAll(async () => {
  server = await startServer();
  fx = await createHubFixture(server);
  admin = new PageClient(server.url);
  await admin.signIn(fx.a.admin.email);
}, 60_000);
afterAll(async () => server.stop());

/** Fills network A's group and connection IDs into a route pattern. */
function withIds(path: string): string {
  return path.replace(':group', fx.a.groupId).replace(':connection', fx.a.connectionId);
}

async function signedIn(email: string): Promise<PageClient> {
  const client = new PageClient(server.url);
  const res = await client.signIn(email);
  expect(res.status).toBe(303);
  return client;
}

describe('user without View', () => {
  let client: PageClient;
  beforeAll(async () => {
    client = await signedIn(fx.a.nobody.email);
  });

  test('GET /hub does not show the module', async () => {
    const page = await client.get('/hub');
    expect(page.status).toBe(200);
    expect(page.text).not.toContain('API &amp; Integrations');
  });

  test.each([
    '/hub/integrations',
    '/hub/integrations/tenants?q=a',
    '/hub/integrations/groups/new',
    '/hub/integrations/groups/:group/connections',
    '/hub/integrations/groups/:group/edit',
    '/hub/integrations/groups/:group/connect',
    '/hub/integrations/connections/:connection/generate',
    '/hub/users',
    '/hub/roles',
    '/hub/audit',
    '/operator',
  ])('GET %s answers 403', async (path) => {
    const page = await client.get(withIds(path));
    expect(page.status).toBe(403);
    expect(page.text).toContain('Access denied');
  });

  test('POST to the module answers 403 and changes nothing', async () => {
    const before = await snapshot(server);
    const csrf = await client.csrf('/hub');
    const created = await client.post('/hub/integrations/groups', { name: 'Sneaky', tenant_ids: 'a1' }, { csrf });
    const disabled = await client.post(`/hub/integrations/connections/${fx.a.connectionId}/disable`, {}, { csrf });
    expect(created.status).toBe(403);
    expect(disabled.status).toBe(403);
    expect(await snapshot(server)).toEqual(before);
  });
});

describe('View without Manage', () => {
  let client: PageClient;
  beforeAll(async () => {
    client = await signedIn(fx.a.viewer.email);
  });

  test('GET /hub/integrations lists groups without change buttons', async () => {
    const page = await client.get('/hub/integrations');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Group A');
    expect(page.text).not.toContain('Create New Group');
    expect(page.text).not.toContain('Connect New App');
  });

  test('GET connections shows the client ID without actions', async () => {
    const page = await client.get(`/hub/integrations/groups/${fx.a.groupId}/connections`);
    expect(page.status).toBe(200);
    expect(page.text).toContain(fx.a.clientId);
    expect(page.text).not.toContain('Generate again');
    expect(page.text).not.toContain('Disconnect');
  });

  test.each(['/hub/integrations/groups/new', '/hub/integrations/groups/:group/edit', '/hub/integrations/groups/:group/delete'])('GET %s answers 403', async (path) => {
    expect((await client.get(withIds(path))).status).toBe(403);
  });

  test('POSTs that change answer 403 and change nothing', async () => {
    const before = await snapshot(server);
    const csrf = await client.csrf('/hub/integrations');
    const attempts = [
      client.post('/hub/integrations/groups', { name: 'Viewer group', tenant_ids: 'a1' }, { csrf }),
      client.post(`/hub/integrations/groups/${fx.a.groupId}/edit`, { name: 'Renamed', remove: 'a1' }, { csrf }),
      client.post(`/hub/integrations/groups/${fx.a.groupId}/delete`, {}, { csrf }),
      client.post(`/hub/integrations/connections/${fx.a.connectionId}/secret`, {}, { csrf }),
      client.post(`/hub/integrations/connections/${fx.a.connectionId}/disconnect`, {}, { csrf }),
      client.post('/hub/roles', { name: 'Escalate', permissions: 'integrations.manage' }, { csrf }),
    ];
    for (const res of await Promise.all(attempts)) expect(res.status).toBe(403);
    expect(await snapshot(server)).toEqual(before);
  });
});

describe('role changes', () => {
  test('a new permission applies to the next request', async () => {
    const client = await signedIn(fx.a.usersOnly.email);
    expect((await client.get('/hub/integrations')).status).toBe(403);

    const roleId = fx.a.usersOnly.roleId ?? '';
    await updateRole(server.tg.domain, { id: 'test' }, fx.a.networkId, roleId, { name: 'role of users@a.example', permissions: ['users.manage', 'integrations.view'] });
    expect((await client.get('/hub/integrations')).status).toBe(200);

    await updateRole(server.tg.domain, { id: 'test' }, fx.a.networkId, roleId, { name: 'role of users@a.example', permissions: ['users.manage'] });
    expect((await client.get('/hub/integrations')).status).toBe(403);
  });
});

describe('cross-network IDs', () => {
  // Every hub route that takes an ID, filled with network B's objects, requested by A's
  // administrator, who has every permission.
  const gets = (): string[] => [
    `/hub/integrations/groups/${fx.b.groupId}/connections`,
    `/hub/integrations/groups/${fx.b.groupId}/edit`,
    `/hub/integrations/groups/${fx.b.groupId}/delete`,
    `/hub/integrations/groups/${fx.b.groupId}/connect`,
    `/hub/integrations/groups/${fx.b.groupId}/connect/${fx.appId}/terms`,
    `/hub/integrations/groups/${fx.b.groupId}/connect/${fx.appId}`,
    `/hub/integrations/groups/${fx.b.groupId}/connect/${fx.appId}/allow`,
    `/hub/integrations/connections/${fx.b.connectionId}/connected`,
    `/hub/integrations/connections/${fx.b.connectionId}/generate`,
    `/hub/integrations/connections/${fx.b.connectionId}/secret`,
    `/hub/integrations/connections/${fx.b.connectionId}/update`,
    `/hub/integrations/connections/${fx.b.connectionId}/disconnect`,
    `/hub/users/${fx.b.admin.id}`,
    `/hub/roles/${fx.b.admin.roleId}`,
  ];
  const posts = (): [string, Record<string, string>][] => [
    [`/hub/integrations/groups/${fx.b.groupId}/edit`, { name: 'Taken over', tenant_ids: 'a1', remove: 'b1' }],
    [`/hub/integrations/groups/${fx.b.groupId}/delete`, {}],
    [`/hub/integrations/groups/${fx.b.groupId}/connect`, { app_id: fx.appId }],
    [`/hub/integrations/groups/${fx.b.groupId}/connect/${fx.appId}/terms`, { terms_version: '1' }],
    [`/hub/integrations/groups/${fx.b.groupId}/connect/${fx.appId}`, {}],
    [`/hub/integrations/groups/${fx.b.groupId}/connect/${fx.appId}/allow`, { decision: 'allow' }],
    [`/hub/integrations/connections/${fx.b.connectionId}/generate`, {}],
    [`/hub/integrations/connections/${fx.b.connectionId}/secret`, { grace_hours: '0' }],
    [`/hub/integrations/connections/${fx.b.connectionId}/update`, { decision: 'allow', terms_version: '1' }],
    [`/hub/integrations/connections/${fx.b.connectionId}/disable`, {}],
    [`/hub/integrations/connections/${fx.b.connectionId}/restore`, {}],
    [`/hub/integrations/connections/${fx.b.connectionId}/disconnect`, {}],
    [`/hub/integrations/connections/${fx.b.connectionId}/end-grace`, {}],
    [`/hub/users/${fx.b.admin.id}/roles`, { role_ids: fx.a.admin.roleId ?? '' }],
    [`/hub/users/${fx.b.admin.id}/link`, {}],
    [`/hub/roles/${fx.b.admin.roleId}`, { name: 'Taken over', permissions: 'users.manage' }],
    [`/hub/roles/${fx.b.admin.roleId}/delete`, {}],
    // Another network's role in a form field of one's own objects.
    [`/hub/users/${fx.a.viewer.id}/roles`, { role_ids: fx.b.admin.roleId ?? '' }],
    ['/hub/users', { email: 'new@a.example', role_ids: fx.b.admin.roleId ?? '' }],
  ];

  test('every GET with another network ID answers 404', async () => {
    for (const path of gets()) {
      const page = await admin.get(path);
      expect({ path, status: page.status }).toEqual({ path, status: 404 });
      expect(page.text).not.toContain(fx.b.clientId);
    }
  });

  test('every POST with another network ID answers 404 and changes nothing', async () => {
    const before = await snapshot(server);
    const csrf = await admin.csrf('/hub/integrations');
    for (const [path, fields] of posts()) {
      const res = await admin.post(path, fields, { csrf });
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
    }
    expect(await snapshot(server)).toEqual(before);
  });

  test('tenant IDs of another network are refused in a group form', async () => {
    const before = await snapshot(server);
    const res = await admin.post('/hub/integrations/groups', { name: 'Mixed', tenant_ids: 'a1\nb1' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('these tenant IDs are not in this network: b1');
    expect(await snapshot(server)).toEqual(before);
  });

  test('the tenant picker searches only the own network', async () => {
    const page = await admin.get('/hub/integrations/tenants?q=1');
    const body = JSON.parse(page.text) as { tenantIds: string[] };
    expect(body.tenantIds.length).toBeGreaterThan(0);
    expect(body.tenantIds.every((id) => id.startsWith('a'))).toBe(true);
  });

  test('an operator page answers 403 to a network administrator', async () => {
    expect((await admin.get(`/operator/networks/${fx.b.networkId}`)).status).toBe(403);
  });
});

describe('CSRF', () => {
  test('POST without a token is rejected and changes nothing', async () => {
    const before = await snapshot(server);
    const res = await admin.post('/hub/integrations/groups', { name: 'No token', tenant_ids: 'a1' }, { csrf: null });
    expect(res.status).toBe(403);
    expect(res.text).toContain('this form has expired or was sent from another site');
    expect(await snapshot(server)).toEqual(before);
  });

  test('POST with a wrong token is rejected and changes nothing', async () => {
    const before = await snapshot(server);
    const res = await admin.post(`/hub/integrations/connections/${fx.a.connectionId}/disable`, {}, { csrf: 'A'.repeat(43) });
    expect(res.status).toBe(403);
    expect(await snapshot(server)).toEqual(before);
  });

  test("another user's token is rejected", async () => {
    const other = await signedIn(fx.a.viewer.email);
    const foreign = await other.csrf('/hub/integrations');
    const before = await snapshot(server);
    const res = await admin.post('/hub/integrations/groups', { name: 'Foreign token', tenant_ids: 'a1' }, { csrf: foreign });
    expect(res.status).toBe(403);
    expect(await snapshot(server)).toEqual(before);
  });

  test('POST /signin without the pre-session token is rejected', async () => {
    const client = new PageClient(server.url);
    const res = await client.post('/signin', { email: fx.a.admin.email, password: 'correct horse battery staple' }, { csrf: null });
    expect(res.status).toBe(403);
    expect(client.cookies.has('tg_session')).toBe(false);
  });
});

describe('escaping', () => {
  const payload = '<script>alert(1)</script><img src=x onerror=alert(2)>';

  test('a group name with markup is rendered as text', async () => {
    const res = await admin.post('/hub/integrations/groups', { name: `G ${payload}`, tenant_ids: 'a5' });
    expect(res.status).toBe(303);
    const page = await admin.get('/hub/integrations');
    expect(page.text).toContain('G &lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;');
    expect(page.text).not.toContain('<script>alert(1)');
    expect(page.text).not.toContain('<img src=x');
  });

  test('an app name with markup is rendered as text on Connect New App', async () => {
    await createApp(server.tg.domain, { id: 'test' }, {
      name: `App ${payload}`,
      developerName: `Dev ${payload}`,
      description: payload,
      terms: payload,
      scopes: [{ scope: 'jobs:read', reason: payload }],
      published: true,
    });
    const page = await admin.get(`/hub/integrations/groups/${fx.a.groupId}/connect`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('App &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.text).not.toContain('<script>alert(1)');
    expect(page.text).not.toContain('<img src=x');
  });

  test('pages send a strict CSP that forbids framing', async () => {
    const page = await admin.get('/hub/integrations');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers.get('cache-control')).toBe('no-store');
  });
});
