import { request } from 'node:http';

import { createRemoteJWKSet, jwtVerify } from 'jose';

import { setAppTokenRateLimit } from '../../src/domain/app-rate-limits.js';
import { findAppByName } from '../../src/domain/apps.js';
import { basic, decodeJwtPart, postForm, requestToken, setUpDemo, type TokenResponse } from '../support/oauth.js';
import { startServer, type TestServer } from '../support/server.js';

// Headers that differ between any two responses, whichever path wrote them.
const PER_RESPONSE_HEADERS = new Set(['x-request-id', 'date', 'content-length']);
// Claims that differ between any two tokens.
const PER_TOKEN_CLAIMS = new Set(['jti', 'iat', 'exp']);

interface RawResponse extends TokenResponse {
  /** Header names as the server wrote them, in order. */
  rawNames: string[];
}

/**
 * Sends a token request over node:http. A chunked body has no Content-Length, which the fast
 * path requires, so with `chunked` the request always goes through Koa and oidc-provider.
 */
function sendToken(url: string, headers: Record<string, string>, form: string, chunked: boolean): Promise<RawResponse> {
  const framing = chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(Buffer.byteLength(form)) };
  return new Promise((resolve, reject) => {
    const req = request(`${url}/token`, { method: 'POST', headers: { ...headers, ...framing } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const parsed = new Headers();
        for (const [name, value] of Object.entries(res.headers)) if (typeof value === 'string') parsed.set(name, value);
        const rawNames = res.rawHeaders.filter((_, index) => index % 2 === 0);
        resolve({ status: res.statusCode ?? 0, headers: parsed, rawNames, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> });
      });
    });
    req.on('error', reject);
    // Buffers, because Node writes the headers together with a first string chunk in that
    // chunk's encoding, which would send header bytes above 0x7F as UTF-8 rather than as octets.
    const body = Buffer.from(form);
    req.write(body.subarray(0, 10));
    req.end(body.subarray(10));
  });
}

function chunkedTokenRequest(url: string, authorization: string, form: string): Promise<RawResponse> {
  return sendToken(url, { authorization, 'content-type': 'application/x-www-form-urlencoded' }, form, true);
}

/** Sends one request on both paths and expects the same status and body (apart from the token). */
async function expectSamePaths(url: string, name: string, headers: Record<string, string>, form: string): Promise<RawResponse> {
  const fast = await sendToken(url, headers, form, false);
  const full = await sendToken(url, headers, form, true);
  const outcome = (response: RawResponse) => ({ name, status: response.status, body: { ...response.body, access_token: typeof response.body.access_token } });
  expect(outcome(fast)).toEqual(outcome(full));
  return fast;
}

function comparableHeaders(response: TokenResponse): Record<string, string> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (!PER_RESPONSE_HEADERS.has(name)) headers[name] = value;
  });
  return headers;
}

function comparableToken(token: string): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const claims = decodeJwtPart(token, 1);
  return { header: decodeJwtPart(token, 0), claims: Object.fromEntries(Object.entries(claims).filter(([name]) => !PER_TOKEN_CLAIMS.has(name))) };
}

describe('token fast path behind a proxy', () => {
  let server: TestServer;
  let demo: Awaited<ReturnType<typeof setUpDemo>>;

  beforeAll(async () => {
    server = await startServer({ env: { TRUST_PROXY: '1' } });
    demo = await setUpDemo(server);
  });

  afterAll(async () => {
    await server.stop();
  });

  test('back-off keys on the address Koa derives', async () => {
    const { client_id: clientId, client_secret: secret } = demo.app1;
    const form = 'grant_type=client_credentials&tenant=1';
    const from = (address: string, password: string) => ({ authorization: basic(clientId, password), 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': address });
    for (let i = 0; i < 12; i += 1) await sendToken(server.url, from('198.51.100.7', `${secret}x`), form, false);

    // Koa trims U+00A0 around the address, so this is the blocked address on both paths.
    for (const address of ['198.51.100.7', '\u00a0198.51.100.7', '198.51.100.7\u00a0', '203.0.113.9, 198.51.100.7']) {
      const response = await expectSamePaths(server.url, `X-Forwarded-For ${JSON.stringify(address)}`, from(address, secret), form);
      expect({ address, status: response.status }).toEqual({ address, status: 429 });
    }
    const elsewhere = await sendToken(server.url, from('198.51.100.8', secret), form, false);
    expect(elsewhere.status).toBe(200);
  });
});

describe('token fast path', () => {
  let server: TestServer;
  let demo: Awaited<ReturnType<typeof setUpDemo>>;

  /** Debug lines written by the fast path; the full path logs without `fast_path`. */
  const fastPathAnswers = () => server.logs.lines.filter((line) => line.includes('"fast_path":true')).length;

  beforeAll(async () => {
    server = await startServer({ env: { LOG_LEVEL: 'debug' } });
    demo = await setUpDemo(server);
  });

  afterAll(async () => {
    await server.stop();
  });

  test('answers a plain grant exactly as the full path does', async () => {
    const { client_id: clientId, client_secret: secret } = demo.app1;
    const before = fastPathAnswers();
    const fast = await requestToken(server, clientId, secret, { tenant: '15', scope: 'jobs:read' });
    expect(fastPathAnswers()).toBe(before + 1);
    const full = await chunkedTokenRequest(server.url, basic(clientId, secret), 'grant_type=client_credentials&tenant=15&scope=jobs%3Aread');
    expect(fastPathAnswers()).toBe(before + 1);

    expect(fast.status).toBe(200);
    expect(full.status).toBe(200);
    expect(comparableHeaders(fast)).toEqual(comparableHeaders(full));
    expect(Object.keys(fast.body)).toEqual(Object.keys(full.body));
    expect({ ...fast.body, access_token: undefined }).toEqual({ ...full.body, access_token: undefined });
    expect(comparableToken(String(fast.body.access_token))).toEqual(comparableToken(String(full.body.access_token)));
    expect(comparableToken(String(fast.body.access_token)).claims).toMatchObject({ tenant: '15', scope: 'jobs:read', client_id: clientId, sub: clientId });

    const { payload } = await jwtVerify(String(fast.body.access_token), createRemoteJWKSet(new URL(`${server.url}/jwks`)), {
      issuer: server.url,
      audience: demo.api.audience,
      typ: 'at+jwt',
    });
    expect(payload.exp! - payload.iat!).toBe(fast.body.expires_in);
    expect(payload.jti).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  test('declined requests get full-path errors', async () => {
    const { client_id: clientId, client_secret: secret } = demo.app1;
    const before = fastPathAnswers();
    const token = (params: Record<string, string | string[]>, headers: Record<string, string> = { authorization: basic(clientId, secret) }) =>
      postForm(`${server.url}/token`, { grant_type: 'client_credentials', ...params }, headers);

    const refused = await token({ tenant: '25' });
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({ error: 'invalid_target', error_description: 'the tenant is not accessible to this client' });

    const repeated = await token({ tenant: ['1', '2'] });
    expect(repeated.status).toBe(400);
    expect(repeated.body).toMatchObject({ error: 'invalid_request' });

    const wrongSecret = await token({ tenant: '1' }, { authorization: basic(clientId, `${secret}x`) });
    expect(wrongSecret.status).toBe(401);
    expect(wrongSecret.body).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
    expect(wrongSecret.headers.get('www-authenticate')).toMatch(/^Basic /);

    const unconsented = await token({ tenant: '1', scope: 'jobs:read admin' });
    expect(unconsented.status).toBe(400);
    expect(unconsented.body).toMatchObject({ error: 'invalid_scope' });

    // Replayed bodies are whole: the full path grants what the fast path declined only for its
    // form (an empty scope, client_secret_post) and reads every parameter.
    const emptyScope = await token({ tenant: '2', scope: '' });
    expect(emptyScope.status).toBe(200);
    expect(decodeJwtPart(String(emptyScope.body.access_token), 1)).toMatchObject({ tenant: '2', scope: 'customers:read jobs:read jobs:write' });
    const post = await token({ tenant: '50', client_id: clientId, client_secret: secret }, {});
    expect(post.status).toBe(200);
    expect(decodeJwtPart(String(post.body.access_token), 1)).toMatchObject({ tenant: '50' });

    expect(fastPathAnswers()).toBe(before);
  });

  test('odd Basic headers get the same outcome on both paths', async () => {
    const { client_id: clientId, client_secret: secret } = demo.app1;
    const encoded = Buffer.from(`${clientId}:${secret}`).toString('base64');
    const unpadded = encoded.replace(/=+$/, '');
    const percentEncodedId = `${clientId.replace('t', '%74')}:${secret}`;
    // The same credentials in a whole number of base64 groups (percent-encoding a character adds
    // two bytes), so one more digit dangles: it cannot make a byte and decoders drop it.
    const bytes = Buffer.byteLength(`${clientId}:${secret}`);
    const escapes = [0, 1, 2].find((count) => (bytes + 2 * count) % 3 === 0)!;
    const wholeGroups = Buffer.from(`${clientId.replace('t', escapes > 0 ? '%74' : 't').replace('g', escapes > 1 ? '%67' : 'g')}:${secret}`).toString('base64');
    const variants = {
      standard: `Basic ${encoded}`,
      unpadded: `Basic ${unpadded}`,
      dangling: `Basic ${wholeGroups}A`,
      'wrong padding': `Basic ${unpadded}${'='.repeat(unpadded.length % 4 === 0 ? 1 : 5 - (unpadded.length % 4))}`,
      lowercase: `basic ${encoded}`,
      'two spaces': `Basic  ${encoded}`,
      'percent-encoded id': `Basic ${Buffer.from(percentEncodedId).toString('base64')}`,
      'non-VSCHAR secret': `Basic ${Buffer.from(`${clientId}:${secret}\u00e9`).toString('base64')}`,
    };
    const form = 'grant_type=client_credentials&tenant=1';

    for (const [name, authorization] of Object.entries(variants)) {
      const fast = await postForm(`${server.url}/token`, { grant_type: 'client_credentials', tenant: '1' }, { authorization });
      const full = await chunkedTokenRequest(server.url, authorization, form);
      expect({ name, status: fast.status }).toEqual({ name, status: full.status });
      expect({ name, body: { ...fast.body, access_token: typeof fast.body.access_token } }).toEqual({ name, body: { ...full.body, access_token: typeof full.body.access_token } });
    }
  });

  test('odd scopes and content types match', async () => {
    const headers = { authorization: basic(demo.app1.client_id, demo.app1.client_secret), 'content-type': 'application/x-www-form-urlencoded' };
    for (const scope of [' jobs:read', 'jobs:read ', 'jobs:read  jobs:write', ' ', 'jobs:read\tjobs:write', 'jobs:read jobs:read']) {
      await expectSamePaths(server.url, `scope ${JSON.stringify(scope)}`, headers, new URLSearchParams({ grant_type: 'client_credentials', tenant: '1', scope }).toString());
    }
    const form = 'grant_type=client_credentials&tenant=1';
    for (const contentType of ['application/x-www-form-urlencoded\u00a0; charset=utf-8', 'application/x-www-form-urlencoded ;\tcharset=utf-8', 'APPLICATION/X-WWW-FORM-URLENCODED; charset="UTF-8"']) {
      await expectSamePaths(server.url, `content type ${JSON.stringify(contentType)}`, { ...headers, 'content-type': contentType }, form);
    }
  });

  test('header names are written alike', async () => {
    const headers = { authorization: basic(demo.app1.client_id, demo.app1.client_secret), 'content-type': 'application/x-www-form-urlencoded' };
    const form = 'grant_type=client_credentials&tenant=2';
    const fast = await sendToken(server.url, headers, form, false);
    const full = await sendToken(server.url, headers, form, true);
    const names = (response: RawResponse) => response.rawNames.filter((name) => !PER_RESPONSE_HEADERS.has(name.toLowerCase())).sort();
    expect(names(fast)).toEqual(names(full));
  });

  test('token IDs match oidc-provider format', async () => {
    const lastCharacters = new Set<string>();
    for (let i = 0; i < 40; i += 1) {
      const response = await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: '1' });
      const jti = String(decodeJwtPart(String(response.body.access_token), 1).jti);
      expect(jti).toMatch(/^[A-Za-z0-9_-]{43}$/);
      lastCharacters.add(jti.slice(-1));
    }
    // 32 random bytes in base64url end in one of only 16 characters; 43 random characters do not.
    expect(lastCharacters.size).toBeGreaterThan(16);
  });

  test('a rate limit refusal reaches the client in the usual shape', async () => {
    const { client_id: clientId, client_secret: secret } = demo.app2;
    const app = await findAppByName(server.tg.domain.db, demo.app2.app);
    await setAppTokenRateLimit(server.tg.domain, { id: 'fast-path-test' }, app!.id, { rate: 1, burst: 1 });

    const granted = await requestToken(server, clientId, secret, { tenant: '25' });
    expect(granted.status).toBe(200);
    const limited = await requestToken(server, clientId, secret, { tenant: '25' });
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({ error: 'slow_down', error_description: 'token request rate limit of 1 per second exceeded' });
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(server.logs.lines.some((line) => line.includes('"outcome":"slow_down"'))).toBe(true);
  });

  test('a client that stops mid-body leaves the server serving', async () => {
    await new Promise<void>((resolve, reject) => {
      const req = request(`${server.url}/token`, {
        method: 'POST',
        headers: { authorization: basic(demo.app1.client_id, demo.app1.client_secret), 'content-type': 'application/x-www-form-urlencoded', 'content-length': '60' },
      });
      req.on('error', () => resolve());
      req.write('grant_type=client_credentials');
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 50);
      req.on('response', () => reject(new Error('a request with half a body got a response')));
    });
    const after = await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: '1' });
    expect(after.status).toBe(200);
  });
});
