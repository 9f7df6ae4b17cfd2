import { randomBytes } from 'node:crypto';

import { DEMO_AUDIENCE } from '../../src/cli/demo.js';
import { createNetwork } from '../../src/domain/networks.js';
import { generateSecret } from '../../src/domain/secrets.js';
import { addTenants } from '../../src/domain/tenants.js';
import { basic, postForm, requestToken, setUpDemo, type TokenResponse } from '../support/oauth.js';
import { startServer, type TestServer } from '../support/server.js';

const actor = { id: 'security-test' };

let server: TestServer;
let demo: Awaited<ReturnType<typeof setUpDemo>>;
let address = 0;
let app2Secret: string;

beforeAll(async () => {
  // Each request gets its own forwarded address, so only the credentials decide the response.
  server = await startServer({ env: { TRUST_PROXY: '1' } });
  demo = await setUpDemo(server);
  // App 2's secret is rotated with no grace period: the one in `demo` is now revoked.
  const rotated = await generateSecret(server.tg.domain, actor, demo.network.id, demo.app2.connection_id, { graceSeconds: 0 });
  app2Secret = rotated.clientSecret;

  const elsewhere = await createNetwork(server.tg.domain, actor, { name: 'Other Customer' });
  await addTenants(server.tg.domain, actor, elsewhere.id, ['elsewhere-1']);
});

afterAll(async () => {
  await server.stop();
});

/** Returns the parts of a response a client can observe, minus those that differ on every request. */
function observable(response: TokenResponse): Record<string, unknown> {
  const headers = Object.fromEntries([...response.headers].filter(([name]) => !['date', 'x-request-id', 'content-length', 'keep-alive', 'connection'].includes(name)));
  return { status: response.status, body: response.body, headers };
}

function call(path: string, clientId: string, secret: string, params: Record<string, string>): Promise<TokenResponse> {
  address += 1;
  return postForm(`${server.url}${path}`, params, { authorization: basic(clientId, secret), 'x-forwarded-for': `10.9.${(address >> 8) & 255}.${address & 255}` });
}

describe.each([
  ['/token', { grant_type: 'client_credentials', tenant: '1' }],
  ['/token/introspection', { token: 'x' }],
  ['/token/revocation', { token: 'x' }],
])('POST %s client enumeration', (path, params) => {
  test('unknown ID, wrong secret and revoked secret look alike', async () => {
    const unknown = observable(await call(path, `tgc_${randomBytes(18).toString('base64url')}`, 'tgs_guess', params));
    const wrongSecret = observable(await call(path, demo.app1.client_id, 'tgs_guess', params));
    const revokedSecret = observable(await call(path, demo.app2.client_id, demo.app2.client_secret, params));

    expect(unknown.status).toBe(401);
    expect(wrongSecret).toEqual(unknown);
    expect(revokedSecret).toEqual(unknown);
  });

  test('client_secret_post failures look alike', async () => {
    const post = (clientId: string, secret: string) => {
      address += 1;
      return postForm(`${server.url}${path}`, { ...params, client_id: clientId, client_secret: secret }, { 'x-forwarded-for': `10.8.${(address >> 8) & 255}.${address & 255}` });
    };
    const unknown = observable(await post('tgc_unknown', 'tgs_guess'));
    const wrongSecret = observable(await post(demo.app1.client_id, 'tgs_guess'));
    expect(unknown.status).toBe(401);
    expect(wrongSecret).toEqual(unknown);
  });
});

describe('POST /token tenant enumeration', () => {
  test.each([
    ['no scope', {}],
    ['a consented scope', { scope: 'jobs:read' }],
    ['the default resource', { resource: DEMO_AUDIENCE }],
  ])('unknown and foreign tenants look alike with %s', async (_label, extra) => {
    const unknown = await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: 'no-such-tenant', ...extra });
    // Tenant 25 exists in the network, in App 2's group but not in App 1's.
    const foreign = await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: '25', ...extra });
    expect(unknown.body.error).toBe('invalid_target');
    expect(observable(foreign)).toEqual(observable(unknown));
  });

  test('tenant of another network looks like an unknown one', async () => {
    const unknown = await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: 'no-such-tenant' });
    const otherNetwork = await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: 'elsewhere-1' });
    expect(observable(otherNetwork)).toEqual(observable(unknown));
  });
});

describe('POST /token/introspection token enumeration', () => {
  test("another client's token looks like a garbage token", async () => {
    const issued = await requestToken(server, demo.app2.client_id, app2Secret, { tenant: '1' });
    expect(issued.status).toBe(200);
    const own = await call('/token/introspection', demo.app2.client_id, app2Secret, { token: issued.body.access_token as string });
    expect(own.body.active).toBe(true);

    const foreign = await call('/token/introspection', demo.app1.client_id, demo.app1.client_secret, { token: issued.body.access_token as string });
    const garbage = await call('/token/introspection', demo.app1.client_id, demo.app1.client_secret, { token: 'eyJhbGciOiJub25lIn0.e30.' });
    expect(observable(foreign)).toEqual(observable(garbage));
    expect(foreign.body).toEqual({ active: false });
  });

  test("revoking another client's token changes nothing", async () => {
    const issued = await requestToken(server, demo.app2.client_id, app2Secret, { tenant: '2' });
    const foreign = await call('/token/revocation', demo.app1.client_id, demo.app1.client_secret, { token: issued.body.access_token as string });
    const garbage = await call('/token/revocation', demo.app1.client_id, demo.app1.client_secret, { token: 'not-a-token' });
    expect(observable(foreign)).toEqual(observable(garbage));

    const still = await call('/token/introspection', demo.app2.client_id, app2Secret, { token: issued.body.access_token as string });
    expect(still.body.active).toBe(true);
  });
});
