import { startServer, type TestServer } from '../support/server.js';
import { createNetworkWithTenants, createOperator, createSignedUpUser, PageClient, snapshot } from './support.js';

let server: TestServer;
let operator: PageClient;

beforeAll(async () => {
  server = await startServer();
  operator = new PageClient(server.url);
  await operator.signIn(await createOperator(server));
}, 30_000);
afterAll(async () => server.stop());

async function createNetworkPage(name: string): Promise<string> {
  const res = await operator.post('/operator/networks', { name }, { csrfFrom: '/operator' });
  expect(res.status).toBe(303);
  return res.location!;
}

test('POST /operator/networks creates a network and rename changes its name', async () => {
  const path = await createNetworkPage('First Customer');
  const renamed = await operator.post(`${path}/rename`, { name: 'Renamed Customer' }, { csrfFrom: path });
  expect(renamed.status).toBe(303);
  const page = await operator.get(path);
  expect(page.text).toContain('<h1>Renamed Customer</h1>');
});

test('a tenant paste adds the valid IDs and lists the rest with reasons', async () => {
  const other = await createNetworkWithTenants(server, 'Other Customer', ['taken-1']);
  expect(other).toBeTruthy();
  const path = await createNetworkPage('Paste Customer');
  const res = await operator.post(`${path}/tenants`, { tenant_ids: 'p1, p2\np3 bad/id taken-1 p1 ' + 'x'.repeat(65) }, { csrfFrom: path });
  expect(res.status).toBe(303);

  const page = await operator.get(path);
  expect(page.text).toContain('3 added, 0 already in this network, 3 rejected.');
  expect(page.text).toContain('<code>bad/id</code></td><td>tenant ID may contain only A-Z, a-z, 0-9, &quot;.&quot;, &quot;_&quot; and &quot;-&quot;</td>');
  expect(page.text).toContain('<code>taken-1</code></td><td>tenant ID is already registered to another network</td>');
  expect(page.text).toContain('tenant ID is longer than 64 characters');

  const again = await operator.get(path);
  expect(again.text).not.toContain('rejected.');
  const networkId = path.split('/').pop()!;
  const rows = await server.tg.domain.db('tenants').where('network_id', networkId).orderBy('tenant_id').pluck('tenant_id');
  expect(rows).toEqual(['p1', 'p2', 'p3']);
});

test('the first administrator gets a link shown once', async () => {
  const path = await createNetworkPage('Admin Customer');
  const res = await operator.post(`${path}/admins`, { email: 'boss@admin.example', name: 'Boss' }, { csrfFrom: path });
  expect(res.status).toBe(303);
  expect(res.location).toBe('/operator/link');
  const shown = await operator.get('/operator/link');
  expect(shown.text).toContain('/signin/link/?token=');
  const again = await operator.get('/operator/link');
  expect(again.text).not.toContain('/signin/link/?token=');
  expect(again.text).toContain('already shown');
});

test('POST /operator/apis registers an API and shows its introspection secret once', async () => {
  const res = await operator.post(
    '/operator/apis',
    { name: 'Jobs API', audience: 'https://jobs.example.com', scopes: 'jobs:read Read jobs\njobs:write Create and update jobs' },
    { csrfFrom: '/operator/apis' },
  );
  expect(res.status).toBe(303);
  const shown = await operator.get('/operator/apis/credentials');
  const secret = /id="client-secret" class="mono">([^<]+)</.exec(shown.text)![1]!;
  expect((await operator.get('/operator/apis/credentials')).text).not.toContain(secret);
  expect(server.logs.text).not.toContain(secret);

  const list = await operator.get('/operator/apis');
  expect(list.text).toContain('<code>jobs:write</code> — Create and update jobs');
});

test('an invalid API form reports the problem and changes nothing', async () => {
  const before = await snapshot(server);
  const res = await operator.post('/operator/apis', { name: 'Broken', audience: 'not a uri', scopes: 'x' }, { csrfFrom: '/operator/apis' });
  expect(res.status).toBe(303);
  const page = await operator.get('/operator/apis');
  expect(page.text).toContain('must be an absolute URI');
  expect(await snapshot(server)).toEqual(before);
});

test('GET /operator/networks/:id of an unknown network answers 404', async () => {
  expect((await operator.get('/operator/networks/00000000-0000-0000-0000-000000000000')).status).toBe(404);
});

test('operators cannot open the hub', async () => {
  expect((await operator.get('/hub/integrations')).status).toBe(403);
});

test('a network user cannot open the operator pages', async () => {
  const networkId = await createNetworkWithTenants(server, 'Hub Customer', ['h1']);
  await createSignedUpUser(server, networkId, 'hub@hub.example', ['integrations.view', 'integrations.manage', 'users.manage']);
  const client = new PageClient(server.url);
  await client.signIn('hub@hub.example');
  expect((await client.get('/operator')).status).toBe(403);
  const csrf = await client.csrf('/hub/integrations');
  const before = await snapshot(server);
  expect((await client.post('/operator/networks', { name: 'Sneaky' }, { csrf })).status).toBe(403);
  expect(await snapshot(server)).toEqual(before);
});
