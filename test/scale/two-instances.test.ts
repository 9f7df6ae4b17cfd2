import { jest } from '@jest/globals';
import { decodeProtectedHeader } from 'jose';

import { runCli, runCliJson } from '../support/cli.js';
import { requireBuild, scaleServices } from '../support/instances.js';
import { postForm, basic } from '../support/oauth.js';
import { adminApi, createManagerKey, fetchJwks, startDeployment, tokenFrom, verifyAgainst, type Deployment } from './deployment.js';

const services = scaleServices();
const describeScale = services ? describe : describe.skip;

jest.setTimeout(120_000);

describeScale('two instances on one Postgres and one Redis', () => {
  let deployment: Deployment;

  beforeAll(async () => {
    requireBuild();
    deployment = await startDeployment(services!, 2);
  });

  afterAll(async () => {
    await deployment?.drop();
  });

  const a = () => deployment.instances[0]!;
  const b = () => deployment.instances[1]!;
  const app1 = () => deployment.demo.connections[0]!;

  test('concurrent start creates one signing key', async () => {
    const listed = await runCliJson<{ keys: Array<{ kid: string; state: string }> }>(['keys', 'list'], deployment.env);
    expect(listed.keys.filter((key) => key.state === 'active')).toHaveLength(1);
    expect(listed.keys).toHaveLength(1);
  });

  test('both instances serve the same JWKS', async () => {
    const [jwksA, jwksB] = await Promise.all([fetchJwks(a()), fetchJwks(b())]);
    expect(jwksA.keys.length).toBeGreaterThan(0);
    expect(jwksB).toEqual(jwksA);
  });

  test('CLI tenant removal holds on both', async () => {
    const group = app1().group_id;
    const network = deployment.demo.network.id;
    for (let round = 0; round < 5; round += 1) {
      // Warm both instances' caches with a granted token for tenant 15.
      expect((await tokenFrom(a(), app1(), '15')).status).toBe(200);
      expect((await tokenFrom(b(), app1(), '15')).status).toBe(200);

      const removed = await runCli(['group', 'update', group, '--network', network, '--remove', '15', '--json'], deployment.env);
      expect(removed.code).toBe(0);

      // The CLI has exited: the change is acknowledged. No instance may grant tenant 15 now.
      const [fromA, fromB] = await Promise.all([tokenFrom(a(), app1(), '15'), tokenFrom(b(), app1(), '15')]);
      expect(fromA.status).toBe(400);
      expect(fromA.body).toEqual({ error: 'invalid_target', error_description: 'the tenant is not accessible to this client' });
      expect(fromB.status).toBe(400);
      expect(fromB.body.error).toBe('invalid_target');

      const added = await runCli(['group', 'update', group, '--network', network, '--add', '15', '--json'], deployment.env);
      expect(added.code).toBe(0);
      expect((await tokenFrom(b(), app1(), '15')).status).toBe(200);
      expect((await tokenFrom(a(), app1(), '15')).status).toBe(200);
    }
  });

  test('API tenant removal on A holds on B', async () => {
    const key = await createManagerKey(deployment.env, deployment.demo.network.id);
    const group = app1().group_id;
    for (let round = 0; round < 5; round += 1) {
      // Alternate which instance takes the change and which one must honour it.
      const [writer, reader] = round % 2 === 0 ? [a(), b()] : [b(), a()];
      expect((await tokenFrom(reader, app1(), '50')).status).toBe(200);

      const removed = await adminApi(writer, key, 'PATCH', `/groups/${group}`, { remove: ['50'] });
      expect(removed.status).toBe(200);

      const refused = await tokenFrom(reader, app1(), '50');
      expect(refused.status).toBe(400);
      expect(refused.body).toEqual({ error: 'invalid_target', error_description: 'the tenant is not accessible to this client' });

      const added = await adminApi(writer, key, 'PATCH', `/groups/${group}`, { add: ['50'] });
      expect(added.status).toBe(200);
    }
  });

  test('token revoked through A is inactive on B', async () => {
    const issued = await tokenFrom(a(), app1(), '2');
    expect(issued.status).toBe(200);
    const token = issued.body.access_token as string;
    const auth = { authorization: basic(app1().client_id, app1().client_secret) };

    const before = await postForm(`${b().url}/token/introspection`, { token }, auth);
    expect(before.body.active).toBe(true);

    const revoked = await postForm(`${a().url}/token/revocation`, { token }, auth);
    expect(revoked.status).toBe(200);

    const after = await postForm(`${b().url}/token/introspection`, { token }, auth);
    expect(after.status).toBe(200);
    expect(after.body).toEqual({ active: false });
  });

  test('CLI key rotation keeps tokens verifiable', async () => {
    const audience = deployment.demo.api.audience;
    const oldKid = (await runCliJson<{ keys: Array<{ kid: string; state: string }> }>(['keys', 'list'], deployment.env)).keys.find((key) => key.state === 'active')!.kid;
    const tokens: string[] = [];
    const mint = async (index: number) => {
      const instance = index % 2 === 0 ? a() : b();
      const other = index % 2 === 0 ? b() : a();
      const response = await tokenFrom(instance, app1(), '1');
      expect(response.status).toBe(200);
      const token = response.body.access_token as string;
      // Pre-publication: at the moment a token exists, the other instance already publishes its key.
      await verifyAgainst(other, token, audience);
      tokens.push(token);
    };

    for (let i = 0; i < 4; i += 1) await mint(i);

    const rotation = runCliJson<{ published_kid: string; active_kid: string; instances_confirmed: number }>(['keys', 'rotate', '--publish-wait', '1'], deployment.env);
    let settled = false;
    void rotation.finally(() => {
      settled = true;
    });
    let during = 0;
    try {
      while (!settled) {
        await mint(during);
        during += 1;
        // Paced below App 1's default token rate limit (50 per second), which both instances share.
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      // A failed mint must not leave the CLI rotating against a database the suite is dropping.
      await rotation.catch(() => undefined);
    }
    const rotated = await rotation;
    expect(during).toBeGreaterThan(0);
    expect(rotated.instances_confirmed).toBe(2);
    expect(rotated.active_kid).toBe(rotated.published_kid);
    expect(rotated.active_kid).not.toBe(oldKid);

    for (let i = 0; i < 4; i += 1) await mint(i);
    const kids = new Set(tokens.map((token) => decodeProtectedHeader(token).kid));
    expect(kids).toEqual(new Set([oldKid, rotated.active_kid]));
    expect(decodeProtectedHeader(tokens.at(-1)!).kid).toBe(rotated.active_kid);

    for (const token of tokens) {
      await expect(verifyAgainst(a(), token, audience)).resolves.toBeDefined();
      await expect(verifyAgainst(b(), token, audience)).resolves.toBeDefined();
    }

    const listed = await runCliJson<{ keys: Array<{ kid: string; state: string; retired_at: string | null; expires_at: string | null }> }>(['keys', 'list'], deployment.env);
    const old = listed.keys.find((key) => key.kid === oldKid)!;
    expect(old.state).toBe('retired');
    expect(old.retired_at).not.toBeNull();
    // The retired key outlives the longest token it can have signed (3600 s) plus clock skew.
    expect(Date.parse(old.expires_at!) - Date.parse(old.retired_at!)).toBeGreaterThanOrEqual(3600 * 1000);
    expect(listed.keys.find((key) => key.kid === rotated.active_kid)!.state).toBe('active');
  });
});
