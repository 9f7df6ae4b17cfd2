import { runCli, runCliJson } from '../support/cli.js';
import { startServer, type TestServer } from '../support/server.js';
import { PageClient, PASSWORD } from './support.js';

// The CLI writes to the server's database while the server runs, as an operator would.
let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => server.stop());

test('tenantgate user create --network prints a working one-time link', async () => {
  const network = await runCliJson<{ id: string }>(['network', 'create', '--name', 'CLI Network'], server.env);
  const created = await runCliJson<{ email: string; network_id: string; operator: boolean; sign_in_link: string }>(
    ['user', 'create', '--network', network.id, '--email', 'Admin@CLI.example'],
    server.env,
  );
  expect(created.email).toBe('admin@cli.example');
  expect(created.network_id).toBe(network.id);
  expect(created.operator).toBe(false);

  const url = new URL(created.sign_in_link);
  expect(url.origin).toBe(server.url);
  const client = new PageClient(server.url);
  const path = `${url.pathname}${url.search}`;
  const set = await client.post('/signin/link', { token: url.searchParams.get('token')!, password: PASSWORD, confirm: PASSWORD }, { csrfFrom: path });
  expect(set.status).toBe(303);
  const users = await client.get('/hub/users');
  expect(users.status).toBe(200);
  expect(users.text).toContain('Administrator');
}, 30_000);

test('tenantgate user create --operator creates an operator', async () => {
  const created = await runCliJson<{ operator: boolean; network_id: string | null }>(['user', 'create', '--operator', '--email', 'ops@cli.example'], server.env);
  expect(created.operator).toBe(true);
  expect(created.network_id).toBeNull();
});

test('tenantgate user create without --network or --operator fails', async () => {
  const result = await runCli(['user', 'create', '--email', 'x@cli.example', '--json'], server.env);
  expect(result.code).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.stderr).toContain('give exactly one of --network <id> and --operator');
});

test('tenantgate user create with a taken e-mail fails', async () => {
  await runCliJson(['user', 'create', '--operator', '--email', 'twice@cli.example'], server.env);
  const result = await runCli(['user', 'create', '--operator', '--email', 'twice@cli.example', '--json'], server.env);
  expect(result.code).not.toBe(0);
  expect(result.stderr).toContain('a user with e-mail twice@cli.example already exists');
});
