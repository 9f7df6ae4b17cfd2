import { createApi, listApis, rotateIntrospectionClient } from '../../src/domain/apis.js';
import { disableConnection, disconnectConnection, restoreConnection } from '../../src/domain/connections.js';
import { deleteGroup, updateGroup } from '../../src/domain/groups.js';
import { revokeAllSecrets } from '../../src/domain/secrets.js';
import { removeTenant } from '../../src/domain/tenants.js';
import { basic, postForm, requestToken, setUpDemo } from '../support/oauth.js';
import { startServer, type TestServer } from '../support/server.js';

const actor = { id: 'user:admin' };
let server: TestServer;
let demo: Awaited<ReturnType<typeof setUpDemo>>;
let introspector: { clientId: string; clientSecret: string };

beforeEach(async () => {
  server = await startServer();
  demo = await setUpDemo(server);
  // The demo's API already exists; a second API gives this test an introspection client it knows.
  const created = await createApi(server.tg.domain, actor, {
    audience: 'https://reports.example.com',
    name: 'Reports API',
    scopes: [{ scope: 'reports:read', description: 'Read reports' }],
  });
  introspector = created.introspection;
});

afterEach(async () => {
  await server.stop();
});

async function mint(tenant = '15'): Promise<string> {
  const response = await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant });
  expect(response.status).toBe(200);
  return response.body.access_token as string;
}

/** Introspects as the app itself (an app may introspect its own tokens). */
async function introspect(token: string): Promise<Record<string, unknown>> {
  const response = await postForm(`${server.url}/token/introspection`, { token }, { authorization: basic(demo.app1.client_id, demo.app1.client_secret) });
  expect(response.status).toBe(200);
  return response.body;
}

describe('removals take effect on the next request', () => {
  test('disable refuses tokens; restore brings back the same client ID', async () => {
    const token = await mint();
    expect((await introspect(token)).active).toBe(true);

    await disableConnection(server.tg.domain, actor, demo.network.id, demo.app1.connection_id);
    const refused = await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: '15' });
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
    const asApi = await postForm(`${server.url}/token/introspection`, { token }, { authorization: basic(demo.app2.client_id, demo.app2.client_secret) });
    expect(asApi.body).toEqual({ active: false });

    await restoreConnection(server.tg.domain, actor, demo.network.id, demo.app1.connection_id);
    const restored = await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: '15' });
    expect(restored.status).toBe(200);
    expect((await introspect(token)).active).toBe(true);
  });

  test('disconnect removes the client for good', async () => {
    const token = await mint();
    await disconnectConnection(server.tg.domain, actor, demo.network.id, demo.app1.connection_id);
    expect((await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: '15' })).status).toBe(401);
    await expect(restoreConnection(server.tg.domain, actor, demo.network.id, demo.app1.connection_id)).rejects.toMatchObject({ status: 404 });
    const response = await postForm(`${server.url}/token/introspection`, { token }, { authorization: basic(introspector.clientId, introspector.clientSecret) });
    expect(response.body).toEqual({ active: false });
  });

  test('deleting a group cuts all its connections', async () => {
    const token = await mint();
    const result = await deleteGroup(server.tg.domain, actor, demo.network.id, demo.app1.group_id);
    expect(result.disconnected).toEqual([demo.app1.connection_id]);
    expect((await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: '1' })).status).toBe(401);
    expect((await requestToken(server, demo.app2.client_id, demo.app2.client_secret, { tenant: '1' })).status).toBe(200);
    const response = await postForm(`${server.url}/token/introspection`, { token }, { authorization: basic(demo.app2.client_id, demo.app2.client_secret) });
    expect(response.body).toEqual({ active: false });
  });

  test('removing a tenant from a group refuses it and deactivates its tokens', async () => {
    const token = await mint('50');
    await updateGroup(server.tg.domain, actor, demo.network.id, demo.app1.group_id, { remove: ['50'] });
    const refused = await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: '50' });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_target');
    expect(await introspect(token)).toEqual({ active: false });
    expect((await introspect(await mint('15'))).active).toBe(true);
  });

  test('removing a tenant from the network removes it from every group', async () => {
    const token1 = await mint('1');
    await removeTenant(server.tg.domain, actor, demo.network.id, '1');
    expect((await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: '1' })).status).toBe(400);
    expect((await requestToken(server, demo.app2.client_id, demo.app2.client_secret, { tenant: '1' })).status).toBe(400);
    expect(await introspect(token1)).toEqual({ active: false });
  });

  test('revoking every secret refuses the client at once', async () => {
    await revokeAllSecrets(server.tg.domain, actor, demo.network.id, demo.app1.connection_id);
    expect((await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: '15' })).status).toBe(401);
  });
});

describe('POST /token/introspection', () => {
  test("an API's introspection client sees the claims of an active token for its audience", async () => {
    const demoApiIntrospector = await createApi(server.tg.domain, actor, {
      audience: 'https://billing.example.com',
      name: 'Billing API',
      scopes: [{ scope: 'billing:read', description: 'Read billing' }],
    });
    const token = await mint('15');
    // A token for the demo audience is not for the billing API: inactive to that caller.
    const foreign = await postForm(
      `${server.url}/token/introspection`,
      { token },
      { authorization: basic(demoApiIntrospector.introspection.clientId, demoApiIntrospector.introspection.clientSecret) },
    );
    expect(foreign.body).toEqual({ active: false });

    const demoApi = (await listApis(server.tg.db)).find((api) => api.audience === demo.api.audience)!;
    const rotated = await rotateIntrospectionClient(server.tg.domain, actor, demoApi.id);
    const asApi = await postForm(`${server.url}/token/introspection`, { token }, { authorization: basic(rotated.clientId, rotated.clientSecret) });
    expect(asApi.body).toMatchObject({ active: true, tenant: '15', client_id: demo.app1.client_id, aud: demo.api.audience });

    const own = await introspect(token);
    expect(own).toMatchObject({ active: true, tenant: '15', client_id: demo.app1.client_id, aud: demo.api.audience, token_type: 'Bearer', iss: server.url });
    expect(typeof own.exp).toBe('number');
    expect(own.scope).toBe('customers:read jobs:read jobs:write');
  });

  test("an app cannot introspect another app's token", async () => {
    const token = await mint('1');
    const response = await postForm(`${server.url}/token/introspection`, { token }, { authorization: basic(demo.app2.client_id, demo.app2.client_secret) });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ active: false });
  });

  test.each([
    ['garbage', 'not-a-token'],
    ['a JWT signed by someone else', 'eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJ0ZW5hbnQiOiIxNSJ9.c2lnbmF0dXJl'],
  ])('%s → active false', async (_name, token) => {
    expect(await introspect(token)).toEqual({ active: false });
  });

  test('an expired token → active false', async () => {
    const token = await mint('15');
    server.clock.advance(901);
    expect(await introspect(token)).toEqual({ active: false });
  });

  test('without token → invalid_request; bad credentials → invalid_client', async () => {
    const missing = await postForm(`${server.url}/token/introspection`, {}, { authorization: basic(demo.app1.client_id, demo.app1.client_secret) });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe('invalid_request');
    const bad = await postForm(`${server.url}/token/introspection`, { token: 'x' }, { authorization: basic(demo.app1.client_id, 'wrong') });
    expect(bad.status).toBe(401);
    expect(bad.body.error).toBe('invalid_client');
    expect(bad.headers.get('www-authenticate')).toMatch(/^Basic /);
  });
});

describe('POST /token/revocation', () => {
  const revoke = (token: string, clientId: string, secret: string) =>
    postForm(`${server.url}/token/revocation`, { token, token_type_hint: 'access_token' }, { authorization: basic(clientId, secret) });

  test('revocation then introspection → inactive at once', async () => {
    const token = await mint('15');
    const response = await revoke(token, demo.app1.client_id, demo.app1.client_secret);
    expect(response.status).toBe(200);
    expect(await introspect(token)).toEqual({ active: false });
    const stored = await server.tg.db('revoked_tokens').count({ n: '*' });
    expect(Number(stored[0]!.n)).toBe(1);
  });

  test("revoking another client's token leaves it active", async () => {
    const token = await mint('1');
    const response = await revoke(token, demo.app2.client_id, demo.app2.client_secret);
    expect(response.status).toBe(200);
    expect((await introspect(token)).active).toBe(true);
  });

  test('unknown and expired tokens answer 200', async () => {
    expect((await revoke('unknown', demo.app1.client_id, demo.app1.client_secret)).status).toBe(200);
    const token = await mint('15');
    server.clock.advance(1000);
    expect((await revoke(token, demo.app1.client_id, demo.app1.client_secret)).status).toBe(200);
  });

  test('the revocation survives a restart', async () => {
    const token = await mint('15');
    await revoke(token, demo.app1.client_id, demo.app1.client_secret);
    const first = server;
    await first.tg.close();
    const again = await startServer({ dir: first.dir, databaseUrl: first.databaseUrl, dataKey: first.dataKey, port: Number(first.env.PORT) });
    try {
      const response = await postForm(`${again.url}/token/introspection`, { token }, { authorization: basic(demo.app1.client_id, demo.app1.client_secret) });
      expect(response.body).toEqual({ active: false });
    } finally {
      await again.stop();
      // Closing twice is harmless; this stop() removes the first server's database and folder.
      await first.stop();
    }
    server = await startServer();
  });
});
