import { createRemoteJWKSet, jwtVerify } from 'jose';

import { updateGroup } from '../../src/domain/groups.js';
import { addTenants } from '../../src/domain/tenants.js';
import { decodeJwtPart, postForm, requestToken, setUpDemo, basic } from '../support/oauth.js';
import { startServer, type TestServer } from '../support/server.js';

let server: TestServer;
let demo: Awaited<ReturnType<typeof setUpDemo>>;

beforeAll(async () => {
  server = await startServer();
  demo = await setUpDemo(server);
});

afterAll(async () => {
  await server.stop();
});

describe('POST /token for the example customer', () => {
  test.each(['1', '2', '15', '50'])("App 1's pair gets a token for tenant %s", async (tenant) => {
    const response = await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant });
    expect(response.status).toBe(200);
    const claims = decodeJwtPart(response.body.access_token as string, 1);
    expect(claims.tenant).toBe(tenant);
  });

  test("App 1's pair is refused tenant 25 with invalid_target", async () => {
    const response = await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: '25' });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: 'invalid_target', error_description: 'the tenant is not accessible to this client' });
  });

  test("App 2's pair gets tenant 25 and is refused tenant 15", async () => {
    const yes = await requestToken(server, demo.app2.client_id, demo.app2.client_secret, { tenant: '25' });
    expect(yes.status).toBe(200);
    const no = await requestToken(server, demo.app2.client_id, demo.app2.client_secret, { tenant: '15' });
    expect(no.status).toBe(400);
    expect(no.body.error).toBe('invalid_target');
  });

  test('unknown tenant gets the same body as a non-member', async () => {
    const unknown = await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: 'no-such-tenant' });
    const nonMember = await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: '25' });
    expect(unknown.status).toBe(nonMember.status);
    expect(unknown.body).toEqual(nonMember.body);
  });
});

describe('issued JWT', () => {
  test('verifies through the remote JWKS with every contract claim', async () => {
    const response = await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: '15' });
    expect(response.status).toBe(200);
    expect(response.body.token_type).toBe('Bearer');
    expect(response.body.expires_in).toBe(900);
    expect(response.body.scope).toBe('customers:read jobs:read jobs:write');
    const token = response.body.access_token as string;

    const jwks = createRemoteJWKSet(new URL(`${server.url}/jwks`));
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: server.url,
      audience: demo.api.audience,
      typ: 'at+jwt',
      algorithms: ['RS256'],
    });
    expect(protectedHeader.alg).toBe('RS256');
    expect(protectedHeader.typ).toBe('at+jwt');
    expect(typeof protectedHeader.kid).toBe('string');
    expect(payload.iss).toBe(server.url);
    expect(payload.sub).toBe(demo.app1.client_id);
    expect(payload.client_id).toBe(demo.app1.client_id);
    expect(payload.aud).toBe(demo.api.audience);
    expect(payload.tenant).toBe('15');
    expect(payload.scope).toBe('customers:read jobs:read jobs:write');
    expect(typeof payload.jti).toBe('string');
    expect(typeof payload.iat).toBe('number');
    expect(payload.exp! - payload.iat!).toBe(response.body.expires_in);
    expect(payload.nbf === undefined || payload.nbf <= payload.iat!).toBe(true);
  });

  test('each token has its own jti', async () => {
    const first = await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: '1' });
    const second = await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: '1' });
    expect(decodeJwtPart(first.body.access_token as string, 1).jti).not.toBe(decodeJwtPart(second.body.access_token as string, 1).jti);
  });
});

describe('POST /token errors', () => {
  test('without tenant → invalid_request', async () => {
    const response = await requestToken(server, demo.app1.client_id, demo.app1.client_secret, {});
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: 'invalid_request', error_description: "missing required parameter 'tenant'" });
  });

  test('with tenant twice → invalid_request', async () => {
    const response = await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: ['1', '2'] });
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_request');
    expect(response.body.error_description).toContain('tenant');
  });

  test('with an empty tenant → invalid_request', async () => {
    const response = await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: '' });
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_request');
  });

  test('with a malformed tenant → invalid_request', async () => {
    const response = await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: 'a/b' });
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_request');
  });

  test('tenant IDs compare exactly, never case-folded', async () => {
    const actor = { id: 'test' };
    await addTenants(server.tg.domain, actor, demo.network.id, ['Shop-A']);
    await updateGroup(server.tg.domain, actor, demo.network.id, demo.app1.group_id, { add: ['Shop-A'] });
    const exact = await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: 'Shop-A' });
    expect(exact.status).toBe(200);
    const folded = await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: 'shop-a' });
    expect(folded.status).toBe(400);
    expect(folded.body.error).toBe('invalid_target');
  });

  test('wrong secret and unknown client → identical 401 with WWW-Authenticate', async () => {
    const wrongSecret = await requestToken(server, demo.app1.client_id, `${demo.app1.client_secret}x`, { tenant: '1' });
    const unknownClient = await requestToken(server, 'tgc_doesnotexist000000000000', demo.app1.client_secret, { tenant: '1' });
    for (const response of [wrongSecret, unknownClient]) {
      expect(response.status).toBe(401);
      expect(response.body).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
      expect(response.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    }
    expect(wrongSecret.headers.get('www-authenticate')).toBe(unknownClient.headers.get('www-authenticate'));
  });

  test('client_secret_post works and a wrong post secret has no WWW-Authenticate', async () => {
    const ok = await postForm(`${server.url}/token`, {
      grant_type: 'client_credentials',
      tenant: '2',
      client_id: demo.app1.client_id,
      client_secret: demo.app1.client_secret,
    });
    expect(ok.status).toBe(200);
    const bad = await postForm(`${server.url}/token`, { grant_type: 'client_credentials', tenant: '2', client_id: demo.app1.client_id, client_secret: 'nope' });
    expect(bad.status).toBe(401);
    expect(bad.body.error).toBe('invalid_client');
    expect(bad.headers.get('www-authenticate')).toBeNull();
  });

  test('credentials in header and body together → invalid_request', async () => {
    const response = await postForm(
      `${server.url}/token`,
      { grant_type: 'client_credentials', tenant: '1', client_id: demo.app1.client_id, client_secret: demo.app1.client_secret },
      { authorization: basic(demo.app1.client_id, demo.app1.client_secret) },
    );
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_request');
  });

  test('missing grant_type → invalid_request', async () => {
    const response = await postForm(`${server.url}/token`, { tenant: '1' }, { authorization: basic(demo.app1.client_id, demo.app1.client_secret) });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: 'invalid_request', error_description: "missing required parameter 'grant_type'" });
  });

  test('unsupported grant_type → unsupported_grant_type', async () => {
    const response = await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { grant_type: 'password', tenant: '1' });
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('unsupported_grant_type');
  });

  test('scope not consented → invalid_scope', async () => {
    const response = await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: '1', scope: 'jobs:read invoices:read' });
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_scope');
  });

  test('empty scope → every consented scope', async () => {
    const response = await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: '1', scope: '' });
    expect(response.status).toBe(200);
    expect(response.body.scope).toBe('customers:read jobs:read jobs:write');
  });

  test('a repeated scope value is granted once', async () => {
    const response = await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: '1', scope: 'jobs:read jobs:read' });
    expect(response.status).toBe(200);
    expect(response.body.scope).toBe('jobs:read');
    expect(decodeJwtPart(response.body.access_token as string, 1).scope).toBe('jobs:read');
  });

  test('resource of an unregistered API → invalid_target', async () => {
    const response = await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: '1', resource: 'https://other.example.com' });
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_target');
  });

  test('resource of the default API → that audience', async () => {
    const response = await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: '1', resource: demo.api.audience });
    expect(response.status).toBe(200);
    expect(decodeJwtPart(response.body.access_token as string, 1).aud).toBe(demo.api.audience);
  });

  test('every response carries Cache-Control no-store and Pragma no-cache', async () => {
    const responses = await Promise.all([
      requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: '1' }),
      requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: '25' }),
      requestToken(server, demo.app1.client_id, 'wrong', { tenant: '1' }),
      requestToken(server, demo.app1.client_id, demo.app1.client_secret, {}),
    ]);
    expect(responses.map((r) => r.status)).toEqual([200, 400, 401, 400]);
    for (const response of responses) {
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('pragma')).toBe('no-cache');
    }
  });
});

describe('client IDs that cannot exist', () => {
  test.each([
    ['a NUL byte in Basic', { authorization: `Basic ${Buffer.from('%00:x').toString('base64')}` }, {}],
    ['a NUL byte in the body', {}, { client_id: '\u0000', client_secret: 'x' }],
    ['a control character in the body', {}, { client_id: 'tgc_\u0001', client_secret: 'x' }],
  ])('%s → a 4xx, never a 5xx, on every endpoint', async (_name, headers, body) => {
    for (const path of ['/token', '/token/introspection', '/token/revocation']) {
      const response = await postForm(`${server.url}${path}`, { grant_type: 'client_credentials', tenant: '1', token: 'x', ...body }, headers as Record<string, string>);
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expect(['invalid_client', 'invalid_request']).toContain(response.body.error);
    }
  });
});

describe('client credentials encoding', () => {
  test('IDs and secrets use only characters form-encoding leaves alone', () => {
    for (const value of [demo.app1.client_id, demo.app1.client_secret]) {
      expect(value).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(new URLSearchParams({ v: value }).toString()).toBe(`v=${value}`);
    }
  });

  test('a client that form-encodes its credentials inside Basic still authenticates', async () => {
    const encode = (value: string) => encodeURIComponent(value).replace(/-/g, '%2D').replace(/_/g, '%5F');
    const header = `Basic ${Buffer.from(`${encode(demo.app1.client_id)}:${encode(demo.app1.client_secret)}`).toString('base64')}`;
    expect(header).not.toBe(basic(demo.app1.client_id, demo.app1.client_secret));
    const response = await postForm(`${server.url}/token`, { grant_type: 'client_credentials', tenant: '1' }, { authorization: header });
    expect(response.status).toBe(200);
  });
});
