import { randomBytes } from 'node:crypto';

import { setAppTokenRateLimit, TOKEN_BURST_DEFAULT } from '../../src/domain/app-rate-limits.js';
import { findAppByName } from '../../src/domain/apps.js';
import { backoffSeconds, FailureBackoff } from '../../src/http/failure-backoff.js';
import { takeToken } from '../../src/http/token-bucket.js';
import { runCliJson } from '../support/cli.js';
import { basic, postForm, requestToken, setUpDemo, type TokenResponse } from '../support/oauth.js';
import { startServer, type TestServer } from '../support/server.js';
import { redisUrlForTests } from './helpers.js';

const actor = { id: 'security-test' };

function count(responses: TokenResponse[], status: number): number {
  return responses.filter((response) => response.status === status).length;
}

function expectRateLimited(response: TokenResponse, description: string): void {
  expect(response.status).toBe(429);
  expect(response.body).toEqual({ error: 'slow_down', error_description: description });
  expect(response.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
  expect(response.headers.get('cache-control')).toContain('no-store');
}

async function appId(server: TestServer, name: string): Promise<string> {
  const app = await findAppByName(server.tg.domain.db, name);
  if (!app) throw new Error(`demo app ${name} not found`);
  return app.id;
}

/** Token request that appears, through one trusted proxy hop, to come from `address`. */
function tokenFrom(server: TestServer, address: string, clientId: string, secret: string, tenant = '1'): Promise<TokenResponse> {
  return postForm(
    `${server.url}/token`,
    { grant_type: 'client_credentials', tenant },
    { authorization: basic(clientId, secret), 'x-forwarded-for': address },
  );
}

describe('token bucket arithmetic', () => {
  const limit = { rate: 2, burst: 4 };

  test('a new bucket starts full', () => {
    let state;
    for (let i = 0; i < 4; i += 1) {
      const step = takeToken(state, limit, 1000);
      expect(step.decision.allowed).toBe(true);
      state = step.state;
    }
    expect(takeToken(state, limit, 1000).decision).toEqual({ allowed: false, retryAfterMs: 500 });
  });

  test('refills at the rate, never above the burst', () => {
    const empty = { tokens: 0, updatedAt: 0 };
    expect(takeToken(empty, limit, 499).decision.allowed).toBe(false);
    expect(takeToken(empty, limit, 500).decision.allowed).toBe(true);
    expect(takeToken(empty, limit, 3_600_000).state.tokens).toBe(limit.burst - 1);
  });
});

describe('failure back-off arithmetic', () => {
  test('doubles from one second up to the cap', () => {
    expect([1, 2, 3, 4, 10, 11, 40].map((excess) => backoffSeconds(excess, 900))).toEqual([1, 2, 4, 8, 512, 900, 900]);
  });

  test('concurrent failures cannot pass the allowance', async () => {
    const backoff = new FailureBackoff('unit', { freeFailures: 3, windowSeconds: 60, maxBackoffSeconds: 60 }, { prefix: 'unit:' });
    const verdicts = await Promise.all(Array.from({ length: 20 }, () => backoff.recordFailure('key')));
    expect(verdicts.filter((verdict) => verdict.allowed)).toHaveLength(3);
    expect(await backoff.check('key')).toEqual({ allowed: false, retryAfterSeconds: expect.any(Number) });
    expect(await backoff.check('other')).toEqual({ allowed: true });
  });
});

describe('POST /token rate limit per client', () => {
  let server: TestServer;
  let demo: Awaited<ReturnType<typeof setUpDemo>>;

  beforeAll(async () => {
    server = await startServer();
    demo = await setUpDemo(server);
  });

  afterAll(async () => {
    await server.stop();
  });

  test('concurrent burst gets no more than the bucket holds', async () => {
    await setAppTokenRateLimit(server.tg.domain, actor, await appId(server, demo.app1.app), { rate: 2, burst: 5 });

    const started = performance.now();
    const responses = await Promise.all(Array.from({ length: 60 }, () => requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: '1' })));
    const elapsedSeconds = (performance.now() - started) / 1000;

    const granted = count(responses, 200);
    expect(granted).toBeGreaterThanOrEqual(5);
    // The bucket starts with 5 tokens and refills 2 per second while the burst is served.
    expect(granted).toBeLessThanOrEqual(5 + Math.ceil(2 * elapsedSeconds));
    expect(count(responses, 429)).toBe(60 - granted);
    expectRateLimited(responses.find((response) => response.status === 429)!, 'token request rate limit of 2 per second exceeded');
  });

  test('other clients keep their own bucket', async () => {
    const response = await requestToken(server, demo.app2.client_id, demo.app2.client_secret, { tenant: '1' });
    expect(response.status).toBe(200);
  });

  test('limited client succeeds after Retry-After', async () => {
    // Drain what the bucket refilled since the burst, however slow the machine was.
    let limited = await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: '1' });
    for (let attempt = 0; attempt < 20 && limited.status === 200; attempt += 1) {
      limited = await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: '1' });
    }
    expect(limited.status).toBe(429);
    await new Promise((done) => setTimeout(done, Number(limited.headers.get('retry-after')) * 1000));
    const retried = await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: '1' });
    expect(retried.status).toBe(200);
  });

  test('default bucket admits a burst of 100 and then limits', async () => {
    // App 2 has no limit set and its bucket is full again after its one request above.
    await new Promise((done) => setTimeout(done, 100));
    const started = performance.now();
    const responses = await Promise.all(Array.from({ length: 250 }, () => requestToken(server, demo.app2.client_id, demo.app2.client_secret, { tenant: '2' })));
    const elapsedSeconds = (performance.now() - started) / 1000;

    const granted = count(responses, 200);
    expect(granted).toBeGreaterThanOrEqual(TOKEN_BURST_DEFAULT);
    expect(granted).toBeLessThanOrEqual(TOKEN_BURST_DEFAULT + Math.ceil(50 * elapsedSeconds));
    expect(count(responses, 429)).toBe(250 - granted);
  });

  test('restoring the default limit takes effect at once', async () => {
    const id = await appId(server, demo.app1.app);
    const restored = await setAppTokenRateLimit(server.tg.domain, actor, id, null);
    expect(restored).toEqual({ rate: 50, burst: 100, isDefault: true });
    await new Promise((done) => setTimeout(done, 200));
    const responses = await Promise.all(Array.from({ length: 8 }, () => requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: '1' })));
    expect(count(responses, 200)).toBe(8);
  });

  test('operator sets the limit with tenantgate app limit', async () => {
    const id = await appId(server, demo.app2.app);
    const env = { DATABASE_URL: server.databaseUrl, DATA_KEY: server.dataKey, NODE_ENV: 'test' };
    expect(await runCliJson(['app', 'limit', id, '--rate', '1', '--burst', '2'], env)).toEqual({ id, rate: 1, burst: 2, default: false });

    // The running server reads the CLI's change through the cache epoch on the next request.
    const responses = await Promise.all(Array.from({ length: 10 }, () => requestToken(server, demo.app2.client_id, demo.app2.client_secret, { tenant: '1' })));
    expect(count(responses, 200)).toBeLessThanOrEqual(3);
    expect(await runCliJson(['app', 'limit', id, '--default'], env)).toEqual({ id, rate: 50, burst: 100, default: true });
  });

  test('limit rejects values outside its bounds', async () => {
    const id = await appId(server, demo.app1.app);
    await expect(setAppTokenRateLimit(server.tg.domain, actor, id, { rate: 0 })).rejects.toMatchObject({ code: 'app.invalid_rate_limit', status: 400 });
    await expect(setAppTokenRateLimit(server.tg.domain, actor, id, { rate: 10, burst: 5 })).rejects.toMatchObject({ code: 'app.invalid_rate_limit' });
    await expect(setAppTokenRateLimit(server.tg.domain, actor, 'no-such-app', { rate: 10 })).rejects.toMatchObject({ code: 'app.not_found', status: 404 });
  });
});

describe('failed client authentication back-off (TRUST_PROXY=1)', () => {
  let server: TestServer;
  let demo: Awaited<ReturnType<typeof setUpDemo>>;

  beforeAll(async () => {
    server = await startServer({ env: { TRUST_PROXY: '1' } });
    demo = await setUpDemo(server);
  });

  afterAll(async () => {
    await server.stop();
  });

  test('concurrent wrong secrets get ten 401s, then 429', async () => {
    const address = '198.51.100.1';
    const responses = await Promise.all(Array.from({ length: 30 }, () => tokenFrom(server, address, demo.app1.client_id, 'wrong-secret')));
    expect(count(responses, 401)).toBe(10);
    expect(count(responses, 429)).toBe(20);
    expectRateLimited(responses.find((response) => response.status === 429)!, 'too many failed client authentications');
    const started = server.logs.lines.filter((line) => line.includes('client authentication back-off started'));
    expect(started).toHaveLength(1);
    expect(started[0]).toContain(demo.app1.client_id);
    expect(started[0]).not.toContain('wrong-secret');
  });

  test('blocked pair is rejected even with the right secret', async () => {
    const response = await tokenFrom(server, '198.51.100.1', demo.app1.client_id, demo.app1.client_secret);
    expectRateLimited(response, 'too many failed client authentications');
  });

  test('same client from another address is not locked out', async () => {
    const response = await tokenFrom(server, '198.51.100.2', demo.app1.client_id, demo.app1.client_secret);
    expect(response.status).toBe(200);
  });

  test('one address scanning client IDs is blocked after 50', async () => {
    const address = '198.51.100.3';
    const statuses: number[] = [];
    for (let i = 0; i < 55; i += 1) {
      const response = await tokenFrom(server, address, `unknown-${randomBytes(6).toString('hex')}`, 'guess');
      statuses.push(response.status);
    }
    expect(statuses.slice(0, 50).every((status) => status === 401)).toBe(true);
    expect(statuses.slice(50).every((status) => status === 429)).toBe(true);

    const legitimate = await tokenFrom(server, address, demo.app2.client_id, demo.app2.client_secret);
    expect(legitimate.status).toBe(429);
  });

  test('introspection from a blocked address is 429', async () => {
    const response = await postForm(
      `${server.url}/token/introspection`,
      { token: 'anything' },
      { authorization: basic(demo.app2.client_id, demo.app2.client_secret), 'x-forwarded-for': '198.51.100.3' },
    );
    expectRateLimited(response, 'too many failed client authentications');
  });

  test('revocation counts failures too', async () => {
    const address = '198.51.100.4';
    const statuses: number[] = [];
    for (let i = 0; i < 12; i += 1) {
      const response = await postForm(`${server.url}/token/revocation`, { token: 'x' }, { authorization: basic(demo.app1.client_id, 'wrong'), 'x-forwarded-for': address });
      statuses.push(response.status);
    }
    expect(statuses.filter((status) => status === 401)).toHaveLength(10);
    expect(statuses.slice(10)).toEqual([429, 429]);
  });
});

describe('forwarded addresses with TRUST_PROXY=0', () => {
  let server: TestServer;
  let demo: Awaited<ReturnType<typeof setUpDemo>>;

  beforeAll(async () => {
    server = await startServer({ env: { TRUST_PROXY: '0' } });
    demo = await setUpDemo(server);
  });

  afterAll(async () => {
    await server.stop();
  });

  test('X-Forwarded-For cannot escape the back-off', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 14; i += 1) {
      // A spoofed address per request: honoured, it would give every attempt a fresh counter.
      const response = await tokenFrom(server, `203.0.113.${i + 1}`, demo.app1.client_id, 'wrong-secret');
      statuses.push(response.status);
    }
    expect(statuses.slice(0, 10).every((status) => status === 401)).toBe(true);
    expect(statuses.slice(10).every((status) => status === 429)).toBe(true);
  });
});

const redisUrl = redisUrlForTests();
const describeWithRedis = redisUrl ? describe : describe.skip;

describeWithRedis('rate limits shared through Redis', () => {
  let first: TestServer;
  let second: TestServer;
  let demo: Awaited<ReturnType<typeof setUpDemo>>;

  beforeAll(async () => {
    // A fresh key prefix per run, so counters from earlier runs do not leak in.
    const env = { REDIS_URL: redisUrl!, REDIS_KEY_PREFIX: `tg-security-${randomBytes(4).toString('hex')}:`, TRUST_PROXY: '1' };
    first = await startServer({ env });
    second = await startServer({ env, databaseUrl: first.databaseUrl, dataKey: first.dataKey });
    demo = await setUpDemo(first);
  });

  afterAll(async () => {
    await second?.stop();
    await first?.stop();
  });

  test('two instances share one token bucket', async () => {
    await setAppTokenRateLimit(first.tg.domain, actor, await appId(first, demo.app1.app), { rate: 2, burst: 6 });
    // The second instance reads the change through the cache epoch on its next request.
    const started = performance.now();
    const responses = await Promise.all(
      Array.from({ length: 40 }, (_, i) => requestToken(i % 2 === 0 ? first : second, demo.app1.client_id, demo.app1.client_secret, { tenant: '1' })),
    );
    const elapsedSeconds = (performance.now() - started) / 1000;

    const granted = count(responses, 200);
    // Buckets per instance would grant up to 12 here.
    expect(granted).toBeGreaterThanOrEqual(6);
    expect(granted).toBeLessThanOrEqual(6 + Math.ceil(2 * elapsedSeconds));
    expect(count(responses, 429)).toBe(40 - granted);
  });

  test('failures on one instance block on the other', async () => {
    const address = '192.0.2.10';
    for (let i = 0; i < 10; i += 1) {
      const response = await tokenFrom(first, address, demo.app2.client_id, 'wrong-secret');
      expect(response.status).toBe(401);
    }
    const response = await tokenFrom(second, address, demo.app2.client_id, 'wrong-secret');
    expectRateLimited(response, 'too many failed client authentications');
  });
});
