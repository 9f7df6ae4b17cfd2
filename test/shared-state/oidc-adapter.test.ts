import { randomBytes } from 'node:crypto';

import { createAdapterFactory } from '../../src/oauth/adapter.js';
import { SharedState } from '../../src/shared-state/shared-state.js';
import { redisService } from '../support/instances.js';
import { TcpProxy } from '../support/tcp-proxy.js';

const redisUrl = redisService();
const describeRedis = redisUrl ? describe : describe.skip;

const prefix = () => `tg-test-${randomBytes(6).toString('hex')}:`;

describeRedis('oidc-provider adapter on Redis', () => {
  test('model saved by one instance is found by another', async () => {
    const keyPrefix = prefix();
    const first = new SharedState({ redisUrl: redisUrl!, keyPrefix, subscribe: false });
    const second = new SharedState({ redisUrl: redisUrl!, keyPrefix, subscribe: false });
    try {
      await Promise.all([first.ready(3000), second.ready(3000)]);
      const saving = createAdapterFactory(first.store('oidc'))('ReplayDetection');
      const reading = createAdapterFactory(second.store('oidc'))('ReplayDetection');

      await saving.upsert('jti-1', { iat: 1 }, 60);
      expect(await reading.find('jti-1')).toEqual({ iat: 1 });

      await reading.consume('jti-1');
      expect((await saving.find('jti-1'))?.consumed).toEqual(expect.any(Number));

      await reading.destroy('jti-1');
      expect(await saving.find('jti-1')).toBeUndefined();
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  test('model expires with its expiresIn', async () => {
    const shared = new SharedState({ redisUrl: redisUrl!, keyPrefix: prefix(), subscribe: false });
    try {
      await shared.ready(3000);
      const adapter = createAdapterFactory(shared.store('oidc'))('ReplayDetection');
      await adapter.upsert('short', { iat: 1 }, 1);
      await new Promise((resolve) => setTimeout(resolve, 1200));
      expect(await adapter.find('short')).toBeUndefined();
    } finally {
      await shared.close();
    }
  });

  test('Redis cut falls back to the in-process copy', async () => {
    const target = new URL(redisUrl!);
    const proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 6379) });
    const shared = new SharedState({ redisUrl: proxy.rewrite(redisUrl!), keyPrefix: prefix(), subscribe: false });
    try {
      await shared.ready(3000);
      const adapter = createAdapterFactory(shared.store('oidc'))('ReplayDetection');
      proxy.cut();

      await adapter.upsert('during-cut', { iat: 2 }, 60);
      expect(await adapter.find('during-cut')).toEqual({ iat: 2 });
    } finally {
      proxy.restore();
      await shared.close();
      await proxy.close();
    }
  });
});
