import { startServer, type TestServer } from '../support/server.js';
import { createHubFixture, type HubFixture } from './fixture.js';
import { PageClient } from './support.js';

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

test.each([
  '/hub/integrations/groups/%ZZ/edit',
  '/hub/integrations/groups/not-a-uuid/connections',
  '/hub/integrations/connections/%00/secret',
  '/hub/integrations/tenants?q=%25&offset=-5',
  '/hub/integrations/tenants?q=a&q=b&offset=abc',
  '/hub/integrations/tenants?offset=100000000000000000000',
  '/hub/integrations?page=100000000000000000000',
  '/hub/integrations/groups/:group/edit?page=-3',
  '/hub/integrations/groups/:group/edit?page=100000000000000000000',
  '/hub/audit?before=abc&action=x&action=y',
  '/hub/nothing-here',
  '/signin/link?token=../../etc',
])('GET %s answers without a server error', async (path) => {
  const res = await admin.get(path.replace(':group', fx.a.groupId));
  expect(res.status).toBeLessThan(500);
});

test('POST with a JSON body is rejected with 400', async () => {
  const res = await fetch(`${server.url}/hub/integrations/groups`, {
    method: 'POST',
    headers: { cookie: [...admin.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'content-type': 'application/json' },
    body: '{"name":"x"}',
  });
  expect(res.status).toBe(400);
});

test('POST of an oversized form is rejected with 413', async () => {
  const res = await admin.post('/hub/integrations/groups', { name: 'Huge', tenant_ids: 'x'.repeat(3 * 1024 * 1024) });
  expect(res.status).toBe(413);
});

test.each([
  ['/hub/integrations/connections/:connection/secret', { grace_hours: 'soon' }],
  ['/hub/integrations/connections/:connection/update', { decision: 'allow', terms_version: 'x' }],
  ['/hub/roles', { name: 'Odd', permissions: 'root' }],
  ['/hub/users', { email: 'not an email' }],
  ['/hub/integrations/groups', { name: '', tenant_ids: 'a1' }],
  ['/hub/integrations/groups/:group/connect', { app_id: 'nope' }],
])('POST %s with bad input answers without a server error', async (path, fields) => {
  const res = await admin.post(path.replace(':connection', fx.a.connectionId).replace(':group', fx.a.groupId), fields);
  expect(res.status).toBeLessThan(500);
  expect(res.status).not.toBe(200);
});

test.each([
  ['/signin', { email: 'a\u0000@x.example', password: 'x' }],
  ['/hub/integrations/groups', { name: 'Nul', tenant_ids: 'a1\u0000' }],
  ['/hub/integrations/groups/:group/connect', { app_id: '\u0000' }],
])('POST %s with a NUL character answers 400', async (path, fields) => {
  const from = path === '/signin' ? '/signin' : '/hub/integrations';
  const res = await (path === '/signin' ? new PageClient(server.url) : admin).post(path.replace(':group', fx.a.groupId), fields, { csrfFrom: from });
  expect(res.status).toBe(400);
});

test('GET with a NUL character in the query answers 400', async () => {
  expect((await admin.get('/hub/integrations/tenants?q=%00')).status).toBe(400);
  expect((await admin.get('/hub/audit?action=%00')).status).toBe(400);
});
