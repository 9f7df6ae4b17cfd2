import { listApps } from '../../src/storage/apps.js';
import { runCli, runCliJson } from '../support/cli.js';
import { startServer, type TestServer } from '../support/server.js';
import { PageClient } from './page-client.js';

const PASSWORD = 'correct horse battery staple';
let server: TestServer;

beforeAll(async () => {
  server = await startServer();
  await runCliJson(['demo'], server.env);
});

afterAll(async () => {
  await server.stop();
});

describe('tenantgate portal open-sign-up', () => {
  test('prints, switches on and off', async () => {
    expect(await runCliJson(['portal', 'open-sign-up'], server.env)).toEqual({ open_sign_up: false });
    expect(await runCliJson(['portal', 'open-sign-up', 'on'], server.env)).toEqual({ open_sign_up: true });
    expect((await new PageClient(server.url).get('/portal/signup')).status).toBe(200);
    expect(await runCliJson(['portal', 'open-sign-up', 'off'], server.env)).toEqual({ open_sign_up: false });
    expect((await new PageClient(server.url).get('/portal/signup')).status).toBe(403);
  });

  test('rejects a state other than on or off', async () => {
    const result = await runCli(['portal', 'open-sign-up', 'yes'], server.env);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('tenantgate: state must be "on" or "off", got "yes"\n');
  });
});

describe('tenantgate developer invite', () => {
  test('prints a one-time link that signs the developer in', async () => {
    const invited = await runCliJson<{ email: string; org: string; org_id: string; link: string; expires_at: string }>(
      ['developer', 'invite', '--email', 'CLI-Dev@Example.com', '--org', 'CLI Org'],
      server.env,
    );
    expect(invited.email).toBe('cli-dev@example.com');
    expect(invited.org).toBe('CLI Org');
    expect(invited.link.startsWith(`${server.url}/portal/invitation?token=tgi_`)).toBe(true);

    const token = new URL(invited.link).searchParams.get('token')!;
    const client = new PageClient(server.url);
    const path = invited.link.slice(server.url.length);
    const accepted = await client.submit(path, '/portal/invitation', { token, password: PASSWORD, confirm: PASSWORD });
    expect(accepted.status).toBe(303);
    expect((await client.get('/portal/apps')).html).toContain('Apps of CLI Org');

    const second = await runCliJson<{ org_id: string }>(['developer', 'invite', '--email', 'cli-dev-2@example.com', '--org-id', invited.org_id], server.env);
    expect(second.org_id).toBe(invited.org_id);
  });

  test('rejects an invalid e-mail address', async () => {
    const result = await runCli(['developer', 'invite', '--email', 'not-an-address', '--org', 'CLI Org'], server.env);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('tenantgate: "not-an-address" is not an e-mail address\n');
  });

  test('rejects an unknown organisation ID', async () => {
    const result = await runCli(['developer', 'invite', '--email', 'x@example.com', '--org-id', 'no-such-org'], server.env);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('tenantgate: developer organisation "no-such-org" was not found; check the ID or invite by organisation name\n');
  });
});

describe('tenantgate app publish and unpublish', () => {
  test('switch what hubs can connect', async () => {
    const [app] = (await listApps(server.tg.db)).filter((candidate) => candidate.name === 'App 1');
    expect(await runCliJson(['app', 'unpublish', app!.id], server.env)).toEqual({ id: app!.id, published: false });
    expect((await listApps(server.tg.db, { publishedOnly: true })).some((a) => a.id === app!.id)).toBe(false);
    expect(await runCliJson(['app', 'publish', app!.id], server.env)).toEqual({ id: app!.id, published: true });
    expect((await listApps(server.tg.db, { publishedOnly: true })).some((a) => a.id === app!.id)).toBe(true);
  });
});
