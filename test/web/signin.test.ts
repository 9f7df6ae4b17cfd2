import { FAILURES_PER_ACCOUNT } from '../../src/web/throttle.js';
import { SIGN_IN_FAILED } from '../../src/web/signin-routes.js';
import { ensureFirstOperator } from '../../src/web/bootstrap.js';
import { startServer, type TestServer } from '../support/server.js';
import { createNetworkWithTenants, createSignedUpUser, PageClient, PASSWORD } from './support.js';

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
  const networkId = await createNetworkWithTenants(server, 'Network S', ['s1']);
  await createSignedUpUser(server, networkId, 'user@s.example', ['integrations.view']);
  await createSignedUpUser(server, networkId, 'locked@s.example', ['integrations.view']);
}, 60_000);
afterAll(async () => server.stop());

const escaped = (text: string) => text.replace(/'/g, '&#39;');

test('POST /signin with the right password starts a session', async () => {
  const client = new PageClient(server.url);
  const res = await client.signIn('user@s.example');
  expect(res.status).toBe(303);
  expect(res.location).toBe('/hub');
  const cookie = res.headers.getSetCookie().find((line) => line.startsWith('tg_session='))!;
  expect(cookie).toMatch(/httponly/i);
  expect(cookie).toMatch(/samesite=lax/i);
  expect(cookie).not.toMatch(/secure/i);
  expect((await client.get('/hub/integrations')).status).toBe(200);
});

test('wrong password and unknown user get the same message', async () => {
  const client = new PageClient(server.url);
  const wrong = await client.signIn('user@s.example', 'not the password at all');
  const unknown = await client.signIn('nobody@s.example', 'not the password at all');
  expect(wrong.status).toBe(400);
  expect(unknown.status).toBe(400);
  expect(wrong.text).toContain(escaped(SIGN_IN_FAILED));
  expect(unknown.text).toContain(escaped(SIGN_IN_FAILED));
  expect(client.cookies.has('tg_session')).toBe(false);
});

test('repeated failures lock the account, even for the right password', async () => {
  const client = new PageClient(server.url);
  for (let i = 0; i < FAILURES_PER_ACCOUNT; i += 1) {
    expect((await client.signIn('locked@s.example', `wrong password ${i}`)).status).toBe(400);
  }
  const locked = await client.signIn('locked@s.example', PASSWORD);
  expect(locked.status).toBe(429);
  expect(locked.text).toContain('Too many failed sign-ins');
  expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(client.cookies.has('tg_session')).toBe(false);

  // An unknown e-mail is locked the same way, so the lock reveals nothing about accounts.
  for (let i = 0; i < FAILURES_PER_ACCOUNT; i += 1) await client.signIn('ghost@s.example', `wrong ${i}`);
  expect((await client.signIn('ghost@s.example', 'anything at all')).status).toBe(429);
}, 90_000);

test('POST /signout ends the session on the server', async () => {
  const client = new PageClient(server.url);
  await client.signIn('user@s.example');
  const stolen = client.cookies.get('tg_session')!;
  const out = await client.post('/signout', {}, { csrfFrom: '/hub/integrations' });
  expect(out.status).toBe(303);

  const replay = new PageClient(server.url);
  replay.cookies.set('tg_session', stolen);
  const page = await replay.get('/hub/integrations');
  expect(page.status).toBe(303);
  expect(page.location).toBe('/signin?next=%2Fhub%2Fintegrations');
});

test('a sign-in link works once', async () => {
  const first = await ensureFirstOperator(server.tg.domain, server.url);
  expect(first).toBeUndefined();

  const fresh = await startServer();
  try {
    const link = await ensureFirstOperator(fresh.tg.domain, fresh.url);
    expect(link!.email).toBe('operator@localhost');
    expect(await ensureFirstOperator(fresh.tg.domain, fresh.url)).toBeUndefined();

    const url = new URL(link!.url);
    const path = `${url.pathname}${url.search}`;
    const token = url.searchParams.get('token')!;
    const client = new PageClient(fresh.url);
    const short = await client.post('/signin/link', { token, password: 'short', confirm: 'short' }, { csrfFrom: path });
    expect(short.status).toBe(400);
    const set = await client.post('/signin/link', { token, password: PASSWORD, confirm: PASSWORD }, { csrfFrom: path });
    expect(set.status).toBe(303);
    expect(set.location).toBe('/operator');
    expect((await client.get('/operator')).status).toBe(200);

    const reused = await new PageClient(fresh.url).get(path);
    expect(reused.status).toBe(404);
    expect(fresh.logs.text).not.toContain(token);
  } finally {
    await fresh.stop();
  }
}, 30_000);

test('an https issuer makes the session cookie Secure and __Host-', async () => {
  const secure = await startServer({ env: { ISSUER: 'https://auth.example.com' } });
  try {
    const networkId = await createNetworkWithTenants(secure, 'Network T', ['t1']);
    await createSignedUpUser(secure, networkId, 'user@t.example', []);
    const client = new PageClient(secure.url);
    const res = await client.signIn('user@t.example');
    const cookie = res.headers.getSetCookie().find((line) => line.startsWith('__Host-tg_session='));
    expect(cookie).toBeDefined();
    expect(cookie).toMatch(/secure/i);
    expect(cookie).toMatch(/path=\//i);
  } finally {
    await secure.stop();
  }
}, 30_000);

test('GET /signin?next= keeps only local paths', async () => {
  const client = new PageClient(server.url);
  const page = await client.get('/signin?next=https://evil.example/');
  expect(page.text).toContain('name="next" value=""');
  const res = await client.post('/signin', { email: 'user@s.example', password: PASSWORD, next: '//evil.example/' }, { csrfFrom: '/signin' });
  expect(res.location).toBe('/hub');
});
