import { randomUUID } from 'node:crypto';

import { createRole, createUser, redeemSignInLink } from '../../src/domain/accounts.js';
import { setAppPublished } from '../../src/domain/app-updates.js';
import { createApp } from '../../src/domain/apps.js';
import { createGroup } from '../../src/domain/groups.js';
import { listConnections } from '../../src/storage/connections.js';
import { setUpDemo } from '../support/oauth.js';
import { startServer, type TestServer } from '../support/server.js';
import { PageClient, signInLinkToken } from './page-client.js';

const PASSWORD = 'correct horse battery staple';
const operator = { id: 'test-operator' };
let server: TestServer;
let demo: Awaited<ReturnType<typeof setUpDemo>>;
let admin: PageClient;
let groupId: string;

beforeAll(async () => {
  server = await startServer();
  demo = await setUpDemo(server);
  const role = await createRole(server.tg.domain, operator, demo.network.id, { name: 'Integrators', permissions: ['integrations.view', 'integrations.manage'] });
  const { link } = await createUser(server.tg.domain, operator, { networkId: demo.network.id, email: 'hub-admin@example.com', roleIds: [role.id] });
  await redeemSignInLink(server.tg.domain, signInLinkToken(link.path), PASSWORD);
  admin = new PageClient(server.url);
  const signedIn = await admin.submit('/signin', '/signin', { email: 'hub-admin@example.com', password: PASSWORD });
  expect(signedIn.status).toBe(303);
  groupId = (await createGroup(server.tg.domain, operator, demo.network.id, { name: 'Forgery Group', tenantIds: ['5', '6'] })).id;
});

afterAll(async () => {
  await server.stop();
});

async function draftApp(name: string, published: boolean) {
  return createApp(server.tg.domain, operator, {
    name,
    developerName: 'Example Developer Ltd',
    terms: `${name} terms.`,
    scopes: [{ scope: 'jobs:read', audience: demo.api.audience, reason: 'reads jobs' }],
    published,
  });
}

describe('Connect New App with an unpublished app', () => {
  test('list page leaves the app out', async () => {
    const hidden = await draftApp(`Hidden ${randomUUID().slice(0, 6)}`, false);
    const page = await admin.get(`/hub/integrations/groups/${groupId}/connect`);
    expect(page.status).toBe(200);
    expect(page.html).toContain('App 1');
    expect(page.html).not.toContain(hidden.name);
    expect(page.html).not.toContain(hidden.id);
  });

  test('forged POSTs of every step answer 404 and connect nothing', async () => {
    const hidden = await draftApp(`Forged ${randomUUID().slice(0, 6)}`, false);
    const base = `/hub/integrations/groups/${groupId}/connect`;
    const token = await admin.csrfFrom(base);

    const choose = await admin.post(base, { _csrf: token, app_id: hidden.id });
    expect(choose.status).toBe(404);
    const accept = await admin.post(`${base}/${hidden.id}/terms`, { _csrf: token, terms_version: '1' });
    expect(accept.status).toBe(404);
    const confirm = await admin.post(`${base}/${hidden.id}`, { _csrf: token });
    expect(confirm.status).toBe(404);
    const allow = await admin.post(`${base}/${hidden.id}/allow`, { _csrf: token, decision: 'allow' });
    expect(allow.status).toBe(404);

    const connections = await listConnections(server.tg.db, demo.network.id, { groupId, includeDisconnected: true });
    expect(connections.some((c) => c.appId === hidden.id)).toBe(false);
  });

  test('app unpublished mid-flow cannot be allowed', async () => {
    const app = await draftApp(`Withdrawn ${randomUUID().slice(0, 6)}`, true);
    const base = `/hub/integrations/groups/${groupId}/connect`;
    const token = await admin.csrfFrom(base);
    expect((await admin.post(base, { _csrf: token, app_id: app.id })).status).toBe(303);
    expect((await admin.post(`${base}/${app.id}/terms`, { _csrf: token, terms_version: '1' })).status).toBe(303);
    expect((await admin.post(`${base}/${app.id}`, { _csrf: token })).status).toBe(303);

    await setAppPublished(server.tg.domain, operator, { kind: 'operator' }, app.id, false);
    const allow = await admin.post(`${base}/${app.id}/allow`, { _csrf: token, decision: 'allow' });
    expect(allow.status).toBe(404);
    const connections = await listConnections(server.tg.db, demo.network.id, { groupId, includeDisconnected: true });
    expect(connections.some((c) => c.appId === app.id)).toBe(false);
  });
});
