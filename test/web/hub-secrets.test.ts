import { exportAuditEvents } from '../../src/storage/audit.js';
import { requestToken } from '../support/oauth.js';
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

const connectionPath = () => `/hub/integrations/connections/${fx.a.connectionId}`;

/** Generates a secret through the pages and returns the page that shows it. */
async function generateThroughPages(graceHours: string): Promise<{ secret: string; page: string }> {
  expect((await admin.post(`${connectionPath()}/generate`, {}, { csrfFrom: `/hub/integrations/groups/${fx.a.groupId}/connections` })).status).toBe(303);
  const posted = await admin.post(`${connectionPath()}/secret`, { grace_hours: graceHours }, { csrfFrom: `${connectionPath()}/generate` });
  expect(posted.status).toBe(303);
  expect(posted.location).toBe(`${connectionPath()}/secret`);
  const page = await admin.get(`${connectionPath()}/secret`);
  const match = /data-secret>([^<]+)</.exec(page.text);
  expect(match).not.toBeNull();
  return { secret: match![1]!, page: page.text };
}

test('GET secret shows a generated secret exactly once', async () => {
  const { secret } = await generateThroughPages('1');
  const again = await admin.get(`${connectionPath()}/secret`);
  expect(again.status).toBe(200);
  expect(again.text).not.toContain(secret);
  expect(again.text).toContain('already shown once');
  expect(again.headers.get('cache-control')).toBe('no-store');
});

test('a secret reaches no log, audit entry or session row', async () => {
  const { secret } = await generateThroughPages('0');
  expect((await requestToken(server, fx.a.clientId, secret, { tenant: 'a1' })).status).toBe(200);

  expect(server.logs.text).not.toContain(secret);
  const audit = JSON.stringify(await exportAuditEvents(server.tg.domain.db));
  expect(audit).not.toContain(secret);
  expect(audit).not.toContain(PASSWORD);
  const sessions = JSON.stringify(await server.tg.domain.db('web_sessions').select());
  expect(sessions).not.toContain(secret);
});

test('Generate again keeps the previous secret for the grace period', async () => {
  const first = await generateThroughPages('0');
  const second = await generateThroughPages('2');
  expect(second.page).toContain('The previous secret keeps working until');
  expect((await requestToken(server, fx.a.clientId, first.secret, { tenant: 'a1' })).status).toBe(200);

  const connections = await admin.get(`/hub/integrations/groups/${fx.a.groupId}/connections`);
  expect(connections.text).toContain('End grace period now');
  const ended = await admin.post(`${connectionPath()}/end-grace`, {}, { csrfFrom: `/hub/integrations/groups/${fx.a.groupId}/connections` });
  expect(ended.status).toBe(303);
  expect((await requestToken(server, fx.a.clientId, first.secret, { tenant: 'a1' })).status).toBe(401);
  expect((await requestToken(server, fx.a.clientId, second.secret, { tenant: 'a1' })).status).toBe(200);
});

test('Disable, Restore and Disconnect change what the token endpoint accepts', async () => {
  const { secret } = await generateThroughPages('0');
  const from = `/hub/integrations/groups/${fx.a.groupId}/connections`;
  expect((await admin.post(`${connectionPath()}/disable`, {}, { csrfFrom: from })).status).toBe(303);
  expect((await requestToken(server, fx.a.clientId, secret, { tenant: 'a1' })).status).toBe(401);
  expect((await admin.post(`${connectionPath()}/restore`, {}, { csrfFrom: from })).status).toBe(303);
  expect((await requestToken(server, fx.a.clientId, secret, { tenant: 'a1' })).status).toBe(200);
  expect((await admin.post(`${connectionPath()}/disconnect`, {}, { csrfFrom: from })).status).toBe(303);
  expect((await requestToken(server, fx.a.clientId, secret, { tenant: 'a1' })).status).toBe(401);
  expect((await admin.get(`${connectionPath()}/secret`)).status).toBe(404);
});

test('Decline on Allow Access leaves only the audit entry', async () => {
  const group = await admin.post('/hub/integrations/groups', { name: 'Declined group', tenant_ids: 'a9' });
  expect(group.status).toBe(303);
  const list = await admin.get('/hub/integrations');
  const groupId = new RegExp(`/hub/integrations/groups/([0-9a-f-]{36})/connections">Declined group`).exec(list.text)![1]!;
  const base = `/hub/integrations/groups/${groupId}/connect`;
  await admin.post(base, { app_id: fx.appId });
  await admin.post(`${base}/${fx.appId}/terms`, { terms_version: '1' });
  await admin.post(`${base}/${fx.appId}`, {});
  const declined = await admin.post(`${base}/${fx.appId}/allow`, { decision: 'decline' });
  expect(declined.status).toBe(303);

  const connections = await server.tg.domain.db('connections').where({ group_id: groupId }).select();
  expect(connections).toEqual([]);
  const events = await server.tg.domain.db('audit_events').where({ action: 'consent.declined' }).select();
  expect(events).toHaveLength(1);
});

test('Allow Access without accepting the terms goes back to the terms', async () => {
  const base = `/hub/integrations/groups/${fx.a.groupId}/connect/${fx.appId}`;
  const page = await admin.get(`${base}/allow`);
  expect(page.status).toBe(302);
  expect(page.location).toBe(`${base}/terms`);
});
