import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { requestToken } from '../support/oauth.js';
import { runCli, runCliJson } from '../support/cli.js';
import { startServer, type TestServer } from '../support/server.js';

interface DemoJson {
  issuer: string;
  api: { audience: string; scopes: string[] };
  network: { id: string; name: string };
  connections: { connection_id: string; group_id: string; group: string; app: string; client_id: string; client_secret: string; tenants: string[] }[];
}

let server: TestServer;
let demo: DemoJson;

beforeAll(async () => {
  server = await startServer();
  demo = await runCliJson<DemoJson>(['demo'], server.env);
});

afterAll(async () => {
  await server.stop();
});

describe('tenantgate demo --json', () => {
  test('prints the example customer as one JSON document', () => {
    expect(demo.issuer).toBe(server.url);
    expect(demo.network.name).toBe('Good Plumbing Network');
    expect(demo.api.audience).toBe('https://api.example.com');
    expect(demo.connections.map((c) => [c.group, c.app])).toEqual([
      ['Group 1', 'App 1'],
      ['Group 2', 'App 2'],
    ]);
    expect([...demo.connections[0]!.tenants].sort()).toEqual(['1', '15', '2', '50']);
    expect([...demo.connections[1]!.tenants].sort()).toEqual(['1', '2', '25', '40']);
    for (const connection of demo.connections) {
      expect(Object.keys(connection).sort()).toEqual(['app', 'client_id', 'client_secret', 'connection_id', 'group', 'group_id', 'tenants']);
    }
  });

  test('its credentials work against the running server', async () => {
    const app1 = demo.connections[0]!;
    const response = await requestToken(server, app1.client_id, app1.client_secret, { tenant: '50' });
    expect(response.status).toBe(200);
  });
});

describe('tenantgate group update while the server runs', () => {
  test('--remove refuses the tenant on the very next token request', async () => {
    const app1 = demo.connections[0]!;
    const before = await requestToken(server, app1.client_id, app1.client_secret, { tenant: '2' });
    expect(before.status).toBe(200);

    // The fixed form of the command: the group ID alone names the network.
    const result = await runCliJson(['group', 'update', app1.group_id, '--remove', '2'], server.env);
    expect(result.removed).toEqual(['2']);

    const after = await requestToken(server, app1.client_id, app1.client_secret, { tenant: '2' });
    expect(after.status).toBe(400);
    expect(after.body.error).toBe('invalid_target');

    await runCliJson(['group', 'update', app1.group_id, '--network', demo.network.id, '--add', '2'], server.env);
    const restored = await requestToken(server, app1.client_id, app1.client_secret, { tenant: '2' });
    expect(restored.status).toBe(200);
  });

  test('--network of another network finds no group and changes nothing', async () => {
    const app1 = demo.connections[0]!;
    const other = await runCliJson<{ id: string }>(['network', 'create', '--name', 'Elsewhere Network'], server.env);
    const result = await runCli(['group', 'update', app1.group_id, '--network', other.id, '--remove', '15', '--json'], server.env);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('was not found');

    const deleted = await runCli(['group', 'delete', app1.group_id, '--network', other.id, '--json'], server.env);
    expect(deleted.code).not.toBe(0);
    const still = await requestToken(server, app1.client_id, app1.client_secret, { tenant: '15' });
    expect(still.status).toBe(200);
  });

  test('secret generate with --grace 0 stops the old secret on the next request', async () => {
    const app2 = demo.connections[1]!;
    const rotated = await runCliJson<{ client_secret: string; previous_secret_expires_at: string }>(
      ['secret', 'generate', '--connection', app2.connection_id, '--grace', '0'],
      server.env,
    );
    expect(rotated.client_secret).not.toBe(app2.client_secret);
    const old = await requestToken(server, app2.client_id, app2.client_secret, { tenant: '25' });
    expect(old.status).toBe(401);
    const fresh = await requestToken(server, app2.client_id, rotated.client_secret, { tenant: '25' });
    expect(fresh.status).toBe(200);
    app2.client_secret = rotated.client_secret;
  });
});

describe('tenantgate admin-key', () => {
  // The user is an administrator (User Management) without API & Integrations, so a live key gets
  // 403 and a revoked one 401.
  const apiStatus = async (key: string) => (await fetch(`${server.url}/api/v1/groups`, { headers: { authorization: `Bearer ${key}` } })).status;

  test('admin-key list and revoke', async () => {
    const email = 'keyholder@plumbing.example';
    await runCliJson(['user', 'create', '--email', email, '--network', demo.network.id], server.env);
    const created = await runCliJson<{ id: string; key: string }>(['admin-key', 'create', '--email', email, '--name', 'nightly sync'], server.env);
    expect(await apiStatus(created.key)).toBe(403);

    const listed = await runCli(['admin-key', 'list', '--network', demo.network.id, '--json'], server.env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).not.toContain(created.key);
    const keys = (JSON.parse(listed.stdout) as { keys: { id: string; name: string; revoked_at: string | null }[] }).keys;
    expect(keys.find((key) => key.id === created.id)).toMatchObject({ name: 'nightly sync', revoked_at: null });

    const other = await runCliJson<{ id: string }>(['network', 'create', '--name', 'Key Elsewhere Network'], server.env);
    const foreign = await runCli(['admin-key', 'revoke', created.id, '--network', other.id, '--json'], server.env);
    expect(foreign.code).not.toBe(0);
    expect(foreign.stderr).toContain('was not found');
    expect(await runCliJson<{ keys: unknown[] }>(['admin-key', 'list', '--network', other.id], server.env)).toEqual({ keys: [] });
    expect(await apiStatus(created.key)).toBe(403);

    expect(await runCliJson(['admin-key', 'revoke', created.id, '--network', demo.network.id], server.env)).toEqual({ id: created.id, revoked: true });
    expect(await apiStatus(created.key)).toBe(401);
    const after = await runCliJson<{ keys: { id: string; revoked_at: string | null }[] }>(['admin-key', 'list', '--network', demo.network.id], server.env);
    expect(after.keys.find((key) => key.id === created.id)?.revoked_at).toEqual(expect.any(String));
  });
});

describe('tenantgate errors', () => {
  test('a domain error goes to stderr with a non-zero exit and nothing on stdout', async () => {
    const result = await runCli(['group', 'create', '--network', demo.network.id, '--name', 'Group 1', '--json'], server.env);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('already exists');
  });

  test('unknown network is named', async () => {
    for (const args of [['group', 'create', '--network', 'no-such-network', '--name', 'Orphan'], ['audit', 'export', '--network', 'no-such-network']]) {
      const result = await runCli([...args, '--json'], server.env);
      expect({ args, code: result.code, stdout: result.stdout, stderr: result.stderr }).toEqual({ args, code: 1, stdout: '', stderr: 'tenantgate: network "no-such-network" was not found\n' });
    }
  });

  test('a tenant of another network is rejected with the reason', async () => {
    const other = await runCliJson<{ id: string }>(['network', 'create', '--name', 'Other Network'], server.env);
    const result = await runCli(['tenant', 'add', '--network', other.id, '15', 'ok-tenant', 'bad tenant!', '--json'], server.env);
    expect(result.code).toBe(1);
    const document = JSON.parse(result.stdout) as { added: string[]; rejected: { tenantId: string; reason: string }[] };
    expect(document.added).toEqual(['ok-tenant']);
    expect(document.rejected.map((r) => r.tenantId).sort()).toEqual(['15', 'bad tenant!']);
  });

  test('an invalid environment variable is named with its accepted form', async () => {
    const result = await runCli(['keys', 'list'], { ...server.env, SIGNING_ALG: 'HS256' });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('SIGNING_ALG');
    expect(result.stderr).toContain('RS256');
  });

  test('a missing required option says which', async () => {
    const result = await runCli(['network', 'create'], server.env);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('--name');
  });
});

describe('stored data', () => {
  test('the SQLite files contain no client secret, in clear or encoded', () => {
    if (!server.databaseUrl.startsWith('sqlite:')) return;
    const secrets = demo.connections.map((c) => c.client_secret);
    for (const file of readdirSync(server.dir).filter((name) => name.startsWith('tenantgate.sqlite'))) {
      const bytes = readFileSync(join(server.dir, file));
      for (const secret of secrets) {
        const body = secret.slice('tgs_'.length);
        for (const form of [secret, body, Buffer.from(body, 'base64url').toString('hex'), Buffer.from(body, 'base64url').toString('base64')]) {
          expect(bytes.includes(Buffer.from(form))).toBe(false);
        }
        expect(bytes.includes(Buffer.from(body, 'base64url'))).toBe(false);
      }
    }
  });

  test('no secret reaches a log line', () => {
    for (const connection of demo.connections) {
      expect(server.logs.text).not.toContain(connection.client_secret);
    }
    expect(server.logs.lines.length).toBeGreaterThan(0);
  });
});
