import { randomBytes } from 'node:crypto';

import { generateClientSecret, hashClientSecret } from '../../src/crypto/client-secret.js';
import type { ConnectionClient } from '../../src/oauth/client-store.js';
import { verifyClientSecret } from '../../src/oauth/client-secret.js';
import { basic, setUpDemo } from '../support/oauth.js';
import { startServer, type TestServer } from '../support/server.js';
import { median } from './helpers.js';

// These tests compare the distributions of two kinds of request, sampled interleaved in random
// order so that machine noise (other processes, GC, CPU frequency) hits both alike. They assert
// on medians over many samples, never on one call, with bounds wide enough for a busy 2-core
// machine yet far narrower than the gap a missing defence opens.

/** Returns a random interleaving of `count` labels 'a' and `count` labels 'b'. */
function shuffledOrder(count: number): Array<'a' | 'b'> {
  const order: Array<'a' | 'b'> = [...Array<'a'>(count).fill('a'), ...Array<'b'>(count).fill('b')];
  for (let i = order.length - 1; i > 0; i -= 1) {
    const j = Math.floor(Math.random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

describe('secret comparison timing', () => {
  const key = randomBytes(32);
  const client = {
    kind: 'connection',
    clientId: 'tgc_known',
    record: { status: 'active' },
    secrets: [{ id: 'secret-1', secretHash: hashClientSecret(key, generateClientSecret()), expiresAt: null }],
    scopesByAudience: new Map(),
  } as unknown as ConnectionClient;

  test('unknown client costs what a wrong secret costs', () => {
    const samples = { a: [] as number[], b: [] as number[] };
    // A batch of calls per sample keeps the timer's own overhead small against ~1 µs per call.
    const batch = 20;
    const presented = generateClientSecret();
    const now = Date.now();

    for (let warmUp = 0; warmUp < 2000; warmUp += 1) {
      verifyClientSecret({ secretHash: key }, undefined, presented, now);
      verifyClientSecret({ secretHash: key }, client, presented, now);
    }
    for (const label of shuffledOrder(3000)) {
      const target = label === 'a' ? undefined : client;
      const started = process.hrtime.bigint();
      for (let i = 0; i < batch; i += 1) verifyClientSecret({ secretHash: key }, target, presented, now);
      samples[label].push(Number(process.hrtime.bigint() - started) / batch);
    }

    const unknownMedian = median(samples.a);
    const wrongSecretMedian = median(samples.b);
    // Without the decoy comparison an unknown client skips the HMAC and takes a small fraction
    // of the time. With it, the two medians agree to within a few percent.
    expect(unknownMedian / wrongSecretMedian).toBeGreaterThan(0.7);
    expect(unknownMedian / wrongSecretMedian).toBeLessThan(1.4);
  });
});

describe('POST /token timing over HTTP', () => {
  let server: TestServer;
  let demo: Awaited<ReturnType<typeof setUpDemo>>;

  beforeAll(async () => {
    // Each request comes from its own forwarded address, so the failure back-off never rejects one.
    server = await startServer({ env: { TRUST_PROXY: '1', LOG_LEVEL: 'warn' } });
    demo = await setUpDemo(server);
  });

  afterAll(async () => {
    await server.stop();
  });

  test('unknown client and wrong secret take the same time', async () => {
    const unknownId = `tgc_${randomBytes(18).toString('base64url')}`;
    const body = 'grant_type=client_credentials&tenant=1';
    let address = 0;
    const send = async (clientId: string): Promise<{ ms: number; status: number }> => {
      address += 1;
      const started = performance.now();
      const response = await fetch(`${server.url}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: basic(clientId, 'tgs_wrong-secret'),
          'x-forwarded-for': `10.1.${(address >> 8) & 255}.${address & 255}`,
        },
        body,
      });
      await response.arrayBuffer();
      return { ms: performance.now() - started, status: response.status };
    };

    for (let warmUp = 0; warmUp < 50; warmUp += 1) {
      await send(unknownId);
      await send(demo.app1.client_id);
    }
    const samples = { a: [] as number[], b: [] as number[] };
    for (const label of shuffledOrder(400)) {
      const result = await send(label === 'a' ? unknownId : demo.app1.client_id);
      expect(result.status).toBe(401);
      samples[label].push(result.ms);
    }

    const unknownMedian = median(samples.a);
    const wrongSecretMedian = median(samples.b);
    // Loopback HTTP adds about a millisecond of noise per request. A database query or an early
    // return on one path shifts the median well beyond this bound.
    expect(Math.abs(unknownMedian - wrongSecretMedian)).toBeLessThan(Math.max(0.25, 0.2 * Math.min(unknownMedian, wrongSecretMedian)));
  }, 60_000);
});
