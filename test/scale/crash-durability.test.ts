import { jest } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

import { decodeProtectedHeader } from 'jose';

import type { DemoOutput } from '../../src/cli/demo.js';
import { runCliJson } from '../support/cli.js';
import { createPostgresDatabase } from '../support/database.js';
import { deploymentEnv, Instance, requireBuild, scaleServices } from '../support/instances.js';
import { basic, postForm, requestToken } from '../support/oauth.js';
import { ISSUER, adminApi, createManagerKey, fetchJwks, tokenFrom, verifyAgainst } from './deployment.js';

const services = scaleServices();

jest.setTimeout(120_000);

interface Backend {
  name: string;
  env: Record<string, string>;
  cleanUp(): Promise<void>;
}

async function postgresBackend(): Promise<Backend> {
  const database = await createPostgresDatabase(services!.postgresUrl);
  return { name: 'Postgres and Redis', env: { ...deploymentEnv(database.url, services!.redisUrl), ISSUER }, cleanUp: () => database.drop() };
}

async function sqliteBackend(): Promise<Backend> {
  const dir = mkdtempSync(join(tmpdir(), 'tenantgate-crash-'));
  return {
    name: 'SQLite',
    env: { DATABASE_URL: `sqlite:${join(dir, 'tenantgate.sqlite')}`, DATA_KEY: randomBytes(32).toString('hex'), NODE_ENV: 'test', LOG_LEVEL: 'info', ISSUER },
    cleanUp: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

const backends: Array<[string, () => Promise<Backend>]> = [['SQLite', sqliteBackend]];
if (services) backends.push(['Postgres and Redis', postgresBackend]);

describe.each(backends)('kill -9 right after an acknowledged change on %s', (_name, makeBackend) => {
  let backend: Backend;
  let instance: Instance;
  let demo: DemoOutput;

  beforeAll(async () => {
    requireBuild();
    backend = await makeBackend();
    instance = await Instance.start('A', backend.env);
    demo = await runCliJson<DemoOutput>(['demo'], backend.env);
  });

  afterAll(async () => {
    await instance?.kill('SIGKILL');
    await backend?.cleanUp();
  });

  async function crashAndRestart(): Promise<void> {
    await instance.kill('SIGKILL');
    await instance.spawn();
  }

  test('revocation acknowledged by the instance survives', async () => {
    const app1 = demo.connections[0]!;
    const issued = await tokenFrom(instance, app1, '1');
    const token = issued.body.access_token as string;
    const auth = { authorization: basic(app1.client_id, app1.client_secret) };

    expect((await postForm(`${instance.url}/token/revocation`, { token }, auth)).status).toBe(200);
    await crashAndRestart();

    expect((await postForm(`${instance.url}/token/introspection`, { token }, auth)).body).toEqual({ active: false });
  });

  test('group edit survives', async () => {
    const app1 = demo.connections[0]!;
    expect((await tokenFrom(instance, app1, '2')).status).toBe(200);

    await runCliJson(['group', 'update', app1.group_id, '--network', demo.network.id, '--remove', '2'], backend.env);
    await crashAndRestart();

    const refused = await tokenFrom(instance, app1, '2');
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_target');
    expect((await tokenFrom(instance, app1, '15')).status).toBe(200);
  });

  test('group edit through the admin API survives', async () => {
    const app1 = demo.connections[0]!;
    const key = await createManagerKey(backend.env, demo.network.id);
    expect((await tokenFrom(instance, app1, '50')).status).toBe(200);

    const removed = await adminApi(instance, key, 'PATCH', `/groups/${app1.group_id}`, { remove: ['50'] });
    expect(removed.status).toBe(200);
    await crashAndRestart();

    expect((await tokenFrom(instance, app1, '50')).body.error).toBe('invalid_target');
  });

  test('consent and secret through the admin API survive', async () => {
    const key = await createManagerKey(backend.env, demo.network.id);
    const group2 = demo.connections[1]!.group_id;
    const apps = await adminApi(instance, key, 'GET', '/apps');
    const app1 = (apps.body.apps as Array<{ id: string; name: string; terms_version: number }>).find((app) => app.name === 'App 1')!;

    const connected = await adminApi(instance, key, 'POST', '/connections', { group_id: group2, app_id: app1.id, accepted_terms_version: app1.terms_version });
    expect(connected.status).toBe(201);
    const connectionId = connected.body.id as string;
    const secret = await adminApi(instance, key, 'POST', `/connections/${connectionId}/secrets`, {});
    expect(secret.status).toBe(201);
    await crashAndRestart();

    const granted = await requestToken(instance, secret.body.client_id as string, secret.body.client_secret as string, { tenant: '25' });
    expect(granted.status).toBe(200);
  });

  test('consent and secret survive', async () => {
    const group1 = demo.connections[0]!.group_id;
    const apps = await runCliJson<{ id: string }>(
      ['app', 'create', '--name', `Crash Test App ${randomBytes(3).toString('hex')}`, '--developer', 'Example Developer Ltd', '--scope', `${demo.api.audience}|jobs:read=reads jobs`, '--terms', 'terms v1'],
      backend.env,
    );
    const connection = await runCliJson<{ connection_id: string; client_id: string }>(
      ['connect', '--network', demo.network.id, '--group', group1, '--app', apps.id, '--approved-by', 'admin@example.com'],
      backend.env,
    );
    const secret = await runCliJson<{ client_secret: string }>(['secret', 'generate', '--connection', connection.connection_id], backend.env);
    await crashAndRestart();

    const granted = await requestToken(instance, connection.client_id, secret.client_secret, { tenant: '15' });
    expect(granted.status).toBe(200);
    expect(granted.body.scope).toBe('jobs:read');
  });

  test('key rotation survives with the same JWKS', async () => {
    const rotated = await runCliJson<{ published_kid: string; active_kid: string }>(['keys', 'rotate', '--publish-wait', '0'], backend.env);
    const before = await fetchJwks(instance);
    await crashAndRestart();

    const after = await fetchJwks(instance);
    expect(after).toEqual(before);
    expect(after.keys.map((key) => key.kid)).toContain(rotated.active_kid);
    const token = (await tokenFrom(instance, demo.connections[0]!, '1')).body.access_token as string;
    expect(decodeProtectedHeader(token).kid).toBe(rotated.active_kid);
    await expect(verifyAgainst(instance, token, demo.api.audience)).resolves.toBeDefined();
  });
});
