import fc from 'fast-check';

import { basic, decodeJwtPart, setUpDemo } from '../support/oauth.js';
import { startServer, type TestServer } from '../support/server.js';
import { postRaw } from './helpers.js';

// Every error code an OAuth endpoint of tenantgate may return (RFC 6749 §5.2, RFC 8707 §2 for
// invalid_target, RFC 8628 §3.5 for slow_down on 429).
const OAUTH_ERRORS = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_target',
  'slow_down',
]);

const FORM = 'application/x-www-form-urlencoded';

let server: TestServer;
let demo: Awaited<ReturnType<typeof setUpDemo>>;
let validBasic: string;
let addressCounter = 0;

beforeAll(async () => {
  // One trusted hop, so each request can come from its own address and the failure back-off of
  // one case never decides the response to another.
  server = await startServer({ env: { TRUST_PROXY: '1' } });
  demo = await setUpDemo(server);
  validBasic = basic(demo.app1.client_id, demo.app1.client_secret);
});

afterAll(async () => {
  await server.stop();
});

function freshAddress(): string {
  addressCounter += 1;
  return `10.${(addressCounter >> 16) & 255}.${(addressCounter >> 8) & 255}.${addressCounter & 255}`;
}

function post(path: string, body: string | Buffer | undefined, headers: Record<string, string>) {
  return postRaw(`${server.url}${path}`, body, { 'x-forwarded-for': freshAddress(), ...headers });
}

function token(body: string | Buffer | undefined, headers: Record<string, string> = {}) {
  return post('/token', body, { 'content-type': FORM, authorization: validBasic, ...headers });
}

function form(params: Array<[string, string]>): string {
  return new URLSearchParams(params).toString();
}

const TOKEN_OK: Array<[string, string]> = [
  ['grant_type', 'client_credentials'],
  ['tenant', '1'],
];

async function expectError(response: Awaited<ReturnType<typeof postRaw>>, status: number, error: string): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.body.error).toBe(error);
  expect(typeof response.body.error_description).toBe('string');
  expect(response.headers.get('cache-control')).toContain('no-store');
}

describe('POST /token repeated parameters', () => {
  test.each(['grant_type', 'tenant', 'scope'])('%s twice → invalid_request', async (name) => {
    const value = { grant_type: 'client_credentials', tenant: '1', scope: 'jobs:read', resource: demo.api.audience }[name]!;
    const params = [...TOKEN_OK.filter(([key]) => key !== name), [name, value], [name, value]] as Array<[string, string]>;
    await expectError(await token(form(params)), 400, 'invalid_request');
  });

  test('resource twice → invalid_target', async () => {
    // RFC 8707 §2 allows several resources; tenantgate issues a token for one audience only.
    const params = [...TOKEN_OK, ['resource', demo.api.audience], ['resource', demo.api.audience]] as Array<[string, string]>;
    await expectError(await token(form(params)), 400, 'invalid_target');
  });

  test('client_id twice with client_secret_post → invalid_request', async () => {
    const body = form([...TOKEN_OK, ['client_id', demo.app1.client_id], ['client_id', demo.app1.client_id], ['client_secret', demo.app1.client_secret]]);
    await expectError(await post('/token', body, { 'content-type': FORM }), 400, 'invalid_request');
  });

  test('credentials in header and body → invalid_request', async () => {
    const body = form([...TOKEN_OK, ['client_id', demo.app1.client_id], ['client_secret', demo.app1.client_secret]]);
    await expectError(await token(body), 400, 'invalid_request');
  });
});

describe('POST /token empty and oversized parameters', () => {
  test('empty grant_type → invalid_request', async () => {
    await expectError(await token(form([['grant_type', ''], ['tenant', '1']])), 400, 'invalid_request');
  });

  test('empty tenant → invalid_request', async () => {
    await expectError(await token(form([['grant_type', 'client_credentials'], ['tenant', '']])), 400, 'invalid_request');
  });

  test('empty scope → every consented scope', async () => {
    const response = await token(form([...TOKEN_OK, ['scope', '']]));
    expect(response.status).toBe(200);
    expect(response.body.scope).toBe('customers:read jobs:read jobs:write');
  });

  test('10 KB tenant → 413 invalid_request', async () => {
    const response = await token(form([['grant_type', 'client_credentials'], ['tenant', '1'.repeat(10_000)]]));
    await expectError(response, 413, 'invalid_request');
    expect(response.body.error_description).toBe('request body must be at most 8192 bytes');
  });

  test('10 KB scope → 413 invalid_request', async () => {
    await expectError(await token(form([...TOKEN_OK, ['scope', 's'.repeat(10_000)]])), 413, 'invalid_request');
  });

  test('7 KB tenant → invalid_request', async () => {
    await expectError(await token(form([['grant_type', 'client_credentials'], ['tenant', '1'.repeat(7000)]])), 400, 'invalid_request');
  });

  test('7 KB scope → invalid_scope', async () => {
    await expectError(await token(form([...TOKEN_OK, ['scope', 's'.repeat(7000)]])), 400, 'invalid_scope');
  });

  test('7 KB resource → invalid_target', async () => {
    await expectError(await token(form([...TOKEN_OK, ['resource', `https://x.example/${'r'.repeat(7000)}`]])), 400, 'invalid_target');
  });

  test('10 KB client_id → invalid_client', async () => {
    await expectError(await post('/token', form(TOKEN_OK), { 'content-type': FORM, authorization: basic('c'.repeat(6000), 'secret') }), 401, 'invalid_client');
  });
});

describe('POST /token hostile bytes', () => {
  test.each([
    ['NUL byte', 'tenant=1%00'],
    ['raw NUL byte', 'tenant=1\u0000'],
    ['newline', 'tenant=1%0A'],
    ['tab', 'tenant=%091'],
    ['DEL', 'tenant=1%7F'],
    ['non-UTF-8 escape', 'tenant=%FF%FE'],
    ['malformed escape', 'tenant=%zz1'],
    ['trailing percent', 'tenant=1%'],
    ['overlong UTF-8', 'tenant=%C0%B1'],
    ['right-to-left override', 'tenant=%E2%80%AE1'],
  ])('tenant with %s → invalid_request', async (_label, tenant) => {
    await expectError(await token(`grant_type=client_credentials&${tenant}`), 400, 'invalid_request');
  });

  test('raw non-UTF-8 body bytes → invalid_request', async () => {
    const body = Buffer.concat([Buffer.from('grant_type=client_credentials&tenant='), Buffer.from([0xff, 0xfe, 0x80])]);
    await expectError(await token(body), 400, 'invalid_request');
  });

  test('scope with NUL byte → invalid_scope', async () => {
    await expectError(await token(form([...TOKEN_OK, ['scope', 'jobs:read\u0000']])), 400, 'invalid_scope');
  });

  test('grant_type with NUL byte → unsupported_grant_type', async () => {
    await expectError(await token(form([['grant_type', 'client_credentials\u0000'], ['tenant', '1']])), 400, 'unsupported_grant_type');
  });
});

describe('POST /token Basic header', () => {
  const encode = (text: string | Buffer) => `Basic ${Buffer.from(text).toString('base64')}`;

  test.each([
    ['not base64', 'Basic !!!notbase64!!!'],
    ['no colon', encode('client-without-colon')],
    ['other scheme', 'Bearer abc'],
    ['extra part', `${encode('a:b')} extra`],
    ['empty', 'Basic '],
    ['malformed escape in ID', encode('%zz:secret')],
    ['NUL in ID', encode('id\u0000:secret')],
    ['control characters in secret', encode('x:\u0001\u0002\u001b')],
    ['non-UTF-8 bytes', encode(Buffer.from([0x69, 0x64, 0x3a, 0xff, 0xfe]))],
  ])('Basic with %s → invalid_request', async (_label, authorization) => {
    await expectError(await post('/token', form(TOKEN_OK), { 'content-type': FORM, authorization }), 400, 'invalid_request');
  });

  test('Basic with an unknown ID → invalid_client', async () => {
    await expectError(await post('/token', form(TOKEN_OK), { 'content-type': FORM, authorization: encode('no-such-client:secret') }), 401, 'invalid_client');
  });

  test('unknown client and wrong secret look the same', async () => {
    const unknown = await post('/token', form(TOKEN_OK), { 'content-type': FORM, authorization: basic('no-such-client', 'secret') });
    const wrong = await post('/token', form(TOKEN_OK), { 'content-type': FORM, authorization: basic(demo.app1.client_id, 'wrong') });
    expect(unknown.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body);
    expect(unknown.headers.get('www-authenticate')).toBe(wrong.headers.get('www-authenticate'));
  });
});

describe('POST /token content types', () => {
  test.each([
    ['charset', `${FORM}; charset=UTF-8`],
    ['upper case', 'APPLICATION/X-WWW-FORM-URLENCODED'],
    ['quoted charset', `${FORM}; charset="utf-8"`],
    ['Latin-1 charset', `${FORM}; charset=ISO-8859-1`],
  ])('form with %s → 200', async (_label, contentType) => {
    const response = await token(form(TOKEN_OK), { 'content-type': contentType });
    expect(response.status).toBe(200);
    expect(response.body.token_type).toBe('Bearer');
  });

  test('unknown charset is read as UTF-8', async () => {
    // oidc-provider 9 decodes every form body as UTF-8, whatever the charset parameter is.
    const response = await token(form(TOKEN_OK), { 'content-type': `${FORM}; charset=no-such-charset` });
    expect(response.status).toBe(200);
  });

  test('JSON body → invalid_request', async () => {
    await expectError(await token(JSON.stringify({ grant_type: 'client_credentials', tenant: '1' }), { 'content-type': 'application/json' }), 400, 'invalid_request');
  });

  test('multipart body → invalid_request', async () => {
    await expectError(await token('--b\r\n\r\n--b--', { 'content-type': 'multipart/form-data; boundary=b' }), 400, 'invalid_request');
  });

  test('no body → invalid_request', async () => {
    const response = await post('/token', undefined, { authorization: validBasic });
    await expectError(response, 400, 'invalid_request');
  });

  test('GET /token is not a token request', async () => {
    const response = await fetch(`${server.url}/token?grant_type=client_credentials&tenant=1`, { headers: { authorization: validBasic } });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
  });
});

describe.each(['/token/introspection', '/token/revocation'])('POST %s hostile input', (path) => {
  const call = (body: string | Buffer | undefined, headers: Record<string, string> = {}) =>
    post(path, body, { 'content-type': FORM, authorization: validBasic, ...headers });

  test('token twice → invalid_request', async () => {
    await expectError(await call(form([['token', 'a'], ['token', 'b']])), 400, 'invalid_request');
  });

  test('missing token → invalid_request', async () => {
    await expectError(await call(form([['token_type_hint', 'access_token']])), 400, 'invalid_request');
  });

  test('JSON body → invalid_request', async () => {
    await expectError(await call(JSON.stringify({ token: 'x' }), { 'content-type': 'application/json' }), 400, 'invalid_request');
  });

  test('no body → invalid_request', async () => {
    await expectError(await post(path, undefined, { authorization: validBasic }), 400, 'invalid_request');
  });

  test('malformed escape in Basic ID → invalid_request', async () => {
    await expectError(await call(form([['token', 'x']]), { authorization: `Basic ${Buffer.from('%zz:s').toString('base64')}` }), 400, 'invalid_request');
  });

  test.each([
    ['NUL byte', 'token=a%00b'],
    ['non-UTF-8 escape', 'token=%FF%FE'],
    ['malformed escape', 'token=%zz'],
    ['10 KB token', `token=${'a'.repeat(10_000)}`],
  ])('token with %s → 200', async (_label, body) => {
    const response = await call(body, { 'content-type': `${FORM.toUpperCase()}; charset=utf-8` });
    expect(response.status).toBe(200);
    if (path.endsWith('introspection')) expect(response.body).toEqual({ active: false });
  });
});

describe('hostile requests, property-based', () => {
  const hostileText = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.constantFrom('', '1', '25', 'client_credentials', 'jobs:read', '%', '%zz', '%00', '%FF', '\u0000', '\r\n', '+', '&', '=', 'ðŸ'),
    fc.integer({ min: 1, max: 12_000 }).map((size) => 'x'.repeat(size)),
  );
  const name = fc.oneof(
    fc.constantFrom('grant_type', 'tenant', 'scope', 'resource', 'client_id', 'client_secret', 'token', 'token_type_hint'),
    fc.string({ maxLength: 12 }),
  );
  const params = fc.array(fc.tuple(name, hostileText), { maxLength: 8 });
  const body = fc.oneof(
    params.map((pairs) => new URLSearchParams(pairs).toString()),
    // Concatenated without encoding: malformed escapes, bare NULs and stray separators arrive as is.
    params.map((pairs) => pairs.map(([key, value]) => `${key}=${value}`).join('&')),
    fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
    fc.constant(undefined),
  );
  const contentType = fc.oneof(
    fc.constantFrom(FORM, `${FORM}; charset=utf-8`, FORM.toUpperCase(), 'application/json', 'text/plain', `${FORM}; charset=bogus`, 'multipart/form-data'),
    fc.string({ maxLength: 30 }),
    fc.constant(undefined),
  );
  const authorization = fc.oneof(
    fc.constant(undefined),
    fc.constant('valid'),
    fc.tuple(hostileText, hostileText).map(([id, secret]) => basic(id, secret)),
    fc.string({ maxLength: 60 }).map((text) => `Basic ${text}`),
    fc.uint8Array({ maxLength: 60 }).map((bytes) => `Basic ${Buffer.from(bytes).toString('base64')}`),
  );
  const endpoint = fc.constantFrom('/token', '/token/introspection', '/token/revocation');

  test('never 5xx; errors are RFC bodies; tokens only for group tenants', async () => {
    await fc.assert(
      fc.asyncProperty(endpoint, body, contentType, authorization, async (path, requestBody, type, auth) => {
        const headers: Record<string, string> = {};
        // fetch rejects header values with control characters before sending, as any HTTP client must.
        if (type !== undefined && /^[\t\x20-\x7e]*$/.test(type)) headers['content-type'] = type;
        if (auth === 'valid') headers.authorization = validBasic;
        else if (auth !== undefined && /^[\t\x20-\x7e]*$/.test(auth)) headers.authorization = auth;

        const response = await post(path, requestBody, headers);
        expect(response.status).toBeLessThan(500);
        // Node itself rejects headers over 16 KiB with a bare 431, before tenantgate reads them.
        if (response.status === 431) return;
        expect(response.headers.get('cache-control')).toContain('no-store');

        if (response.status >= 400) {
          expect(OAUTH_ERRORS.has(response.body.error as string)).toBe(true);
          expect(typeof response.body.error_description).toBe('string');
        }
        if (path === '/token' && response.status === 200) {
          const claims = decodeJwtPart(response.body.access_token as string, 1);
          expect(demo.app1.tenants).toContain(claims.tenant);
        }
      }),
      { numRuns: 400 },
    );
  }, 120_000);
});
