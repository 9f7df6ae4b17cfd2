import { jest } from '@jest/globals';

import { createPostgresDatabase } from '../support/database.js';
import { Instance, requireBuild, scaleServices } from '../support/instances.js';
import { basic, postForm, requestToken, setUpDemo, type TokenResponse } from '../support/oauth.js';
import { startServer, type TestServer } from '../support/server.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { startDeployment, tokenFrom, type Deployment } from './deployment.js';

const services = scaleServices();
const describeScale = services ? describe : describe.skip;

jest.setTimeout(120_000);

const UNAVAILABLE = { error: 'temporarily_unavailable', error_description: 'the authorization server cannot reach its database; retry shortly' };

function expectUnavailable(response: TokenResponse): void {
  expect(response.status).toBe(503);
  expect(response.headers.get('retry-after')).toBe('5');
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.body).toEqual(UNAVAILABLE);
}

function postgresProxyTarget(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port || 5432) };
}

describeScale('database cut under an instance process', () => {
  let proxy: TcpProxy;
  let deployment: Deployment;

  beforeAll(async () => {
    requireBuild();
    proxy = await TcpProxy.start(postgresProxyTarget(services!.postgresUrl));
    // The CLI builds the example customer directly; the instance reaches the same database through the proxy.
    deployment = await startDeployment(services!, 0);
    deployment.instances.push(await Instance.start('A', { ...deployment.env, DATABASE_URL: proxy.rewrite(deployment.env.DATABASE_URL!) }));
  });

  afterAll(async () => {
    await deployment?.drop();
    await proxy?.close();
  });

  test('POST /token answers 503 with Retry-After, never invalid_client', async () => {
    const instance = deployment.instances[0]!;
    const app1 = deployment.demo.connections[0]!;
    expect((await tokenFrom(instance, app1, '1')).status).toBe(200);

    proxy.cut();
    expectUnavailable(await tokenFrom(instance, app1, '1'));
    expectUnavailable(await tokenFrom(instance, app1, '25'));
    expectUnavailable(await requestToken(instance, app1.client_id, 'wrong-secret', { tenant: '1' }));
    expectUnavailable(await requestToken(instance, 'unknown-client', 'wrong-secret', { tenant: '1' }));
    const introspection = await postForm(`${instance.url}/token/introspection`, { token: 'x' }, { authorization: basic(app1.client_id, app1.client_secret) });
    expectUnavailable(introspection);

    const ready = await fetch(`${instance.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'unavailable', checks: { database: 'unreachable', redis: 'ok' } });

    proxy.restore();
    const deadline = Date.now() + 15_000;
    let recovered: TokenResponse | undefined;
    while (Date.now() < deadline) {
      recovered = await tokenFrom(instance, app1, '1');
      if (recovered.status === 200) break;
      expectUnavailable(recovered);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(recovered?.status).toBe(200);
  });
});

/**
 * Cuts the database after the request's cache-epoch read succeeded, so the failure happens later,
 * inside oidc-provider: in the client lookup or in the tenant membership check.
 */
describeScale('database cut in the middle of a token request', () => {
  let proxy: TcpProxy;
  let database: { url: string; drop(): Promise<void> };
  let server: TestServer;
  let demo: Awaited<ReturnType<typeof setUpDemo>>;
  let armed = false;

  beforeAll(async () => {
    proxy = await TcpProxy.start(postgresProxyTarget(services!.postgresUrl));
    database = await createPostgresDatabase(services!.postgresUrl);
    server = await startServer({ databaseUrl: proxy.rewrite(database.url) });
    demo = await setUpDemo(server);
    server.tg.db.on('query-response', (_response: unknown, query: { sql?: string }) => {
      if (armed && query.sql?.includes('cache_epoch')) {
        armed = false;
        proxy.cut();
      }
    });
  });

  afterAll(async () => {
    proxy.restore();
    await server?.stop();
    await proxy?.close();
    await database?.drop();
  });

  afterEach(async () => {
    proxy.restore();
    // The next request must see the database again before the next test cuts it.
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && (await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: '1' })).status !== 200) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });

  test('failed client lookup is 503, not invalid_client', async () => {
    // A request first, so this process has seen the latest change and the next epoch read
    // triggers no refresh (a failed refresh would answer 503 before oidc-provider runs).
    expect((await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: '1' })).status).toBe(200);
    server.tg.clients.invalidate();
    armed = true;
    expectUnavailable(await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: '2' }));
    expect(armed).toBe(false);
  });

  test('failed membership check is 503, and mints nothing', async () => {
    expect((await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: '1' })).status).toBe(200);
    armed = true;
    // Tenant 15's membership is not cached yet, so the grant must read it.
    expectUnavailable(await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: '15' }));
    expect(armed).toBe(false);
  });
});
