import { createRole, createUser, redeemSignInLink } from '../../src/domain/accounts.js';
import { connectApp } from '../../src/domain/connections.js';
import { setOpenSignUp } from '../../src/domain/developers.js';
import { createGroup } from '../../src/domain/groups.js';
import { generateSecret } from '../../src/domain/secrets.js';
import { requestToken, setUpDemo } from '../support/oauth.js';
import { startServer, type TestServer } from '../support/server.js';
import { PageClient, signInLinkToken } from './page-client.js';

const PASSWORD = 'correct horse battery staple';
const operator = { id: 'test-operator' };
let server: TestServer;
let demo: Awaited<ReturnType<typeof setUpDemo>>;

beforeAll(async () => {
  server = await startServer();
  demo = await setUpDemo(server);
  await setOpenSignUp(server.tg.domain, operator, true);
});

afterAll(async () => {
  await server.stop();
});

function appFields(audience: string, scopes: string[], terms: string): Record<string, string | string[]> {
  const fields: Record<string, string | string[]> = { name: 'Invoice Sync', terms, token_ttl: '600', scope: scopes.map((s) => `${audience}|${s}`) };
  for (const scope of scopes) fields[`reason:${audience}|${scope}`] = `Needs ${scope} to sync invoices.`;
  return fields;
}

test('portal scope change reaches tokens only after hub approval', async () => {
  const audience = demo.api.audience;
  const developer = new PageClient(server.url);
  await developer.submit('/portal/signup', '/portal/signup', { email: 'sync@example.com', org_name: 'Sync Ltd', password: PASSWORD, confirm: PASSWORD });
  const created = await developer.submit('/portal/apps/new', '/portal/apps/new', appFields(audience, ['jobs:read'], 'Sync terms, version 1.'));
  expect(created.status).toBe(303);
  const appPath = created.location!;
  const appId = appPath.split('/').pop()!;
  expect((await developer.submit(appPath, `${appPath}/publish`, {})).status).toBe(303);

  const group = await createGroup(server.tg.domain, operator, demo.network.id, { name: 'Sync Group', tenantIds: ['16', '17'] });
  const connection = await connectApp(server.tg.domain, operator, demo.network.id, { groupId: group.id, appId, acceptedTermsVersion: 1, approvedBy: 'hub-admin@example.com' });
  const { clientSecret } = await generateSecret(server.tg.domain, operator, demo.network.id, connection.id, {});
  const first = await requestToken(server, connection.clientId, clientSecret, { tenant: '16' });
  expect(first.body.scope).toBe('jobs:read');
  expect(first.body.expires_in).toBe(600);

  // The developer adds a scope and changes the terms of the published app.
  const edited = await developer.submit(`${appPath}/edit`, `${appPath}/edit`, appFields(audience, ['jobs:read', 'invoices:read'], 'Sync terms, version 2.'));
  expect(edited.status).toBe(303);
  const notice = await developer.get(appPath);
  expect(notice.html).toContain('Existing connections keep their approved scopes until an administrator of each hub approves the new ones.');

  const before = await requestToken(server, connection.clientId, clientSecret, { tenant: '16' });
  expect(before.status).toBe(200);
  expect(before.body.scope).toBe('jobs:read');
  const rejected = await requestToken(server, connection.clientId, clientSecret, { tenant: '16', scope: 'invoices:read' });
  expect(rejected.status).toBe(400);
  expect(rejected.body.error).toBe('invalid_scope');

  // The hub shows "update available" and approves on a fresh Allow Access screen.
  const role = await createRole(server.tg.domain, operator, demo.network.id, { name: 'Integrators', permissions: ['integrations.view', 'integrations.manage'] });
  const { link } = await createUser(server.tg.domain, operator, { networkId: demo.network.id, email: 'hub-admin@example.com', roleIds: [role.id] });
  await redeemSignInLink(server.tg.domain, signInLinkToken(link.path), PASSWORD);
  const admin = new PageClient(server.url);
  await admin.submit('/signin', '/signin', { email: 'hub-admin@example.com', password: PASSWORD });
  const list = await admin.get(`/hub/integrations/groups/${group.id}/connections`);
  expect(list.html).toContain('update available');
  const updatePath = `/hub/integrations/connections/${connection.id}/update`;
  const screen = await admin.get(updatePath);
  expect(screen.html).toContain('Needs invoices:read to sync invoices.');
  expect(screen.html).toContain('name="terms_version" value="2"');
  expect((await admin.submit(updatePath, updatePath, { decision: 'allow', terms_version: '2' })).status).toBe(303);

  const after = await requestToken(server, connection.clientId, clientSecret, { tenant: '17' });
  expect(after.status).toBe(200);
  expect(after.body.scope).toBe('jobs:read invoices:read');
  expect((await admin.get(`/hub/integrations/groups/${group.id}/connections`)).html).not.toContain('update available');
});
