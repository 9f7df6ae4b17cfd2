import { createApi } from '../../src/domain/apis.js';
import { createApp } from '../../src/domain/apps.js';
import { startServer, type TestServer } from '../support/server.js';
import { createNetworkWithTenants, createSignedUpUser, PageClient } from './support.js';

// A network of 10,000 tenants: pages send one page of tenants at a time, never all of them.
const TENANTS = Array.from({ length: 10_000 }, (_, i) => `t${String(i).padStart(5, '0')}`);

let server: TestServer;
let admin: PageClient;
let appId: string;

beforeAll(async () => {
  server = await startServer();
  const ctx = server.tg.domain;
  await createApi(ctx, { id: 'test' }, { audience: 'https://api.example.com', name: 'API', scopes: [{ scope: 'jobs:read', description: 'Read jobs' }] });
  appId = (await createApp(ctx, { id: 'test' }, { name: 'App 1', developerName: 'Dev', terms: 'Terms.', scopes: [{ scope: 'jobs:read', reason: 'jobs' }], published: true })).id;
  const networkId = await createNetworkWithTenants(server, 'Large Network', TENANTS);
  await createSignedUpUser(server, networkId, 'admin@large.example', ['integrations.view', 'integrations.manage']);
  admin = new PageClient(server.url);
  await admin.signIn('admin@large.example');
}, 60_000);
afterAll(async () => server.stop());

const checkboxes = (html: string) => (html.match(/type="checkbox"/g) ?? []).length;

test('select all matching puts every matching tenant in the group', async () => {
  const res = await admin.post('/hub/integrations/groups', { name: 'Everyone', tenant_ids: '', add_matching: '' });
  expect(res.status).toBe(303);
  const list = await admin.get('/hub/integrations');
  expect(list.text).toMatch(/Everyone<\/a><\/td>\s*<td>10000<\/td>/);

  const partial = await admin.post('/hub/integrations/groups', { name: 'Hundred and one', tenant_ids: 't00001', add_matching: 't099' });
  expect(partial.status).toBe(303);
  expect((await admin.get('/hub/integrations')).text).toMatch(/Hundred and one<\/a><\/td>\s*<td>101<\/td>/);
});

test('GET /hub/integrations/tenants returns one page with the total', async () => {
  const page = await admin.get('/hub/integrations/tenants?q=t0&offset=100');
  const body = JSON.parse(page.text) as { tenantIds: string[]; total: number };
  expect(body.total).toBe(10_000);
  expect(body.tenantIds).toHaveLength(100);
  expect(body.tenantIds[0]).toBe('t00100');
});

test('pages of a 10,000-tenant group send at most one page of tenants', async () => {
  const list = await admin.get('/hub/integrations');
  const groupId = /groups\/([0-9a-f-]{36})\/connections">Everyone/.exec(list.text)![1]!;

  const edit = await admin.get(`/hub/integrations/groups/${groupId}/edit`);
  expect(edit.status).toBe(200);
  expect(checkboxes(edit.text)).toBe(100);
  expect(edit.text).toContain('Page 1 of 100');

  const base = `/hub/integrations/groups/${groupId}/connect`;
  await admin.post(base, { app_id: appId });
  await admin.post(`${base}/${appId}/terms`, { terms_version: '1' });
  await admin.post(`${base}/${appId}`, {});
  const allow = await admin.get(`${base}/${appId}/allow`);
  expect(allow.text).toContain('all 10000 tenants');
  expect(allow.text).toContain('and 9800 more tenants');
  expect(allow.text.length).toBeLessThan(100_000);
});
