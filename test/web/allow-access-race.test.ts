import { createApi } from '../../src/domain/apis.js';
import { createApp, requireApp } from '../../src/domain/apps.js';
import { updateApp } from '../../src/domain/app-updates.js';
import { pendingScopeUpdate } from '../../src/domain/consent-updates.js';
import { listConnections } from '../../src/domain/connections.js';
import { startServer, type TestServer } from '../support/server.js';
import { createNetworkWithTenants, createSignedUpUser, PageClient } from './support.js';

const AUDIENCE = 'https://api.example.com';
let server: TestServer;
let networkId: string;
let appId: string;

beforeAll(async () => {
  server = await startServer();
  const ctx = server.tg.domain;
  await createApi(ctx, { id: 'test' }, {
    audience: AUDIENCE,
    name: 'Field Service API',
    scopes: [
      { scope: 'jobs:read', description: 'Read jobs' },
      { scope: 'invoices:read', description: 'Read invoices' },
    ],
  });
  appId = (
    await createApp(ctx, { id: 'test' }, {
      name: 'App 1',
      developerName: 'Example Developer Ltd',
      terms: 'Terms of App 1.',
      scopes: [{ scope: 'jobs:read', reason: 'to show your jobs' }],
      published: true,
    })
  ).id;
  networkId = await createNetworkWithTenants(server, 'Race Network', ['r-1', 'r-2']);
  await createSignedUpUser(server, networkId, 'admin@race.example', ['integrations.view', 'integrations.manage']);
});

afterAll(async () => server.stop());

test('Allow Access approves only the scopes it showed', async () => {
  const client = new PageClient(server.url);
  expect((await client.signIn('admin@race.example')).status).toBe(303);
  expect((await client.post('/hub/integrations/groups', { name: 'Group 1', tenant_ids: 'r-1\nr-2' })).status).toBe(303);
  const groupId = /\/hub\/integrations\/groups\/([0-9a-f-]{36})\/connect"/.exec((await client.get('/hub/integrations')).text)![1]!;

  const base = `/hub/integrations/groups/${groupId}/connect`;
  expect((await client.post(base, { app_id: appId })).status).toBe(303);
  expect((await client.post(`${base}/${appId}/terms`, { terms_version: '1' })).status).toBe(303);
  expect((await client.post(`${base}/${appId}`, {})).status).toBe(303);
  const screen = await client.get(`${base}/${appId}/allow`);
  expect(screen.text).toContain('jobs:read');
  expect(screen.text).not.toContain('invoices:read');
  const shown = [...screen.text.matchAll(/name="shown_scope" value="([^"]+)"/g)].map((m) => m[1]!.replace(/&#124;|&amp;#124;/g, '|'));
  expect(shown).toEqual([`${AUDIENCE}|jobs:read`]);

  // The developer adds a scope while the administrator reads the screen.
  const app = await requireApp(server.tg.domain, appId);
  await updateApp(server.tg.domain, { id: 'developer' }, { kind: 'operator' }, appId, {
    name: app.name,
    terms: 'Terms of App 1.',
    scopes: [
      { scope: 'jobs:read', reason: 'to show your jobs' },
      { scope: 'invoices:read', reason: 'to bill' },
    ],
  });

  const allowed = await client.post(`${base}/${appId}/allow`, { decision: 'allow', shown_scope: shown[0]! });
  expect(allowed.status).toBe(303);
  const [connection] = await listConnections(server.tg.db, networkId, { groupId });
  expect(connection!.consent!.scopes.map((s) => s.scope)).toEqual(['jobs:read']);
  const pending = await pendingScopeUpdate(server.tg.domain, networkId, connection!.id);
  expect(pending?.added.map((s) => s.scope)).toEqual(['invoices:read']);
});
