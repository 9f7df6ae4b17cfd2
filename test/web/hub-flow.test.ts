import { createApi } from '../../src/domain/apis.js';
import { createApp } from '../../src/domain/apps.js';
import { requestToken } from '../support/oauth.js';
import { startServer, type TestServer } from '../support/server.js';
import { createNetworkWithTenants, createSignedUpUser, PageClient } from './support.js';

let server: TestServer;
let networkId: string;
let appId: string;

beforeAll(async () => {
  server = await startServer();
  const ctx = server.tg.domain;
  await createApi(ctx, { id: 'test' }, { audience: 'https://api.example.com', name: 'Field Service API', scopes: [{ scope: 'jobs:read', description: 'Read jobs and their schedules' }] });
  const app = await createApp(ctx, { id: 'test' }, {
    name: 'App 1',
    developerName: 'Example Developer Ltd',
    terms: 'Terms of App 1, version 1.',
    scopes: [{ scope: 'jobs:read', reason: 'to show your jobs' }],
    published: true,
  });
  appId = app.id;
  networkId = await createNetworkWithTenants(server, 'Good Plumbing Network', Array.from({ length: 50 }, (_, i) => String(i + 1)));
  await createSignedUpUser(server, networkId, 'admin@example.com', ['integrations.view', 'integrations.manage', 'users.manage']);
});
afterAll(async () => server.stop());

test('connect flow over HTTP ends with a working secret shown once', async () => {
  const client = new PageClient(server.url);
  expect((await client.signIn('admin@example.com')).status).toBe(303);

  const created = await client.post('/hub/integrations/groups', { name: 'Group 1', tenant_ids: '1\n2\n15\n50' });
  expect(created.status).toBe(303);
  const list = await client.get('/hub/integrations');
  const groupId = /\/hub\/integrations\/groups\/([0-9a-f-]{36})\/connect"/.exec(list.text)![1]!;

  const steps: [string, Record<string, string>][] = [
    [`/hub/integrations/groups/${groupId}/connect`, { app_id: appId }],
    [`/hub/integrations/groups/${groupId}/connect/${appId}/terms`, { terms_version: '1' }],
    [`/hub/integrations/groups/${groupId}/connect/${appId}`, {}],
  ];
  for (const [path, fields] of steps) {
    const res = await client.post(path, fields);
    expect(res.status).toBe(303);
  }
  const allowPage = await client.get(`/hub/integrations/groups/${groupId}/connect/${appId}/allow`);
  expect(allowPage.text).toContain('resource owner');
  const allowed = await client.post(`/hub/integrations/groups/${groupId}/connect/${appId}/allow`, { decision: 'allow' });
  expect(allowed.status).toBe(303);
  const connectionPath = allowed.location!.replace(/\/connected$/, '');

  expect((await client.post(`${connectionPath}/generate`, {})).status).toBe(303);
  const secretPost = await client.post(`${connectionPath}/secret`, {}, { csrfFrom: `${connectionPath}/generate` });
  expect(secretPost.status).toBe(303);
  const shown = await client.get(`${connectionPath}/secret`);
  const secret = /data-secret>([^<]+)</.exec(shown.text)![1]!;
  const clientId = /id="client-id" class="mono">([^<]+)</.exec(shown.text)![1]!;

  const again = await client.get(`${connectionPath}/secret`);
  expect(again.text).not.toContain(secret);

  expect((await requestToken(server, clientId, secret, { tenant: '15' })).status).toBe(200);
  expect((await requestToken(server, clientId, secret, { tenant: '25' })).status).toBe(400);
});
