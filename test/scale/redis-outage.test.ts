import { jest } from '@jest/globals';
import { createLocalJWKSet, jwtVerify } from 'jose';

import { runCli } from '../support/cli.js';
import { requireBuild, scaleServices, type Instance } from '../support/instances.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { ISSUER, fetchJwks, startDeployment, tokenFrom, type Deployment } from './deployment.js';

const services = scaleServices();
const describeScale = services ? describe : describe.skip;

jest.setTimeout(120_000);

interface Readiness {
  status: string;
  checks: Record<string, string>;
}

async function readiness(instance: Instance): Promise<{ code: number; body: Readiness }> {
  const response = await fetch(`${instance.url}/readyz`);
  return { code: response.status, body: (await response.json()) as Readiness };
}

async function waitFor(what: string, condition: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

describeScale('Redis cut during traffic', () => {
  let proxy: TcpProxy;
  let deployment: Deployment;

  beforeAll(async () => {
    requireBuild();
    const redis = new URL(services!.redisUrl);
    proxy = await TcpProxy.start({ host: redis.hostname, port: Number(redis.port || 6379) });
    // Instances reach Redis through the proxy; the CLI reaches it directly.
    const throughProxy = proxy.rewrite(services!.redisUrl);
    deployment = await startDeployment(services!, 2, () => ({ REDIS_URL: throughProxy }));
  });

  afterAll(async () => {
    await deployment?.drop();
    await proxy?.close();
  });

  test('tokens stay correct, readyz reports it, and instances recover alone', async () => {
    const [a, b] = deployment.instances as [Instance, Instance];
    const app1 = deployment.demo.connections[0]!;
    const audience = deployment.demo.api.audience;
    const jwks = createLocalJWKSet(await fetchJwks(a));
    const members = new Set(['1', '2', '15', '50']);
    const outcomes = { granted: 0, refused: 0, wrong: [] as string[], serverErrors: 0 };

    // Sends a round of requests for members and non-members to both instances and checks each answer.
    const round = async () => {
      const requests = [a, b].flatMap((instance) => ['1', '15', '50', '25', '40'].map((tenant) => ({ instance, tenant })));
      await Promise.all(
        requests.map(async ({ instance, tenant }) => {
          const response = await tokenFrom(instance, app1, tenant);
          if (response.status >= 500) outcomes.serverErrors += 1;
          if (members.has(tenant)) {
            if (response.status !== 200) {
              outcomes.wrong.push(`${instance.name} tenant ${tenant}: ${response.status} ${JSON.stringify(response.body)}`);
              return;
            }
            const { payload } = await jwtVerify(response.body.access_token as string, jwks, { issuer: ISSUER, audience, typ: 'at+jwt' });
            if (payload.tenant !== tenant || payload.client_id !== app1.client_id) outcomes.wrong.push(`${instance.name} tenant ${tenant}: claims ${JSON.stringify(payload)}`);
            outcomes.granted += 1;
          } else {
            if (response.status !== 400 || response.body.error !== 'invalid_target') {
              outcomes.wrong.push(`${instance.name} non-member ${tenant}: ${response.status} ${JSON.stringify(response.body)}`);
            }
            outcomes.refused += 1;
          }
        }),
      );
    };

    for (let i = 0; i < 5; i += 1) await round();
    expect((await readiness(a)).body).toEqual({ status: 'ready', checks: { database: 'ok', redis: 'ok' } });

    proxy.cut();
    const cutAt = Date.now();
    let degraded = false;
    while (!degraded) {
      if (Date.now() - cutAt > 15_000) throw new Error('instances did not report degraded within 15 s of the Redis cut');
      await round();
      const [fromA, fromB] = await Promise.all([readiness(a), readiness(b)]);
      degraded = fromA.body.status === 'degraded' && fromB.body.status === 'degraded';
      // Paced so the rounds stay within App 1's default token rate limit on a fast machine.
      if (!degraded) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const duringCut = await readiness(b);
    expect(duringCut.code).toBe(200);
    expect(duringCut.body).toEqual({ status: 'degraded', checks: { database: 'ok', redis: 'unreachable' } });
    expect(a.logged('Redis unreachable').length).toBeGreaterThan(0);

    // A change while the instances cannot hear change notices must still hold at once.
    const removed = await runCli(['group', 'update', app1.group_id, '--network', deployment.demo.network.id, '--remove', '50', '--json'], deployment.env);
    expect(removed.code).toBe(0);
    members.delete('50');
    for (let i = 0; i < 5; i += 1) await round();

    proxy.restore();
    await waitFor('both instances to report Redis reachable', async () => {
      const [fromA, fromB] = await Promise.all([readiness(a), readiness(b)]);
      return fromA.body.status === 'ready' && fromB.body.status === 'ready';
    });
    expect((await readiness(a)).body).toEqual({ status: 'ready', checks: { database: 'ok', redis: 'ok' } });
    expect(b.logged('Redis reachable').length).toBeGreaterThan(0);
    for (let i = 0; i < 5; i += 1) await round();

    expect(outcomes.wrong).toEqual([]);
    expect(outcomes.serverErrors).toBe(0);
    // At least 6 rounds ran before the removal (6 member and 4 non-member requests each) and 10
    // after it (4 member and 6 non-member requests each).
    expect(outcomes.granted).toBeGreaterThanOrEqual(6 * 6 + 10 * 4);
    expect(outcomes.refused).toBeGreaterThanOrEqual(6 * 4 + 10 * 6);
  });

  test('SIGTERM during a Redis cut stops cleanly', async () => {
    const b = deployment.instances[1]!;
    proxy.cut();
    await waitFor('instance B to report degraded', async () => (await readiness(b)).body.status === 'degraded');

    const started = Date.now();
    expect(await b.kill('SIGTERM')).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(b.logged('"msg":"stopped"').length).toBe(1);
    proxy.restore();
  });
});
