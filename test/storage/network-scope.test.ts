import { connectApp } from '../../src/domain/connections.js';
import { createGroup } from '../../src/domain/groups.js';
import { createNetwork } from '../../src/domain/networks.js';
import { generateSecret } from '../../src/domain/secrets.js';
import { addTenants } from '../../src/domain/tenants.js';
import { findAppByName } from '../../src/domain/apps.js';
import * as connections from '../../src/storage/connections.js';
import * as groups from '../../src/storage/groups.js';
import * as secrets from '../../src/storage/secrets.js';
import * as tenants from '../../src/storage/tenants.js';
import { runCli } from '../support/cli.js';
import { requestToken, setUpDemo } from '../support/oauth.js';
import { startServer, type TestServer } from '../support/server.js';

const actor = { id: 'test' };
let server: TestServer;
let a: Awaited<ReturnType<typeof setUpDemo>>;
let b: { networkId: string; groupId: string; connectionId: string; clientId: string; clientSecret: string };

beforeAll(async () => {
  server = await startServer();
  a = await setUpDemo(server);

  const ctx = server.tg.domain;
  const network = await createNetwork(ctx, actor, { name: 'Second Customer' });
  await addTenants(ctx, actor, network.id, ['b-1', 'b-2']);
  const group = await createGroup(ctx, actor, network.id, { name: 'Group 1', tenantIds: ['b-1', 'b-2'] });
  const app = (await findAppByName(ctx.db, 'App 1'))!;
  const connection = await connectApp(ctx, actor, network.id, { groupId: group.id, appId: app.id, acceptedTermsVersion: app.termsVersion, approvedBy: 'b-admin' });
  const secret = await generateSecret(ctx, actor, network.id, connection.id);
  b = { networkId: network.id, groupId: group.id, connectionId: connection.id, clientId: secret.clientId, clientSecret: secret.clientSecret };
});

afterAll(async () => {
  await server.stop();
});

/** Counts rows so a test can show that a cross-network call changed nothing. */
async function snapshot(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of ['groups', 'group_tenants', 'connections', 'client_secrets', 'tenants', 'consents']) {
    const [row] = await server.tg.db(table).count({ n: '*' });
    counts[table] = Number(row!.n);
  }
  const statuses = await server.tg.db('connections').select('id', 'status', 'updated_at').orderBy('id');
  counts.statusHash = JSON.stringify(statuses).length;
  return counts;
}

describe('storage scoped by network', () => {
  test("reads with another network's ID find nothing", async () => {
    const db = server.tg.db;
    expect(await groups.getGroupRow(db, b.networkId, a.app1.group_id)).toBeUndefined();
    expect(await groups.findGroupByName(db, b.networkId, 'Group 2')).toBeUndefined();
    expect(await groups.groupTenantIds(db, b.networkId, a.app1.group_id)).toEqual([]);
    expect((await groups.listGroups(db, b.networkId)).map((g) => g.id)).toEqual([b.groupId]);
    const page = await groups.listGroupPage(db, b.networkId, { limit: 50, offset: 0 });
    expect(page.groups.map((g) => g.id)).toEqual([b.groupId]);
    expect(page.total).toBe(1);
    expect(await connections.getConnection(db, b.networkId, a.app1.connection_id)).toBeUndefined();
    expect((await connections.listConnections(db, b.networkId)).map((c) => c.id)).toEqual([b.connectionId]);
    expect(await connections.listConnections(db, b.networkId, { groupId: a.app1.group_id })).toEqual([]);
    expect(await secrets.listSecrets(db, b.networkId, a.app1.connection_id)).toEqual([]);
    expect(await secrets.listValidSecrets(db, b.networkId, a.app1.connection_id, Date.now())).toEqual([]);
    expect((await tenants.listTenants(db, b.networkId)).tenantIds).toEqual(['b-1', 'b-2']);
    expect([...(await tenants.tenantsInNetwork(db, b.networkId, ['1', '15', 'b-1']))]).toEqual(['b-1']);
  });

  test("writes with another network's ID change nothing", async () => {
    const db = server.tg.db;
    const before = await snapshot();
    const now = Date.now();
    await groups.renameGroup(db, b.networkId, a.app1.group_id, 'hijacked', now);
    await groups.deleteGroup(db, b.networkId, a.app1.group_id);
    expect(await groups.addGroupTenants(db, b.networkId, a.app1.group_id, [])).toEqual([]);
    expect(await groups.removeGroupTenants(db, b.networkId, a.app1.group_id, ['1', '2'])).toEqual([]);
    await connections.setConnectionStatus(db, b.networkId, [a.app1.connection_id], 'disabled', now);
    expect(await secrets.revokeSecrets(db, b.networkId, a.app1.connection_id, now)).toEqual([]);
    expect(await secrets.expireCurrentSecrets(db, b.networkId, a.app1.connection_id, now)).toEqual([]);
    expect(await tenants.deleteTenant(db, b.networkId, '15')).toBe(false);
    expect(await snapshot()).toEqual(before);
    expect((await groups.getGroupRow(db, a.network.id, a.app1.group_id))!.name).toBe('Group 1');
    expect((await requestToken(server, a.app1.client_id, a.app1.client_secret, { tenant: '15' })).status).toBe(200);
  });

  test("a client of one network never gets another network's tenant", async () => {
    const response = await requestToken(server, b.clientId, b.clientSecret, { tenant: '15' });
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_target');
    expect((await requestToken(server, b.clientId, b.clientSecret, { tenant: 'b-1' })).status).toBe(200);
  });
});

describe('CLI scoped by network', () => {
  test.each([
    ['group update', () => ['group', 'update', a.app1.group_id, '--network', b.networkId, '--remove', '15']],
    ['group delete', () => ['group', 'delete', a.app1.group_id, '--network', b.networkId]],
    ['secret generate', () => ['secret', 'generate', '--connection', a.app1.connection_id, '--network', b.networkId]],
    ['secret revoke', () => ['secret', 'revoke', '--connection', a.app1.connection_id, '--network', b.networkId]],
    ['group create with a foreign tenant', () => ['group', 'create', '--network', b.networkId, '--name', 'Steal', '--tenants', '15']],
    ['connect a foreign group', () => ['connect', '--network', b.networkId, '--group', a.app1.group_id, '--app', 'x', '--approved-by', 'me']],
  ])("%s across networks fails and changes nothing", async (_name, args) => {
    const before = await snapshot();
    const result = await runCli([...args(), '--json'], server.env);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/not found|not in this network/);
    expect(await snapshot()).toEqual(before);
  });
});
