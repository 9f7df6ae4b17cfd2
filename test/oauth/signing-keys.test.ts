import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';

import { requestToken, setUpDemo } from '../support/oauth.js';
import { startServer } from '../support/server.js';

describe('signing keys', () => {
  test('persist across a restart: a token minted before verifies after', async () => {
    const first = await startServer();
    const demo = await setUpDemo(first);
    const before = await requestToken(first, demo.app1.client_id, demo.app1.client_secret, { tenant: '1' });
    expect(before.status).toBe(200);
    const token = before.body.access_token as string;
    await first.tg.close();

    const second = await startServer({ dir: first.dir, databaseUrl: first.databaseUrl, dataKey: first.dataKey, port: Number(first.env.PORT) });
    try {
      const jwks = createRemoteJWKSet(new URL(`${second.url}/jwks`));
      const { payload } = await jwtVerify(token, jwks, { issuer: second.url, audience: demo.api.audience, typ: 'at+jwt' });
      expect(payload.tenant).toBe('1');

      const after = await requestToken(second, demo.app1.client_id, demo.app1.client_secret, { tenant: '2' });
      expect(after.status).toBe(200);
      expect(decodeProtectedHeader(after.body.access_token as string).kid).toBe(decodeProtectedHeader(token).kid);
    } finally {
      await second.stop();
      await first.stop().catch(() => undefined);
    }
  });

  test('a change noticed while keys are being reloaded makes them load again', async () => {
    const server = await startServer();
    try {
      let keyReads = 0;
      let resolveSecond!: () => void;
      const secondRead = new Promise<void>((resolve) => (resolveSecond = resolve));
      server.tg.db.on('query', (query: { sql: string }) => {
        if (!query.sql.startsWith('select') || !query.sql.includes('signing_keys')) return;
        keyReads += 1;
        // This read may have started before another process's rotation committed; a change
        // notice arriving now must not be served with its result.
        if (keyReads === 1) server.tg.domain.onChange();
        if (keyReads === 2) resolveSecond();
      });

      server.tg.domain.onChange();
      // A second read comes within milliseconds; without it the wait ends after 3 s.
      await Promise.race([secondRead, new Promise((resolve) => setTimeout(resolve, 3000))]);
      expect(keyReads).toBe(2);
    } finally {
      await server.stop();
    }
  });

  test('a different DATA_KEY cannot start on the same database', async () => {
    const first = await startServer();
    await first.tg.close();
    await expect(
      startServer({ dir: first.dir, databaseUrl: first.databaseUrl, dataKey: 'a'.repeat(64) }),
    ).rejects.toThrow(/DATA_KEY/);
    await first.stop().catch(() => undefined);
  });

  test.each(['ES256', 'EdDSA'])('SIGNING_ALG=%s issues tokens that verify through the JWKS', async (alg) => {
    const server = await startServer({ env: { SIGNING_ALG: alg } });
    try {
      const demo = await setUpDemo(server);
      const response = await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: '15' });
      expect(response.status).toBe(200);
      const token = response.body.access_token as string;
      expect(decodeProtectedHeader(token).alg).toBe(alg);
      const jwks = createRemoteJWKSet(new URL(`${server.url}/jwks`));
      const { payload } = await jwtVerify(token, jwks, { issuer: server.url, algorithms: [alg], typ: 'at+jwt' });
      expect(payload.tenant).toBe('15');
    } finally {
      await server.stop();
    }
  });

  test('the JWKS publishes only public key material', async () => {
    const server = await startServer();
    try {
      const response = await fetch(`${server.url}/jwks`);
      const body = (await response.json()) as { keys: Record<string, unknown>[] };
      expect(body.keys.length).toBeGreaterThan(0);
      for (const key of body.keys) {
        for (const privateField of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(key).not.toHaveProperty(privateField);
        expect(typeof key.kid).toBe('string');
      }
    } finally {
      await server.stop();
    }
  });
});
