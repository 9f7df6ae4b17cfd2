import { randomBytes } from 'node:crypto';

import { Redis } from 'ioredis';

import { SharedState, type InvalidationMessage } from '../../src/shared-state/shared-state.js';
import { redisService } from '../support/instances.js';
import { TcpProxy } from '../support/tcp-proxy.js';

const redisUrl = redisService();
const describeRedis = redisUrl ? describe : describe.skip;

const prefix = () => `tg-test-${randomBytes(6).toString('hex')}:`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const backends: Array<[string, () => SharedState]> = [['in process', () => new SharedState({ redisUrl: undefined, keyPrefix: prefix() })]];
if (redisUrl) backends.push(['Redis', () => new SharedState({ redisUrl, keyPrefix: prefix() })]);

describe.each(backends)('key-value store %s', (_name, create) => {
  let shared: SharedState;

  beforeAll(async () => {
    shared = create();
    expect(await shared.ready(3000)).toBe(true);
  });

  afterAll(async () => {
    await shared.close();
  });

  test('set then get returns the value', async () => {
    const store = shared.store('session');
    await store.set('a', 'value-a', 10_000);
    expect(await store.get('a')).toBe('value-a');
  });

  test('entry expires after its ttl', async () => {
    const store = shared.store('session');
    await store.set('short', 'v', 50);
    await sleep(150);
    expect(await store.get('short')).toBeUndefined();
  });

  test('delete removes the entry', async () => {
    const store = shared.store('session');
    await store.set('gone', 'v', 10_000);
    await store.delete('gone');
    expect(await store.get('gone')).toBeUndefined();
  });

  test('increment counts and expires with the first ttl', async () => {
    const store = shared.store('ratelimit');
    expect(await store.increment('counter', 200)).toBe(1);
    expect(await store.increment('counter', 10_000)).toBe(2);
    expect(await store.increment('counter', 10_000)).toBe(3);
    await sleep(300);
    expect(await store.increment('counter', 10_000)).toBe(1);
  });

  test('purposes do not share keys', async () => {
    await shared.store('session').set('same', 'session value', 10_000);
    await shared.store('oidc').set('same', 'oidc value', 10_000);
    expect(await shared.store('session').get('same')).toBe('session value');
    expect(await shared.store('oidc').get('same')).toBe('oidc value');
    expect(await shared.store('revoked').get('same')).toBeUndefined();
  });

  test('rate limiter rejects past its points', async () => {
    const limiter = shared.createRateLimiter({ name: 'test', points: 2, duration: 60 });
    await limiter.consume('client-1');
    await limiter.consume('client-1');
    await expect(limiter.consume('client-1')).rejects.toMatchObject({ remainingPoints: 0 });
    await expect(limiter.consume('client-2')).resolves.toMatchObject({ remainingPoints: 1 });
  });
});

describeRedis('shared state on Redis', () => {
  test('keys are namespaced by prefix and purpose', async () => {
    const keyPrefix = prefix();
    const shared = new SharedState({ redisUrl: redisUrl!, keyPrefix });
    const raw = new Redis(redisUrl!);
    try {
      await shared.ready(3000);
      await shared.store('session').set('abc', 'v', 10_000);
      expect(await raw.get(`${keyPrefix}session:abc`)).toBe('v');
      expect(shared.key('ratelimit', 'login', 'ip')).toBe(`${keyPrefix}ratelimit:login:ip`);
    } finally {
      await shared.close();
      raw.disconnect();
    }
  });

  test('change notice reaches other instances, not the sender', async () => {
    const keyPrefix = prefix();
    const sender = new SharedState({ redisUrl: redisUrl!, keyPrefix });
    const receiver = new SharedState({ redisUrl: redisUrl!, keyPrefix });
    const stranger = new SharedState({ redisUrl: redisUrl!, keyPrefix: prefix() });
    const received: Record<string, InvalidationMessage[]> = { sender: [], receiver: [], stranger: [] };
    sender.onInvalidation((message) => received.sender!.push(message));
    receiver.onInvalidation((message) => received.receiver!.push(message));
    stranger.onInvalidation((message) => received.stranger!.push(message));
    try {
      await Promise.all([sender.ready(3000), receiver.ready(3000), stranger.ready(3000)]);
      await sender.publishInvalidation('test change');
      await waitFor('the notice', () => received.receiver!.length === 1);
      await sleep(100);
      expect(received.receiver).toEqual([{ origin: sender.instanceId, reason: 'test change' }]);
      expect(received.sender).toEqual([]);
      expect(received.stranger).toEqual([]);
    } finally {
      await Promise.all([sender.close(), receiver.close(), stranger.close()]);
    }
  });

  test('instance registry lists live instances and drops closed ones', async () => {
    const keyPrefix = prefix();
    const instance = new SharedState({ redisUrl: redisUrl!, keyPrefix });
    const reader = new SharedState({ redisUrl: redisUrl!, keyPrefix, subscribe: false });
    try {
      await Promise.all([instance.ready(3000), reader.ready(3000)]);
      instance.reportWith(() => ({ kids: ['k1', 'k2'], activeKid: 'k1' }));
      await instance.report();
      const listed = await reader.listInstances();
      expect(listed.map(({ id, kids, activeKid }) => ({ id, kids, activeKid }))).toEqual([{ id: instance.instanceId, kids: ['k1', 'k2'], activeKid: 'k1' }]);

      await instance.close();
      expect(await reader.listInstances()).toEqual([]);
    } finally {
      await Promise.all([instance.close(), reader.close()]);
    }
  });

  test('Redis cut degrades, limits in process, and recovers', async () => {
    const target = new URL(redisUrl!);
    const proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 6379) });
    const shared = new SharedState({ redisUrl: proxy.rewrite(redisUrl!), keyPrefix: prefix() });
    const changes: boolean[] = [];
    try {
      expect(await shared.ready(3000)).toBe(true);
      shared.onHealthChange((healthy) => changes.push(healthy));
      expect(shared.status).toBe('ok');
      const limiter = shared.createRateLimiter({ name: 'cut', points: 1, duration: 60 });

      proxy.cut();
      await waitFor('degraded state', () => !shared.healthy);
      expect(shared.status).toBe('unreachable');
      await expect(shared.store('session').get('x')).rejects.toThrow();
      // The in-process insurance limiter takes over and still limits.
      await expect(limiter.consume('k')).resolves.toMatchObject({ remainingPoints: 0 });
      await expect(limiter.consume('k')).rejects.toMatchObject({ remainingPoints: 0 });

      proxy.restore();
      await waitFor('recovery', () => shared.healthy);
      await shared.store('session').set('x', 'back', 10_000);
      expect(await shared.store('session').get('x')).toBe('back');
      expect(changes).toEqual([false, true]);
    } finally {
      await shared.close();
      await proxy.close();
    }
  });

  test('hung Redis degrades and fails fast', async () => {
    const target = new URL(redisUrl!);
    const proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 6379) });
    const shared = new SharedState({ redisUrl: proxy.rewrite(redisUrl!), keyPrefix: prefix() });
    try {
      expect(await shared.ready(3000)).toBe(true);
      const limiter = shared.createRateLimiter({ name: 'hang', points: 5, duration: 60 });

      proxy.pause();
      await waitFor('degraded state', () => !shared.healthy);
      await sleep(100);
      // Once degraded, calls fall back at once instead of waiting for the command timeout.
      const started = Date.now();
      await expect(limiter.consume('k')).resolves.toMatchObject({ remainingPoints: 4 });
      await expect(shared.store('session').get('x')).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(200);

      proxy.restore();
      await waitFor('recovery', () => shared.healthy);
      expect(shared.status).toBe('ok');
    } finally {
      await shared.close();
      await proxy.close();
    }
  });
});
