import { updateApp } from '../../src/domain/app-updates.js';
import { requestToken, decodeJwtPart } from '../support/oauth.js';
import { startServer, type TestServer } from '../support/server.js';
import { createHubFixture, type HubFixture } from './fixture.js';
import { PageClient, PASSWORD } from './support.js';

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

test('an invited user signs in with the link and gets the role', async () => {
  const roles = await admin.get('/hub/roles');
  const roleId = /\/hub\/roles\/([0-9a-f-]{36})">role of viewer@a.example/.exec(roles.text)![1]!;
  const invited = await admin.post('/hub/users', { email: 'new@a.example', name: 'New Person', role_ids: roleId }, { csrfFrom: '/hub/users' });
  expect(invited.status).toBe(303);

  const shown = await admin.get('/hub/users/link');
  const url = new URL(/id="link" class="mono">([^<]+)</.exec(shown.text)![1]!.replace(/&amp;/g, '&'));
  expect((await admin.get('/hub/users/link')).text).not.toContain(url.searchParams.get('token')!);

  const newcomer = new PageClient(server.url);
  const set = await newcomer.post('/signin/link', { token: url.searchParams.get('token')!, password: PASSWORD, confirm: PASSWORD }, { csrfFrom: `${url.pathname}${url.search}` });
  expect(set.status).toBe(303);
  expect((await newcomer.get('/hub/integrations')).status).toBe(200);
  expect((await newcomer.get('/hub/users')).status).toBe(403);
}, 30_000);

test('a role edited on the page applies to its users at once', async () => {
  const viewer = new PageClient(server.url);
  await viewer.signIn(fx.a.viewer.email);
  expect((await viewer.get('/hub/integrations/groups/new')).status).toBe(403);

  const saved = await admin.post(
    `/hub/roles/${fx.a.viewer.roleId}`,
    { name: 'Viewer and manager', permissions: ['integrations.view', 'integrations.manage'] },
    { csrfFrom: `/hub/roles/${fx.a.viewer.roleId}` },
  );
  expect(saved.status).toBe(303);
  expect((await viewer.get('/hub/integrations/groups/new')).status).toBe(200);
}, 30_000);

test('a duplicate role name is reported on the form', async () => {
  const res = await admin.post('/hub/roles', { name: 'Viewer and manager', permissions: 'integrations.view' }, { csrfFrom: '/hub/roles/new' });
  expect(res.status).toBe(409);
  expect(res.text).toContain('a role named &quot;Viewer and manager&quot; already exists in this network');
});

test('GET /hub/audit lists only the own network and filters by action', async () => {
  const all = await admin.get('/hub/audit');
  expect(all.status).toBe(200);
  expect(all.text).toContain('group.created');
  expect(all.text).not.toContain(fx.b.groupId);
  expect(all.text).not.toContain(fx.b.clientId);

  const filtered = await admin.get('/hub/audit?action=role.updated');
  expect(filtered.text).toContain('<code>role.updated</code>');
  expect(filtered.text).not.toContain('<code>group.created</code>');
});

test('an app asking for a new scope shows update available until approved', async () => {
  await updateApp(server.tg.domain, { id: 'test' }, { kind: 'operator' }, fx.appId, {
    name: 'App 1',
    terms: 'Terms of App 1.',
    scopes: [
      { scope: 'jobs:read', reason: 'to show jobs' },
      { scope: 'jobs:write', reason: 'to book jobs' },
    ],
  });
  const connections = `/hub/integrations/groups/${fx.a.groupId}/connections`;
  expect((await admin.get(connections)).text).toContain('update available');

  const update = await admin.get(`/hub/integrations/connections/${fx.a.connectionId}/update`);
  expect(update.text).toContain('Allow Access');
  expect(update.text).toContain('Create and update jobs');
  const approved = await admin.post(`/hub/integrations/connections/${fx.a.connectionId}/update`, { decision: 'allow', terms_version: '1' }, { csrfFrom: connections });
  expect(approved.status).toBe(303);
  expect((await admin.get(connections)).text).not.toContain('update available');

  const token = await requestToken(server, fx.a.clientId, fx.a.clientSecret, { tenant: 'a1' });
  expect(token.status).toBe(200);
  expect(String(decodeJwtPart(String(token.body.access_token), 1).scope).split(' ').sort()).toEqual(['jobs:read', 'jobs:write']);
});

test('a duplicate group name is reported on the form', async () => {
  const res = await admin.post('/hub/integrations/groups', { name: 'Group A', tenant_ids: 'a7' }, { csrfFrom: '/hub/integrations/groups/new' });
  expect(res.status).toBe(409);
  expect(res.text).toContain('a group named &quot;Group A&quot; already exists in this network');
  expect(res.text).toContain('>a7</textarea>');
});

test('deleting a group names the connections it cuts, then cuts them', async () => {
  const confirm = await admin.get(`/hub/integrations/groups/${fx.a.groupId}/delete`);
  expect(confirm.text).toContain('These connections will be cut at once');
  expect(confirm.text).toContain(`App 1 — client ID <code>${fx.a.clientId}</code>`);

  const deleted = await admin.post(`/hub/integrations/groups/${fx.a.groupId}/delete`, {}, { csrfFrom: `/hub/integrations/groups/${fx.a.groupId}/delete` });
  expect(deleted.status).toBe(303);
  expect((await admin.get(`/hub/integrations/groups/${fx.a.groupId}/connections`)).status).toBe(404);
  expect((await requestToken(server, fx.a.clientId, fx.a.clientSecret, { tenant: 'a1' })).status).toBe(401);
});

test('last user manager is kept', async () => {
  // Leave the administrator as the network's only user manager.
  const usersOnly = fx.a.usersOnly;
  expect((await admin.post(`/hub/users/${usersOnly.id}/roles`, {}, { csrfFrom: '/hub/users' })).status).toBe(303);
  const roleId = fx.a.admin.roleId!;
  const rejection = 'this would leave no user with User Management in the network';

  const ownRoles = await admin.post(`/hub/users/${fx.a.admin.id}/roles`, {}, { csrfFrom: '/hub/users' });
  expect(ownRoles.status).toBe(303);
  expect((await admin.get('/hub/users')).text).toContain(rejection);

  const edited = await admin.post(`/hub/roles/${roleId}`, { name: 'Admin', permissions: ['integrations.view'] }, { csrfFrom: `/hub/roles/${roleId}` });
  expect(edited.status).toBe(409);
  expect(edited.text).toContain(rejection);

  const deleted = await admin.post(`/hub/roles/${roleId}/delete`, {}, { csrfFrom: '/hub/roles' });
  expect(deleted.status).toBe(303);
  expect((await admin.get('/hub/roles')).text).toContain(rejection);

  // Nothing changed: the administrator still manages users, and can hand the role back.
  expect((await admin.get('/hub/users')).status).toBe(200);
  expect((await admin.post(`/hub/users/${usersOnly.id}/roles`, { role_ids: usersOnly.roleId! }, { csrfFrom: '/hub/users' })).status).toBe(303);
});

test('rejected invitation keeps form input', async () => {
  const roleId = fx.a.viewer.roleId!;
  const duplicate = await admin.post('/hub/users', { email: fx.a.viewer.email, name: 'Twice Invited', role_ids: roleId }, { csrfFrom: '/hub/users' });
  expect(duplicate.status).toBe(409);
  expect(duplicate.text).toContain('already exists');
  expect(duplicate.text).toContain(`value="${fx.a.viewer.email}"`);
  expect(duplicate.text).toContain('value="Twice Invited"');
  expect(duplicate.text).toContain(`value="${roleId}" checked`);

  const unknownRole = await admin.post('/hub/users', { email: 'fresh@a.example', name: 'Fresh', role_ids: '00000000-0000-4000-8000-000000000000' }, { csrfFrom: '/hub/users' });
  expect(unknownRole.status).toBe(404);
  expect(unknownRole.text).toContain('value="fresh@a.example"');
  // Nothing was saved: the same address can still be invited.
  expect((await admin.post('/hub/users', { email: 'fresh@a.example', name: 'Fresh' }, { csrfFrom: '/hub/users' })).status).toBe(303);
});
